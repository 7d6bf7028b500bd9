"""Decisions and actions recorded at a sitting show up in the node's next cycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from bigov.errors import NotFoundError, ValidationError
from bigov.finance.models import CostLine
from bigov.work.models import WorkItem
from bigov.workspace import Workspace


def test_next_cycle_shows_open_actions_and_effect_of_decisions(gov_ws: Workspace) -> None:
    gov = gov_ws.governance
    march = gov.run_cycle("PB3", "2026-03")
    exc = next(
        e for e in gov.cycle_document(march.code)["exceptions"] if e["rule"] == "cost_over_budget"
    )
    dec_code = gov.add_decision(
        march.code, "Descope reporting module", items=["PRJ-3"], exception=exc["code"]
    )
    act_code = gov.add_decision(
        march.code,
        "Re-plan stage 3",
        kind="action",
        items=["PRJ-3"],
        owner="P-SRO",
        due=dt.date(2026, 4, 15),
    )
    assert (dec_code, act_code) == ("PB3-D001", "PB3-A001")
    # the published March pack is unchanged by the decision
    assert gov.cycle_document(march.code)["decisions"] == []

    with gov_ws.session() as s:
        wid = s.scalar(select(WorkItem.id).where(WorkItem.code == "PRJ-3"))
        for line in s.scalars(select(CostLine).where(CostLine.work_item_id == wid)):
            line.forecast = Decimal("104")
    april = gov.cycle_document(gov.run_cycle("PB3", "2026-04").code)
    assert [a["code"] for a in april["actions"]] == ["PB3-A001"]
    assert april["actions"][0]["overdue"] is True
    assert april["actions"][0]["from_cycle"] == march.code
    decision = april["decisions"][0]
    assert decision["code"] == "PB3-D001"
    changes = decision["effects"][0]["changes"]
    assert "forecast cost: 690.00 → 657.00" in changes
    listed = gov.decisions(node="PB3")
    assert {d["code"]: d["exception"] for d in listed} == {
        "PB3-D001": exc["code"],
        "PB3-A001": None,
    }


def test_bad_decisions_are_refused(gov_ws: Workspace) -> None:
    code = gov_ws.governance.run_cycle("PB1", "2026-03").code
    # every bad field named at once (the web form shows each beside its field)
    with pytest.raises(ValidationError) as wish:
        gov_ws.governance.add_decision(code, "x", kind="wish")
    assert [(p.column, p.value) for p in wish.value.problems] == [("kind", "wish")]
    with pytest.raises(ValidationError) as nope:
        gov_ws.governance.add_decision(code, "x", items=["NOPE"])
    assert [(p.column, p.value) for p in nope.value.problems] == [("items", "NOPE")]
    with pytest.raises(NotFoundError):
        gov_ws.governance.add_decision("PB1/2020-01/v1", "x")
    assert gov_ws.governance.decisions() == []
