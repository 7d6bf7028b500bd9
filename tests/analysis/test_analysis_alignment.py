"""Alignment gaps of the hand-built organisation (and the demo enterprise's planted gaps)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bigov.analysis.alignment import gaps
from bigov.org.models import BusinessPlanTarget
from bigov.workspace import Workspace

D = Decimal


def test_gaps_of_the_hand_built_organisation(session: Session) -> None:
    report = gaps(session)
    assert [g.code for g in report.objectives_without_work] == ["OBJ-4"]
    assert [g.code for g in report.objectives_without_funded_work] == ["OBJ-3"]
    # RUN-2 contributes to nothing but is run work of BU-OPS, whose plan takes TGT-1
    [unaligned] = report.unaligned_work
    assert unaligned.code == "WS-BR"
    assert unaligned.reason == "serves only withdrawn or achieved OTCs"
    c = report.unaligned_cost
    assert (c.budget, c.forecast, c.actual) == (D(80), D(80), D(40))
    assert [b.code for b in report.benefits_without_owner] == ["BEN-2"]
    assert [b.code for b in report.benefits_without_measure] == ["BEN-2"]
    assert report.benefits_without_owner[0].missing == ["owner", "measure"]
    assert [b.code for b in report.benefits_without_realising_team] == ["BEN-3"]
    assert [g.code for g in report.targets_without_business_plan] == ["TGT-2"]
    assert [g.code for g in report.challenges_without_innovation] == ["CHL-1"]
    assert [(w.code, w.total) for w in report.otc_weights_not_100] == [("OBJ-3", D("0.5"))]
    assert report.work_weights_over_100 == []
    assert [u.code for u in report.ungoverned_work] == ["RUN-2"]
    assert report.count == 10


def test_run_work_without_a_business_plan(faulty_ws: tuple[Workspace, dict[str, int]]) -> None:
    ws, _ids = faulty_ws
    with ws.session() as s:
        s.execute(delete(BusinessPlanTarget))
    with ws.session() as s:
        report = gaps(s)
    unaligned = {u.code: u for u in report.unaligned_work}
    assert sorted(unaligned) == ["RUN-2", "WS-BR"]  # RUN-1 still contributes to TGT-1 directly
    assert unaligned["RUN-2"].reason == "no contribution to any OTC"
    assert report.unaligned_cost.budget == D(110)
    assert [g.code for g in report.targets_without_business_plan] == ["TGT-1", "TGT-2"]


def test_demo_planted_gaps_are_found(tmp_path: Path) -> None:
    demo = pytest.importorskip("bigov.demo")
    with Workspace.open(f"sqlite:///{tmp_path}/demo.db") as ws:
        demo.generate(ws, scale="small", seed=42)
        with ws.session() as s:
            report = gaps(s)
    found = {
        "objectives_without_work": {g.code for g in report.objectives_without_work},
        "objectives_without_funded_work": {g.code for g in report.objectives_without_funded_work},
        "work_without_otc": {u.code for u in report.unaligned_work},
        "benefits_without_owner": {b.code for b in report.benefits_without_owner},
        "benefits_without_measure": {b.code for b in report.benefits_without_measure},
        "benefits_without_realising_team": {b.code for b in report.benefits_without_realising_team},
        "targets_without_business_plan": {g.code for g in report.targets_without_business_plan},
        "challenges_without_innovation": {g.code for g in report.challenges_without_innovation},
        "contribution_weights_not_one": {w.code for w in report.otc_weights_not_100},
        "work_without_governing_node": {u.code for u in report.ungoverned_work},
    }
    missed = {
        kind: sorted(set(codes) - found[kind])
        for kind, codes in demo.DELIBERATE_GAPS.items()
        if set(codes) - found.get(kind, set())
    }
    assert not missed, missed
    assert set(demo.DELIBERATE_GAPS) <= set(found), "a new kind of planted gap needs a check"
