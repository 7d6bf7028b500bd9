"""CLI commands of the analysis context: thin wrappers that open the workspace, call one service
function and print a Rich table (or ``--json``). Add them to an app with :func:`register`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from bigov.cli_support import DbOption, JsonOption, console, open_workspace, print_json
from bigov.errors import ConfigError

AsAtOption = Annotated[
    str | None, typer.Option("--as-at", help="Judge as at this date (YYYY-MM-DD; default today).")
]


def _date(value: str | None, name: str = "--as-at") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date like 2025-03-31, not {value!r}") from exc


def _m(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _p(value: Decimal | float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def _capped(value: Decimal | None, raw: Decimal | None, overshoot: bool) -> str:
    """An attainment shown capped at 100 %, with the raw overshoot after it."""
    return f"{_p(value)} ▲ ({_p(raw)})" if overshoot else _p(value)


def trace(
    code: Annotated[str, typer.Argument(help="An OTIG, OTC or work item code.")],
    db: DbOption = None,
    as_at: AsAtOption = None,
    svg: Annotated[
        Path | None, typer.Option("--map", help="Also write the strategy map (SVG) here.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Trace strategy to work and benefits (and a work item up to the strategy it serves)."""
    from bigov.analysis.trace import TraceNode, strategy_map_svg
    from bigov.analysis.trace import trace as run

    with open_workspace(db) as ws, ws.session() as s:
        result = run(s, code, as_at=_date(as_at))
        if svg is not None:
            root = code if result.up is None else None
            svg.write_text(strategy_map_svg(s, root, as_at=_date(as_at)), encoding="utf-8")
    if json_out:
        print_json(result)
        return

    def label(n: TraceNode) -> str:
        parts = [
            f"[dim]{n.relation}[/] " if n.relation else "",
            f"[bold]{escape(n.code)}[/] {escape(n.name)}",
        ]
        parts.append(f" [dim]({n.kind}{', ' + n.status if n.status else ''})[/]")
        if n.weight is not None:
            parts.append(f" w={n.weight:.2f}")
        if n.cost is not None:
            parts.append(
                f" · budget {_m(n.cost.budget)} fcst {_m(n.cost.forecast)} act {_m(n.cost.actual)}"
            )
        if n.confidence:
            parts.append(f" · DCA {n.confidence}")
        if n.benefit is not None:
            parts.append(
                f" · benefit plan {_m(n.benefit.planned)} fcst {_m(n.benefit.forecast)}"
                f" act {_m(n.benefit.actual)} {n.benefit.unit}"
            )
        if n.kpi is not None:
            k = n.kpi
            parts.append(f" · {k.baseline} → {k.target} by {k.target_date}, latest {k.latest}")
        if n.cycle:
            parts.append(" [red](cycle in the data)[/]")
        return "".join(parts)

    def grow(tree: Tree, n: TraceNode) -> None:
        for child in n.children:
            grow(tree.add(label(child)), child)

    down = Tree(label(result.down))
    grow(down, result.down)
    console.print(down)
    if result.up is not None:
        console.print("[bold]Serves[/]")
        up = Tree(label(result.up))
        grow(up, result.up)
        console.print(up)


def gaps(db: DbOption = None, as_at: AsAtOption = None, json_out: JsonOption = False) -> None:
    """Alignment gaps: strategy nobody works on, work serving no strategy, loose benefits."""
    from bigov.analysis.alignment import gaps as run

    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, as_at=_date(as_at))
    if json_out:
        print_json(report)
        return
    table = Table("gap", "code", "detail", title=f"Alignment gaps ({report.count})")
    for g in report.objectives_without_work:
        table.add_row("objective with no work", g.code, g.title)
    for g in report.objectives_without_funded_work:
        table.add_row("objective with no funded work", g.code, g.detail)
    for u in report.unaligned_work:
        table.add_row("work aligned to no OTC", u.code, f"{u.reason}; budget {_m(u.cost.budget)}")
    for b in report.benefits_without_owner:
        table.add_row("benefit with no owner", b.code, b.name)
    for b in report.benefits_without_measure:
        table.add_row("benefit with no measure", b.code, b.name)
    for b in report.benefits_without_realising_team:
        table.add_row("benefit with no realising team", b.code, b.name)
    for g in report.targets_without_business_plan:
        table.add_row("target in no business plan", g.code, g.title)
    for g in report.challenges_without_innovation:
        table.add_row("challenge with no innovation", g.code, g.title)
    for w in report.otc_weights_not_100 + report.work_weights_over_100:
        table.add_row(f"weights ({w.scope})", w.code, f"sum {w.total * 100:.0f} %")
    console.print(table)
    console.print(f"Unaligned work budget: {_m(report.unaligned_cost.budget)}")


