"""The exceptions of gridwatch.

    GridwatchError
    ├── ConfigError        settings that cannot work; the process refuses to start
    └── InvalidReport      a message that breaks the wire contract; it is dead-lettered

Raise-or-dead-letter is decided in one place, ``streams.intake.process``: an
``InvalidReport`` becomes a dead letter with its own kind; any other exception becomes a
dead letter of kind ``internal_error``. Nothing that reaches intake is skipped silently.
"""

from __future__ import annotations

from schemas.dead_letter import ErrorKind, FieldError

__all__ = ["ConfigError", "GridwatchError", "InvalidReport"]


class GridwatchError(Exception):
    """Base of every error gridwatch raises on purpose."""


class ConfigError(GridwatchError):
    """The settings cannot work (e.g. Faust's own environment variables would override them)."""


class InvalidReport(GridwatchError):
    """A message on ``grid.reports`` that is not a valid grid report."""

    def __init__(self, kind: ErrorKind, reason: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(reason)
        self.kind: ErrorKind = kind
        self.reason = reason
        self.errors = errors
