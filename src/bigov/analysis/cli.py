"""CLI commands of the analysis context: thin wrappers that open the workspace, call one service
function and print (or ``--json``). Add them to an app with :func:`register`.

Every command opens with the date its answer is as at, prints a summary first and its long
lists behind ``--detail`` / ``--limit``, and builds its tables from the helpers in
:mod:`bigov.cli_support` so they fit 100 columns with codes never cut."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from bigov.cli_support import (
    DbOption,
    DetailOption,
    ExactOption,
    JsonOption,
    LimitOption,
    as_at_line,
    code_column,
    console,
    fit_table,
    limited,
    money_text,
    more_note,
    number_column,
    open_workspace,
    pct_text,
    plain_number,
    print_json,
    sort_rows,
    text_column,
)
from bigov.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from bigov.analysis.resources import CapacityCell

AsAtOption = Annotated[
    str | None, typer.Option("--as-at", help="Judge as at this date (YYYY-MM-DD; default today).")
]
SortOption = Annotated[
    str | None,
    typer.Option("--sort", help="Order the detail rows by this column (-name reverses)."),
]
# rows a long list shows unless --detail or --limit asks for another number
SUMMARY_ROWS = 20
# the kinds `bigov rollup` shows before --detail
SUMMARY_KINDS = ("portfolio", "programme", "product")


def _date(value: str | None, name: str = "--as-at") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date like 2025-03-31, not {value!r}") from exc


def _rows(detail: bool, limit: int | None) -> int | None:
    """How many detail rows to show: --limit, else all with --detail, else a summary's worth."""
    return limit if limit is not None else (None if detail else SUMMARY_ROWS)


def _q(value: Decimal | float | None) -> str:
    """A quantity read by a person: separators, at most two decimals, never 1.4E+2."""
    if value is None:
        return "–"
    d = Decimal(str(value))
    text = f"{d:,.0f}" if abs(d) >= 1000 else f"{d:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fte(value: Decimal | float | None) -> str:
    return plain_number(value, 1)


def _currency(ws: Any) -> str:
    return str(ws.setting("currency"))


def _row_label(row: Any, first: str) -> str:
    if first == "unit":
        return str(row.unit)
    return "all" if row.period is None else f"{row.period:%Y-%m}" + f" {row.unit}"


def _capped(value: Decimal | None, overshoot: bool) -> str:
    """An attainment shown capped at 100 %, marked ▲ when the raw value went beyond."""
    return f"{pct_text(value)}▲" if overshoot else pct_text(value)


def trace(
    code: Annotated[str, typer.Argument(help="An OTIG, OTC or work item code.")],
    db: DbOption = None,
    as_at: AsAtOption = None,
    svg: Annotated[
        Path | None, typer.Option("--map", help="Also write the strategy map (SVG) here.")
    ] = None,
    exact: ExactOption = False,
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
        try:
            versions = [] if json_out else ws.strategy.history(code)
        except NotFoundError:  # a work item or an OTIG: no versions
            versions = []
        history = [
            v
            for v in versions
            if result.as_at is None or v.effective_from <= result.as_at  # known at the date
        ]
    if json_out:
        print_json(result)
        return
    cur = result.currency

    def m(value: Decimal | None) -> str:
        return money_text(value, cur, exact=exact)

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
                f" · budget {m(n.cost.budget)} fcst {m(n.cost.forecast)} act {m(n.cost.actual)}"
            )
        if n.confidence:
            parts.append(f" · DCA {n.confidence}")
        if n.benefit is not None:
            b = n.benefit
            if b.unit == cur:
                figures = f"plan {m(b.planned)} fcst {m(b.forecast)} act {m(b.actual)}"
            else:
                unit = escape(b.unit)
                figures = f"plan {_q(b.planned)} fcst {_q(b.forecast)} act {_q(b.actual)} {unit}"
            parts.append(f" · benefit {figures}")
        if n.kpi is not None:
            k = n.kpi
            unit = f" {escape(k.unit)}" if k.unit else ""
            parts.append(
                f" · {_q(k.baseline)} → {_q(k.target)}{unit} by {k.target_date or '–'}, "
                f"latest {_q(k.latest)}"
            )
        if n.cycle:
            parts.append(" [red](cycle in the data)[/]")
        return "".join(parts)

    def grow(tree: Tree, n: TraceNode) -> None:
        for child in n.children:
            grow(tree.add(label(child)), child)

    as_at_line(f"Trace of {result.code}", result.as_at, extra=f"money in {cur}")
    down = Tree(label(result.down))
    grow(down, result.down)
    console.print(down)
    if result.up is not None:
        console.print("[bold]Serves[/]")
        up = Tree(label(result.up))
        grow(up, result.up)
        console.print(up)
    if history:
        # an OTC's versions: when its deadline or wording changed, and why (agility reads them)
        table = fit_table(
            code_column("version"),
            code_column("from"),
            code_column("to"),
            code_column("status"),
            code_column("target date"),
            text_column("title and reason for the change", min_width=20),
            title="Versions",
        )
        for v in history:
            table.add_row(
                f"v{v.version}",
                v.effective_from.isoformat(),
                # an end after the as-at date was not known then
                v.effective_to.isoformat()
                if v.effective_to and (result.as_at is None or v.effective_to <= result.as_at)
                else "—",
                v.status.value,
                v.target_date.isoformat() if v.target_date else "—",
                Text(v.title + (f" — {v.change_reason}" if v.change_reason else "")),
            )
        console.print(table)


