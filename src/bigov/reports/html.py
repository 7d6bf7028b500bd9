"""The HTML MI pack: one self-contained file (inline CSS, charts as inline SVG, no URLs), laid
out as the node's standing agenda, readable on a phone and printable.

:func:`render_html` is a pure function of the cycle document: the same document always gives the
same bytes. No domain logic here — which items breach what was decided when the cycle ran.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from bigov.reports import charts

SECTIONS: list[tuple[str, str]] = [
    ("preparation", "Preparation"),
    ("progress", "Progress and status"),
    ("enablers", "Enablers"),
    ("prediction", "Prediction"),
    ("actions", "Actions"),
]
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("bigov.reports", "templates"),
        # always on, whatever a template is named: every value in a pack is data
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters["money"] = _money
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.filters["rag"] = lambda v: (v or "none").replace("/", "-")
    return env


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _money(value: Any, currency: str = "GBP") -> str:
    d = _dec(value)
    if d is None:
        return "—"
    sign = "-" if d < 0 else ""
    d = abs(d)
    symbol = SYMBOLS.get(currency, currency + " ")
    if d >= 1_000_000:
        return f"{sign}{symbol}{d / 1_000_000:,.2f}m"
    if d >= 10_000:
        return f"{sign}{symbol}{d / 1_000:,.0f}k"
    return f"{sign}{symbol}{d:,.0f}"


def _pct(value: Any, places: int = 1) -> str:
    d = _dec(value)
    return "—" if d is None else f"{d:+.{places}f}%"


def _num(value: Any, places: int = 1) -> str:
    d = _dec(value)
    return "—" if d is None else f"{d:,.{places}f}"


# Which rules' exceptions an "exceptions" definition on a source shows (governance.* shows all).
RULES_BY_SOURCE: dict[str, tuple[str, ...]] = {
    "work": ("confidence", "schedule_slip", "missing_data"),
    "finance": ("cost_over_budget", "run_change_split"),
    "raid": ("risk_above_appetite",),
    "resources": ("resource_over_capacity",),
    "benefits": ("benefit_shortfall",),
    "strategy": ("benefit_shortfall", "run_change_split"),
}


def pack_context(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the template needs: the document plus charts and the agenda by section."""
    by_section: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in sorted(doc["agenda"], key=lambda a: a["sequence"]):
        by_section[item["section"]].append(item)
    exceptions = doc["exceptions"]
    attention = [e for e in exceptions if e["role"] in ("owned", "passed on", "escalated up")]
    below = [e for e in exceptions if e["role"] == "managed below"]

    def exceptions_for(source: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rules = RULES_BY_SOURCE.get((source or "governance").split(".")[0])
        if rules is None:
            return attention, below
        return (
            [e for e in attention if e["rule"] in rules],
            [e for e in below if e["rule"] in rules],
        )

    month = doc["period"]["label"]
    figures = doc.get("figures") or {}
    cost, ben = figures.get("cost") or {}, figures.get("benefits") or {}
    # the headline figures were computed by bigov.analysis when the cycle ran; a document of an
    # older schema (without them) shows the sums of its rows instead
    conf_counts: dict[str, int] = {k: v for k, v in (figures.get("confidence") or {}).items() if v}
    if not figures:
        for w in doc["work"]:
            if w.get("live") and w.get("confidence"):
                conf_counts[w["confidence"]] = conf_counts.get(w["confidence"], 0) + 1
    totals = {
        "budget": cost.get("budget", _sum(doc["work"], "budget")),
        "forecast": cost.get("forecast", _sum(doc["work"], "forecast")),
        "actual": cost.get("actual_to_date", _sum(doc["work"], "actual_to_date")),
        "budget_to_date": cost.get("budget_to_date"),
        "variance_pct": cost.get("variance_pct"),
        "benefit_plan": ben.get("planned", _sum(doc["benefits"], "planned")),
        "benefit_forecast": ben.get("forecast", _sum(doc["benefits"], "forecast")),
        "benefit_plan_to_date": ben.get("planned_to_date"),
        "benefit_actual": ben.get("actual_to_date", _sum(doc["benefits"], "actual_to_date")),
        "benefit_realised_pct": ben.get("realised_pct"),
        "benefits_at_risk": ben.get("at_risk"),
    }
    measures = [
        {
            **m,
            "chart": charts.measure_trend(m["values"], f"{m['measure']} by {m['grain']}"),
        }
        for m in doc.get("measures", [])
    ]
    changed = [
        w
        for w in doc["work"]
        if w.get("confidence")
        and w.get("confidence_prev")
        and w["confidence"] != w["confidence_prev"]
    ]
    slipping = sorted(
        (w for w in doc["work"] if w.get("live") and (w.get("slip_days") or 0) > 0),
        key=lambda w: -w["slip_days"],
    )
    return {
        "doc": doc,
        "sections": SECTIONS,
        "agenda": by_section,
        "attention": attention,
        "below": below,
        "conf_counts": dict(conf_counts),
        "confidence_levels": list(charts.CONFIDENCE_COLOURS),
        "totals": totals,
        "changed": changed,
        "slipping": slipping[:20],
        "cur": doc.get("currency", "GBP"),
        "charts": {
            "confidence": charts.confidence_trend(doc["confidence_trend"]),
            "cost": charts.cumulative_curve(
                doc["cost_curve"], ("budget", "forecast", "actual"), "Cost S-curve", month
            ),
            "benefits": charts.cumulative_curve(
                doc["benefits_curve"],
                ("planned", "forecast", "actual"),
                "Benefits realisation",
                month,
            ),
            "balance": charts.run_change_split(
                doc["run_change"]["budget"], doc["run_change"]["target"]
            ),
        },
        "measures": {m["code"]: m for m in measures},
        "strategy_maps": [
            {"root": m["root"], "svg": _embeddable(m["svg"])} for m in doc.get("strategy_map", [])
        ],
        "objectives": doc.get("objectives", []),
        # the strategy map is drawn once, under the first agenda item that shows objectives
        "maps_at": next(
            (
                i["code"]
                for key, _t in SECTIONS
                for a in by_section.get(key, [])
                for i in a["information"]
                if block_of(i["source"], i["form"]) == "objectives"
            ),
            None,
        ),
        "block_of": block_of,
        "exceptions_for": exceptions_for,
    }


def _sum(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum(((_dec(r.get(key)) or Decimal(0)) for r in rows), Decimal(0))


def _embeddable(svg: str) -> str:
    """A standalone SVG document made an inline, responsive element: its fixed size is dropped
    (the viewBox stays) so it scales to the page and the phone."""
    return re.sub(r'\s(width|height)="[^"]*"', "", svg, count=2).replace(
        "<svg ", '<svg role="img" aria-label="Strategy map" ', 1
    )


def block_of(source: str, form: str) -> str:
    """Which pack block shows an information definition (by its source, then its form)."""
    head = source.split(".")[0]
    key = ".".join(source.split(".")[:2])
    if key == "governance.exceptions" or form == "exceptions":
        return "exceptions"
    if key == "governance.readiness":
        return "readiness"
    if key in (
        "governance.decisions",
        "raid.actions",
        "raid.decisions",
        "raid.action",
        "raid.decision",
    ):
        return "actions"
    if key in ("work.status", "work.items", "status_report", "work_item"):
        return "trend" if form in ("trend", "chart") else "status"
    if key == "work.milestones" or head == "milestone":
        return "schedule"
    if key in ("work.balance", "finance.funding"):
        return "balance"
    if head in ("finance", "cost_line"):
        return "cost"
    if head in ("benefits", "benefit", "benefit_profile"):
        return "benefits"
    if head in ("resources", "demand", "capacity"):
        return "resources"
    if head in ("raid", "raid_item"):
        return "risks"
    if head in ("strategy", "otc", "otig", "key_result"):
        return "objectives"
    if head == "metrics":
        return "measure"
    return "note"


def render_html(doc: dict[str, Any]) -> bytes:
    """The pack of a cycle document as UTF-8 HTML bytes."""
    html = _env().get_template("pack.html.j2").render(**pack_context(doc))
    return html.encode("utf-8")


__all__ = ["block_of", "pack_context", "render_html"]
