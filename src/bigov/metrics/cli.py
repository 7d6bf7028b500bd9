"""``bigov metrics ...``: thin commands over :class:`~bigov.metrics.service.MetricsService`.

Each command is a plain function taking a :class:`~bigov.workspace.Workspace` (``load_cmd``,
``show_cmd``, ...) plus a Typer wrapper. The wrappers take the workspace from ``ctx.obj`` when the
root app put one there, else open ``--db``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bigov.cli_support import DbOption, may_create, require_code
from bigov.metrics.calendar import Frequency, parse_grain
from bigov.metrics.kinds import MeasureDirection, OrgRollup, TimeAggregation

# DuckDB, Arrow and the workspace load when a command runs, not when `bigov --help` starts
if TYPE_CHECKING:
    from bigov.metrics.schemas import (
        CompletenessRow,
        LoadResult,
        MeasureSpec,
        PeriodChange,
        PeriodValue,
    )
    from bigov.metrics.service import MetricsService as _MetricsService
    from bigov.workspace import Workspace


def MetricsService(ws: Workspace) -> _MetricsService:  # noqa: N802 - the class, loaded late
    from bigov.metrics.service import MetricsService as Service

    return Service(ws)


app = typer.Typer(help="Measures at every rhythm: load observations, show harmonised values.")


def _workspace(ctx: typer.Context, db: str | None) -> Workspace:
    from bigov.workspace import Workspace

    if isinstance(ctx.obj, Workspace):
        return ctx.obj
    ws = Workspace.open(db, create=may_create())
    ctx.call_on_close(ws.close)
    return ws


# -- commands as functions over a workspace ---------------------------------------------------
def load_cmd(ws: Workspace, file: Path) -> LoadResult:
    """Load one observations file."""
    return MetricsService(ws).load(file)


def _known_org(ws: Workspace, org: str | None) -> None:
    """An --org filter names an organisation unit, or the org of some series (exit 4 if not)."""
    from bigov.metrics.models import MetricSeries
    from bigov.org.models import OrgUnit

    require_code(ws, "organisation unit", org, OrgUnit.code, MetricSeries.org_unit_code)


def show_cmd(
    ws: Workspace, measure: str, grain: str, org: str | None, as_at: dt.datetime | None
) -> list[PeriodValue]:
    """A measure's values per period."""
    _known_org(ws, org)
    return MetricsService(ws).values(measure, grain=parse_grain(grain), org=org, as_at=as_at)


def completeness_cmd(
    ws: Workspace, measure: str, grain: str, org: str | None, as_at: dt.datetime | None
) -> list[CompletenessRow]:
    """Observations received against expected, per series and period."""
    _known_org(ws, org)
    return MetricsService(ws).completeness(measure, grain=parse_grain(grain), org=org, as_at=as_at)


def changes_cmd(
    ws: Workspace, measure: str, since: dt.datetime, grain: str, org: str | None
) -> list[PeriodChange]:
    """Periods whose figure changed since an as-at date (restatements and new periods)."""
    _known_org(ws, org)
    return MetricsService(ws).changes_since(measure, since, grain=parse_grain(grain), org=org)


def import_definitions_cmd(ws: Workspace, file: Path) -> list[str]:
    """Define the measures of a YAML file."""
    return MetricsService(ws).import_definitions(file)


def define_cmd(ws: Workspace, spec: MeasureSpec) -> None:
    """Define (or update) one measure."""
    MetricsService(ws).define(spec)


# as-at instants are often copied from a load result, so seconds fractions and offsets parse too
_AS_AT_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
]


def _fmt(value: float | None) -> str:
    # Board readers want 33,020 not 3.302e+04: whole numbers with separators for large values,
    # a few decimals only where they carry meaning (rates, percentages).
    if value is None:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value else "0"


