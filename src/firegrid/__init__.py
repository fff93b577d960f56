"""firegrid: a smart fire-safety platform for a whole city."""

__version__ = "0.1.0"
