"""Cut one node's cycle document out of the period's :class:`~bigov.governance.facts.Facts`.

The document is plain JSON (numbers as strings so Decimal survives, dates ISO) and is everything a
pack shows: the node and its agenda, the work it governs with its figures, trends and curves,
benefits, resources, run/change balance, risks, readiness, and (added by the cycle) exceptions,
actions and decisions. Every figure row carries its source rows (table, code, batch) under
``provenance``. Rules and renderers read only this document, which is why a stored cycle renders
the same pack for ever.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bigov.analysis._common import pct as analysis_pct
from bigov.analysis.attainment import OtcAttainment
from bigov.analysis.balance import ALL_UNITS
from bigov.analysis.benefits import BenefitAtRisk, RealisationFigures
from bigov.analysis.rollups import CostFigures, RollupRow
from bigov.governance.facts import ZERO, Facts
from bigov.governance.figures import AnalysisFigures, balance_rows
from bigov.governance.periods import CyclePeriod, add_months, months_between, period_label
from bigov.governance.topology import Topology
from bigov.work.models import Confidence

# 2: figures from bigov.analysis (figures, run_change by category, objectives with attainment,
# strategy_map, measures)
# 3: governed figures (bigov.figures) under ``governed``, exceptions with age and money at
# stake, run/change by delivery as well as by purpose, node rule settings
SCHEMA_VERSION = 3
# below trajectory but forecast to reach this share of the change by the target date: amber
AMBER_FORECAST_PCT = Decimal("90")
MAX_MAPS = 3
LIVE_PHASES_EXCLUDED = {"closed", "cancelled"}

Doc = dict[str, Any]


def num(value: Decimal | int | None, places: int = 2) -> str | None:
    """A Decimal as a fixed-point string for the document (None stays None)."""
    if value is None:
        return None
    q = Decimal(1).scaleb(-places)
    return str(Decimal(value).quantize(q, rounding=ROUND_HALF_UP))


def dec(value: Any) -> Decimal | None:
    """A document number back to Decimal (None and empty stay None)."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def pct(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (None when ``whole`` is zero)."""
    if not whole:
        return None
    return part * 100 / whole