def gaps(
    db: DbOption = None,
    as_at: AsAtOption = None,
    detail: DetailOption = False,
    limit: LimitOption = None,
    exact: ExactOption = False,
    json_out: JsonOption = False,
) -> None:
    """Alignment gaps: strategy nobody works on, work serving no strategy, loose benefits."""
    from bigov.analysis.alignment import gaps as run

    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, as_at=_date(as_at))
        cur = _currency(ws)
    if json_out:
        print_json(report)
        return
    rows: list[tuple[str, str, str]] = []
    for g in report.objectives_without_work:
        rows.append(("objective with no work", g.code, g.title))
    for g in report.objectives_without_funded_work:
        rows.append(("objective with no funded work", g.code, g.detail))
    for u in report.unaligned_work:
        rows.append(
            (
                "work aligned to no OTC",
                u.code,
                f"{u.reason}; budget {money_text(u.cost.budget, cur, exact=exact)}",
            )
        )
    for b in report.benefits_without_owner:
        rows.append(("benefit with no owner", b.code, b.name))
    for b in report.benefits_without_measure:
        rows.append(("benefit with no measure", b.code, b.name))
    for b in report.benefits_without_realising_team:
        rows.append(("benefit with no realising team", b.code, b.name))
    for g in report.targets_without_business_plan:
        rows.append(("target in no business plan", g.code, g.title))
    for g in report.challenges_without_innovation:
        rows.append(("challenge with no innovation", g.code, g.title))
    for w in report.otc_weights_not_100 + report.work_weights_over_100:
        rows.append((f"weights ({w.scope})", w.code, f"sum {pct_text(w.total * 100)}"))
    for u_g in report.ungoverned_work:
        rows.append(("work no board governs", u_g.code, f"{u_g.name} ({u_g.kind}, {u_g.phase})"))
    as_at_line("Alignment gaps", _date(as_at) or dt.date.today())
    summary = fit_table(text_column("gap"), number_column("count"), title="Summary")
    counts: dict[str, int] = {}
    for kind, _, _ in rows:
        counts[kind] = counts.get(kind, 0) + 1
    for kind, n in counts.items():
        summary.add_row(kind, str(n))
    summary.add_row(Text("total", style="bold"), Text(str(len(rows)), style="bold"))
    console.print(summary)
    console.print(
        f"Budget of work aligned to no OTC: "
        f"{money_text(report.unaligned_cost.budget, cur, exact=exact)}"
    )
    shown = limited(rows, _rows(detail, limit))
    if shown:
        table = fit_table(
            text_column("gap"),
            code_column("code", (r[1] for r in shown)),
            text_column("detail"),
            title="Gaps",
        )
        for kind, code, what in shown:
            table.add_row(kind, Text(code), Text(what))
        console.print(table)
    more_note(len(rows), len(shown), how="--detail, --limit N or --json")


