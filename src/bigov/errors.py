"""One exception hierarchy for bigov, translated at each edge.

Core code raises these; the CLI turns them into a one-line message and an exit code, the API into
a 4xx body, a page into a flash message. Anything *not* derived from :class:`BigovError` is a bug
and is allowed to show a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class BigovError(Exception):
    """Base of every error a user can cause and fix. ``exit_code`` is what the CLI returns."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # what a ``--json`` command adds to its error document (a refused import's report, a
        # revert's dependents): one document on stdout, never a second one beside the error
        self.details: dict[str, Any] = {}

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} — {self.hint}"


class ConfigError(BigovError):
    """Bad settings or arguments (a malformed --db URL, an unknown option value)."""

    exit_code = 2


class DatabaseError(BigovError):
    """The database cannot be reached, opened or migrated."""

    exit_code = 3


class SchemaVersionError(DatabaseError):
    """The database was written by a newer bigov (or is not a bigov database)."""


class NotFoundError(BigovError):
    """A code or name that does not exist."""

    exit_code = 4


class ConflictError(BigovError):
    """The request contradicts stored state (demo into a non-empty database, a published cycle)."""

    exit_code = 5


@dataclass(frozen=True)
class Problem:
    """One validation finding, located as precisely as the source allows."""

    reason: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None


class ValidationError(BigovError):
    """Input that breaks the rules; carries *all* problems found, not only the first."""

    exit_code = 6

    def __init__(self, message: str, problems: Sequence[Problem] = (), *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems: list[Problem] = list(problems)


class UnknownReferenceError(ValidationError):
    """Input whose only problems are codes that name nothing (an unknown owner, work item or
    OTC): exit 4 like every other unknown code, with every such problem listed; to a form or
    the API it is still a validation error (HTTP 422)."""

    exit_code = 4


class InfeasibleError(BigovError):
    """An optimisation problem with no feasible solution; ``conflict`` is the smallest set found."""

    exit_code = 7

    def __init__(self, message: str, conflict: Sequence[str] = (), *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.conflict: list[str] = list(conflict)
