"""Shared kernel: settings, database, errors, logging, time."""