def attainment(
    otc: Annotated[str | None, typer.Argument(help="One OTC code (default: all live).")] = None,
    db: DbOption = None,
    as_at: AsAtOption = None,
    detail: DetailOption = False,
    exact: ExactOption = False,
    json_out: JsonOption = False,
) -> None:
    """Strategy attainment per OTC: key results vs trajectory, RAG, benefits, forecast,
    confidence. RAG is the packs' rule: green on or ahead of trajectory, amber behind it but
    forecast to reach most of the change by the target date, red otherwise."""
    from bigov.analysis.attainment import attainment as run
    from bigov.analysis.attainment import metrics_source
    from bigov.governance.snapshot import attainment_rag

    day = _date(as_at)
    with open_workspace(db) as ws, ws.session() as s:
        rows = run(s, otc, as_at=day, measures=metrics_source(ws))
        cur = _currency(ws)
    if json_out:
        print_json(rows)
        return
    as_at_line("Strategy attainment", day or dt.date.today(), extra="% of the change planned")
    colour = {"green": "green", "amber": "yellow", "red": "red"}

    def rag(on_track: bool | None, forecast: Decimal | None) -> Text:
        value = attainment_rag(on_track, forecast)
        return Text(value or "–", style=colour.get(value or "", ""))

    codes = [a.code for a in rows] + [f"  {k.code}" for a in rows for k in a.key_results]
    table = fit_table(
        code_column("code", codes),
        text_column("name", min_width=14),
        number_column("latest"),
        number_column("attained"),
        number_column("expected"),
        number_column("forecast"),
        "RAG",
        code_column("work DCA", (a.confidence or "–" for a in rows)),
    )
    for a in rows:
        table.add_row(
            Text(a.code, style="bold"),
            Text(a.title, style="bold"),
            "",
            pct_text(a.attained_pct),
            pct_text(a.expected_pct),
            pct_text(a.forecast_pct),
            rag(a.on_track, a.forecast_pct),
            a.confidence or "–",
        )
        for k in a.key_results:
            window = "" if k.window == "period" else f" ({k.window})"
            unit = f" {k.unit}" if k.unit and k.unit != "%" else ("%" if k.unit == "%" else "")
            table.add_row(
                Text(f"  {k.code}"),
                Text(f"{k.name}{window}"),
                "–" if k.latest is None else Text(f"{_q(k.latest)}{unit}"),
                _capped(k.attained_pct, k.overshoot),
                pct_text(k.expected_pct),
                _capped(k.forecast_pct, k.forecast_overshoot),
                rag(k.on_track, k.forecast_pct),
                "",
            )
    console.print(table)
    if any(k.overshoot or k.forecast_overshoot for a in rows for k in a.key_results):
        console.print(
            Text(
                "▲ beyond 100% of the change, shown capped (raw values: --detail or --json).", "dim"
            )
        )
    if detail:
        ben = fit_table(
            code_column("OTC", (a.code for a in rows)),
            number_column("benefit plan to date"),
            number_column("actual to date"),
            number_column("forecast"),
            number_column("work items"),
            title=f"Benefits contributing to each OTC ({cur})",
        )
        for a in rows:
            b = a.benefits
            ben.add_row(
                a.code,
                money_text(b.planned_to_date if b else None, cur, exact=exact),
                money_text(b.actual_to_date if b else None, cur, exact=exact),
                money_text(b.forecast if b else None, cur, exact=exact),
                str(a.work_items),
            )
        console.print(ben)
        over = [k for a in rows for k in a.key_results if k.overshoot or k.forecast_overshoot]
        if over:
            raw = fit_table(
                code_column("key result", (k.code for k in over)),
                number_column("attained (raw)"),
                number_column("forecast (raw)"),
                title="Key results beyond 100% of the change",
            )
            for k in over:
                raw.add_row(k.code, pct_text(k.attained_raw_pct), pct_text(k.forecast_raw_pct))
            console.print(raw)
    else:
        console.print(Text("Benefits behind each OTC and raw overshoots: --detail.", "dim"))


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
    detail: DetailOption = False,
    limit: LimitOption = None,
    sort: SortOption = None,
    filter_text: Annotated[
        str | None,
        typer.Option("--filter", help="Only groups whose code or name contains this text."),
    ] = None,
    exact: ExactOption = False,
    json_out: JsonOption = False,
) -> None:
    """Benefits realisation: planned vs forecast (actual to date + forecast of the rest) vs
    actual to date, cumulative, at risk. The total first; then the groups, largest plan first
    (--sort planned, forecast, realised, code or name; --detail for all of them)."""
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
    cur = report.currency

    def amount(value: Decimal | None, unit: str) -> str:
        return money_text(value, cur, exact=exact) if unit == cur else _q(value)

    as_at_line(
        f"Benefits realisation by {by}",
        report.as_at,
        extra=f"{cur}, net of dis-benefits; {len(report.at_risk)} at risk",
    )
    t = report.total
    total = fit_table(
        number_column("planned"),
        number_column("forecast"),
        number_column("actual"),
        number_column("plan to date"),
        number_column("actual to date"),
        number_column("realised"),
        number_column("PV forecast"),
        title="Total",
    )
    total.add_row(
        *(amount(v, cur) for v in (t.planned, t.forecast, t.actual)),
        *(amount(v, cur) for v in (t.planned_to_date, t.actual_to_date)),
        pct_text(t.realised_pct),
        amount(t.pv_forecast, cur),
    )
    console.print(total)
    groups = report.groups
    if filter_text:
        needle = filter_text.casefold()
        groups = [g for g in groups if needle in g.key.casefold() or needle in g.name.casefold()]
    groups = sort_rows(
        groups,
        sort or "-planned",
        {
            "planned": lambda g: g.figures.planned,
            "forecast": lambda g: g.figures.forecast,
            "realised": lambda g: g.figures.realised_pct or Decimal(-1),
            "code": lambda g: g.key,
            "name": lambda g: g.name.casefold(),
        },
    )
    shown = limited(groups, _rows(detail, limit))
    table = fit_table(
        code_column(by, (g.key for g in shown)),
        text_column("name", min_width=16),
        number_column("planned"),
        number_column("forecast"),
        number_column("to date plan/act"),
        number_column("realised"),
        title=f"By {by}" + (f" (containing {filter_text!r})" if filter_text else ""),
    )
    for g in shown:
        f = g.figures
        unit = "" if g.unit == cur else f" {g.unit}"
        table.add_row(
            Text(g.key),
            Text(g.name + unit),
            amount(f.planned, g.unit),
            amount(f.forecast, g.unit),
            f"{amount(f.planned_to_date, g.unit)} / {amount(f.actual_to_date, g.unit)}",
            pct_text(f.realised_pct),
        )
    console.print(table)
    more_note(len(groups), len(shown), how="--detail, --limit N, --filter TEXT or --json")

    def unit_of(r: Any) -> str:
        # each benefit at risk in its own unit, whatever the grouping of the table above
        return str(cur if r.financial else (r.unit or ""))

    def in_unit(value: Decimal, r: Any) -> str:
        unit = unit_of(r)
        return amount(value, unit) + ("" if unit in (cur, "") else f" {unit}")

    if report.at_risk:
        risks = limited(report.at_risk, _rows(detail, limit))
        risk = fit_table(
            code_column("benefit", (r.code for r in risks)),
            number_column("planned"),
            number_column("forecast"),
            number_column("short"),
            number_column("realised"),
            text_column("why", min_width=20),
            title="Benefits at risk",
        )
        for r in risks:
            risk.add_row(
                Text(r.code),
                in_unit(r.planned, r),
                in_unit(r.forecast, r),
                pct_text(r.shortfall_pct),
                pct_text(r.realised_pct),
                Text("; ".join(r.reasons)),
            )
        console.print(risk)
        more_note(len(report.at_risk), len(risks), how="--detail, --limit N or --json")
    if report.excluded_profile_rows:
        console.print(
            f"[yellow]{report.excluded_profile_rows} profile rows in another currency left out "
            "(see bigov quality)[/]"
        )


