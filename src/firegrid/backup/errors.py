"""The one error a backup or restore reports: what is wrong and the fix."""

from __future__ import annotations


class BackupError(Exception):
    def __init__(self, message: str, *, hint: str | None = None, not_ready: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.not_ready = not_ready
