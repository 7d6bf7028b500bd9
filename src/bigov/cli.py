"""The ``bigov`` command: thin Typer commands over the workspace.

Commands only unpack arguments, call a service and print; all logic is in the services. Errors
derived from :class:`bigov.errors.BigovError` become one-line messages with their exit code (see
:class:`bigov.cli_support.ErrorHandlingGroup`).
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from bigov import __version__
from bigov.cli_support import (
    DbOption,
    ErrorHandlingGroup,
    ExactOption,
    JsonOption,
    RichReporter,
    console,
    money_text,
    open_workspace,
    print_json,
)
from bigov.errors import ConfigError

if TYPE_CHECKING:
    pass

SCALES = ("small", "large")

# The root: its own commands only. The contexts' commands are mounted on demand (_mount): a run
# imports only the CLI module of the command it runs; ``bigov.cli.app`` is the whole app.
root = typer.Typer(
    name="bigov",
    cls=ErrorHandlingGroup,
    help="bigov — Business Integrated Governance: one picture of run and change, for every board.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Help text is read as Markdown, never as Rich markup: "[/vN]" in a help string raised
    # MarkupError under the "rich" mode. Sub-apps inherit the mode from the root.
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        console.print(f"bigov {__version__}")
        raise typer.Exit()


@root.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """bigov — Business Integrated Governance."""


@root.command()
def init(
    db: DbOption = None,
    organisation: Annotated[
        str | None, typer.Option(help="Organisation name shown on packs.")
    ] = None,
    fiscal_year_start: Annotated[
        int | None,
        typer.Option(min=1, max=12, help="Month the fiscal year starts (4 = April)."),
    ] = None,
    currency: Annotated[str | None, typer.Option(help="Reporting currency (ISO code).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Create (or migrate) a workspace and set its basic settings (all of them:
    `bigov settings`)."""
    with open_workspace(db) as ws:
        changes: dict[str, str] = {}
        if organisation:
            changes["organisation_name"] = organisation
        if fiscal_year_start:
            changes["fiscal_year_start_month"] = str(fiscal_year_start)
        if currency:
            changes["currency"] = currency
        # checked as `bigov settings set` checks them; stored metrics under another calendar
        # need restating (the change's notes say so)
        restate = bool(ws.settings.set(changes).notes) if changes else False
        if json_out:
            print_json(
                {
                    "workspace": ws.describe(),
                    "fiscal_year_start_month": ws.fiscal_year_start_month,
                    "restate_metrics": restate,
                }
            )
            return
        console.print(
            f"Workspace ready at [bold]{escape(ws.describe())}[/] "
            f"(fiscal year starts in month {ws.fiscal_year_start_month})."
        )
        if restate:
            # quarters and years of stored metrics are still the old fiscal year's
            console.print(
                "Stored metrics were harmonised to the previous fiscal year: run "
                "[bold]bigov metrics recompute[/] to restate their quarters and years."
            )


@root.command()
def demo(
    db: DbOption = None,
    scale: Annotated[
        str, typer.Option(help="small (a mid-size organisation) or large (thousands of items).")
    ] = "small",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the data of a non-empty workspace.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Generate a credible demo enterprise (deterministic for a seed), with its operational KPIs
    as hourly and daily observations harmonised to every board's periods."""
    from bigov.demo import generate
    from bigov.metrics.demo import generate_observations

    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}", hint=f"use one of: {', '.join(SCALES)}")
    with open_workspace(db) as ws:
        # the KPIs need the raw store: refuse before writing anything, not after the enterprise
        _ = ws.metrics.store
        reporter = RichReporter()
        started = time.perf_counter()
        try:
            report = generate(ws, scale=scale, seed=seed, force=force, reporter=reporter)
            reporter.start("operational KPIs (hourly and daily observations)")
            kpis = generate_observations(ws, seed=seed, scale=scale)
        finally:
            reporter.finish()
        seconds = time.perf_counter() - started
        if json_out:
            print_json({"demo": report, "kpi_observations": kpis})
            return
        table = Table("table", "rows", title=f"Demo enterprise ({scale}, seed {seed})")
        for name, rows in sorted(report.rows.items()):
            if rows:
                table.add_row(name, f"{rows:,}")
        console.print(table)
        console.print(
            f"Operational KPIs: {kpis.rows:,} observations in {kpis.series} series "
            f"({kpis.min_ts:%d %b %Y} – {kpis.max_ts:%d %b %Y}), harmonised to "
            + ", ".join(g.value for g in kpis.grains)
        )
        console.print(
            f"Made [bold]{escape(ws.setting('organisation_name'))}[/] in {escape(ws.describe())} "
            f"in {seconds:.1f} s."
        )