def balance(
    db: DbOption = None,
    grain: Annotated[str, typer.Option(help="month or year (the trend under --detail).")] = "month",
    measure: Annotated[
        str | None,
        typer.Option(
            help="budget, forecast (outturn) or actual: split only this money "
            "(default: budget and forecast)."
        ),
    ] = None,
    fiscal_year: Annotated[
        int | None,
        typer.Option("--fiscal-year", help="Only this fiscal year (named by the year it ends in)."),
    ] = None,
    as_at: AsAtOption = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this organisation unit (code).")
    ] = None,
    detail: DetailOption = False,
    limit: LimitOption = None,
    exact: ExactOption = False,
    json_out: JsonOption = False,
) -> None:
    """Run / grow / transform split of spend and FTE against the board's target.

    The split is by purpose (the work item's run / grow / transform category), which is what the
    target constrains; `bigov status` also shows the split by delivery (business as usual or
    change). Budget and forecast are both shown; `--fiscal-year 2027` gives the budget figure the
    packs call balance.change_share_by_purpose. `--detail` adds the trend by period."""
    from bigov.analysis.balance import balance as run
    from bigov.finance.service import fiscal_year_bounds

    if grain not in ("month", "year"):
        raise ConfigError(f"unknown grain {grain!r}", hint="use month or year")
    if measure not in (None, "budget", "forecast", "actual"):
        raise ConfigError(f"unknown measure {measure!r}", hint="use budget, forecast or actual")
    measures = [measure] if measure else ["budget", "forecast"]
    with open_workspace(db) as ws, ws.session() as s:
        start = end = None
        if fiscal_year is not None:
            start, end = fiscal_year_bounds(ws, fiscal_year)
        report = run(s, grain=grain, start=start, end=end, as_at=_date(as_at))
    if unit is not None:
        known = {r.unit for r in report.totals}
        if unit not in known:
            raise NotFoundError(f"no organisation unit {unit!r} in the balance")
        # one unit's trend is its own rows by period (the report's trend is the whole's)
        report.totals = [r for r in report.totals if r.unit == unit]
        report.rows = [r for r in report.rows if r.unit == unit]
        report.trend = list(report.rows)
    if json_out:
        print_json(report)
        return
    cur = report.currency
    tgt = " / ".join(f"{v:.0f}" for v in report.target.values())
    scope = f"FY{fiscal_year}" if fiscal_year is not None else "all periods"
    as_at_line(
        f"Run / grow / transform by purpose, {scope}",
        report.as_at,
        extra=f"target {tgt} %; change = grow + transform",
    )

    def split_table(which: str, rows: list[Any], first: str) -> None:
        table = fit_table(
            code_column(first, (_row_label(r, first) for r in rows)),
            number_column(which),
            number_column("run"),
            number_column("grow"),
            number_column("transform"),
            number_column("change"),
            number_column("change vs target"),
            number_column("FTE r/g/t"),
            title=f"{which.capitalize()} split",
        )
        for row in rows:
            split = getattr(row, which)
            sh = split.shares
            fte = row.fte.shares
            # from the amounts, not the rounded shares: the same figure as the packs' change share
            change = (
                (split.amounts["grow"] + split.amounts["transform"]) * 100 / split.total
                if split.total
                else None
            )
            target_change = sum(
                (v for k, v in report.target.items() if k in ("grow", "transform")), Decimal(0)
            )
            table.add_row(
                Text(_row_label(row, first)),
                money_text(split.total, cur, exact=exact),
                pct_text(sh["run"]),
                pct_text(sh["grow"]),
                pct_text(sh["transform"]),
                pct_text(change),
                "–" if change is None else f"{change - target_change:+.1f} pp",
                " / ".join("–" if fte[c] is None else f"{fte[c]:.0f}" for c in fte),
            )
        console.print(table)

    for which in measures:
        split_table(which, report.totals, "unit")
    if detail or limit is not None:
        trend = limited(report.trend, limit)
        for which in measures:
            split_table(which, trend, "period")
        more_note(len(report.trend), len(trend))
    else:
        console.print(Text(f"The trend by {grain}: --detail (--unit CODE for one unit).", "dim"))


