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

from bigov.governance.facts import ZERO, Facts, confidence_score
from bigov.governance.periods import CyclePeriod, add_months, months_between, period_label
from bigov.governance.topology import Topology
from bigov.work.models import Confidence

SCHEMA_VERSION = 1
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
) -> Doc:
    """The document of ``node_id``'s cycle for ``facts.period`` (without exceptions, actions and
    decisions, which the cycle adds)."""
    topo = facts.topo
    period = facts.period
    node = topo.nodes[node_id]
    scope = topo.scope(node_id)
    items_sorted = sorted(scope, key=lambda i: topo.items[i].code)
    provenance: list[dict[str, Any]] = []

    work: list[dict[str, Any]] = []
    for iid in items_sorted:
        work.append(_item_row(facts, topo, iid, provenance))

    roots = topo.scope_roots(node_id)
    headline_ids = list(roots)
    for r in roots:
        headline_ids.extend(sorted(topo.item_children.get(r, []), key=lambda i: topo.items[i].code))
    headline = [_rollup_row(facts, topo, iid, scope) for iid in headline_ids if iid in scope]

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
        "confidence_trend": _confidence_trend(facts, items_sorted),
        "cost_curve": _cost_curve(facts, items_sorted),
        "benefits": [],
        "benefits_curve": [],
        "resources": _resources(facts, topo, node_id, scope),
        "run_change": _run_change(facts, topo, items_sorted, fiscal_year, fiscal_bounds),
        "risks": [],
        "objectives": _objectives(facts, topo, node_id, items_sorted),
        "nodes": {},  # filled below: the escalation chains this document's findings can climb
        "provenance": provenance,
        "exceptions": [],
        "actions": [],
        "decisions": [],
        "readiness": [],
    }
    _benefits(facts, topo, node_id, scope, doc)
    _risks(facts, topo, node_id, scope, doc)
    doc["nodes"] = _chains(topo, node_id, doc)
    doc["has_data"] = _has_data(facts, items_sorted)
    return doc


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
    facts: Facts, topo: Topology, iid: int, provenance: list[dict[str, Any]]
) -> dict[str, Any]:
    item = topo.items[iid]
    cost = facts.cost.get(iid)
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
        "budget": num(cost.budget) if cost else None,
        "forecast": num(cost.forecast) if cost else None,
        "actual_to_date": num(cost.actual_to_date) if cost else None,
        "budget_to_date": num(cost.budget_to_date) if cost else None,
        "cost_variance_pct": None,
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
    if cost and cost.budget:
        row["cost_variance_pct"] = num(pct(cost.forecast - cost.budget, cost.budget))
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