@root.command()
def status(
    db: DbOption = None,
    fiscal_year: Annotated[
        int | None, typer.Option(help="Fiscal year for the budget split (default: current).")
    ] = None,
    as_at: Annotated[
        str | None,
        typer.Option(
            "--as-at", help="Delivery confidence from reports up to this date (YYYY-MM-DD)."
        ),
    ] = None,
    exact: ExactOption = False,
    json_out: JsonOption = False,
) -> None:
    """A portfolio summary: counts by kind and phase, run/change split, delivery confidence."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(as_at) if as_at else None
    except ValueError as exc:
        raise ConfigError(f"--as-at {as_at!r} is not a date (YYYY-MM-DD)") from exc
    with open_workspace(db) as ws:
        summary = ws.work.summary(fiscal_year, day)
    if json_out:
        print_json(summary)
        return
    from bigov.figures.catalog import CATALOG

    currency = summary.currency
    console.print(
        f"[bold]{escape(summary.organisation)}[/] · as at {day or dt.date.today()} · "
        f"money in {currency}"
    )
    kinds = Table("kind", "items", title="Work by kind")
    for k, n in summary.by_kind.items():
        kinds.add_row(k, str(n))
    phases = Table("phase", "items", title="Work by lifecycle phase")
    for p, n in summary.by_phase.items():
        phases.add_row(p, str(n))
    console.print(kinds, phases)
    if summary.fiscal_year is not None:
        fy = summary.fiscal_year
        for title, group, labels, change_key in (
            (
                f"FY{fy} budget by purpose (run / grow / transform; the target split constrains "
                "this)",
                summary.budget_by_category,
                {"run": "run", "grow": "grow", "transform": "transform"},
                "balance.change_share_by_purpose",
            ),
            (
                f"FY{fy} budget by delivery (business as usual / change)",
                summary.budget_by_nature,
                {"run": "business as usual", "change": "change"},
                "balance.change_share_by_delivery",
            ),
        ):
            total = sum(group.values(), Decimal(0))
            split = Table("", "budget", "share", title=title)
            for key, label in labels.items():
                value = group.get(key, Decimal(0))
                share = f"{(value / total * 100):.1f} %" if total else "–"
                split.add_row(label, money_text(value, currency, exact=exact), share)
            change = sum(
                (v for k, v in group.items() if k in ("grow", "transform", "change")), Decimal(0)
            )
            split.add_row(
                CATALOG[change_key].label,
                money_text(change, currency, exact=exact),
                f"{(change / total * 100):.1f} %" if total else "–",
                style="bold",
            )
            console.print(split)
    else:
        console.print("No budget recorded yet.")
    conf = Table(
        "confidence",
        "live items",
        title="Delivery confidence of live work (latest report"
        + (f", {summary.confidence_period:%b %Y})" if summary.confidence_period else ")"),
    )
    for level, n in summary.confidence.items():
        conf.add_row(level, str(n))
    console.print(conf)
    if not any(summary.by_kind.values()):
        console.print("The workspace is empty: run [bold]bigov demo[/] or [bold]bigov import[/].")


@root.command()
def doctor(
    db: DbOption = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Fix what is safe to fix: remove orphan and .part raw files, mark stuck "
            "batches failed, re-render missing packs. Run it when no import or load is running.",
        ),
    ] = False,
    packs: Annotated[
        Path,
        typer.Option("--packs", help="Folder for packs of cycles that have none recorded."),
    ] = Path("packs"),
    json_out: JsonOption = False,
) -> None:
    """Check the workspace is consistent (database integrity, metrics raw store, stuck batches,
    published cycles without packs, snapshot hashes). Exit 0 when clean, 5 when problems
    remain."""
    from bigov.ops.doctor import diagnose

    with open_workspace(db) as ws:
        report = diagnose(ws, repair=repair, packs_dir=packs)
    if json_out:
        print_json({**report.model_dump(mode="json"), "ok": report.ok})
    else:
        if report.findings:
            table = Table(
                "check",
                "severity",
                Column("subject", overflow="fold"),
                Column("problem", overflow="fold"),
                "action",
                "repaired",
            )
            for f in report.findings:
                table.add_row(
                    f.check,
                    f.severity,
                    f.subject,
                    f.problem,
                    f.action or "",
                    "yes" if f.repaired else ("no" if f.repairable else "—"),
                )
            console.print(table)
        for check, why in report.skipped.items():
            console.print(f"{check}: skipped ({why})")
        remaining = report.remaining
        if not remaining:
            console.print(
                f"[green]{escape(ws.describe())}: consistent[/]"
                + (f" ({len(report.findings)} finding(s) repaired)" if report.findings else "")
            )
        else:
            fixable = sum(1 for f in remaining if f.repairable)
            console.print(
                f"[red]{len(remaining)} problem(s) remain[/]"
                + (f"; {fixable} can be fixed with --repair" if fixable and not repair else "")
            )
    if not report.ok:
        raise typer.Exit(5)


@root.command()
def backup(
    out: Annotated[Path, typer.Argument(help="Archive to write (.tar.gz).")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Back up the workspace (database and metrics raw store) into one archive with a manifest
    and hashes (SQLite online backup, or pg_dump on PostgreSQL)."""
    from bigov.ops.backup import backup as run_backup

    with open_workspace(db) as ws:
        result = run_backup(ws, out)
    if json_out:
        print_json(result)
        return
    console.print(
        f"Backed up {result.backend} workspace (revision {result.revision}, "
        f"{result.raw_files} raw metric file(s)) to {result.archive} ({result.bytes:,} bytes)."
    )


