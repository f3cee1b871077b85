"""The store's rooms: one module per noun, each the only place that speaks SQL about it.

Rooms are mixin classes combined into `salesselect_cli.store.Store`. Each room inherits only the rooms
below it, so a room can reach (through `self.`) only lower rooms:

    base -> people -> setup -> opportunities | followups | workflows -> reports | imports | setup_file

`dialect` holds the few SQLite-only things (connection pragmas, fold(), BEGIN IMMEDIATE);
`schema` the tables and numbered migrations; `connection` opening, checking and migrating a file.
"""
