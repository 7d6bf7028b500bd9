"""Values of the governed figures (:mod:`bigov.figures.catalog`) — the only place they are computed.

A cycle's figures are computed once, when the cycle runs, from its frozen document (whose rows
come from :mod:`bigov.analysis` over the database as at the cycle's date) and stored in the
document under ``governed``; every output — the HTML and PDF pack, the XLSX, ``bigov figures``,
``bigov cycle exceptions`` and the API — reads them from there, so a figure has one value
wherever it appears. A document stored before this layer existed gets the same computation on
read (:func:`governed`).

Values are JSON-ready: counts are ints, money and percentages fixed-point strings (so Decimal
survives a JSON round trip), missing values None.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bigov.figures.catalog import CATALOG, COUNT, FIGURES, MONEY, PCT
from bigov.work.models import Confidence

Doc = dict[str, Any]

_PLACES = {MONEY: 2, PCT: 1}
OWNED = "owned"
ESCALATED_ROLES = ("escalated up", "passed on")
BELOW = "managed below"
RISK_KINDS = ("risk", "issue")


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _fixed(value: Any, unit: str) -> str | int | None:
    """A value in the catalogue's unit: counts whole, money and % fixed-point strings."""
    if value is None:
        return None
    if unit == COUNT:
        return int(value)
    d = _dec(value)
    if d is None:
        return None
    q = Decimal(1).scaleb(-_PLACES.get(unit, 2))
    return str(d.quantize(q, rounding=ROUND_HALF_UP))


def level_slug(level: str) -> str:
    """The key suffix of a delivery confidence level (``amber/green`` -> ``amber_green``)."""
    return level.replace("/", "_")


def compute(doc: Doc) -> dict[str, str | int | None]:
    """Every governed figure of a cycle document, by key, in catalogue order."""
    raw: dict[str, Any] = {}
    live = [w for w in doc.get("work", []) if w.get("live", True)]
    reported = [w for w in live if w.get("status_current") and w.get("confidence")]
    raw["work.live_items"] = len(live)
    raw["work.reported_items"] = len(reported)
    for level in Confidence:
        raw[f"work.confidence.{level_slug(level.value)}"] = sum(
            1 for w in reported if w["confidence"] == level.value
        )
    raw["work.confidence.not_reported"] = len(live) - len(reported)

    analysis = doc.get("figures") or {}
    cost = analysis.get("cost") or {}
    raw["cost.budget"] = cost.get("budget")
    raw["cost.forecast_outturn"] = cost.get("forecast")
    raw["cost.variance_pct"] = cost.get("variance_pct")
    raw["cost.actual_to_date"] = cost.get("actual_to_date")
    raw["cost.budget_to_date"] = cost.get("budget_to_date")

    rc = doc.get("run_change") or {}
    raw["balance.change_share_by_purpose"] = rc.get("change_pct")
    raw["balance.target_change_share"] = rc.get("target_change_pct")
    raw["balance.change_share_by_delivery"] = rc.get("delivery_change_pct")
    for cat in ("run", "grow", "transform"):
        raw[f"balance.purpose_share.{cat}"] = (rc.get("shares") or {}).get(cat)

    ben = analysis.get("benefits") or {}
    raw["benefits.planned"] = ben.get("planned")
    raw["benefits.forecast"] = ben.get("forecast")
    raw["benefits.realised_to_date"] = ben.get("actual_to_date")
    raw["benefits.planned_to_date"] = ben.get("planned_to_date")
    raw["benefits.realised_pct"] = ben.get("realised_pct")
    raw["benefits.at_risk"] = sum(1 for b in doc.get("benefits", []) if b.get("at_risk"))

    exceptions = doc.get("exceptions", [])
    period = (doc.get("period") or {}).get("month")
    owned = [e for e in exceptions if e.get("role") == OWNED]
    raw["exceptions.owned"] = len(owned)
    raw["exceptions.escalated"] = sum(1 for e in exceptions if e.get("role") in ESCALATED_ROLES)
    raw["exceptions.managed_below"] = sum(1 for e in exceptions if e.get("role") == BELOW)
    raw["exceptions.new"] = sum(1 for e in owned if (e.get("first_period") or period) == period)

    actions = doc.get("actions", [])
    raw["actions.open"] = len(actions)
    raw["actions.overdue"] = sum(1 for a in actions if a.get("overdue"))
    raw["decisions.earlier"] = len(doc.get("decisions", []))
    raw["decisions.in_period"] = len(doc.get("decisions_log", []))

    utilisation = [
        (_dec(r.get("utilisation_pct")), _dec(r.get("demand_fte")) or Decimal(0))
        for r in doc.get("resources", [])
    ]
    raw["resources.skills_over_capacity"] = sum(
        1 for u, d in utilisation if d > 0 and (u is None or u > 100)
    )
    peaks = [u for u, _d in utilisation if u is not None]
    raw["resources.peak_utilisation_pct"] = max(peaks) if peaks else None

    raw["risks.open"] = sum(1 for r in doc.get("risks", []) if r.get("kind") in RISK_KINDS)
    objectives = doc.get("objectives", [])
    raw["strategy.objectives"] = len(objectives)
    raw["strategy.changed"] = sum(1 for o in objectives if o.get("changed"))
    raw["strategy.off_track"] = sum(1 for o in objectives if o.get("rag") == "red")
    raw["readiness.not_ready"] = sum(
        1
        for r in doc.get("readiness", [])
        if r.get("required") and r.get("status") not in ("ready", "not due")
    )
    return {f.key: _fixed(raw.get(f.key), f.unit) for f in FIGURES}


def governed(doc: Doc) -> dict[str, str | int | None]:
    """The document's governed figures: those frozen when the cycle ran, or (for a document
    stored before they were) computed now by the same definitions."""
    stored = doc.get("governed")
    if isinstance(stored, dict) and stored:
        return stored
    return compute(doc)


def figure_rows(doc: Doc) -> list[dict[str, Any]]:
    """The figures of a document as rows: key, label, value, unit, as-at date, definition —
    what the XLSX ``Figures`` sheet, ``bigov figures`` and the API list."""
    values = governed(doc)
    as_at = (doc.get("period") or {}).get("as_at")
    return [
        {
            "key": key,
            "label": CATALOG[key].label if key in CATALOG else key,
            "value": value,
            "unit": CATALOG[key].unit if key in CATALOG else None,
            "as_at": as_at,
            "definition": CATALOG[key].definition if key in CATALOG else None,
        }
        for key, value in values.items()
    ]


__all__ = ["compute", "figure_rows", "governed", "level_slug"]
