"""The store's rooms: one module per noun, each the only place that speaks SQL about it.

Each room is a class on the base room (base.py: the helpers, and the command's `Floor`: connection, today,
who acts). `salesselect_cli.store.Store` builds one of each and hands them out (`store.deals`, ...); a room
receives the lower rooms it uses in its __init__ and calls them by name (`self.setup.find_stage`), never a
sibling through `self`:

    people <- setup <- opportunities (deals) | followups | workflows <- reports | imports | setup_file

`dialect` holds every SQLite/PostgreSQL difference (connecting, statement translation, rows, the write
lock, date arithmetic); `schema` the tables and numbered migrations (both backends); `connection`
opening, checking and migrating a file or a PostgreSQL database; `transfer` db copy between them.
"""
