"""Strategy attainment of the hand-built organisation.

Key results run from 1 Apr 2024 (baseline) to 1 Apr 2025 (target): 365 days. The latest actual
on 15 June is June's, judged at the end of June (1 July): f = 91 / 365.
    KR-1 linear 20 -> 60, actual 26: attained 6/40 = 15 %, expected f = 24.9 %,
         forecast 0.15 / f = 60.2 %.
    KR-2 back-loaded 1000 -> 600, actual 985: attained 15/400 = 3.75 %, expected f² = 6.2 %,
         forecast 0.0375 / f² = 60.3 %.
    KR-3 step 10 -> 9.5, actual 9.8: attained 40 %, expected 0, forecast 0.4 / f = 160.4 %.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
from analysis_dates import AS_AT
from sqlalchemy.orm import Session

from bigov.analysis.attainment import attainment
from bigov.errors import NotFoundError

D = Decimal
F = 91 / 365


def pct(x: float) -> Decimal:
    return D(str(x * 100)).quantize(D("0.1"))


def test_objective_attainment(session: Session) -> None:
    [obj1] = attainment(session, "OBJ-1", as_at=AS_AT)
    kr1, kr2 = obj1.key_results
    assert (kr1.latest, kr1.source, kr1.latest_period) == (
        D(26),
        "key_result_actual",
        dt.date(2024, 6, 1),
    )
    assert kr1.attained_pct == D("15.0")
    assert kr1.expected_pct == pct(F) == D("24.9")
    assert kr1.forecast_pct == pct(0.15 / F) == D("60.2")
    assert kr1.on_track is False
    assert kr2.attained_pct == D("3.8")
    assert kr2.expected_pct == pct(F * F) == D("6.2")
    assert kr2.forecast_pct == pct(0.0375 / (F * F)) == D("60.3")
    assert obj1.attained_pct == D("9.4")  # (15.0 + 3.8) / 2
    assert obj1.on_track is False
    # benefits contributing: BEN-1, BEN-2 and DIS-1 (netted)
    assert obj1.benefits is not None
    assert (obj1.benefits.planned_to_date, obj1.benefits.actual_to_date) == (D(69), D(23))
    # serving work: PG-1, PRJ-A, PRJ-B, PRJ-C, WS-1 -> amber 2, red 1, green 1, none 1 (PRJ-C)
    assert obj1.work_items == 5
    assert obj1.confidence_distribution["none"] == 1
    assert obj1.confidence == "amber"  # (3 + 3 + 1 + 5) / 4 = 3


def test_step_trajectory_and_listing(session: Session) -> None:
    rows = {a.code: a for a in attainment(session, as_at=AS_AT)}
    assert "OBJ-2" not in rows  # withdrawn
    kr3 = rows["TGT-1"].key_results[0]
    assert (kr3.attained_pct, kr3.expected_pct, kr3.on_track) == (D("40.0"), D("0.0"), True)
    # the projection overshoots the target: shown capped at 100 %, the raw value kept and flagged
    assert kr3.forecast_raw_pct == pct(0.4 / F) == D("160.4")
    assert (kr3.forecast_pct, kr3.forecast_overshoot, kr3.overshoot) == (D("100.0"), True, False)
    assert rows["CHL-1"].attained_pct is None and rows["CHL-1"].key_results == []


def test_metrics_source_wins_when_it_has_values(session: Session) -> None:
    calls: list[str] = []

    def source(code: str, as_at: dt.date) -> Sequence[tuple[dt.date, Decimal]]:
        calls.append(code)
        return [(dt.date(2024, 5, 1), D("9.9")), (dt.date(2024, 6, 1), D("9.75"))]

    [tgt] = attainment(session, "TGT-1", as_at=AS_AT, measures=source)
    assert calls == ["UNIT_COST"]
    assert (tgt.key_results[0].source, tgt.key_results[0].latest) == ("metrics", D("9.75"))
    assert tgt.attained_pct == D("50.0")


def test_unknown_otc(session: Session) -> None:
    with pytest.raises(NotFoundError):
        attainment(session, "NOPE")
