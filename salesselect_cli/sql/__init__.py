"""The store's rooms: one module per noun, each the only place that speaks SQL about it.

Rooms are mixin classes combined into `salesselect_cli.store.Store`. Each room inherits only the rooms
below it, so a room can reach (through `self.`) only lower rooms:

    base -> people -> setup -> opportunities | followups | workflows -> reports | imports | setup_file

`dialect` holds every SQLite/PostgreSQL difference (connecting, statement translation, rows, the write
lock, date arithmetic); `schema` the tables and numbered migrations (both backends); `connection`
opening, checking and migrating a file or a PostgreSQL database; `transfer` db copy between them.
"""