def build_document(
    facts: Facts,
    node_id: int,
    *,
    organisation: str,
    fiscal_year: int,
    fiscal_bounds: tuple[dt.date, dt.date],
    currency: str,
    figures: AnalysisFigures,
) -> Doc:
    """The document of ``node_id``'s cycle for ``facts.period`` (without exceptions, actions and
    decisions, which the cycle adds). Cost, benefit, balance, confidence and attainment figures
    come from ``figures`` (:mod:`bigov.analysis`), cut to the node's scope."""
    topo = facts.topo
    period = facts.period
    node = topo.nodes[node_id]
    scope = topo.scope(node_id)
    items_sorted = sorted(scope, key=lambda i: topo.items[i].code)
    provenance: list[dict[str, Any]] = []
    whole, to_date = figures.rows()

    work: list[dict[str, Any]] = []
    for iid in items_sorted:
        work.append(_item_row(facts, topo, iid, provenance, whole, to_date))

    roots = topo.scope_roots(node_id)
    headline_ids = list(roots)
    for r in roots:
        headline_ids.extend(sorted(topo.item_children.get(r, []), key=lambda i: topo.items[i].code))
    headline = [
        _rollup_row(facts, topo, iid, scope, whole, to_date) for iid in headline_ids if iid in scope
    ]

    doc: Doc = {
        "schema": SCHEMA_VERSION,
        "organisation": organisation,
        "currency": currency,
        "node": {
            "code": node.code,
            "name": node.name,
            "kind": node.kind,
            "cadence": node.cadence,
            "chair": node.chair,
            "parent": topo.nodes[node.parent_id].code if node.parent_id in topo.nodes else None,
            "escalation_path": [topo.nodes[n].code for n in topo.chain(node_id)],
            "tolerances": {k: num(v, 4) for k, v in sorted(node.tolerances.items())},
            "rules": {k: node.rules[k] for k in sorted(node.rules)},
            "governs_everything": topo.governs_everything(node_id),
        },
        "period": {
            "label": period.label,
            "start": period.start.isoformat(),
            "month": period.month.isoformat(),
            "end": period.end.isoformat(),
            "as_at": period.as_at.isoformat(),
            "fiscal_year": fiscal_year,
        },
        "agenda": facts.agenda.get(node_id, []),
        "work": work,
        "headline": headline,
        # live items only, like the confidence figures (bigov.figures): a closed item's old
        # reports would make the trend disagree with the counts beside it
        "confidence_trend": _confidence_trend(
            facts, [i for i in items_sorted if topo.items[i].phase not in LIVE_PHASES_EXCLUDED]
        ),
        "cost_curve": _cost_curve(facts, items_sorted),
        "benefits": [],
        "benefits_curve": [],
        "resources": _resources(facts, topo, node_id, scope),
        "run_change": _run_change(figures, topo, node_id, fiscal_year, fiscal_bounds),
        "risks": [],
        "objectives": _objectives(facts, topo, node_id, items_sorted, figures),
        "strategy_map": _strategy_map(facts, topo, node_id, figures),
        "figures": _scope_figures(topo, node_id, roots, whole, to_date, figures),
        "measures": [],
        "nodes": {},  # filled below: the escalation chains this document's findings can climb
        "provenance": provenance,
        "exceptions": [],
        "actions": [],
        "decisions": [],
        "readiness": [],
    }
    _benefits(facts, topo, node_id, scope, doc, figures)
    _risks(facts, topo, node_id, scope, doc)
    doc["nodes"] = _chains(topo, node_id, doc)
    doc["has_data"] = _has_data(facts, items_sorted, doc)
    return doc


def _cost_view(total: CostFigures, so_far: CostFigures | None) -> dict[str, Any]:
    return {
        "budget": num(total.budget),
        "forecast": num(total.forecast),
        "variance": num(total.variance),
        "variance_pct": num(total.variance_pct),
        "budget_to_date": num(so_far.budget) if so_far else None,
        "actual_to_date": num(so_far.actual) if so_far else None,
    }


def _sum_costs(rows: list[RollupRow]) -> CostFigures:
    return CostFigures.of(
        sum((r.total.budget for r in rows), ZERO),
        sum((r.total.forecast for r in rows), ZERO),
        sum((r.total.actual for r in rows), ZERO),
    )


def _scope_figures(
    topo: Topology,
    node_id: int,
    roots: list[int],
    whole: dict[str, RollupRow],
    to_date: dict[str, RollupRow],
    figures: AnalysisFigures,
) -> dict[str, Any]:
    """Headline cost, confidence and milestones of the node's scope: the organisation's roll-up
    totals for a node that governs everything, else the sum of its scope roots' subtree totals
    (disjoint subtrees, so nothing is counted twice)."""
    if topo.governs_everything(node_id):
        cost, so_far = figures.whole.total, figures.to_date.total
        distribution = dict(figures.whole.confidence_distribution)
        schedule = figures.whole.schedule
        ms = {"milestones": schedule.milestones, "hit": schedule.hit, "missed": schedule.missed}
    else:
        codes = [topo.items[r].code for r in roots]
        cost = _sum_costs([whole[c] for c in codes if c in whole])
        so_far = _sum_costs([to_date[c] for c in codes if c in to_date])
        distribution = {c.value: 0 for c in Confidence}
        ms = {"milestones": 0, "hit": 0, "missed": 0}
        for c in codes:
            row = whole.get(c)
            if row is None:
                continue
            for level, n in row.confidence_distribution.items():
                distribution[level] = distribution.get(level, 0) + n
            ms["milestones"] += row.schedule.milestones
            ms["hit"] += row.schedule.hit
            ms["missed"] += row.schedule.missed
    return {
        "source": "bigov.analysis: rollup (cost, confidence, milestones), realisation "
        "(benefits), balance (run / change), attainment (strategy)",
        "currency": figures.whole.currency,
        "cost": _cost_view(cost, so_far),
        "confidence": distribution,
        "milestones": ms,
        "benefits": {},  # filled by _benefits
    }


