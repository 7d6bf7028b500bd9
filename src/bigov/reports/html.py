"""The HTML MI pack: one self-contained file (inline CSS, charts as inline SVG, no URLs), laid
out as the node's standing agenda, readable on a phone and printable.

:func:`render_html` is a pure function of the cycle document: the same document always gives the
same bytes. No domain logic here — which items breach what was decided when the cycle ran.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from bigov.figures import format as fmt
from bigov.figures.catalog import CATALOG
from bigov.figures.compute import governed
from bigov.figures.format import figure as show_figure
from bigov.reports import charts

SECTIONS: list[tuple[str, str]] = [
    ("preparation", "Preparation"),
    ("progress", "Progress and status"),
    ("enablers", "Enablers"),
    ("prediction", "Prediction"),
    ("actions", "Actions"),
]


def _build_env() -> Environment:
    env = Environment(
        loader=PackageLoader("bigov.reports", "templates"),
        # always on, whatever a template is named: every value in a pack is data
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters["money"] = fmt.money
    env.filters["pct"] = fmt.signed_pct  # a variance: +2.3%
    env.filters["share"] = fmt.pct  # a share or level: 52.2%
    env.filters["num"] = fmt.number
    env.filters["rag"] = lambda v: (v or "none").replace("/", "-")
    return env


# One environment per process: compiling the pack template took about a third of a second per
# pack; Jinja environments are safe to share between threads once built.
_env = functools.cache(_build_env)


_dec = fmt.to_decimal


# the headline figures a board compares with its last sitting, in the order it reads them
MOVEMENT_KEYS = (
    "cost.forecast_outturn",
    "cost.variance_pct",
    "benefits.forecast",
    "benefits.realised_pct",
    "exceptions.owned",
    "work.confidence.red",
    "work.confidence.amber_red",
    "balance.change_share_by_purpose",
    "resources.skills_over_capacity",
    "strategy.off_track",
)
SUMMARY_LIMIT = 5


def pack_context(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the template needs: the document, its governed figures, the exceptions grouped
    as the board reads them, the movements since the last sitting, and the charts."""
    from bigov.governance.rules import RULES

    by_section: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in sorted(doc["agenda"], key=lambda a: a["sequence"]):
        by_section[item["section"]].append(item)
    cur = doc.get("currency", "GBP")
    values = governed(doc)

    def fig(key: str) -> dict[str, Any]:
        """A governed figure for the template: raw value, text, label and definition."""
        d = CATALOG.get(key)
        raw = values.get(key)
        return {
            "key": key,
            "raw": "" if raw is None else str(raw),
            "text": show_figure(key, raw, cur),
            "label": d.label if d else key,
            "definition": d.definition if d else "",
        }

    exceptions = doc["exceptions"]
    node_code = doc["node"]["code"]
    owned = [e for e in exceptions if e["role"] == "owned"]
    passed_on = [e for e in exceptions if e["role"] in ("passed on", "escalated up")]
    below = [e for e in exceptions if e["role"] == "managed below"]
    titles = {r.name: r.title for r in RULES}
    groups: dict[str, list[dict[str, Any]]] = {}
    for e in owned:  # already most material first: a group's rank is its first card's
        groups.setdefault(e["rule"], []).append(e)
    by_rule = [
        {
            "rule": rule,
            "title": titles.get(rule, rule.replace("_", " ")),
            "items": items,
            "at_stake": sum(
                (Decimal(e["at_stake"]) for e in items if e.get("at_stake") is not None),
                Decimal(0),
            ),
        }
        for rule, items in groups.items()
    ]
    from_below = [e for e in owned if e.get("origin") and e["origin"] != node_code]

    previous = doc.get("previous") or None
    movements = []
    if previous:
        before = previous.get("governed") or {}
        for key in MOVEMENT_KEYS:
            now, then = _dec(values.get(key)), _dec(before.get(key))
            if now is None or then is None or now == then:
                continue
            scale = abs(then) if then else Decimal(1)
            movements.append(
                {
                    **fig(key),
                    "then": show_figure(key, before.get(key), cur),
                    "change": now - then,
                    "weight": abs(now - then) / scale,
                    "worse": _worse(key, now - then),
                }
            )
        movements.sort(key=lambda m: -m["weight"])
    scores = {level: i for i, level in enumerate(charts.CONFIDENCE_COLOURS)}
    moved = [
        w
        for w in doc["work"]
        if w.get("live")
        and w.get("confidence")
        and w.get("confidence_prev")
        and w["confidence"] != w["confidence_prev"]
    ]
    moved.sort(
        key=lambda w: (
            scores.get(w["confidence_prev"], 0) - scores.get(w["confidence"], 0),
            w["name"],
        )
    )
    slipping = sorted(
        (w for w in doc["work"] if w.get("live") and (w.get("slip_days") or 0) > 0),
        key=lambda w: -w["slip_days"],
    )
    resources = sorted(
        doc["resources"],
        key=lambda r: -(_dec(r.get("utilisation_pct")) or Decimal(0)),
    )
    hot_spots = [r for r in resources if (_dec(r.get("utilisation_pct")) or Decimal(0)) > 100]
    measures = [
        {
            **m,
            "chart": charts.measure_trend(m["values"], f"{m['measure']} by {m['grain']}"),
        }
        for m in doc.get("measures", [])
    ]
    objectives = doc.get("objectives", [])
    month = doc["period"]["label"]
    return {
        "doc": doc,
        "cur": cur,
        "fig": fig,
        "keys": list(values),
        "agenda": by_section,
        "sections": SECTIONS,
        "owned": owned,
        "by_rule": by_rule,
        "passed_on": passed_on,
        "below": below,
        "from_below": from_below,
        "previous": previous,
        "movements": movements,
        "moved": moved,
        "slipping": slipping,
        "resources": resources,
        "hot_spots": hot_spots,
        "summary_limit": SUMMARY_LIMIT,
        "confidence_levels": list(charts.CONFIDENCE_COLOURS),
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
        "measures": measures,
        "strategy_maps": [
            {"root": m["root"], "svg": _embeddable(m["svg"])} for m in doc.get("strategy_map", [])
        ],
        "objectives": objectives,
        "changed_objectives": [o for o in objectives if o.get("changed")],
        "block_of": block_of,
        "where_shown": WHERE_SHOWN,
    }


# higher is better for these figures; for the rest (cost, exceptions, red items) lower is
LOWER_IS_WORSE = ("benefits.forecast", "benefits.realised_pct")


def _worse(key: str, change: Decimal) -> bool:
    if key == "balance.change_share_by_purpose":
        return False  # neither direction is worse in itself; the target says
    return change < 0 if key in LOWER_IS_WORSE else change > 0


# where the pack shows each kind of agenda information (appendix A maps the agenda to it)
WHERE_SHOWN = {
    "exceptions": "2. Exceptions",
    "readiness": "Appendix B",
    "actions": "8. Actions and decisions",
    "trend": "Appendix C",
    "status": "Appendix C",
    "schedule": "Appendix C",
    "balance": "4. Money",
    "cost": "4. Money",
    "benefits": "5. Benefits",
    "resources": "6. People",
    "risks": "7. Risks and issues",
    "objectives": "3. Strategy",
    "measure": "Appendix A",
    "note": "the XLSX",
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