def capacity(
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(help="First month (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Month after the last (YYYY-MM-DD).")] = None,
    what_if: Annotated[
        str | None, typer.Option("--what-if", help="Work item code to start hypothetically.")
    ] = None,
    all_cells: Annotated[
        bool, typer.Option("--all", help="Every cell, not only the over-allocated ones.")
    ] = False,
    skill: Annotated[
        str | None, typer.Option("--skill", help="Only this skill (code or part of its name).")
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team (code).")] = None,
    detail: DetailOption = False,
    limit: LimitOption = None,
    sort: SortOption = None,
    json_out: JsonOption = False,
) -> None:
    """Demand vs capacity by skill, team and month; over-allocation and its causes.

    A summary per skill first (months over-allocated, the worst gap, peak utilisation); the
    over-allocated cells and what drives them with --detail (--sort month, gap, skill or team;
    --skill / --team to narrow; --all for every cell)."""
    from bigov.analysis.resources import capacity as run
    from bigov.analysis.resources import what_if as run_what_if

    first, last = _date(start, "--start"), _date(end, "--end")
    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, start=first, end=last)
        scenario = run_what_if(s, what_if, start=first, end=last) if what_if else None
        names = _skill_names(s)
    if json_out:
        print_json({"capacity": report, "what_if": scenario})
        return

    def keep(c: CapacityCell) -> bool:
        if skill is not None:
            needle = skill.casefold()
            if needle != c.skill.casefold() and needle not in names.get(c.skill, "").casefold():
                return False
        return team is None or c.team == team

    periods = sorted({c.period for c in report.cells})
    span = f"{periods[0]:%b %Y} – {periods[-1]:%b %Y}" if periods else "no months"
    as_at_line("Capacity and demand (FTE)", dt.date.today(), extra=span)
    by_skill: dict[str, list[CapacityCell]] = {}
    for c in report.skills:
        if keep(c):
            by_skill.setdefault(c.skill, []).append(c)
    summary = fit_table(
        code_column("skill", by_skill),
        text_column("name", min_width=14),
        number_column("months over"),
        number_column("worst gap"),
        "in",
        number_column("peak use"),
        number_column("avg capacity"),
        number_column("avg demand"),
        title="By skill, all teams",
    )
    for code in sorted(by_skill, key=lambda k: (names.get(k) or k).casefold()):
        cells = by_skill[code]
        worst = min(cells, key=lambda c: c.gap)
        peak = max(
            (c.utilisation_pct for c in cells if c.utilisation_pct is not None), default=None
        )
        over = sum(1 for c in cells if c.over)
        summary.add_row(
            Text(code),
            Text(names.get(code, "")),
            Text(str(over), style="red" if over else ""),
            _fte(worst.gap) if worst.over else "–",
            f"{worst.period:%Y-%m}" if worst.over else "",
            pct_text(peak),
            _fte(sum(c.capacity for c in cells) / len(cells)),
            _fte(sum(c.demand for c in cells) / len(cells)),
        )
    console.print(summary)
    teams_over = sum(1 for c in report.over_allocated if keep(c) and c.team != "(all teams)")
    pool = report.cells + report.skills if all_cells else report.over_allocated
    cells = [c for c in pool if keep(c)]
    cells = sort_rows(
        cells,
        sort or "month",
        {
            "month": lambda c: (c.period, c.skill, c.team),
            "gap": lambda c: c.gap,
            "skill": lambda c: (c.skill, c.period, c.team),
            "team": lambda c: (c.team, c.period, c.skill),
        },
    )
    if not (detail or limit is not None):
        console.print(
            Text(
                f"{teams_over:,} over-allocated team-months; the cells and their drivers: "
                "--detail (--limit N, --sort gap, --skill CODE, --team CODE).",
                style="dim",
            )
        )
    else:
        shown = limited(cells, limit)
        console.print(
            _capacity_cells("Demand vs capacity" if all_cells else "Over-allocated", shown)
        )
        more_note(len(cells), len(shown))
    if scenario is not None:
        newly = [c for c in scenario.newly_over if keep(c)]
        worse = [c for c in scenario.worsened if keep(c)]
        console.print(_capacity_cells(f"Starting {scenario.work_item}: newly over", newly))
        console.print(_capacity_cells(f"Starting {scenario.work_item}: worse", worse))


