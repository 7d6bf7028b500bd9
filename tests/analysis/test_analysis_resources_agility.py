"""Capacity, what-if and agility on the hand-built organisation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from bigov.analysis.agility import agility
from bigov.analysis.resources import capacity, what_if

D = Decimal
MAY, JUN = dt.date(2024, 5, 1), dt.date(2024, 6, 1)


def test_capacity_and_over_allocation(session: Session) -> None:
    report = capacity(session)
    cells = {(c.period, c.skill, c.team): c for c in report.cells}
    may = cells[(MAY, "SK-DEV", "TEAM-DEV")]
    assert (may.capacity, may.demand, may.gap, may.over) == (D(5), D(6), D(-1), True)
    assert [(d.work_item, d.fte) for d in may.drivers] == [("PRJ-A", D(4)), ("PRJ-B", D(2))]
    agents = cells[(MAY, "SK-AGENT", "TEAM-OPS-A")]
    assert (agents.demand, agents.demand_run, agents.demand_change, agents.over) == (
        D(18),
        D(18),
        D(0),
        False,
    )
    assert agents.utilisation_pct == D("90.0")
    assert cells[(JUN, "SK-DEV", "TEAM-DEV")].demand == D(6)  # the proposed PRJ-C is left out
    over = {(c.period, c.skill, c.team) for c in report.over_allocated}
    assert over == {
        (MAY, "SK-DEV", "TEAM-DEV"),
        (JUN, "SK-DEV", "TEAM-DEV"),
        (MAY, "SK-DEV", "(all teams)"),
        (JUN, "SK-DEV", "(all teams)"),
    }


def test_what_if_starting_a_proposal(session: Session) -> None:
    report = what_if(session, "PRJ-C")
    assert report.added_fte == D(1)
    assert report.newly_over == []
    worse = {(c.period, c.team): c.gap for c in report.worsened}
    assert worse == {(JUN, "TEAM-DEV"): D(-2), (JUN, "(all teams)"): D(-2)}


def test_agility(session: Session) -> None:
    report = agility(session, as_at=dt.date(2024, 8, 31))
    obj1, obj2 = report.changes
    assert (obj1.otc, obj1.version, obj1.days_to_response) == ("OBJ-1", 2, 10)
    assert [r.code for r in obj1.responses] == ["D-1", "G-1"]  # D-0 predates the change
    assert obj1.affected == ["PG-1", "PRJ-A", "PRJ-B", "PRJ-C", "WS-1"]
    assert obj1.realigned == ["PRJ-B"]
    assert (obj2.otc, obj2.status, obj2.days_to_response, obj2.realigned) == (
        "OBJ-2",
        "withdrawn",
        30,
        ["WS-BR"],
    )
    assert report.median_days_to_response == 20.0
    assert report.realigned_pct == D("33.3")  # 2 of 6
    [spend] = report.withdrawn_spend
    assert (spend.otc, spend.withdrawn_on, spend.work_items) == (
        "OBJ-2",
        dt.date(2024, 7, 1),
        ["WS-BR"],
    )
    assert (spend.cost.budget, spend.cost.forecast, spend.cost.actual) == (D(40), D(40), D(0))


def test_agility_before_the_answers(session: Session) -> None:
    report = agility(session, as_at=dt.date(2024, 7, 15))
    assert [c.otc for c in report.changes] == ["OBJ-1", "OBJ-2"]
    assert report.unanswered == 1
    assert report.median_days_to_response == 10.0
