"""``bigov jobs list|show|cancel|submit|kinds|schedule|tick`` and ``bigov worker``. The CLI is
the operator's tool on the database itself: it sees every job."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bigov.cli_support import (
    DbOption,
    JsonOption,
    RichReporter,
    code_column,
    console,
    err_console,
    fit_table,
    open_workspace,
    print_json,
    text_column,
)
from bigov.errors import ConfigError

app = typer.Typer(no_args_is_help=True, help="Background jobs: list, show, cancel, submit.")


def _who() -> str:
    """The operating-system user (as imports record it)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return "unknown"


def _progress(done: int, total: int | None, task: str | None) -> str:
    if task is None:
        return ""
    return f"{task} {done}/{total}" if total else f"{task} {done}"


@app.command("list")
def list_jobs(
    state: Annotated[str | None, typer.Option(help="Only jobs in this state.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    parent: Annotated[int | None, typer.Option(help="The jobs a job was split into.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Include the jobs split jobs were split into.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Jobs, newest first: kind, state, who started them, progress."""
    with open_workspace(db) as ws:
        rows = ws.jobs.list(state=state, kind=kind, parent=parent, top_level=not every, limit=limit)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    # kinds and states are codes: never cut (at 80 columns "cycle.month" was "cycle.mon…")
    table = fit_table(
        code_column("id", [r.id for r in rows], justify="right"),
        code_column("kind", [r.kind for r in rows]),
        code_column("state", [r.state for r in rows]),
        text_column("started by"),
        text_column("progress", min_width=8),
        text_column("parts"),
        code_column("created", ["2026-01-01 00:00"] if rows else []),
    )
    for r in rows:
        parts = ", ".join(f"{n} {s}" for s, n in sorted(r.children.items()))
        table.add_row(
            str(r.id),
            Text(r.kind),
            r.state + (" (cancelling)" if r.cancel_requested and r.state == "running" else ""),
            Text(r.started_by),
            Text(_progress(r.progress.done, r.progress.total, r.progress.task)),
            parts,
            r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else "",
        )
    console.print(table)


@app.command("show")
def show(job: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One job: arguments, progress, result or error, and its log."""
    with open_workspace(db) as ws:
        d = ws.jobs.show(job)
    if as_json:
        print_json(d)
        return
    console.print(Text(f"job {d.id}: {d.title} ({d.kind})", style="bold"))
    for label, value in (
        ("state", d.state),
        ("started by", d.started_by),
        ("arguments", json.dumps(d.args, sort_keys=True)),
        ("progress", _progress(d.progress.done, d.progress.total, d.progress.task)),
        ("attempts", str(d.attempts)),
        ("worker", d.worker or ""),
        ("created", str(d.created_at or "")),
        ("started", str(d.started_at or "")),
        ("finished", str(d.finished_at or "")),
        ("parts", ", ".join(f"{n} {s}" for s, n in sorted(d.children.items()))),
        ("result", json.dumps(d.result, sort_keys=True, default=str) if d.result else ""),
        ("error", d.error or ""),
    ):
        if value:
            console.print(Text(f"{label:>11}: {value}"))
    if d.log:
        console.print(Text("log:", style="bold"))
        console.print(Text(d.log))


@app.command("cancel")
def cancel(job: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Cancel a job (and what it was split into that has not started)."""
    with open_workspace(db) as ws:
        d = ws.jobs.cancel(job)
    if as_json:
        print_json(d)
        return
    asked = " (cancel asked)" if d.state == "running" else ""
    console.print(Text(f"job {d.id}: {d.state}{asked}"))


def _parse_args(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--arg takes KEY=VALUE, not {pair!r}")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value  # plain text: a path, a code
    return out


@app.command("submit")
def submit(
    kind: Annotated[str, typer.Argument(help="The job kind (see bigov jobs kinds).")],
    arg: Annotated[
        list[str], typer.Option("--arg", help="KEY=VALUE (VALUE as JSON, else text); repeat.")
    ] = [],  # noqa: B006
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a job. On PostgreSQL a worker runs it; on SQLite it runs here, now."""
    with open_workspace(db) as ws:
        d = ws.jobs.submit(
            kind, _parse_args(arg), started_by=_who(), echo=RichReporter(not as_json)
        )
    if as_json:
        print_json(d)
    else:
        console.print(Text(f"job {d.id}: {d.kind} {d.state}"))
        if d.error:
            err_console.print(Text(f"error: {d.error}"))
    if d.state == "failed":
        raise typer.Exit(1)


@app.command("kinds")
def kinds(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The kinds of job there are (contexts register their own)."""
    with open_workspace(db) as ws:
        rows = ws.jobs.kinds()
    if as_json:
        print_json(rows)
        return
    table = Table("kind", "what it does")
    for name, title in rows.items():
        table.add_row(Text(name), Text(title))
    console.print(table)


@app.command("schedule")
def schedule(
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD; default today).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=400)] = 45,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the cadences make due: readiness checks at cut-offs, cycles and packs before
    sittings."""
    from bigov.jobs.schedule import plan

    first = _day(start)
    with open_workspace(db) as ws:
        rows = plan(ws, first, first + dt.timedelta(days=days - 1))
    if as_json:
        print_json([{"on": d.on, "kind": d.kind, "args": d.args, "why": d.why} for d in rows])
        return
    table = fit_table(
        code_column("on", ["2026-01-01"] if rows else []),
        code_column("kind", [d.kind for d in rows]),
        text_column("arguments"),
        text_column("why"),
    )
    for d in rows:
        table.add_row(d.on.isoformat(), d.kind, Text(json.dumps(d.args)), Text(d.why))
    console.print(table)


@app.command("tick")
def tick(
    on: Annotated[str | None, typer.Option(help="As if today were this day (YYYY-MM-DD).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit what the schedule makes due (each piece once, however often this runs): run it
    from cron on SQLite; on PostgreSQL the workers tick by themselves."""
    from bigov.jobs.schedule import tick as run_tick

    day = _day(on)
    with open_workspace(db) as ws:
        jobs = run_tick(ws, dt.datetime.combine(day, dt.time(12), dt.UTC))
    if as_json:
        print_json(jobs)
        return
    for d in jobs:
        console.print(Text(f"job {d.id}: {d.kind} {json.dumps(d.args)} {d.state}"))
    if not jobs:
        console.print("nothing due")


def _day(text: str | None) -> dt.date:
    if not text:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"a day is YYYY-MM-DD, not {text!r}") from exc


def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one job each at a time).")
    ] = 1,
    queue: Annotated[
        list[str], typer.Option(help="Only jobs of this queue; repeat (default: all).")
    ] = [],  # noqa: B006
    stalled_after: Annotated[
        float,
        typer.Option(min=1, help="Seconds without a heartbeat before a worker is taken for dead."),
    ] = 30.0,
    schedule: Annotated[
        bool,
        typer.Option(help="Tick the schedule from cadences (once per tick across all workers)."),
    ] = True,
    db: DbOption = None,
) -> None:
    """Run queued jobs (PostgreSQL) until SIGINT/SIGTERM; start more on any machine that
    reaches the database to get through the work sooner."""
    from bigov.jobs.worker import WorkerOptions, run

    with open_workspace(db) as ws:
        url = ws.describe(hide_password=False)
    console.print(Text(f"bigov worker on {ws.describe()}: {concurrency} process(es)"))
    options = WorkerOptions(
        url=url, queues=tuple(queue), stalled_after=stalled_after, schedule=schedule
    )
    run(options, concurrency)


def register(root: typer.Typer) -> None:
    """Mount ``jobs`` and ``worker`` on the root app."""
    root.add_typer(app, name="jobs", help="Background jobs: list, show, cancel, submit.")
    root.command(name="worker")(worker)
