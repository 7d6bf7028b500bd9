"""Each exception rule on its own, on hand-built documents; and routing up the escalation path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bigov.governance import rules as rules_mod
from bigov.governance.rules import Finding, RuleSettings, route

S = RuleSettings()


def doc(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "node": {"code": "N", "kind": "programme_board"},
        "period": {"label": "2026-03"},
        "work": [],
        "benefits": [],
        "risks": [],
        "resources": [],
        "readiness": [],
        "run_change": {"fiscal_year": 2026, "change_pct": None, "target_change_pct": None},
        "has_data": True,
        "nodes": {
            "PB": {
                "parent": "PG",
                "tolerances": {"cost_pct": "5", "risk_score": "10", "confidence": "3"},
            },
            "PG": {"parent": "PF", "tolerances": {"cost_pct": "10", "risk_score": "15"}},
            "PF": {"parent": None, "tolerances": {"cost_pct": "20"}},
        },
    }
    base.update(parts)
    return base


def item(code: str = "P1", **fields: Any) -> dict[str, Any]:
    row = {
        "code": code,
        "name": f"Project {code}",
        "live": True,
        "origin": "PB",
        "budget": "100.00",
        "forecast": "100.00",
        "cost_variance_pct": None,
        "slip_days": None,
        "confidence": None,
        "confidence_prev": None,
        "baseline_finish": "2026-06-30",
        "forecast_finish": "2026-06-30",
    }
    row.update(fields)
    return row


def test_cost_over_budget() -> None:
    found = rules_mod.cost_over_budget(
        doc(
            work=[
                item(cost_variance_pct="7.50"),
                item("P2", cost_variance_pct="-3.00"),
                item("P3", cost_variance_pct="9.00", live=False),
            ]
        ),
        S,
    )
    assert [(f.subject_code, f.value, f.dimension, f.origin) for f in found] == [
        ("P1", Decimal("7.50"), "cost_pct", "PB")
    ]


def test_schedule_slip() -> None:
    found = rules_mod.schedule_slip(
        doc(work=[item(slip_days=45), item("P2", slip_days=0), item("P3", slip_days=-10)]), S
    )
    assert [(f.subject_code, f.value) for f in found] == [("P1", Decimal(45))]


def test_benefit_shortfall() -> None:
    benefits = [
        {
            "code": "B1",
            "name": "Savings",
            "planned": "100",
            "forecast": "80",
            "shortfall_pct": "20.00",
            "origin": "PB",
            "enabler": "P1",
            "owner": "Kim",
        },
        {
            "code": "B2",
            "name": "Ahead",
            "planned": "100",
            "forecast": "120",
            "shortfall_pct": "-20.00",
            "origin": "PB",
            "enabler": "P1",
            "owner": None,
        },
    ]
    found = rules_mod.benefit_shortfall(doc(benefits=benefits), S)
    assert [(f.subject_code, f.value, f.work_item) for f in found] == [
        ("B1", Decimal("20.00"), "P1")
    ]


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [
        ("amber", "green", True),
        ("green", "green", False),
        ("amber/red", None, True),
        ("red", "red", True),
        ("amber", "amber", False),
        ("green", "amber", False),
    ],
)
def test_confidence_falling_or_red(now: str, before: str | None, expected: bool) -> None:
    found = rules_mod.confidence(doc(work=[item(confidence=now, confidence_prev=before)]), S)
    assert bool(found) is expected


def test_risk_above_appetite_uses_origin_appetite() -> None:
    risks = [
        {
            "code": "R1",
            "kind": "risk",
            "title": "Supplier fails",
            "score": 12,
            "origin": "PB",
            "work_item": "P1",
        },
        {
            "code": "R2",
            "kind": "risk",
            "title": "Minor",
            "score": 9,
            "origin": "PB",
            "work_item": "P1",
        },
        {
            "code": "I1",
            "kind": "issue",
            "title": "Issue",
            "score": 25,
            "origin": "PB",
            "work_item": "P1",
        },
        {
            "code": "R3",
            "kind": "risk",
            "title": "No appetite set",
            "score": 16,
            "origin": "PF",
            "work_item": None,
        },
    ]
    found = rules_mod.risk_above_appetite(doc(risks=risks), S)
    assert [f.subject_code for f in found] == ["R1", "R3"]  # PF has no appetite: default 12


def test_resource_over_capacity() -> None:
    rows = [
        {
            "skill": "Data engineer",
            "demand_fte": "6.00",
            "capacity_fte": "4.00",
            "gap_fte": "2.00",
            "utilisation_pct": "150.00",
        },
        {
            "skill": "Analyst",
            "demand_fte": "3.00",
            "capacity_fte": "4.00",
            "gap_fte": "-1.00",
            "utilisation_pct": "75.00",
        },
        {
            "skill": "Architect",
            "demand_fte": "1.00",
            "capacity_fte": "0.00",
            "gap_fte": "1.00",
            "utilisation_pct": None,
        },
    ]
    found = rules_mod.resource_over_capacity(doc(resources=rows), S)
    assert [f.subject_code for f in found] == ["N:Data engineer", "N:Architect"]
    assert all(f.dimension is None for f in found)


def test_run_change_split_off_target_only_for_balance_owners() -> None:
    rc = {"fiscal_year": 2026, "change_pct": "42.0", "target_change_pct": "30.0"}
    assert rules_mod.run_change_split(doc(run_change=rc), S) == []  # not a programme board's
    board = doc(run_change=rc, node={"code": "MB", "kind": "main_board"})
    (f,) = rules_mod.run_change_split(board, S)
    assert f.value == Decimal("12.0")
    near = doc(run_change={**rc, "change_pct": "33.0"}, node={"code": "MB", "kind": "main_board"})
    assert rules_mod.run_change_split(near, S) == []


def test_missing_data() -> None:
    readiness = [
        {
            "code": "I1",
            "title": "Status",
            "source": "work.status",
            "required": True,
            "status": "missing",
            "detail": "none.",
            "owed_by": "Sam",
        },
        {
            "code": "I2",
            "title": "Risks",
            "source": "raid.risks",
            "required": False,
            "status": "missing",
            "detail": "none.",
            "owed_by": None,
        },
        {
            "code": "I3",
            "title": "Cost",
            "source": "finance.cost",
            "required": True,
            "status": "ready",
            "detail": "1 row.",
            "owed_by": None,
        },
    ]
    found = rules_mod.missing_data(doc(readiness=readiness, has_data=False), S)
    assert [f.subject_code for f in found] == ["N:2026-03", "N:I1"]


def test_rules_are_a_plugin_list() -> None:
    names = [r.name for r in rules_mod.RULES]
    assert names == [
        "cost_over_budget",
        "schedule_slip",
        "benefit_shortfall",
        "confidence",
        "risk_above_appetite",
        "resource_over_capacity",
        "run_change_split",
        "missing_data",
    ]

    def always(d: Any, s: RuleSettings) -> list[Finding]:
        return [Finding("always", "node", d["node"]["code"], "t", "m")]

    extra = [*rules_mod.RULES, rules_mod.Rule("always", "Always", always)]
    assert [f.rule for f in rules_mod.evaluate(doc(), S, extra)] == ["always"]


@pytest.mark.parametrize(
    ("value", "path", "owner_limit"),
    [
        ("3", ["PB"], "5"),
        ("8", ["PB", "PG"], "10"),
        ("15", ["PB", "PG", "PF"], "20"),
        ("40", ["PB", "PG", "PF"], "20"),
    ],
)
def test_route_cost(value: str, path: list[str], owner_limit: str) -> None:
    f = Finding("cost_over_budget", "work_item", "P1", "t", "m", Decimal(value), "cost_pct", "PB")
    steps = route(f, "PB", doc())
    assert [s.node for s in steps] == path
    assert steps[-1].outcome == "owned"
    assert steps[-1].limit == Decimal(owner_limit)


def test_route_confidence_is_a_floor_and_missing_tolerance_passes_up() -> None:
    ok = Finding("confidence", "work_item", "P1", "t", "m", Decimal(3), "confidence", "PB")
    assert [s.node for s in route(ok, "PB", doc())] == ["PB"]
    bad = Finding("confidence", "work_item", "P1", "t", "m", Decimal(1), "confidence", "PB")
    steps = route(bad, "PB", doc())
    # PG and PF hold no confidence tolerance: no authority, so it reaches the top
    assert [(s.node, s.outcome) for s in steps] == [
        ("PB", "escalated"),
        ("PG", "escalated"),
        ("PF", "owned"),
    ]
    assert steps[1].reason == "no delegated tolerance"
