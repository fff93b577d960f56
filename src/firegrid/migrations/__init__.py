"""Alembic migrations of the firegrid schema."""