def _skill_names(session: Any) -> dict[str, str]:
    from sqlalchemy import select

    from bigov.resources.models import Skill

    return {str(code): str(name) for code, name in session.execute(select(Skill.code, Skill.name))}


def _capacity_cells(title: str, cells: list[CapacityCell]) -> Any:
    t = fit_table(
        "month",
        code_column("skill", (c.skill for c in cells)),
        code_column("team", (c.team for c in cells)),
        number_column("capacity"),
        number_column("demand"),
        number_column("run"),
        number_column("change"),
        number_column("gap"),
        text_column("drivers (FTE)", min_width=14),
        title=title,
    )
    for c in cells:
        t.add_row(
            c.period.strftime("%Y-%m"),
            Text(c.skill),
            Text(c.team),
            _fte(c.capacity),
            _fte(c.demand),
            _fte(c.demand_run),
            _fte(c.demand_change),
            Text(_fte(c.gap), style="red" if c.over else ""),
            Text(", ".join(f"{d.work_item} {_fte(d.fte)}" for d in c.drivers[:3])),
        )
    return t


# delivery confidence as boards write it (A/G for amber/green): the roll-up's nine columns then
# fit 100 characters with the deepest codes whole
_DCA_SHORT = {"green": "G", "amber/green": "A/G", "amber": "A", "amber/red": "A/R", "red": "R"}
_DCA_KEY = "DCA: G green · A/G amber/green · A amber · A/R amber/red · R red"