@root.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="Archive written by bigov backup.")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a workspace already at the target.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Restore a backup archive into the workspace named by --db (refuses a non-empty target
    unless --force)."""
    from bigov.db.engine import default_url
    from bigov.ops.backup import restore as run_restore

    if not archive.is_file():
        raise ConfigError(f"no backup archive at {archive}")
    result = run_restore(archive, db or default_url(), force=force)
    if json_out:
        print_json(result)
        return
    console.print(
        f"Restored {result.archive} ({result.backend}, revision {result.revision}, "
        f"{result.raw_files} raw metric file(s))."
    )


def _mount_metrics(app: typer.Typer) -> None:
    from bigov.metrics.cli import app as metrics_app

    app.add_typer(metrics_app, name="metrics", help="Measures at every rhythm (KPIs, ops data).")


def _mount_portfolio(app: typer.Typer) -> None:
    from bigov.portfolio.cli import app as portfolio_app

    app.add_typer(
        portfolio_app, name="portfolio", help="Prioritise and optimally select the portfolio."
    )


def _register(module: str) -> Callable[[typer.Typer], None]:
    def mount(app: typer.Typer) -> None:
        __import__(module, fromlist=["register"]).register(app)

    return mount


# Context CLIs live with their context; the root only mounts them, each under the names it
# registers (tests/test_startup.py keeps this table in step with what each module registers).
# The order is the order of `bigov --help`.
MOUNTS: tuple[tuple[Callable[[typer.Typer], None], tuple[str, ...]], ...] = (
    (_register("bigov.governance.cli"), ("figures", "governance", "cycle", "decision")),
    (_register("bigov.ingest.cli"), ("import", "export", "template", "batches")),
    (
        _register("bigov.analysis.cli"),
        (
            "trace",
            "gaps",
            "attainment",
            "benefits",
            "balance",
            "capacity",
            "rollup",
            "agility",
            "quality",
        ),
    ),
    (_mount_metrics, ("metrics",)),
    (_mount_portfolio, ("portfolio",)),
    (_register("bigov.server.cli"), ("serve", "audit", "user", "token")),
    (_register("bigov.ingest.projectonline.cli"), ("migrate",)),
    (_register("bigov.ops.settings_cli"), ("settings",)),
    (_register("bigov.jobs.cli"), ("worker", "jobs")),
    (_register("bigov.datacall.cli"), ("datacall",)),
)
_mounted: set[int] = set()


def _mount(name: str | None = None) -> None:
    """Mount the context CLI that registers ``name`` (None: every one), once each."""
    for k, (mount, names) in enumerate(MOUNTS):
        if k not in _mounted and (name is None or name in names):
            _mounted.add(k)
            mount(root)


def whole_app() -> typer.Typer:
    """The root with every context's commands (help, suggestions, the tests)."""
    _mount()
    return root


def __getattr__(name: str) -> typer.Typer:
    # ``from bigov.cli import app`` is the whole app, mounted when first asked for
    if name == "app":
        return whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    app_for(sys.argv[1:])()


def app_for(words: list[str]) -> typer.Typer:
    """The root app holding only the command that ``words`` start with, or the whole app.

    Typer converts the signature of every command before it runs one; with some sixty commands
    that is a tenth of a second of every start-up, and importing every context's CLI module is
    nearly another. A run needs only its own command, so the console script mounts and builds
    only that one (help, usage errors and suggestions for a mistyped name still see the whole
    app)."""
    if not words or words[0].startswith("-"):
        return whole_app()
    from typer.main import get_command_name, solve_typer_info_defaults

    _mount(words[0])
    commands = [
        c
        for c in root.registered_commands
        if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == words[0]
    ]
    groups = [g for g in root.registered_groups if solve_typer_info_defaults(g).name == words[0]]
    if not commands and not groups:
        return whole_app()
    only = copy.copy(root)
    only.registered_commands = commands
    only.registered_groups = groups
    return only


if __name__ == "__main__":
    main()
