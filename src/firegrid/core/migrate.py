"""Apply Alembic migrations programmatically (``firegrid db upgrade`` and the demo)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config

from firegrid.core.settings import normalise_database_url


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(files("firegrid") / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str) -> list[str]:
    """The revisions the script directory considers heads (for checks)."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())
