"""salesselect: a command-line sales pipeline for recruitment agencies."""

__version__ = "0.2.0"
