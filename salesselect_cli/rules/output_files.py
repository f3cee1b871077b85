"""Which file an -o name asks for, decided from its extension before anything is written. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import _

# What a report, `opp list` or `export` can write: a table as text, CSV, JSON, an Excel workbook.
REPORT_FORMATS = ("txt", "csv", "json", "xlsx")
# The board saves its text, CSV, JSON or itself as drawn (commands/board.py EXPORT_KINDS); no workbook.
BOARD_FORMATS = ("txt", "csv", "json", "svg", "html", "htm")
# The setup: `config export` writes JSON, `config show` a text, CSV or JSON.
SETUP_FORMATS = ("json", "txt")
SETUP_SHOW_FORMATS = ("txt", "csv", "json")
# Extensions that name a kind of file none of our commands writes: asking for one is a mistake to stop,
# not a name to fill with CSV. Other extensions (report.out, pipeline.2026-07) follow --format as before.
FOREIGN_FORMATS = frozenset({
    "pdf", "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "tif", "tiff", "heic",
    "xls", "xlsm", "xlsb", "ods", "numbers", "doc", "docx", "odt", "rtf", "ppt", "pptx", "odp", "key",
    "html", "htm", "xml", "md", "tsv", "parquet", "zip", "gz",
})


def output_format(name: str | PurePath | None, writable: Iterable[str] = REPORT_FORMATS) -> str | None:
    """The format an -o name asks for by its extension ('xlsx', 'csv', ...; lower case, no dot), or None when
    the name says nothing (no -o, '-', no extension, an extension that is no file format). Refuses an
    extension the command cannot write (.png, .pdf, or .xlsx where only CSV and JSON are written), naming
    the ones it can."""
    if name is None or str(name) == "-":
        return None
    suffix = PurePath(str(name)).suffix.lower().lstrip(".")
    writable = tuple(writable)
    if suffix in writable:
        return suffix
    if suffix in FOREIGN_FORMATS or suffix in REPORT_FORMATS:
        allowed = ", ".join(f".{extension}" for extension in writable)
        raise Invalid(_("cannot write {name}: this command writes {allowed}, not .{extension}").format(
            name=name, allowed=allowed, extension=suffix))
    return None
