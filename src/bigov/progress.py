"""How long jobs report progress without printing.

Core code takes a :class:`Reporter` and calls it; the CLI passes a Rich progress bar, the web app
a status holder, tests the silent default. The interface stays tiny so every front end can do it.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """Receives progress of a long job. ``total`` may be None when unknown."""

    def start(self, task: str, total: int | None = None) -> None: ...

    def advance(self, steps: int = 1) -> None: ...

    def note(self, message: str) -> None: ...

    def finish(self) -> None: ...


class SilentReporter:
    """The default: reports nothing (tests, library use)."""

    def start(self, task: str, total: int | None = None) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def finish(self) -> None:
        return None


SILENT: Reporter = SilentReporter()