def _chains(topo: Topology, node_id: int, doc: Doc) -> dict[str, Any]:
    """Parent and tolerances of every node on the escalation chain of the node and of each origin
    named in the document — what routing a finding needs, and no more (a board's document would
    otherwise carry every node of the enterprise)."""
    origins = {node_id}
    for key in ("work", "benefits", "risks"):
        for row in doc[key]:
            code = row.get("origin")
            if code in topo.by_code:
                origins.add(topo.by_code[code].id)
    out: dict[str, Any] = {}
    for origin in origins:
        for nid in topo.chain(origin):
            n = topo.nodes[nid]
            if n.code in out:
                break  # the rest of this chain is already in
            out[n.code] = topo.node_view(nid)
    return dict(sorted(out.items()))


def _item_row(
    facts: Facts,
    topo: Topology,
    iid: int,
    provenance: list[dict[str, Any]],
    whole: dict[str, RollupRow],
    to_date: dict[str, RollupRow],
) -> dict[str, Any]:
    item = topo.items[iid]
    cost = facts.cost.get(iid)
    own = whole[item.code].own if item.code in whole and cost else None
    own_so_far = to_date[item.code].own if item.code in to_date and cost else None
    latest, previous = facts.latest_status(iid)
    current = latest if latest and latest.period >= facts.period.start else None
    origin = topo.origin(iid)
    slip = None
    if item.baseline_finish and item.forecast_finish:
        slip = (item.forecast_finish - item.baseline_finish).days
    row: dict[str, Any] = {
        "code": item.code,
        "name": item.name,
        "kind": item.kind,
        "nature": item.nature,
        "category": item.category,
        "phase": item.phase,
        "owner": item.owner,
        "parent": topo.items[item.parent_id].code if item.parent_id in topo.items else None,
        "origin": topo.nodes[origin].code if origin is not None else None,
        "live": item.phase not in LIVE_PHASES_EXCLUDED,
        "baseline_finish": item.baseline_finish.isoformat() if item.baseline_finish else None,
        "forecast_finish": item.forecast_finish.isoformat() if item.forecast_finish else None,
        "slip_days": slip,
        "percent_complete": num(item.percent_complete),
        "budget": num(own.budget) if own else None,
        "forecast": num(own.forecast) if own else None,
        "actual_to_date": num(own_so_far.actual) if own_so_far else None,
        "budget_to_date": num(own_so_far.budget) if own_so_far else None,
        "cost_variance_pct": num(own.variance_pct) if own and own.budget else None,
        "confidence": current.confidence if current else None,
        "confidence_prev": (
            previous.confidence
            if current and previous
            else (latest.confidence if latest and not current else None)
        ),
        "status_period": latest.period.isoformat() if latest else None,
        "status_current": current is not None,
        "overall": current.overall if current else None,
        "narrative": current.narrative if current else None,
    }
    provenance.append(
        {
            "figure": f"{item.code} schedule",
            "table": "work_item",
            "code": item.code,
            "batch_id": item.batch_id,
        }
    )
    if cost:
        for code, batch in cost.rows:
            provenance.append(
                {
                    "figure": f"{item.code} cost",
                    "table": "cost_line",
                    "code": code,
                    "batch_id": batch,
                }
            )
    if current:
        provenance.append(
            {
                "figure": f"{item.code} confidence",
                "table": "status_report",
                "code": current.code,
                "batch_id": current.batch_id,
            }
        )
    return row