def _dca(value: str | None) -> str:
    return "–" if not value else _DCA_SHORT.get(value, value)


def _tree_order(rows: list[Any]) -> list[Any]:
    """Rows in the order of the hierarchy their indentation draws (each item followed by its
    children, siblings by code), not in code order, which would put a project under the wrong
    programme on screen."""
    codes = {r.code for r in rows}
    children: dict[str | None, list[Any]] = {}
    for r in rows:
        children.setdefault(r.parent_code if r.parent_code in codes else None, []).append(r)
    out: list[Any] = []
    stack = sorted(children.get(None, []), key=lambda r: r.code, reverse=True)
    while stack:
        r = stack.pop()
        out.append(r)
        stack.extend(sorted(children.get(r.code, []), key=lambda c: c.code, reverse=True))
    return out


def rollup(
    code: Annotated[
        str | None, typer.Argument(help="Work item code (default: everything).")
    ] = None,
    db: DbOption = None,
    as_at: AsAtOption = None,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth", min=0, help="Levels below the top to show (default 1; all with --detail)."
        ),
    ] = None,
    detail: DetailOption = False,
    limit: LimitOption = None,
    exact: ExactOption = False,
    json_out: JsonOption = False,
) -> None:
    """Cost, schedule and delivery confidence rolled up the work hierarchy: portfolios,
    programmes and products first; every item with --detail, N levels with --depth N, one
    item's subtree with its CODE. Milestones h/m/d: hit, missed, still due."""
    from bigov.analysis.rollups import rollup as run

    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, code, as_at=_date(as_at))
    if json_out:
        print_json(report)
        return
    cur = report.currency
    top = min((r.depth for r in report.rows), default=0)
    if code is None and not detail and depth is None:
        # the summary: the change hierarchy's upper levels and the products; projects and
        # workstreams are the detail
        rows = [r for r in report.rows if r.kind in SUMMARY_KINDS]
    else:
        deepest = None if detail and depth is None else top + (1 if depth is None else depth)
        rows = [r for r in report.rows if deepest is None or r.depth <= deepest]
    shown = limited(_tree_order(rows), limit)
    as_at_line(f"Roll-up{' of ' + code if code else ''}", report.as_at, extra=f"money in {cur}")
    labels = ["  " * (r.depth - top) + r.code for r in shown]

    def m(value: Decimal | None) -> str:
        return money_text(value, cur, exact=exact)

    table = fit_table(
        code_column("item", labels),
        number_column("budget"),
        number_column("forecast"),
        number_column("actual"),
        number_column("variance"),
        number_column("milestones h/m/d"),
        number_column("max slip (d)"),
        code_column("DCA"),
        code_column("subtree DCA"),
        caption=_DCA_KEY,
    )
    for label, r in zip(labels, shown, strict=True):
        table.add_row(
            Text(label),
            m(r.total.budget),
            m(r.total.forecast),
            m(r.total.actual),
            pct_text(r.total.variance_pct),
            f"{r.schedule.hit}/{r.schedule.missed}/{r.schedule.pending}",
            "–" if r.schedule.slippage_days_max is None else str(r.schedule.slippage_days_max),
            _dca(r.confidence),
            _dca(r.confidence_mean),
        )
    t = report.total
    table.add_row(
        Text("total", style="bold"),
        m(t.budget),
        m(t.forecast),
        m(t.actual),
        pct_text(t.variance_pct),
        "",
        "",
        "",
        "",
        style="bold",
    )
    console.print(table)
    more_note(len(report.rows), len(shown), how="--detail, --depth N, --limit N or a CODE")


