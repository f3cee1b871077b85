"""The use cases: one module per noun, each function the whole of one operation on a `Session`.

A use case loads what it needs, applies the rules, writes through the store's rooms, fires the workflows
and returns a typed result that says what changed. It knows nothing of Typer, click or Rich: the commands
and the interactive board call the same functions and draw the results their own way.
"""
