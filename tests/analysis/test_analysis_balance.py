"""Run / change balance of the hand-built organisation.

Budget by category: run 40+400+30 = 470, grow 100+80 = 180, transform 300+10 = 310; total 960.
By business unit: BU-DIG transform 310, grow 100; BU-OPS run 470, grow 80.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from bigov.analysis.balance import balance
from bigov.workspace import Workspace

D = Decimal


def test_totals_against_default_target(session: Session) -> None:
    report = balance(session)
    assert report.target == {"run": D(70), "grow": D(20), "transform": D(10)}
    org = report.totals[0]
    assert org.unit == "(organisation)"
    assert org.budget.amounts == {"run": D(470), "grow": D(180), "transform": D(310)}
    assert org.budget.shares == {"run": D("49.0"), "grow": D("18.8"), "transform": D("32.3")}
    assert org.budget.deviation_pp == {"run": D("-21.0"), "grow": D("-1.3"), "transform": D("22.3")}
    # actual: run 40+400+30 = 470, grow 105+40 = 145, transform 200+10 = 210
    assert org.actual.amounts == {"run": D(470), "grow": D(145), "transform": D(210)}
    # committed FTE (the proposed PRJ-C demand left out): run 54, grow 5, transform 11
    assert org.fte.amounts == {"run": D(54), "grow": D(5), "transform": D(11)}
    assert org.fte_actual.amounts == {"run": D(37), "grow": D(3), "transform": D("7.5")}
    units = {r.unit: r for r in report.totals[1:]}
    assert units["BU-DIG"].budget.amounts == {"run": D(0), "grow": D(100), "transform": D(310)}
    assert units["BU-OPS"].budget.amounts == {"run": D(470), "grow": D(80), "transform": D(0)}


def test_monthly_trend(session: Session) -> None:
    trend = balance(session).trend
    assert [(t.period.month, t.budget.amounts["run"], t.budget.total) for t in trend] == [
        (4, D(250), D(450)),
        (5, D(220), D(370)),
        (6, D(0), D(100)),
        (7, D(0), D(40)),
    ]
    yearly = balance(session, grain="year")
    assert [t.period.isoformat() for t in yearly.trend] == ["2024-04-01"]


def test_target_from_settings(faulty_ws: tuple[Workspace, dict[str, int]]) -> None:
    ws, _ids = faulty_ws
    for key, value in (("run", "50"), ("grow", "20"), ("transform", "30")):
        ws.set_setting(f"target_split_{key}", value)
    with ws.session() as s:
        org = balance(s).totals[0]
    assert org.budget.deviation_pp == {"run": D("-1.0"), "grow": D("-1.3"), "transform": D("2.3")}