def _rollup_row(facts: Facts, topo: Topology, iid: int, scope: frozenset[int]) -> dict[str, Any]:
    """An item with its subtree's cost summed and its worst current confidence."""
    item = topo.items[iid]
    budget = forecast = actual = ZERO
    worst: int | None = None
    worst_value: str | None = None
    live = 0
    for sid in topo.item_subtree(iid):
        if sid not in scope:
            continue
        c = facts.cost.get(sid)
        if c:
            budget += c.budget
            forecast += c.forecast
            actual += c.actual_to_date
        latest, _ = facts.latest_status(sid)
        if latest and latest.period >= facts.period.start and latest.confidence:
            score = confidence_score(latest.confidence)
            if score is not None and (worst is None or score < worst):
                worst, worst_value = score, latest.confidence
        if topo.items[sid].phase not in LIVE_PHASES_EXCLUDED:
            live += 1
    own, prev = facts.latest_status(iid)
    return {
        "code": item.code,
        "name": item.name,
        "kind": item.kind,
        "nature": item.nature,
        "owner": item.owner,
        "items": live,
        "budget": num(budget),
        "forecast": num(forecast),
        "actual_to_date": num(actual),
        "cost_variance_pct": num(pct(forecast - budget, budget)),
        "confidence": own.confidence if own and own.period >= facts.period.start else worst_value,
        "confidence_prev": prev.confidence if prev else None,
        "worst_confidence": worst_value,
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


def _benefits(facts: Facts, topo: Topology, node_id: int, scope: frozenset[int], doc: Doc) -> None:
    units = topo.units_of(node_id)
    everything = topo.governs_everything(node_id)
    rows = []
    by_month: dict[dt.date, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    if everything:
        chosen = list(facts.benefits.values())
    else:
        # benefits enabled by the scope's work or owned by its units, through indexes
        ids = {bid for iid in scope for bid in facts.benefits_by_item.get(iid, ())}
        ids |= {bid for unit in units for bid in facts.benefits_by_unit.get(unit, ())}
        chosen = [facts.benefits[bid] for bid in ids]
    for b in sorted(chosen, key=lambda x: x.code):
        enabler = next((topo.items[e] for e in sorted(b.enablers) if e in topo.items), None)
        origin = topo.origin(enabler.id) if enabler else None
        rows.append(
            {
                "code": b.code,
                "name": b.name,
                "kind": b.kind,
                "status": b.status,
                "category": b.category,
                "owner": b.owner,
                "enabler": enabler.code if enabler else None,
                "origin": topo.nodes[origin].code if origin is not None else None,
                "planned": num(b.planned),
                "forecast": num(b.forecast),
                "actual_to_date": num(b.actual_to_date),
                # a dis-benefit falls short when its forecast *exceeds* plan
                "shortfall_pct": num(
                    pct(b.forecast - b.planned, b.planned)
                    if b.kind == "disbenefit"
                    else pct(b.planned - b.forecast, b.planned)
                ),
            }
        )
        for m, (p, f, a) in b.months.items():
            t = by_month[m]
            t[0] += p
            t[1] += f
            t[2] += a
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
    facts: Facts,
    topo: Topology,
    items: list[int],
    fiscal_year: int,
    bounds: tuple[dt.date, dt.date],
) -> dict[str, Any]:
    start, end = bounds
    by_nature: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for iid in items:
        c = facts.cost.get(iid)
        if not c:
            continue
        item = topo.items[iid]
        year_budget = sum((v[0] for m, v in c.months.items() if start <= m < end), ZERO)
        by_nature[item.nature] += year_budget
        by_category[item.category] += year_budget
    total = sum(by_nature.values(), ZERO)
    target = facts.load_funding_target(fiscal_year)
    target_total = sum(target.values(), ZERO)
    return {
        "fiscal_year": fiscal_year,
        "budget": {k: num(v) for k, v in sorted(by_nature.items())},
        "by_category": {k: num(v) for k, v in sorted(by_category.items())},
        "change_pct": num(pct(by_nature.get("change", ZERO), total)),
        "target": {k: num(v) for k, v in sorted(target.items())},
        "target_change_pct": num(pct(target.get("change", ZERO), target_total)),
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
    for r in candidates:
        if r["kind"] == "action" or r["code"] in seen_codes:
            continue
        seen_codes.add(r["code"])
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


def _objectives(
    facts: Facts, topo: Topology, node_id: int, items: list[int]
) -> list[dict[str, Any]]:
    ids: set[int] = set(topo.scope_otcs.get(node_id, set()))
    if topo.governs_everything(node_id):
        ids |= set(facts.otcs)
    for iid in items:
        ids |= facts.contributions.get(iid, set())
    return sorted(
        (
            {k: v for k, v in facts.otcs[i].items() if k != "portfolio_id"}
            for i in ids
            if i in facts.otcs
        ),
        key=lambda o: o["code"],
    )


def _has_data(facts: Facts, items: list[int]) -> bool:
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
    return any(
        start <= m <= month and v[2] for b in facts.benefits.values() for m, v in b.months.items()
    )


def previous_month(period: CyclePeriod) -> dt.date:
    return add_months(period.start, -1)


__all__ = ["SCHEMA_VERSION", "Doc", "build_document", "dec", "num", "pct"]