def _rollup_row(
    facts: Facts,
    topo: Topology,
    iid: int,
    scope: frozenset[int],
    whole: dict[str, RollupRow],
    to_date: dict[str, RollupRow],
) -> dict[str, Any]:
    """An item with its subtree's roll-up (:func:`bigov.analysis.rollups.rollup`): cost, latest
    confidence and the worst level reported in the subtree."""
    item = topo.items[iid]
    row = whole.get(item.code)
    so_far = to_date.get(item.code)
    live = sum(
        1
        for sid in topo.item_subtree(iid)
        if sid in scope and topo.items[sid].phase not in LIVE_PHASES_EXCLUDED
    )
    dist = row.confidence_distribution if row else {}
    worst = next((c.value for c in reversed(list(Confidence)) if dist.get(c.value)), None)
    _own, prev = facts.latest_status(iid)
    total = row.total if row else CostFigures()
    return {
        "code": item.code,
        "name": item.name,
        "kind": item.kind,
        "nature": item.nature,
        "owner": item.owner,
        "items": live,
        "budget": num(total.budget),
        "forecast": num(total.forecast),
        "actual_to_date": num(so_far.total.actual) if so_far else num(ZERO),
        "cost_variance_pct": num(total.variance_pct),
        "confidence": (row.confidence or row.confidence_mean) if row else None,
        "confidence_prev": prev.confidence if prev else None,
        "worst_confidence": worst,
    }


def _confidence_trend(facts: Facts, items: list[int]) -> list[dict[str, Any]]:
    months = months_between(facts.trend_start, facts.period.month)
    counts: dict[dt.date, dict[str, int]] = {m: defaultdict(int) for m in months}
    for iid in items:
        for s in facts.status.get(iid, []):
            if s.period in counts and s.confidence:
                counts[s.period][s.confidence] += 1
    out = []
    for m in months:
        c = counts[m]
        total = sum(c.values())
        avg = Decimal(sum(Confidence(k).score * n for k, n in c.items())) / total if total else None
        out.append(
            {
                "period": period_label(m),
                **{k.value: c.get(k.value, 0) for k in Confidence},
                "reports": total,
                "average": num(avg),
            }
        )
    return out