def _column_format(values: list[float | None]) -> Any:
    """One number format for a column, so it reads evenly (not "-1,671" above "-26.3"): none
    when every figure is whole, else enough decimals for its typical (median) figure to keep
    three significant digits, at most four (an availability of 0.9995 reads 1.00, and its
    variance column, formatted on its own, 0.0005)."""
    present = [abs(v) for v in values if v is not None]
    nonzero = sorted(v for v in present if v)
    if not nonzero or all(float(v).is_integer() for v in present):
        places = 0
    else:
        typical = nonzero[len(nonzero) // 2]
        places = max(0, min(4, 2 - math.floor(math.log10(typical))))

    def fmt(value: float | None) -> str:
        return "" if value is None else f"{value:,.{places}f}"

    return fmt


# -- Typer wrappers ---------------------------------------------------------------------------
@app.command("load")
def load(
    ctx: typer.Context,
    file: Path,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the result (or the refusal) as JSON")
    ] = False,
    errors: Annotated[
        Path | None,
        typer.Option(
            "--errors",
            help="on refusal, write every bad row (up to 100,000 of each kind) to this .csv/.xlsx",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Load observations (CSV or Parquet: series, ts, value[, weight]) and harmonise them."""
    from bigov.errors import ValidationError

    ws = _workspace(ctx, db)
    try:
        result = MetricsService(ws).load(
            file, report_rows=ERRORS_REPORT_ROWS if errors is not None else None
        )
    except ValidationError as err:
        if errors is not None:
            from bigov.ingest.template import write_error_report

            write_error_report(err.problems, errors)
            err.hint = f"every bad row written to {errors}"
        err.details = _refusal(file, err)  # printed with the error under --json
        raise
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(
        f"batch {result.batch_id}: {result.rows:,} rows, {result.series} series, "
        f"{result.aggregates_written:,} period aggregates ({', '.join(result.grains)})"
        + (f", {result.superseded} restated" if result.superseded else "")
        + (
            " (corrections: touched periods recomputed from their raw rows)"
            if result.recomputed_from_prior
            else ""
        )
    )


# an --errors report names every bad row of each kind up to this bound (the counts are complete)
ERRORS_REPORT_ROWS = 100_000


def _refusal(file: Path, err: Any) -> dict[str, Any]:
    """What a refused load adds to its JSON error document (whose ``error.problems`` names the
    rows): the counts, by kind."""
    rows = getattr(err, "rows", len({p.row for p in err.problems if p.row is not None}))
    return {
        "status": "rejected",
        "file": file.name,
        "rejected_rows": rows,
        "problems_by_kind": getattr(err, "kinds", {}),
    }


@app.command("recompute")
def recompute(
    ctx: typer.Context,
    measure: Annotated[
        str | None, typer.Argument(help="measure code (default: every measure)")
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Rebuild aggregates from the raw store — after changing the time zone, the fiscal year
    start or a measure's grains. Earlier versions stay visible as at their dates."""
    result = MetricsService(_workspace(ctx, db)).recompute(measure)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(
        f"batch {result.batch_id}: {result.raw_rows:,} raw rows of {result.series} series "
        f"({', '.join(result.measures) or 'no measures'}) -> {result.aggregates_written:,} "
        f"period aggregates; {result.superseded:,} earlier versions superseded"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    measure: str,
    grain: Annotated[str, typer.Option(help="hour, day, week, month, quarter, year")] = "month",
    org: Annotated[str | None, typer.Option(help="organisation unit code (and below)")] = None,
    as_at: Annotated[
        dt.datetime | None, typer.Option("--as-at", help="what was known at this date/time")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Show a measure per period with target, variance, RAG and completeness."""
    rows = show_cmd(_workspace(ctx, db), measure, grain, org, as_at)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    # what it is and when it is as at, as every analysis opens
    known = (as_at or dt.datetime.now()).isoformat(sep=" ", timespec="minutes")
    typer.echo(f"{measure} by {grain}{f' · {org} and below' if org else ''} · as at {known}")
    fmt = _column_format([v for r in rows for v in (r.value, r.target)])
    fmt_var = _column_format([r.variance for r in rows])
    typer.echo(
        f"{'period':<18}{'value':>12}{'target':>12}{'var':>10} {'rag':<6}{'n/exp':>14} flags"
    )
    for r in rows:
        flags = ("partial " if r.partial else "") + (f"v{r.versions}" if r.versions > 1 else "")
        n_exp = f"{r.n:,}/{r.expected:,}" if r.expected is not None else f"{r.n:,}"
        typer.echo(
            f"{r.label:<18}{fmt(r.value):>12}{fmt(r.target):>12}{fmt_var(r.variance):>10} "
            f"{(r.rag or ''):<6}{n_exp:>14} {flags}"
        )


@app.command("completeness")
def completeness(
    ctx: typer.Context,
    measure: str,
    grain: Annotated[str, typer.Option(help="hour, day, week, month, quarter, year")] = "month",
    org: Annotated[str | None, typer.Option(help="organisation unit code (and below)")] = None,
    as_at: Annotated[
        dt.datetime | None, typer.Option("--as-at", help="what was known at this date/time")
    ] = None,
    partial_only: Annotated[
        bool, typer.Option("--partial", help="only periods with fewer than expected")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Show how many observations arrived against expected, per series and period."""
    rows = completeness_cmd(_workspace(ctx, db), measure, grain, org, as_at)
    if partial_only:
        rows = [r for r in rows if r.partial]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    typer.echo(f"{'series':<28}{'org':<18}{'period':<18}{'n/exp':>14}{'coverage':>10} flags")
    for r in rows:
        n_exp = f"{r.n}/{r.expected}" if r.expected is not None else str(r.n)
        cover = "" if r.coverage is None else f"{r.coverage:.1%}"
        typer.echo(
            f"{r.series:<28}{r.org:<18}{r.label:<18}{n_exp:>14}{cover:>10} "
            + ("partial" if r.partial else "")
        )


@app.command("changes")
def changes(
    ctx: typer.Context,
    measure: str,
    since: Annotated[
        dt.datetime,
        typer.Option(
            "--since",
            help="the as-at date/time to compare with (local time, or with an offset)",
            formats=_AS_AT_FORMATS,
        ),
    ],
    grain: Annotated[str, typer.Option(help="hour, day, week, month, quarter, year")] = "month",
    org: Annotated[str | None, typer.Option(help="organisation unit code (and below)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Show what changed since an as-at date: restated figures and periods that are new."""
    rows = changes_cmd(_workspace(ctx, db), measure, since, grain, org)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    if not rows:
        typer.echo(f"no changes to {measure} since {since.isoformat()}")
        return
    typer.echo(f"{'period':<18}{'before':>14}{'after':>14}{'change':>14} kind")
    for r in rows:
        delta = _fmt(r.after - r.before) if r.after is not None and r.before is not None else ""
        kind = "new" if r.before is None else "restated"
        typer.echo(f"{r.label:<18}{_fmt(r.before):>14}{_fmt(r.after):>14}{delta:>14} {kind}")


@app.command("import-definitions")
def import_definitions(
    ctx: typer.Context,
    file: Path,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Define measures, series and targets from a YAML file (see docs/metrics.md)."""
    codes = import_definitions_cmd(_workspace(ctx, db), file)
    if as_json:
        typer.echo(json.dumps({"defined": codes}, indent=2))
        return
    typer.echo(f"defined {len(codes)} measure(s): {', '.join(codes)}")


@app.command("define")
def define(
    ctx: typer.Context,
    code: str,
    name: Annotated[str, typer.Option(help="display name")],
    unit: Annotated[str | None, typer.Option()] = None,
    frequency: Annotated[Frequency, typer.Option()] = Frequency.DAILY,
    aggregation: Annotated[TimeAggregation, typer.Option()] = TimeAggregation.SUM,
    rollup: Annotated[OrgRollup, typer.Option()] = OrgRollup.SUM,
    direction: Annotated[MeasureDirection, typer.Option()] = MeasureDirection.HIGHER_IS_BETTER,
    grains: Annotated[str, typer.Option(help="comma-separated")] = "day,week,month,quarter,year",
    series: Annotated[
        list[str] | None, typer.Option(help="SERIES_CODE=ORG_UNIT, repeatable")
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Define one measure and its series."""
    from bigov.metrics.schemas import MeasureSpec, SeriesSpec

    spec: dict[str, Any] = {
        "code": code,
        "name": name,
        "unit": unit,
        "frequency": frequency,
        "time_aggregation": aggregation,
        "org_rollup": rollup,
        "direction": direction,
        "grains": [parse_grain(g) for g in grains.split(",") if g.strip()],
        "series": [
            SeriesSpec(code=s.partition("=")[0], org=s.partition("=")[2] or s) for s in series or []
        ],
    }
    define_cmd(_workspace(ctx, db), MeasureSpec(**spec))
    if as_json:
        typer.echo(json.dumps({"defined": [code]}, indent=2))
        return
    typer.echo(f"defined measure {code}")


__all__ = [
    "app",
    "changes_cmd",
    "completeness_cmd",
    "define_cmd",
    "import_definitions_cmd",
    "load_cmd",
    "show_cmd",
]
