#!/usr/bin/env python3
"""A workflow hook: append one line per event to a log file.

salesselect runs it with the event as JSON on stdin (the opportunity before and after, the
trigger, the user and the time). Use it in a workflow:

    salesselect workflow add "Log proposals" --on stage --to-stage Proposal \
        --action "run:python3 examples/hooks/log-event.py" --env SALESSELECT_HOOK_LOG

The log file is $SALESSELECT_HOOK_LOG, else salesselect-events.log in the current directory.
A non-zero exit is reported by salesselect and kept in the opportunity's history.
"""

import json
import os
import sys


def describe(event: dict) -> str:
    before = event.get("before") or {}
    after = event.get("after") or {}
    change = []
    for key in ("stage", "status"):
        if before.get(key) != after.get(key):
            change.append(f"{key} {before.get(key)} -> {after.get(key)}")
    return (
        f"{event.get('time', '')}\t{event.get('user', '')}\t{event.get('trigger', '')}\t"
        f"#{after.get('id', before.get('id', '?'))} {after.get('title', '')} ({after.get('company', '')})\t"
        + ("; ".join(change) or "no change")
    )


def main() -> int:
    try:
        event = json.load(sys.stdin)
    except json.JSONDecodeError as exc:
        print(f"log-event: the event on stdin is not JSON ({exc})", file=sys.stderr)
        return 1
    path = os.environ.get("SALESSELECT_HOOK_LOG", "salesselect-events.log")
    with open(path, "a", encoding="utf-8") as log:
        log.write(describe(event) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
