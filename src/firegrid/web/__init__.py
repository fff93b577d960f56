"""The web console: the built single-page app served at ``/`` and its basemap data API."""

from firegrid.web.serve import install_console

__all__ = ["install_console"]