def attainment(
    otc: Annotated[str | None, typer.Argument(help="One OTC code (default: all live).")] = None,
    db: DbOption = None,
    as_at: AsAtOption = None,
    json_out: JsonOption = False,
) -> None:
    """Strategy attainment per OTC: key results vs trajectory, benefits, forecast, confidence."""
    from bigov.analysis.attainment import attainment as run
    from bigov.analysis.attainment import metrics_source

    with open_workspace(db) as ws, ws.session() as s:
        rows = run(s, otc, as_at=_date(as_at), measures=metrics_source(ws))
    if json_out:
        print_json(rows)
        return
    table = Table(
        "OTC",
        "key result",
        "latest",
        "attained",
        "expected",
        "forecast",
        "on track",
        "benefit act/plan to date",
        "work DCA",
        title="Strategy attainment",
    )
    for a in rows:
        ben = (
            f"{_m(a.benefits.actual_to_date)} / {_m(a.benefits.planned_to_date)}"
            if a.benefits
            else "–"
        )
        table.add_row(
            f"[bold]{escape(a.code)}[/] {escape(a.title)}",
            "",
            "",
            _p(a.attained_pct),
            _p(a.expected_pct),
            _p(a.forecast_pct),
            "–" if a.on_track is None else ("yes" if a.on_track else "no"),
            ben,
            a.confidence or "–",
        )
        for k in a.key_results:
            window = "" if k.window == "period" else f" ({k.window})"
            table.add_row(
                "",
                escape(f"{k.code} {k.name}{window}"),
                "–" if k.latest is None else escape(f"{k.latest.normalize():f} {k.unit or ''}"),
                _capped(k.attained_pct, k.attained_raw_pct, k.overshoot),
                _p(k.expected_pct),
                _capped(k.forecast_pct, k.forecast_raw_pct, k.forecast_overshoot),
                "–" if k.on_track is None else ("yes" if k.on_track else "no"),
                "",
                "",
            )
    console.print(table)


def benefits(
    by: Annotated[
        str, typer.Option("--by", help="benefit, owner, unit, otc or portfolio.")
    ] = "benefit",
    db: DbOption = None,
    as_at: AsAtOption = None,
    discount_rate: Annotated[
        float, typer.Option(help="Annual discount rate for present values (0.035 = 3.5 %).")
    ] = 0.0,
    tolerance: Annotated[
        float, typer.Option(help="% shortfall of forecast against plan tolerated.")
    ] = 10.0,
    late_days: Annotated[
        int, typer.Option(help="Days enabling work may slip before a benefit is at risk.", min=0)
    ] = 0,
    json_out: JsonOption = False,
) -> None:
    """Benefits realisation: planned vs forecast (actual to date + forecast of the rest) vs
    actual to date, cumulative, at risk."""
    from bigov.analysis.benefits import GROUPINGS, realisation

    if by not in GROUPINGS:
        raise ConfigError(f"unknown grouping {by!r}", hint=f"use one of: {', '.join(GROUPINGS)}")
    with open_workspace(db) as ws, ws.session() as s:
        report = realisation(
            s,
            by=by,
            as_at=_date(as_at),
            discount_rate=Decimal(str(discount_rate)),
            tolerance_pct=Decimal(str(tolerance)),
            late_tolerance_days=late_days,
        )
    if json_out:
        print_json(report)
        return
    table = Table(
        by,
        "name",
        "unit",
        "planned",
        "forecast",
        "actual",
        "plan to date",
        "actual to date",
        "realised",
        "PV forecast",
        title=f"Benefits realisation by {by} (as at {report.as_at})",
    )
    for g in report.groups:
        f = g.figures
        table.add_row(
            escape(g.key),
            escape(g.name),
            escape(g.unit),
            _m(f.planned),
            _m(f.forecast),
            _m(f.actual),
            _m(f.planned_to_date),
            _m(f.actual_to_date),
            _p(f.realised_pct),
            _m(f.pv_forecast),
        )
    t = report.total
    table.add_row(
        "[bold]total[/]",
        "net of dis-benefits",
        report.currency,
        _m(t.planned),
        _m(t.forecast),
        _m(t.actual),
        _m(t.planned_to_date),
        _m(t.actual_to_date),
        _p(t.realised_pct),
        _m(t.pv_forecast),
    )
    console.print(table)
    if report.at_risk:
        risk = Table(
            "benefit", "planned", "forecast", "short", "realised", "why", title="Benefits at risk"
        )
        for r in report.at_risk:
            risk.add_row(
                escape(r.code),
                _m(r.planned),
                _m(r.forecast),
                _p(r.shortfall_pct),
                _p(r.realised_pct),
                escape("; ".join(r.reasons)),
            )
        console.print(risk)
    if report.excluded_profile_rows:
        console.print(
            f"[yellow]{report.excluded_profile_rows} profile rows in another currency left out "
            "(see bigov quality)[/]"
        )


