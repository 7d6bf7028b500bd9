"""Benefits realisation of the hand-built organisation.

Financial benefits net of the dis-benefit, as at 15 June (planned / forecast / actual). The
forecast is actual to date + forecast of the rest: April and May hold actuals, which replace
their forecasts; June has begun but holds no actual yet, so its forecast stands:
    Apr 10+5-4 = 11 / 8+5-4 = 9 / 9;  May 20+5-2 = 23 / 15+2-3 = 14 / 14;
    Jun 30+5 = 35 / 29+2 = 31 / 0.   Total 69 / 54 / 23.
Per benefit: BEN-1 60 / 8+15+29 = 52 / 23; BEN-2 15 / 5+2+2 = 9 / 7; DIS-1 -6 / -7 / -7.
BEN-3 (points, a level) is never summed: plan 2, forecast 1 (May's actual), actual 1.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from analysis_dates import AS_AT
from sqlalchemy.orm import Session

from bigov.analysis.benefits import realisation

D = Decimal


def _fig(f):  # type: ignore[no-untyped-def]
    return (f.planned, f.forecast, f.actual)


def test_total_and_series(session: Session) -> None:
    report = realisation(session, as_at=AS_AT)
    assert _fig(report.total) == (D(69), D(54), D(23))
    assert [
        (p.period.month, p.cum_planned, p.cum_forecast, p.cum_actual) for p in report.periods
    ] == [(4, D(11), D(9), D(9)), (5, D(34), D(23), D(23)), (6, D(69), D(54), D(23))]
    assert report.total.realised_pct == D("33.3")  # 23 / 69
    groups = {g.key: g for g in report.groups}
    assert _fig(groups["DIS-1"].figures) == (D(-6), D(-7), D(-7))
    assert _fig(groups["BEN-1"].figures) == (D(60), D(52), D(23))
    ben3 = groups["BEN-3"]
    assert ben3.unit == "points" and ben3.figures.aggregation == "level"
    assert _fig(ben3.figures) == (D(2), D(1), D(1))
    assert report.excluded_profile_rows == 0


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("owner", {"P-BEN": (60, 52, 23), "P-OPS": (-6, -7, -7), "(none)": (15, 9, 7)}),
        ("unit", {"BU-OPS": (54, 45, 16), "BU-DIG": (15, 9, 7)}),
        ("otc", {"OBJ-1": (69, 54, 23), "TGT-1": (60, 52, 23)}),
        ("portfolio", {"PF-1": (69, 54, 23)}),
    ],
)
def test_groupings(session: Session, by: str, expected: dict[str, tuple[int, int, int]]) -> None:
    report = realisation(session, by=by, as_at=AS_AT)
    got = {g.key: tuple(int(v) for v in _fig(g.figures)) for g in report.groups}
    assert got == expected
    assert _fig(report.total) == (D(69), D(54), D(23))  # each benefit once whatever the grouping


def test_to_date_and_present_value(session: Session) -> None:
    report = realisation(
        session,
        by="benefit",
        as_at=dt.date(2024, 5, 31),
        discount_rate=D("0.10"),
        pv_base=dt.date(2023, 4, 1),
    )
    ben1 = {g.key: g for g in report.groups}["BEN-1"].figures
    assert (ben1.planned_to_date, ben1.actual_to_date) == (D(30), D(23))
    # Apr 2024 is 12 months after the base: 10 / 1.1; May 20 / 1.1^(13/12); Jun 30 / 1.1^(14/12)
    expected = (
        D(10) / D("1.1") + D(20) / D("1.1") ** (D(13) / 12) + D(30) / D("1.1") ** (D(14) / 12)
    )
    assert ben1.pv_planned == expected.quantize(D("0.01"))
    assert ben1.pv_planned == D("53.97")


def test_benefits_at_risk(session: Session) -> None:
    risks = {r.code: r for r in realisation(session, as_at=AS_AT).at_risk}
    assert sorted(risks) == ["BEN-1", "BEN-2", "BEN-3", "DIS-1"]
    # BEN-1: forecast 52 vs plan 60 is 13.3 % short (beyond 10 %); not yet realised (23 of 60
    # due), so its open, late and red enabler PRJ-B counts too (PRJ-A is on time, amber)
    assert risks["BEN-1"].reasons == [
        "forecast below plan",
        "enabling work late",
        "enabling work at red",
    ]
    assert risks["BEN-1"].shortfall_pct == D("13.3")
    assert risks["BEN-1"].late_enablers == ["PRJ-B"]
    assert risks["BEN-2"].shortfall_pct == D("40.0")  # forecast 9 vs plan 15
    assert risks["BEN-2"].late_enablers == ["PRJ-B"]
    # DIS-1: the dis-benefit's actual 7 already exceeds its plan of 6 by 16.7 %; it is realised
    # (7 >= 6 due), so no enabler reason applies
    assert risks["DIS-1"].reasons == ["forecast above plan"]
    assert risks["DIS-1"].shortfall_pct == D("16.7") and risks["DIS-1"].realised
    # BEN-3, a level: plan 2 points, May's actual 1 is its forecast, 50 % short
    assert risks["BEN-3"].reasons == ["forecast below plan"]
    assert risks["BEN-3"].shortfall_pct == D("50.0")
    loose = {r.code for r in realisation(session, as_at=AS_AT, tolerance_pct=D(50)).at_risk}
    assert loose == {"BEN-1", "BEN-2"}  # within 50 %, but still at risk through PRJ-B


def test_unknown_grouping(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown grouping"):
        realisation(session, by="colour")