def agility(
    db: DbOption = None,
    as_at: AsAtOption = None,
    exact: ExactOption = False,
    json_out: JsonOption = False,
) -> None:
    """How fast and how far the portfolio answers strategy changes."""
    from bigov.analysis.agility import agility as run

    with open_workspace(db) as ws, ws.session() as s:
        report = run(s, as_at=_date(as_at))
    if json_out:
        print_json(report)
        return
    as_at_line("Agility: strategy changes and the portfolio's response", report.as_at)
    days = report.median_days_to_response
    console.print(
        f"Median days to respond: {'–' if days is None else _q(days)}"
        f" · realigned: {pct_text(report.realigned_pct)} · still spending on withdrawn "
        f"objectives: forecast "
        f"{money_text(report.withdrawn_spend_total.forecast, report.currency, exact=exact)}"
    )
    table = fit_table(
        code_column("OTC", (c.otc for c in report.changes)),
        number_column("version"),
        "from",
        "status",
        "first decision",
        number_column("days"),
        number_column("realigned"),
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


def quality(
    db: DbOption = None,
    detail: DetailOption = False,
    json_out: JsonOption = False,
) -> None:
    """Data-quality findings (cycles, weights, currencies, off-calendar periods)."""
    from bigov.analysis.quality import findings

    with open_workspace(db) as ws, ws.session() as s:
        report = findings(s)
    if json_out:
        print_json(report)
        return
    as_at_line("Data quality", dt.date.today(), extra=f"{len(report.findings)} finding(s)")
    if report.ok:
        console.print("No data-quality findings.")
        return
    table = fit_table(
        "check", "severity", number_column("codes"), text_column("finding", min_width=30)
    )
    for f in report.findings:
        table.add_row(Text(f.check), f.severity, str(len(f.codes)), Text(f.message))
    console.print(table)
    if detail:
        for f in report.findings:
            console.print(Text(f"{f.check}: ", style="bold") + Text(", ".join(f.codes)))
    else:
        console.print(Text("The codes of each finding: --detail (or --json).", style="dim"))


COMMANDS = (trace, gaps, attainment, benefits, balance, capacity, rollup, agility, quality)


def register(app: typer.Typer) -> None:
    """Add the analysis commands (trace, gaps, attainment, benefits, balance, capacity, rollup,
    agility, quality) as top-level commands of ``app``."""
    for command in COMMANDS:
        app.command(name=command.__name__)(command)


__all__ = ["COMMANDS", "register"]
