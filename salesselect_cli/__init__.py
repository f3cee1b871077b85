"""salesselect: a command-line sales pipeline for recruitment agencies."""

__version__ = "0.1.0"
