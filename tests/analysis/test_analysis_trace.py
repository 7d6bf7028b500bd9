"""Traceability both ways and the strategy map."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from analysis_dates import AS_AT
from sqlalchemy.orm import Session

from bigov.analysis.trace import strategy_map_svg, trace
from bigov.errors import NotFoundError

D = Decimal


def test_down_from_an_otig(session: Session) -> None:
    result = trace(session, "OTIG-1", as_at=AS_AT)
    root = result.down
    assert [c.code for c in root.children] == ["CHL-1", "OBJ-1", "OBJ-2"]
    obj1 = root.find("OBJ-1")
    assert obj1 is not None
    assert [c.code for c in obj1.children] == ["KR-1", "KR-2", "PG-1", "PRJ-A"]
    kr1 = obj1.find("KR-1")
    assert kr1 is not None and kr1.kpi is not None
    assert (kr1.kpi.latest, kr1.kpi.latest_period) == (D(26), AS_AT.replace(day=1))
    # OBJ-1 money: PG-1 subtree 450 + PRJ-A subtree 300 (contributors, unweighted)
    assert obj1.cost is not None and obj1.cost.budget == D(750)
    assert obj1.benefit is not None and obj1.benefit.planned == D(69)
    pg1 = obj1.children[2]
    assert (pg1.relation, pg1.weight, pg1.confidence) == ("served by", D("0.6"), "amber")
    # forecast outturn as at 15 June: booked actuals replace their forecasts (see rollups)
    assert pg1.cost is not None and pg1.cost.forecast == D(485)
    prj_b = pg1.find("PRJ-B")
    assert prj_b is not None and prj_b.confidence == "red"
    assert [c.code for c in prj_b.children] == ["BEN-1", "BEN-2"]
    assert prj_b.benefit is not None and prj_b.benefit.planned == D(75)  # 60 + 15
    assert prj_b.benefit.forecast == D(61)  # actual to date + forecast of the rest: 52 + 9
    assert prj_b.children[0].relation == "enables"


def test_up_from_a_project(session: Session) -> None:
    result = trace(session, "PRJ-B", as_at=AS_AT)
    up = result.up
    assert up is not None and up.code == "PRJ-B"
    pg1 = up.find("PG-1")
    assert pg1 is not None and pg1.relation == "part of"
    obj1 = pg1.find("OBJ-1")
    assert obj1 is not None and obj1.relation == "contributes to" and obj1.weight == D("0.6")
    assert [c.code for c in obj1.children] == ["OTIG-1"]
    assert up.find("PF-1") is not None
    assert result.down.code == "PRJ-B"


def test_unknown_code(session: Session) -> None:
    with pytest.raises(NotFoundError):
        trace(session, "NOPE")


def test_strategy_map_svg(session: Session) -> None:
    svg = strategy_map_svg(session, as_at=AS_AT)
    doc = ET.fromstring(svg)
    ids = {g.get("id") for g in doc.iter("{http://www.w3.org/2000/svg}g")}
    assert {"OTIG-1", "OBJ-1", "OBJ-2", "PG-1", "PF-1", "BEN-1", "DIS-1"} <= ids
    assert "PRJ-A" not in ids  # drawn at its programme
    limited = ET.fromstring(strategy_map_svg(session, "OBJ-3", as_at=AS_AT))
    assert {g.get("id") for g in limited.iter("{http://www.w3.org/2000/svg}g")} == {
        "OBJ-3",
        "PG-1",
        "BEN-1",
        "BEN-2",
        "DIS-1",
        "BEN-3",
    }