def _cost_curve(facts: Facts, items: list[int]) -> list[dict[str, Any]]:
    by_month: dict[dt.date, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for iid in items:
        c = facts.cost.get(iid)
        if not c:
            continue
        for m, (b, f, a) in c.months.items():
            t = by_month[m]
            t[0] += b
            t[1] += f
            t[2] += a
    return _cumulative(by_month, facts.period.month, ("budget", "forecast", "actual"))


def _cumulative(
    by_month: dict[dt.date, list[Decimal]], month: dt.date, names: tuple[str, str, str]
) -> list[dict[str, Any]]:
    if not by_month:
        return []
    out = []
    run = [ZERO, ZERO, ZERO]
    for m in months_between(min(by_month), max(by_month)):
        vals = by_month.get(m, [ZERO, ZERO, ZERO])
        run = [run[0] + vals[0], run[1] + vals[1], run[2] + vals[2]]
        out.append(
            {
                "period": period_label(m),
                names[0]: num(run[0]),
                names[1]: num(run[1]),
                # actuals stop at the cycle's month: later months are not yet known
                names[2]: num(run[2]) if m <= month else None,
            }
        )
    return out


def _benefits(
    facts: Facts,
    topo: Topology,
    node_id: int,
    scope: frozenset[int],
    doc: Doc,
    figures: AnalysisFigures,
) -> None:
    """The node's benefits (enabled by its work or owned by its units) with their realisation
    from :func:`bigov.analysis.benefits.realisation` — dis-benefits negative, money totals over
    financial benefits only — and the shortfall of :func:`~bigov.analysis.benefits.
    benefits_at_risk`: forecast against plan over the profile's whole span."""
    groups, at_risk = figures.benefits()
    currency = figures.currency
    chosen = facts.benefits_of(node_id)
    # the node's own benefit tolerance says which shortfalls it calls "at risk" (else the
    # analysis default of 10 %)
    tolerance = topo.nodes[node_id].tolerances.get("benefit_pct", Decimal("10"))
    rows = []
    reported = False
    by_month: dict[dt.date, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    totals = dict.fromkeys(
        ("planned", "forecast", "actual_to_date", "planned_to_date", "forecast_to_date"), ZERO
    )
    for b in sorted(chosen, key=lambda x: x.code):
        g = groups.get(b.code)
        if g is None:
            continue  # no profile in a usable currency: quality.findings reports it
        enabler = next((topo.items[e] for e in sorted(b.enablers) if e in topo.items), None)
        origin = topo.origin(enabler.id) if enabler else None
        risk = at_risk.get(b.code)
        f = g.figures
        financial = g.unit == currency
        reported = reported or any(
            p.actual and facts.period.start <= p.period <= facts.period.month for p in g.periods
        )
        rows.append(
            {
                "code": b.code,
                "name": b.name,
                "kind": b.kind,
                "status": b.status,
                "category": b.category,
                "unit": g.unit,
                "owner": b.owner,
                "enabler": enabler.code if enabler else None,
                "origin": topo.nodes[origin].code if origin is not None else None,
                "planned": num(f.planned),
                "forecast": num(f.forecast),
                "planned_to_date": num(f.planned_to_date),
                "actual_to_date": num(f.actual_to_date),
                "realised_pct": num(f.realised_pct, 1),
                "shortfall_pct": num(
                    risk.shortfall_pct if risk is not None else _shortfall(b.kind, f)
                ),
                "at_risk": _reasons(risk, tolerance),
            }
        )
        if financial:
            totals["planned"] += f.planned
            totals["forecast"] += f.forecast
            totals["actual_to_date"] += f.actual_to_date
            totals["planned_to_date"] += f.planned_to_date
            totals["forecast_to_date"] += f.forecast_to_date
            for p in g.periods:
                t = by_month[p.period]
                t[0] += p.planned
                t[1] += p.forecast
                t[2] += p.actual if p.period <= facts.period.month else ZERO
        for code, batch in b.rows:
            doc["provenance"].append(
                {
                    "figure": f"{b.code} benefit",
                    "table": "benefit_profile",
                    "code": code,
                    "batch_id": batch,
                }
            )
    doc["benefits"] = rows
    doc["benefits_curve"] = _cumulative(
        by_month, facts.period.month, ("planned", "forecast", "actual")
    )
    doc["figures"]["benefits"] = {
        **{k: num(v) for k, v in totals.items()},
        "realised_pct": num(pct(totals["actual_to_date"], totals["planned_to_date"]), 1),
        "at_risk": sum(1 for r in rows if r["at_risk"]),
        "reported_in_period": reported,
    }


def _reasons(risk: BenefitAtRisk | None, tolerance: Decimal) -> list[str]:
    """Why a benefit is at risk: late or red enablers, and a shortfall beyond ``tolerance``."""
    if risk is None:
        return []
    short = risk.shortfall_pct
    return [
        r
        for r in risk.reasons
        if not r.startswith("forecast") or (short is not None and short > tolerance)
    ]


def _shortfall(kind: str, f: RealisationFigures) -> Decimal | None:
    """Shortfall of a benefit that is not at risk (so forecast meets plan), as
    :func:`~bigov.analysis.benefits.benefits_at_risk` states it: % of plan, a dis-benefit's
    excess counting as shortfall. Realisation figures carry dis-benefits negative."""
    planned, forecast = abs(f.planned), abs(f.forecast)
    gap = forecast - planned if kind == "disbenefit" else planned - forecast
    return analysis_pct(gap, planned)


def _resources(
    facts: Facts, topo: Topology, node_id: int, scope: frozenset[int]
) -> list[dict[str, Any]]:
    units = topo.units_of(node_id)
    months = len(months_between(facts.period.start, facts.period.month))
    demand: dict[int, Decimal] = defaultdict(lambda: ZERO)
    capacity: dict[int, Decimal] = defaultdict(lambda: ZERO)
    # walk only the rows of this node's units or items (indexed once per period in Facts)
    if units:
        for unit in units:
            for skill, fte in facts.demand_by_unit.get(unit, ()):
                demand[skill] += fte
            for skill, fte in facts.capacity_by_unit.get(unit, ()):
                capacity[skill] += fte
    else:
        for item_id in scope:
            for skill, fte in facts.demand_by_item.get(item_id, ()):
                demand[skill] += fte
        for skill, fte in facts.capacity_total.items():
            capacity[skill] += fte
    rows = []
    for skill in sorted(set(demand) | set(capacity), key=lambda s: facts.skills.get(s, "")):
        d, c = demand[skill] / months, capacity[skill] / months
        rows.append(
            {
                "skill": facts.skills.get(skill, str(skill)),
                "demand_fte": num(d),
                "capacity_fte": num(c),
                "gap_fte": num(d - c),
                "utilisation_pct": num(pct(d, c)),
            }
        )
    return rows


def _run_change(
    figures: AnalysisFigures,
    topo: Topology,
    node_id: int,
    fiscal_year: int,
    bounds: tuple[dt.date, dt.date],
) -> dict[str, Any]:
    """The fiscal year's run / grow / transform split against the board's target, from
    :func:`bigov.analysis.balance.balance`: the organisation's for a node that governs everything
    or work only, its business units' for a node that governs organisation units. ``change``
    is grow + transform."""
    report = figures.balance(*bounds)
    bu_of = figures.business_units()
    units = {bu_of[u] for u in topo.units_of(node_id) if u in bu_of}
    # a node governing every business unit (a board scoped to the root unit) sees the organisation
    scoped = (
        bool(units)
        and not topo.governs_everything(node_id)
        and units != set(figures.business_units().values())
    )
    rows = balance_rows(report, units if scoped else None)
    amounts = dict.fromkeys(report.target, ZERO)
    forecast = dict.fromkeys(report.target, ZERO)
    actual = dict.fromkeys(report.target, ZERO)
    for r in rows:
        for c in amounts:
            amounts[c] += r.budget.amounts.get(c, ZERO)
            forecast[c] += r.forecast.amounts.get(c, ZERO)
            actual[c] += r.actual.amounts.get(c, ZERO)
    total = sum(amounts.values(), ZERO)
    target_total = sum(report.target.values(), ZERO)
    delivery = figures.delivery(*bounds)
    by_nature = dict.fromkeys(("run", "change"), ZERO)
    for unit, split in delivery.items():
        if (scoped and unit in units) or (not scoped and unit == ALL_UNITS):
            for k, v in split.items():
                by_nature[k] = by_nature.get(k, ZERO) + v
    nature_total = sum(by_nature.values(), ZERO)
    shares = {c: analysis_pct(v, total) for c, v in amounts.items()}
    change = amounts.get("grow", ZERO) + amounts.get("transform", ZERO)
    target_change = report.target.get("grow", ZERO) + report.target.get("transform", ZERO)
    return {
        "fiscal_year": fiscal_year,
        "scope": "business units " + ", ".join(sorted(units)) if scoped else "organisation",
        "budget": {k: num(v) for k, v in amounts.items()},
        "forecast": {k: num(v) for k, v in forecast.items()},
        "actual": {k: num(v) for k, v in actual.items()},
        "shares": {k: num(v, 1) for k, v in shares.items()},
        "by_category": {k: num(v) for k, v in amounts.items()},
        "change_pct": num(analysis_pct(change, total), 1),
        "target": {k: num(v, 1) for k, v in report.target.items()},
        "target_change_pct": num(analysis_pct(target_change, target_total), 1),
        # the same budget lines split by how the work is delivered (BAU or change)
        "by_nature": {k: num(v) for k, v in by_nature.items()},
        "delivery_change_pct": num(analysis_pct(by_nature["change"], nature_total), 1),
    }


def _risks(facts: Facts, topo: Topology, node_id: int, scope: frozenset[int], doc: Doc) -> None:
    rows = []
    candidates = list(facts.raid_by_node.get(node_id, ()))
    if len(scope) < len(facts.raid_by_item):
        for iid in scope:
            candidates.extend(facts.raid_by_item.get(iid, ()))
    else:
        candidates.extend(r for iid, rs in facts.raid_by_item.items() if iid in scope for r in rs)
    candidates.sort(key=lambda r: r["code"])
    seen_codes: set[str] = set()
    as_at = facts.period.as_at.isoformat()
    item_actions = []
    for r in candidates:
        if r["code"] in seen_codes:
            continue
        seen_codes.add(r["code"])
        if r["kind"] == "action":
            # open actions on the scope's work (the board's own log is added by the cycle)
            if r["work_item_id"] in topo.items and r["node_id"] != node_id:
                item_actions.append(
                    {
                        "code": r["code"],
                        "title": r["title"],
                        "status": r["status"],
                        "owner": r["owner"],
                        "work_item": topo.items[r["work_item_id"]].code,
                        "due_on": r["due_on"],
                        "overdue": bool(r["due_on"] and r["due_on"] < as_at),
                        "from_cycle": None,
                    }
                )
            continue
        own = r["node_id"] == node_id
        origin = (
            node_id if own else topo.origin(r["work_item_id"]) if r["work_item_id"] else node_id
        )
        rows.append(
            {
                "code": r["code"],
                "kind": r["kind"],
                "title": r["title"],
                "owner": r["owner"],
                "score": r["score"],
                "work_item": topo.items[r["work_item_id"]].code
                if r["work_item_id"] in topo.items
                else None,
                "node_log": own,
                "origin": topo.nodes[origin].code if origin is not None else None,
                "due_on": r["due_on"],
            }
        )
        doc["provenance"].append(
            {
                "figure": f"{r['code']} {r['kind']}",
                "table": "raid_item",
                "code": r["code"],
                "batch_id": r["batch_id"],
            }
        )
    rows.sort(key=lambda x: (-(x["score"] or 0), x["code"]))
    doc["risks"] = rows
    doc["item_actions"] = item_actions


def _objectives(
    facts: Facts, topo: Topology, node_id: int, items: list[int], figures: AnalysisFigures
) -> list[dict[str, Any]]:
    """The OTCs the node governs or its work serves, each with its attainment from
    :func:`bigov.analysis.attainment.attainment` (key results against trajectory, benefits
    realised so far, forecast at the target date, confidence of the serving work)."""
    ids: set[int] = set(topo.scope_otcs.get(node_id, set()))
    if topo.governs_everything(node_id):
        ids |= set(facts.otcs)
    for iid in items:
        ids |= facts.contributions.get(iid, set())
    if not ids:
        return []
    attained = figures.attainment()
    out = []
    for i in ids:
        if i not in facts.otcs:
            continue
        row = {k: v for k, v in facts.otcs[i].items() if k != "portfolio_id"}
        # a new version effective inside the cycle's window: strategy moved since the last sitting
        row["changed"] = bool(
            row["version"] > 1
            and row["effective_from"]
            and facts.period.start.isoformat()
            <= row["effective_from"]
            <= facts.period.as_at.isoformat()
        )
        a = attained.get(row["code"])
        row.update(_attainment_view(a))
        out.append(row)
    return sorted(out, key=lambda o: o["code"])


def attainment_rag(on_track: bool | None, forecast_pct: Decimal | None) -> str | None:
    """Green on or ahead of trajectory; amber behind it but forecast to reach at least
    ``AMBER_FORECAST_PCT`` of the change by the target date; red otherwise; None unmeasured."""
    if on_track is None:
        return None
    if on_track:
        return "green"
    if forecast_pct is not None and forecast_pct >= AMBER_FORECAST_PCT:
        return "amber"
    return "red"


def _attainment_view(a: OtcAttainment | None) -> dict[str, Any]:
    if a is None:
        return {"measured": False, "key_results": [], "rag": None}
    ben = a.benefits
    return {
        "measured": a.attained_pct is not None,
        "attained_pct": num(a.attained_pct, 1),
        "expected_pct": num(a.expected_pct, 1),
        "forecast_pct": num(a.forecast_pct, 1),
        "on_track": a.on_track,
        "rag": attainment_rag(a.on_track, a.forecast_pct),
        "confidence": a.confidence,
        "work_items": a.work_items,
        "benefits": (
            {
                "planned": num(ben.planned),
                "forecast": num(ben.forecast),
                "planned_to_date": num(ben.planned_to_date),
                "actual_to_date": num(ben.actual_to_date),
                "realised_pct": num(ben.realised_pct, 1),
            }
            if ben is not None
            else None
        ),
        "key_results": [
            {
                "code": k.code,
                "name": k.name,
                "unit": k.unit,
                "direction": k.direction,
                "trajectory": k.trajectory,
                "baseline": num(k.baseline, 4),
                "target": num(k.target, 4),
                "target_date": k.target_date.isoformat() if k.target_date else None,
                "latest": num(k.latest, 4),
                "latest_period": k.latest_period.isoformat() if k.latest_period else None,
                "expected_value": num(k.expected_value, 4),
                "attained_pct": num(k.attained_pct, 1),
                "expected_pct": num(k.expected_pct, 1),
                "forecast_pct": num(k.forecast_pct, 1),
                "forecast_value": num(k.forecast_value, 4),
                "on_track": k.on_track,
                "rag": attainment_rag(k.on_track, k.forecast_pct),
                "source": k.source,
            }
            for k in a.key_results
        ],
    }


def _strategy_map(
    facts: Facts, topo: Topology, node_id: int, figures: AnalysisFigures
) -> list[dict[str, str]]:
    """Strategy maps (:func:`bigov.analysis.trace.strategy_map_svg`) for a board that governs
    OTCs: for a board governing everything or more than ``MAX_MAPS`` OTCs, one map per driver
    (OTIG) — the whole map of an enterprise is too wide to read on A4 — else one per OTC in its
    scope."""
    codes = list(
        dict.fromkeys(
            sorted(
                facts.otcs[o]["code"]
                for n in topo.node_subtree(node_id)
                for o in topo.scope_otcs.get(n, ())
                if o in facts.otcs
            )
        )
    )
    if topo.governs_everything(node_id) or len(codes) > MAX_MAPS:
        if not facts.otcs:
            return []
        roots = figures.strategy_roots()
        if not roots:  # OTCs that answer no driver: one map of them all
            return [{"root": "", "svg": figures.strategy_map(None)}]
        return [{"root": r, "svg": figures.strategy_map(r)} for r in roots]
    return [{"root": c, "svg": figures.strategy_map(c)} for c in codes]


def _has_data(facts: Facts, items: list[int], doc: Doc) -> bool:
    """Whether anything was reported for the cycle's window: a status report, or an actual cost
    or benefit. Budgets and forecasts alone are plans, not data for the period."""
    start, month = facts.period.start, facts.period.month
    for iid in items:
        latest, _ = facts.latest_status(iid)
        if latest and latest.period >= start:
            return True
        c = facts.cost.get(iid)
        if c and any(start <= m <= month and v[2] for m, v in c.months.items()):
            return True
    return bool(doc["figures"]["benefits"].get("reported_in_period"))


def previous_month(period: CyclePeriod) -> dt.date:
    return add_months(period.start, -1)


__all__ = ["SCHEMA_VERSION", "Doc", "build_document", "dec", "num", "pct"]
