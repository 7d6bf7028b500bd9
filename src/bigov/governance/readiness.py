"""Data readiness: before a node sits, is each piece of information it needs present, complete and
fresh for the period, and who owes what (``bigov cycle check``).

Statuses a caller may rely on: ``ready``; ``missing`` (no rows for the period); ``incomplete``
(status reports missing for some live items in scope — the items and their owners are listed);
``stale`` (the newest row is older than the definition's ``freshness_days`` at the as-at date);
for a measure (``metrics.*``): no value for the period is ``missing``, a series with fewer
observations than expected is ``incomplete``;
``invalid`` (the definition names a source that does not exist); ``not due`` (benefit data for a
scope none of whose benefits plans any value yet). A RAID log (risks, issues, actions, decisions)
may rightly be empty, so it is never ``missing``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bigov.governance.facts import Facts
from bigov.governance.figures import MeasureView
from bigov.governance.sources import resolve_source
from bigov.governance.topology import Topology

MAX_LISTED = 25

DEFAULT_AGENDA: list[dict[str, Any]] = [
    {
        "code": "DEFAULT-1",
        "sequence": 1,
        "section": "preparation",
        "title": "Data readiness and open actions",
        "information": [
            {
                "code": "DEFAULT-1-1",
                "title": "Data readiness",
                "source": "governance.readiness",
                "grain": "month",
                "form": "table",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-2",
        "sequence": 2,
        "section": "progress",
        "title": "Exceptions and escalations",
        "information": [
            {
                "code": "DEFAULT-2-1",
                "title": "Exceptions",
                "source": "governance.exceptions",
                "grain": "month",
                "form": "exceptions",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-3",
        "sequence": 3,
        "section": "progress",
        "title": "Delivery status, trend and last period",
        "information": [
            {
                "code": "DEFAULT-3-1",
                "title": "Status reports",
                "source": "work.status",
                "grain": "month",
                "form": "table",
                "required": True,
                "freshness_days": 45,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-4",
        "sequence": 4,
        "section": "progress",
        "title": "Cost",
        "information": [
            {
                "code": "DEFAULT-4-1",
                "title": "Cost against budget",
                "source": "finance.cost",
                "grain": "month",
                "form": "chart",
                "required": True,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-5",
        "sequence": 5,
        "section": "progress",
        "title": "Resources",
        "information": [
            {
                "code": "DEFAULT-5-1",
                "title": "Demand against capacity",
                "source": "resources.demand",
                "grain": "month",
                "form": "table",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-6",
        "sequence": 6,
        "section": "enablers",
        "title": "Objectives, drivers and risks",
        "information": [
            {
                "code": "DEFAULT-6-1",
                "title": "Objectives",
                "source": "strategy.otcs",
                "grain": "month",
                "form": "table",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
            {
                "code": "DEFAULT-6-2",
                "title": "Risks and issues",
                "source": "raid.risks",
                "grain": "month",
                "form": "table",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-7",
        "sequence": 7,
        "section": "prediction",
        "title": "Confidence, forecast cost and benefits",
        "information": [
            {
                "code": "DEFAULT-7-1",
                "title": "Delivery confidence trend",
                "source": "work.status",
                "grain": "month",
                "form": "trend",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
            {
                "code": "DEFAULT-7-2",
                "title": "Benefits realisation",
                "source": "benefits.profile",
                "grain": "month",
                "form": "chart",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-8",
        "sequence": 8,
        "section": "prediction",
        "title": "Priorities and balance",
        "information": [
            {
                "code": "DEFAULT-8-1",
                "title": "Run / change split",
                "source": "work.balance",
                "grain": "month",
                "form": "chart",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
    {
        "code": "DEFAULT-9",
        "sequence": 9,
        "section": "actions",
        "title": "Decisions and actions",
        "information": [
            {
                "code": "DEFAULT-9-1",
                "title": "Decisions and actions",
                "source": "governance.decisions",
                "grain": "month",
                "form": "table",
                "required": False,
                "freshness_days": None,
                "owner": None,
            },
        ],
    },
]


def assess(
    facts: Facts,
    topo: Topology,
    node_id: int,
    agenda: list[dict[str, Any]],
    measures: Mapping[str, MeasureView] | None = None,
) -> list[dict[str, Any]]:
    """One readiness row per information definition of ``agenda`` for ``node_id``'s scope.

    ``measures`` holds, by definition code, the ``metrics.*`` definitions read from the metrics
    engine for the period: their completeness and freshness decide their status (a measure
    definition not in it is missing)."""
    scope = topo.scope(node_id)
    as_at = facts.period.as_at
    live_all, live = expected_reporters(topo, node_id)
    rows: list[dict[str, Any]] = []
    for item in agenda:
        for d in item["information"]:
            row: dict[str, Any] = {
                "code": d["code"],
                "title": d["title"],
                "source": d["source"],
                "agenda_item": item["title"],
                "required": bool(d["required"]),
                "owed_by": d.get("owner"),
                "rows": 0,
                "latest": None,
                "missing_items": [],
            }
            try:
                resolved = resolve_source(d["source"])
            except ValueError as exc:
                row.update(status="invalid", detail=str(exc))
                rows.append(row)
                continue
            spec = resolved.spec
            if spec is None and str(d["source"]).startswith("metrics."):
                m = (measures or {}).get(d["code"])
                if m is None:
                    row.update(status="missing", detail="the measure was not read.")
                else:
                    row.update(status=m.status, detail=m.detail, rows=m.rows, latest=m.latest)
                rows.append(row)
                continue
            if spec is None:
                row.update(status="ready", detail="produced by the cycle.")
                rows.append(row)
                continue
            stats = facts.source_stats(spec)
            counts: dict[int | None, tuple[int, dt.date | None]]
            if spec.item or spec.via_benefit:
                counts = {k: stats.by_item[k] for k in scope if k in stats.by_item}
            else:
                counts = dict(stats.by_item)
            n = sum(c for c, _ in counts.values())
            latest_dates = [d_ for _, d_ in counts.values() if d_ is not None]
            latest: dt.date | None = max(latest_dates) if latest_dates else None
            row["rows"] = n
            row["latest"] = latest.isoformat() if latest else None
            window = "the period" if spec.period else "the scope"
            if spec.raid_kind is not None:
                # a RAID log may rightly be empty; what is in it is listed in the pack
                row.update(
                    status="ready",
                    detail=f"{n} in the RAID log for the scope (open and closed)."
                    if n
                    else "none in the RAID log for the scope.",
                )
            elif spec.key.startswith("benefits.") and not _benefits_due(facts, node_id):
                row.update(
                    status="not due",
                    detail=f"no benefit in scope plans any value by {facts.period.label}.",
                )
            elif n == 0:
                row.update(status="missing", detail=f"no {spec.title.lower()} for {window}.")
                if spec.key == "work.status":
                    _list_missing(row, topo, live, set())
            elif spec.key == "work.status" and len(set(counts) & live_all & set(live)) < len(live):
                have = {k for k in counts if k is not None}
                missing = [i for i in live if i not in have]
                row.update(
                    status="incomplete",
                    detail=f"{len(missing)} of {len(live)} live items have no status report.",
                )
                _list_missing(row, topo, missing, set())
            elif (
                d.get("freshness_days") is not None
                and latest is not None
                and (as_at - latest).days > int(d["freshness_days"])
            ):
                row.update(
                    status="stale",
                    detail=f"newest row dated {latest.isoformat()}, older than "
                    f"{d['freshness_days']} days at {as_at.isoformat()}.",
                )
            else:
                row.update(status="ready", detail=f"{n:,} row{'' if n == 1 else 's'}.")
            rows.append(row)
    return rows


def expected_reporters(topo: Topology, node_id: int) -> tuple[set[int], list[int]]:
    """(live items of the node's scope, the live leaves among them): the items expected to
    report status, since parents roll up their children. Data calls ask the same items."""
    live_all = {
        i for i in topo.scope(node_id) if topo.items[i].phase not in ("closed", "cancelled")
    }
    live = sorted(
        i for i in live_all if not any(c in live_all for c in topo.item_children.get(i, ()))
    )
    return live_all, live


def _benefits_due(facts: Facts, node_id: int) -> bool:
    """Whether any benefit of the node's scope plans value in or before the cycle's month, so
    that its profile (actuals) is owed for this sitting."""
    month = facts.period.month
    return any(
        b.first_planned is not None and b.first_planned <= month for b in facts.benefits_of(node_id)
    )


def _list_missing(row: dict[str, Any], topo: Topology, items: list[int], _: set[int]) -> None:
    listed = sorted(items, key=lambda i: topo.items[i].code)
    row["missing_items"] = [
        {"code": topo.items[i].code, "owner": topo.items[i].owner} for i in listed[:MAX_LISTED]
    ]
    row["missing_count"] = len(listed)
    owners = sorted({o for i in listed if (o := topo.items[i].owner)})
    if owners and not row.get("owed_by"):
        row["owed_by"] = ", ".join(owners[:5]) + (" …" if len(owners) > 5 else "")


__all__ = ["DEFAULT_AGENDA", "assess", "expected_reporters"]
