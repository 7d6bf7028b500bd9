"""The ``bigov`` command: thin Typer commands over the workspace.

Commands only unpack arguments, call a service and print; all logic is in the services. Errors
derived from :class:`bigov.errors.BigovError` become one-line messages with their exit code (see
:class:`bigov.cli_support.ErrorHandlingGroup`).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bigov import __version__
from bigov.cli_support import (
    DbOption,
    ErrorHandlingGroup,
    JsonOption,
    RichReporter,
    console,
    open_workspace,
    print_json,
)
from bigov.errors import ConfigError

if TYPE_CHECKING:
    from bigov.workspace import Workspace

SCALES = ("small", "large")

app = typer.Typer(
    name="bigov",
    cls=ErrorHandlingGroup,
    help="bigov — Business Integrated Governance: one picture of run and change, for every board.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"bigov {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """bigov — Business Integrated Governance."""


@app.command()
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
) -> None:
    """Create (or migrate) a workspace and set its basic settings."""
    with open_workspace(db) as ws:
        if organisation:
            ws.set_setting("organisation_name", organisation)
        restate = False
        if fiscal_year_start:
            restate = fiscal_year_start != ws.fiscal_year_start_month and _has_metrics(ws)
            ws.set_setting("fiscal_year_start_month", str(fiscal_year_start))
        if currency:
            if len(currency) != 3 or not currency.isalpha():
                raise ConfigError(f"currency must be a 3-letter ISO code, not {currency!r}")
            ws.set_setting("currency", currency.upper())
        console.print(
            f"Workspace ready at [bold]{ws.describe()}[/] "
            f"(fiscal year starts in month {ws.fiscal_year_start_month})."
        )
        if restate:
            # quarters and years of stored metrics are still the old fiscal year's
            console.print(
                "Stored metrics were harmonised to the previous fiscal year: run "
                "[bold]bigov metrics recompute[/] to restate their quarters and years."
            )


def _has_metrics(ws: Workspace) -> bool:
    from sqlalchemy import select

    from bigov.metrics.models import MetricAggregate

    with ws.session() as s:
        return s.scalars(select(MetricAggregate.id).limit(1)).first() is not None


@app.command()
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
            f"Made [bold]{ws.setting('organisation_name')}[/] in {ws.describe()} "
            f"in {seconds:.1f} s."
        )


@app.command()
def status(
    db: DbOption = None,
    fiscal_year: Annotated[
        int | None, typer.Option(help="Fiscal year for the budget split (default: current).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """A portfolio summary: counts by kind and phase, run/change split, delivery confidence."""
    with open_workspace(db) as ws:
        summary = ws.work.summary(fiscal_year)
    if json_out:
        print_json(summary)
        return
    from rich.markup import escape

    from bigov.figures.catalog import CATALOG

    console.print(f"[bold]{escape(summary.organisation)}[/]")
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
                split.add_row(label, f"{value:,.0f}", share)
            change = sum(
                (v for k, v in group.items() if k in ("grow", "transform", "change")), Decimal(0)
            )
            split.add_row(
                CATALOG[change_key].label,
                f"{change:,.0f}",
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


def _mount_subcommands() -> None:
    """Context CLIs live with their context; the root only mounts them."""
    from bigov.analysis.cli import register as register_analysis
    from bigov.governance.cli import register as register_governance
    from bigov.ingest.cli import register as register_ingest
    from bigov.metrics.cli import app as metrics_app
    from bigov.portfolio.cli import app as portfolio_app

    register_governance(app)
    register_ingest(app)
    register_analysis(app)
    app.add_typer(metrics_app, name="metrics", help="Measures at every rhythm (KPIs, ops data).")
    app.add_typer(
        portfolio_app, name="portfolio", help="Prioritise and optimally select the portfolio."
    )
    __import__("bigov.server.cli", fromlist=["register"]).register(app)  # serve, user, token, audit


_mount_subcommands()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
