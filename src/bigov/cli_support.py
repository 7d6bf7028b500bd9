"""What every CLI command shares: the ``--db`` option, opening the workspace, error translation,
progress bars and JSON output. Context sub-apps (``bigov metrics``, ``bigov portfolio``, ...) import
from here so every command behaves alike."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from typer.core import TyperGroup

from bigov.errors import BigovError, ValidationError
from bigov.workspace import Workspace

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="BIGOV_DB",
        help="Database URL: sqlite:///file.db (default ./bigov.db) or postgresql+psycopg://…",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@contextmanager
def open_workspace(db: str | None, *, migrate_schema: bool = True) -> Iterator[Workspace]:
    """Open the workspace named by ``--db`` for the duration of a command."""
    ws = Workspace.open(db, migrate_schema=migrate_schema)
    try:
        yield ws
    finally:
        ws.close()


def print_json(data: Any) -> None:
    """Print pydantic models, dicts or lists as JSON (Decimals and dates as strings)."""
    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
    else:
        text = json.dumps(_plain(data), indent=2, default=str)
    sys.stdout.write(text + "\n")


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, dict):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def report_error(err: BigovError) -> None:
    """The one-line message (plus the problem table for validation errors) a user sees."""
    err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
    if isinstance(err, ValidationError) and err.problems:
        from rich.table import Table

        table = Table("file", "sheet", "row", "column", "value", "reason", show_lines=False)
        for p in err.problems[:50]:
            table.add_row(
                p.file or "",
                p.sheet or "",
                "" if p.row is None else str(p.row),
                p.column or "",
                (p.value or "")[:40],
                p.reason,
            )
        err_console.print(table)
        if len(err.problems) > 50:
            err_console.print(f"… and {len(err.problems) - 50} more problems")


class ErrorHandlingGroup(TyperGroup):
    """Turns a :class:`BigovError` anywhere below into a clear message and its exit code.

    Living on the group (not in ``main``) means the same translation applies under the test
    runner, so tests see exactly what users see."""

    def invoke(self, ctx: Any) -> Any:  # ctx: click.Context (vendored by newer Typer)
        try:
            return super().invoke(ctx)
        except BigovError as err:
            report_error(err)
            raise typer.Exit(err.exit_code) from err
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]: the current transaction was rolled back")
            raise typer.Exit(130) from None


class RichReporter:
    """A :class:`bigov.progress.Reporter` drawing a Rich progress bar on stderr."""

    def __init__(self, enabled: bool = True) -> None:
        self._progress: Progress | None = None
        self._task: Any = None
        self._enabled = enabled and err_console.is_terminal

    def start(self, task: str, total: int | None = None) -> None:
        if not self._enabled:
            return
        if self._progress is None:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            )
            self._progress.start()
        self._task = self._progress.add_task(task, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, steps)

    def note(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message, highlight=False)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
