"""seealso: related articles and related keywords for a news website."""

__version__ = "0.1.0"