def balance(
    db: DbOption = None,
    grain: Annotated[str, typer.Option(help="month or year.")] = "month",
    measure: Annotated[
        str, typer.Option(help="budget, forecast (outturn) or actual: which money is split.")
    ] = "forecast",
    fiscal_year: Annotated[
        int | None,
        typer.Option("--fiscal-year", help="Only this fiscal year (named by the year it ends in)."),
    ] = None,
    as_at: AsAtOption = None,
    json_out: JsonOption = False,
) -> None:
    """Run / grow / transform split of spend and FTE against the board's target.

    The split is by purpose (the work item's run / grow / transform category), which is what the
    target constrains; `bigov status` also shows the split by delivery (business as usual or
    change). `--fiscal-year 2027 --measure budget` gives the figure the packs call
    balance.change_share_by_purpose."""
    from bigov.analysis.balance import balance as run
    from bigov.finance.service import fiscal_year_bounds

    if grain not in ("month", "year"):
        raise ConfigError(f"unknown grain {grain!r}", hint="use month or year")
    if measure not in ("budget", "forecast", "actual"):
        raise ConfigError(f"unknown measure {measure!r}", hint="use budget, forecast or actual")
    with open_workspace(db) as ws, ws.session() as s:
        start = end = None
        if fiscal_year is not None:
            start, end = fiscal_year_bounds(ws, fiscal_year)
        report = run(s, grain=grain, start=start, end=end, as_at=_date(as_at))
    if json_out:
        print_json(report)
        return
    tgt = " / ".join(f"{v:.0f}" for v in report.target.values())
    scope = f"FY{fiscal_year}" if fiscal_year is not None else "all periods"
    table = Table(
        "period",
        "unit",
        measure,
        "run",
        "grow",
        "transform",
        "change (g+t)",
        "vs target (pp)",
        "FTE r/g/t",
        title=f"{measure.capitalize()} by purpose, {scope} (target run / grow / transform "
        f"{tgt} %; as at {report.as_at})",
    )
    for row in report.totals + report.trend:
        split = getattr(row, measure)
        sh = split.shares
        dev = split.deviation_pp
        fte = row.fte.shares
        # from the amounts, not the rounded shares: the same figure as the packs' change share
        change = (
            (split.amounts["grow"] + split.amounts["transform"]) * 100 / split.total
            if split.total
            else None
        )
        table.add_row(
            "all" if row.period is None else row.period.isoformat(),
            escape(row.unit),
            _m(split.total),
            _p(sh["run"]),
            _p(sh["grow"]),
            _p(sh["transform"]),
            _p(change),
            " / ".join("–" if dev[c] is None else f"{dev[c]:+.1f}" for c in dev),
            " / ".join("–" if fte[c] is None else f"{fte[c]:.0f}" for c in fte),
        )
    console.print(table)


def capacity(
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(help="First month (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Month after the last (YYYY-MM-DD).")] = None,
    what_if: Annotated[
        str | None, typer.Option("--what-if", help="Work item code to start hypothetically.")
    ] = None,
    all_cells: Annotated[bool, typer.Option("--all", help="Show every cell.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Demand vs capacity by skill, team and month; over-allocation and its causes."""
    from bigov.analysis.resources import CapacityCell
    from bigov.analysis.resources import capacity as run
    from bigov.analysis.resources import what_if as run_what_if

    first, last = _date(start, "--start"), _date(end, "--end")
    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, start=first, end=last)
        scenario = run_what_if(s, what_if, start=first, end=last) if what_if else None
    if json_out:
        print_json({"capacity": report, "what_if": scenario})
        return

    def table(title: str, cells: list[CapacityCell]) -> Table:
        t = Table(
            "month",
            "skill",
            "team",
            "capacity",
            "demand",
            "run",
            "change",
            "gap",
            "drivers",
            title=title,
        )
        for c in cells:
            t.add_row(
                c.period.strftime("%Y-%m"),
                c.skill,
                c.team,
                f"{c.capacity}",
                f"{c.demand}",
                f"{c.demand_run}",
                f"{c.demand_change}",
                f"[red]{c.gap}[/]" if c.over else f"{c.gap}",
                ", ".join(f"{d.work_item} {d.fte}" for d in c.drivers[:5]),
            )
        return t

    console.print(
        table(
            "Over-allocated" if not all_cells else "Demand vs capacity",
            report.cells + report.skills if all_cells else report.over_allocated,
        )
    )
    if scenario is not None:
        console.print(table(f"Starting {scenario.work_item}: newly over", scenario.newly_over))
        console.print(table(f"Starting {scenario.work_item}: worse", scenario.worsened))


def rollup(
    code: Annotated[
        str | None, typer.Argument(help="Work item code (default: everything).")
    ] = None,
    db: DbOption = None,
    as_at: AsAtOption = None,
    json_out: JsonOption = False,
) -> None:
    """Cost, schedule and delivery confidence rolled up the work hierarchy."""
    from bigov.analysis.rollups import rollup as run

    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, code, as_at=_date(as_at))
    if json_out:
        print_json(report)
        return
    table = Table(
        "item",
        "kind",
        "budget",
        "forecast",
        "actual",
        "variance",
        "milestones hit/missed/pending",
        "max slip (d)",
        "DCA",
        "subtree DCA",
        title=f"Roll-up ({report.currency}, as at {report.as_at})",
    )
    for r in report.rows:
        table.add_row(
            "  " * r.depth + escape(r.code),
            r.kind,
            _m(r.total.budget),
            _m(r.total.forecast),
            _m(r.total.actual),
            f"{_m(r.total.variance)} ({_p(r.total.variance_pct)})",
            f"{r.schedule.hit}/{r.schedule.missed}/{r.schedule.pending}",
            "–" if r.schedule.slippage_days_max is None else str(r.schedule.slippage_days_max),
            r.confidence or "–",
            r.confidence_mean or "–",
        )
    t = report.total
    table.add_row(
        "[bold]total[/]",
        "",
        _m(t.budget),
        _m(t.forecast),
        _m(t.actual),
        _m(t.variance),
        "",
        "",
        "",
        "",
    )
    console.print(table)


def agility(db: DbOption = None, as_at: AsAtOption = None, json_out: JsonOption = False) -> None:
    """How fast and how far the portfolio answers strategy changes."""
    from bigov.analysis.agility import agility as run

    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, as_at=_date(as_at))
    if json_out:
        print_json(report)
        return
    table = Table(
        "OTC",
        "version",
        "from",
        "status",
        "first decision",
        "days",
        "realigned",
        title="Strategy changes",
    )
    for c in report.changes:
        table.add_row(
            c.otc,
            str(c.version),
            c.effective_from.isoformat(),
            c.status,
            c.first_response.isoformat() if c.first_response else "none yet",
            "–" if c.days_to_response is None else str(c.days_to_response),
            f"{len(c.realigned)} of {len(c.affected)}",
        )
    console.print(table)
    days = report.median_days_to_response
    console.print(
        f"Median days to respond: {'–' if days is None else days}"
        f" · realigned: {_p(report.realigned_pct)} · still spending on withdrawn objectives: "
        f"forecast {_m(report.withdrawn_spend_total.forecast)} {report.currency}"
    )


def quality(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Data-quality findings (cycles, weights, currencies, off-calendar periods)."""
    from bigov.analysis.quality import findings

    with open_workspace(db) as ws, ws.session() as s:
        report = findings(s)
    if json_out:
        print_json(report)
        return
    if report.ok:
        console.print("No data-quality findings.")
        return
    table = Table(
        "check", "severity", "codes", "finding", title=f"Data quality ({len(report.findings)})"
    )
    for f in report.findings:
        table.add_row(f.check, f.severity, ", ".join(f.codes), f.message)
    console.print(table)


COMMANDS = (trace, gaps, attainment, benefits, balance, capacity, rollup, agility, quality)


def register(app: typer.Typer) -> None:
    """Add the analysis commands (trace, gaps, attainment, benefits, balance, capacity, rollup,
    agility, quality) as top-level commands of ``app``."""
    for command in COMMANDS:
        app.command(name=command.__name__)(command)


__all__ = ["COMMANDS", "register"]
