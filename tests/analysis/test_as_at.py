"""As at a date, on a second small hand-built organisation with every answer worked out below.

As-at date: 30 September 2025 (fiscal years start in April). Rows dated after it — a cost
line's October actual, a benefit's October actual, an October status report, an October
decision and action, a key result's October value — were booked, reported or decided later, so
no figure as at 30 September may include them.

Work: PF-X portfolio with two projects.
    PRJ-1 (change/transform): baseline finish 31 Oct 2025, forecast 15 Dec 2025, open (late).
    PRJ-2 (change/grow): baseline finish 31 Aug 2025, closed on 7 Sep 2025 (7 days late).

Cost lines (budget / forecast / actual):
    PRJ-1  Aug 100/100/95   Sep 100/110/120   Oct 100/100/130 (booked in October)   Nov 100/90/-
    PRJ-2  Aug 50/40/-  (no actual booked yet: its forecast stands)
           Sep 50/0/60  (the ledger clears the forecast once the actual is in)   Oct 50/50/-
As at 30 Sep: actual = periods up to September only; forecast outturn = actual where a period
has begun and holds an actual, else its forecast; budget whole-life:
    PRJ-1 400 / 95+120+100+90 = 405 / 95+120 = 215
    PRJ-2 150 / 40+60+50 = 150 / 60
    PF-X  550 / 555 / 275      (the stored sums would say 490 forecast and 405 actual)
As at 31 Oct: PRJ-1 400 / 95+120+130+90 = 435 / 345; PF-X 550 / 585 / 405.

Benefits (planned / forecast / actual):
    BEN-A cashable, enabled by PRJ-1:
        Aug 10/-/12  Sep 10/-/11  Oct 10/10/15 (booked in October)  Nov 10/10/-  Dec 10/10/-
        as at 30 Sep: plan 50; forecast 12+11+10+10+10 = 53; actual 23; plan to date 20,
        realised 115.0 %. Summing the forecast column alone gives 30, "40 % short".
        Realised, so PRJ-1 being late does not put it at risk.
    BEN-B cashable, enabled by PRJ-2: Nov 20/20/-  Dec 20/12/-
        plan 40, forecast 32: 20.0 % short (beyond 10 %); its enabler closed, so not late work.
    BEN-C cashable, enabled by PRJ-1: Dec 5/5/-: not yet realised, PRJ-1 open and late.
    BEN-L non-financial, "%" (a level), enabled by PRJ-1:
        Aug 2/2/3  Sep 4/4/4  Oct 6/6/7 (booked in October)  Nov 8/7.5/-
        as at 30 Sep: plan 8 (the last planned level, not 20), forecast 7.5, actual 4 (Sep),
        plan to date 4, realised 100.0 %; 6.3 % short: within tolerance.
    Financial total: plan 95, forecast 53+32+5 = 90, actual 23.

Status: PRJ-1 Aug green, Sep amber, Oct red (reported in October); PRJ-2 Sep green.
Strategy: OBJ-X (served by PRJ-1 and PRJ-2) revised on 1 Sep 2025; decision D-EARLY on PRJ-1 on
20 Sep, D-LATE on PRJ-2 on 10 Oct. As at 30 Sep the change was answered after 19 days and one
of two items realigned. Actions A-1 (raised 10 Sep) and A-2 (raised 2 Oct): one known.
Demand: PRJ-1 Sep 2 FTE used 2, Oct 2 FTE used 3 (in October): 2 FTE used as at 30 Sep.

Key results (baseline 1 Apr 2025 → target 1 Apr 2026):
    KR-LVL  points, window period: Jul 72, Aug 74, Sep 75, Oct 90 → 75; 70 → 80: 50.0 %.
    KR-YTD  %, a level, window ytd: Apr..Sep 10, 20, 30, 40, 50, 60 → mean 35 (never the sum,
            210); 0 → 70: 50.0 %.
    KR-R12  calls, a flow, window r12: Sep 2024 1000, then 10 a month Oct 2024..Sep 2025 → the
            twelve months to September sum to 120; 0 → 100: raw 120.0 %, shown 100.0 %,
            overshoot.
    KR-CNT  systems, window period: Sep 2.6 → 3 (a count is whole); 0 → 6: 50.0 %.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bigov.analysis._common import raid_known_as_at
from bigov.analysis.agility import agility
from bigov.analysis.alignment import gaps
from bigov.analysis.attainment import attainment
from bigov.analysis.balance import balance
from bigov.analysis.benefits import benefits_at_risk, realisation
from bigov.analysis.cli import register
from bigov.analysis.rollups import rollup
from bigov.analysis.trace import trace
from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitEnabler,
    BenefitKind,
    BenefitProfile,
)
from bigov.cli_support import ErrorHandlingGroup
from bigov.finance.models import CostLine
from bigov.org.models import OrgUnit, OrgUnitKind
from bigov.raid.models import RaidItem, RaidKind
from bigov.resources.models import Demand, Skill
from bigov.strategy.models import (
    Aggregation,
    KeyResult,
    KeyResultActual,
    KrWindow,
    Otc,
    OtcKind,
    OtcStatus,
    OtcVersion,
)
from bigov.work.models import (
    Category,
    Confidence,
    Contribution,
    Nature,
    Phase,
    StatusReport,
    WorkItem,
    WorkKind,
)
from bigov.workspace import Workspace

D = Decimal
AS_AT = dt.date(2025, 9, 30)
AUG, SEP, OCT, NOV, DEC = (dt.date(2025, m, 1) for m in (8, 9, 10, 11, 12))


def build(s: Session) -> None:
    """Write the organisation of the module docstring."""
    ids: dict[str, int] = {}

    def add(obj: object) -> None:
        s.add(obj)
        s.flush()
        ids[obj.code] = obj.id  # type: ignore[attr-defined]

    add(OrgUnit(code="BU", name="Business unit", kind=OrgUnitKind.BUSINESS_UNIT))
    add(
        WorkItem(
            code="PF-X",
            name="Portfolio",
            kind=WorkKind.PORTFOLIO,
            org_unit_id=ids["BU"],
            nature=Nature.CHANGE,
            category=Category.TRANSFORM,
        )
    )
    add(
        WorkItem(
            code="PRJ-1",
            name="Late project",
            kind=WorkKind.PROJECT,
            parent_id=ids["PF-X"],
            org_unit_id=ids["BU"],
            nature=Nature.CHANGE,
            category=Category.TRANSFORM,
            phase=Phase.DELIVERY,
            baseline_finish=dt.date(2025, 10, 31),
            forecast_finish=dt.date(2025, 12, 15),
        )
    )
    add(
        WorkItem(
            code="PRJ-2",
            name="Closed project",
            kind=WorkKind.PROJECT,
            parent_id=ids["PF-X"],
            org_unit_id=ids["BU"],
            nature=Nature.CHANGE,
            category=Category.GROW,
            phase=Phase.CLOSED,
            baseline_finish=dt.date(2025, 8, 31),
            forecast_finish=dt.date(2025, 9, 7),
            actual_finish=dt.date(2025, 9, 7),
        )
    )
    for wcode, period, budget, forecast, actual in (
        ("PRJ-1", AUG, 100, 100, 95),
        ("PRJ-1", SEP, 100, 110, 120),
        ("PRJ-1", OCT, 100, 100, 130),
        ("PRJ-1", NOV, 100, 90, None),
        ("PRJ-2", AUG, 50, 40, None),
        ("PRJ-2", SEP, 50, 0, 60),
        ("PRJ-2", OCT, 50, 50, None),
    ):
        add(
            CostLine(
                code=f"CL-{wcode}-{period:%m}",
                work_item_id=ids[wcode],
                period=period,
                budget=D(budget),
                forecast=D(forecast),
                actual=None if actual is None else D(actual),
                currency="GBP",
            )
        )
    for wcode, period, conf in (
        ("PRJ-1", AUG, Confidence.GREEN),
        ("PRJ-1", SEP, Confidence.AMBER),
        ("PRJ-1", OCT, Confidence.RED),
        ("PRJ-2", SEP, Confidence.GREEN),
    ):
        add(
            StatusReport(
                code=f"SR-{wcode}-{period:%m}",
                work_item_id=ids[wcode],
                period=period,
                confidence=conf,
            )
        )
    for code, category, unit, enabler in (
        ("BEN-A", BenefitCategory.CASHABLE, None, "PRJ-1"),
        ("BEN-B", BenefitCategory.CASHABLE, None, "PRJ-2"),
        ("BEN-C", BenefitCategory.CASHABLE, None, "PRJ-1"),
        ("BEN-L", BenefitCategory.NON_FINANCIAL, "%", "PRJ-1"),
    ):
        add(
            Benefit(
                code=code,
                name=code,
                kind=BenefitKind.BENEFIT,
                category=category,
                unit=unit,
                currency=None if unit else "GBP",
            )
        )
        add(
            BenefitEnabler(
                code=f"{code}<{enabler}", benefit_id=ids[code], work_item_id=ids[enabler]
            )
        )
    for bcode, period, planned, forecast, actual in (
        ("BEN-A", AUG, "10", None, "12"),
        ("BEN-A", SEP, "10", None, "11"),
        ("BEN-A", OCT, "10", "10", "15"),
        ("BEN-A", NOV, "10", "10", None),
        ("BEN-A", DEC, "10", "10", None),
        ("BEN-B", NOV, "20", "20", None),
        ("BEN-B", DEC, "20", "12", None),
        ("BEN-C", DEC, "5", "5", None),
        ("BEN-L", AUG, "2", "2", "3"),
        ("BEN-L", SEP, "4", "4", "4"),
        ("BEN-L", OCT, "6", "6", "7"),
        ("BEN-L", NOV, "8", "7.5", None),
    ):
        add(
            BenefitProfile(
                code=f"BP-{bcode}-{period:%m}",
                benefit_id=ids[bcode],
                period=period,
                planned=D(planned),
                forecast=None if forecast is None else D(forecast),
                actual=None if actual is None else D(actual),
            )
        )
    add(Skill(code="SK", name="Skill"))
    for period, fte, used in ((SEP, 2, 2), (OCT, 2, 3)):
        add(
            Demand(
                code=f"DM-{period:%m}",
                work_item_id=ids["PRJ-1"],
                skill_id=ids["SK"],
                period=period,
                fte=D(fte),
                actual_fte=D(used),
            )
        )

    # strategy: OBJ-X revised on 1 September
    add(
        Otc(
            code="OBJ-X",
            kind=OtcKind.OBJECTIVE,
            title="Objective",
            status=OtcStatus.ACTIVE,
            version=2,
            effective_from=SEP,
        )
    )
    for version, start, end in ((1, dt.date(2025, 4, 1), SEP), (2, SEP, None)):
        add(
            OtcVersion(
                code=f"OBJ-X@v{version}",
                otc_id=ids["OBJ-X"],
                version=version,
                title="Objective",
                status=OtcStatus.ACTIVE,
                effective_from=start,
                effective_to=end,
            )
        )
    for wcode in ("PRJ-1", "PRJ-2"):
        add(
            Contribution(
                code=f"{wcode}>OBJ-X",
                work_item_id=ids[wcode],
                otc_id=ids["OBJ-X"],
                weight=D("0.5"),
            )
        )
    for code, kind, wcode, day in (
        ("D-EARLY", RaidKind.DECISION, "PRJ-1", dt.date(2025, 9, 20)),
        ("D-LATE", RaidKind.DECISION, "PRJ-2", dt.date(2025, 10, 10)),
        ("A-1", RaidKind.ACTION, "PRJ-1", dt.date(2025, 9, 10)),
        ("A-2", RaidKind.ACTION, "PRJ-1", dt.date(2025, 10, 2)),
    ):
        add(RaidItem(code=code, kind=kind, title=code, work_item_id=ids[wcode], raised_on=day))

    # key results
    def kr(code: str, unit: str, baseline: int, target: int, **kw: object) -> None:
        add(
            KeyResult(
                code=code,
                name=code,
                otc_id=ids["OBJ-X"],
                unit=unit,
                baseline=D(baseline),
                target=D(target),
                baseline_date=dt.date(2025, 4, 1),
                target_date=dt.date(2026, 4, 1),
                **kw,
            )
        )

    kr("KR-LVL", "points", 70, 80)
    kr("KR-YTD", "%", 0, 70, window=KrWindow.YTD)
    kr("KR-R12", "calls", 0, 100, window=KrWindow.R12, aggregation=Aggregation.FLOW)
    kr("KR-CNT", "systems", 0, 6)
    values: list[tuple[str, dt.date, str]] = [
        ("KR-LVL", dt.date(2025, 7, 1), "72"),
        ("KR-LVL", AUG, "74"),
        ("KR-LVL", SEP, "75"),
        ("KR-LVL", OCT, "90"),
        ("KR-CNT", SEP, "2.6"),
    ]
    values += [("KR-YTD", dt.date(2025, m, 1), str(10 * (m - 3))) for m in range(4, 10)]
    values += [("KR-R12", dt.date(2024, 9, 1), "1000")]
    values += [
        ("KR-R12", dt.date(2024 + (m > 12), (m - 1) % 12 + 1, 1), "10") for m in range(10, 22)
    ]
    for krc, period, value in values:
        add(
            KeyResultActual(
                code=f"{krc}/{period:%Y-%m}",
                key_result_id=ids[krc],
                period=period,
                value=D(value),
            )
        )


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("BIGOV_TEST_POSTGRES_URL") else [])


@pytest.fixture(scope="module", params=BACKENDS)
def as_at_ws(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    """The organisation of the module docstring on a fresh workspace (read-only for tests)."""
    schema: str | None = None
    if request.param == "sqlite":
        ws = Workspace.open(f"sqlite:///{tmp_path_factory.mktemp('as_at')}/as_at.db")
    else:
        schema = f"t_{secrets.token_hex(6)}"
        ws = Workspace.open(os.environ["BIGOV_TEST_POSTGRES_URL"], schema=schema)
    with ws.session() as s:
        build(s)
    yield ws
    if schema is not None:
        with ws.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    ws.close()


@pytest.fixture
def s(as_at_ws: Workspace) -> Iterator[Session]:
    with as_at_ws.session() as session:
        yield session
        session.rollback()


def _cost(f: object) -> tuple[Decimal, Decimal, Decimal]:
    return (f.budget, f.forecast, f.actual)  # type: ignore[attr-defined]


def test_rollup_as_at(s: Session) -> None:
    report = rollup(s, as_at=AS_AT)
    rows = {r.code: r for r in report.rows}
    assert _cost(rows["PRJ-1"].total) == (D(400), D(405), D(215))
    assert _cost(rows["PRJ-2"].total) == (D(150), D(150), D(60))
    assert _cost(report.total) == (D(550), D(555), D(275))
    assert _cost(rows["PF-X"].total) == (D(550), D(555), D(275))
    assert _cost(report.by_org_unit[0].total) == (D(550), D(555), D(275))
    # a month later the October actual is known and replaces its forecast
    later = rollup(s, as_at=dt.date(2025, 10, 31))
    assert _cost(later.total) == (D(550), D(585), D(405))
    # status: the October red is not known at 30 September
    assert rows["PRJ-1"].confidence == "amber"
    assert [t.period for t in report.trend] == [AUG, SEP]


def test_balance_as_at(s: Session) -> None:
    report = balance(s, grain="year", as_at=AS_AT)
    assert report.as_at == AS_AT
    [org] = [r for r in report.totals if r.unit == "(organisation)"]
    assert org.budget.amounts == {"run": D(0), "grow": D(150), "transform": D(400)}
    assert org.forecast.amounts == {"run": D(0), "grow": D(150), "transform": D(405)}
    assert org.actual.amounts == {"run": D(0), "grow": D(60), "transform": D(215)}
    assert org.fte_actual.amounts["transform"] == D(2)  # October's 3 FTE came later


def test_trace_and_gaps_as_at(s: Session) -> None:
    node = trace(s, "PF-X", as_at=AS_AT).down
    assert node.cost is not None and _cost(node.cost) == (D(550), D(555), D(275))
    prj1 = node.find("PRJ-1")
    assert prj1 is not None and prj1.confidence == "amber"
    ben_a = prj1.find("BEN-A")
    assert ben_a is not None and ben_a.benefit is not None
    assert (ben_a.benefit.planned, ben_a.benefit.forecast, ben_a.benefit.actual) == (
        D(50),
        D(53),
        D(23),
    )
    assert gaps(s, as_at=AS_AT).unaligned_work == []  # PF-X serves OBJ-X through its projects


def test_benefit_forecast_is_actual_to_date_plus_the_rest(s: Session) -> None:
    report = realisation(s, as_at=AS_AT)
    groups = {g.key: g.figures for g in report.groups}
    a = groups["BEN-A"]
    assert (a.planned, a.forecast, a.actual) == (D(50), D(53), D(23))
    assert (a.planned_to_date, a.actual_to_date, a.realised_pct) == (D(20), D(23), D("115.0"))
    level = groups["BEN-L"]
    assert level.aggregation == "level"
    assert (level.planned, level.forecast, level.actual) == (D(8), D("7.5"), D(4))
    assert (level.planned_to_date, level.realised_pct) == (D(4), D("100.0"))
    assert (report.total.planned, report.total.forecast, report.total.actual) == (
        D(95),
        D(90),
        D(23),
    )
    series = {p.period: p for p in report.periods}
    assert series[OCT].actual == D(0) and series[OCT].forecast == D(10)
    assert series[DEC].cum_forecast == D(90)


def test_benefits_at_risk_as_at(s: Session) -> None:
    risks = {r.code: r for r in benefits_at_risk(s, as_at=AS_AT)}
    # BEN-A is realised (115 %) and on forecast: PRJ-1's lateness no longer flags it
    assert sorted(risks) == ["BEN-B", "BEN-C"]
    assert risks["BEN-B"].reasons == ["forecast below plan"]
    assert risks["BEN-B"].shortfall_pct == D("20.0")
    assert risks["BEN-B"].late_enablers == []  # PRJ-2 closed 7 days late: done, not late
    assert risks["BEN-C"].reasons == ["enabling work late"]
    assert risks["BEN-C"].late_enablers == ["PRJ-1"] and not risks["BEN-C"].realised
    # within a 25 % tolerance only the late enabling work remains
    loose = benefits_at_risk(s, as_at=AS_AT, tolerance_pct=D(25))
    assert [r.code for r in loose] == ["BEN-C"]
    # PRJ-1 slips 45 days: a 60-day schedule tolerance absorbs it
    assert benefits_at_risk(s, as_at=AS_AT, tolerance_pct=D(25), late_tolerance_days=60) == []
    # as at October, PRJ-1's red report is known too
    october = {r.code: r for r in benefits_at_risk(s, as_at=dt.date(2025, 10, 31))}
    assert october["BEN-C"].red_enablers == ["PRJ-1"]


def test_decisions_and_actions_as_at(s: Session) -> None:
    [change] = agility(s, as_at=AS_AT).changes
    assert [r.code for r in change.responses] == ["D-EARLY"]
    assert (change.days_to_response, change.realigned) == (19, ["PRJ-1"])
    later = agility(s, as_at=dt.date(2025, 10, 31)).changes[0]
    assert later.realigned == ["PRJ-1", "PRJ-2"]
    known = s.scalar(
        select(func.count())
        .select_from(RaidItem)
        .where(RaidItem.kind == RaidKind.ACTION, raid_known_as_at(RaidItem.raised_on, AS_AT))
    )
    assert known == 1


def test_key_result_windows_levels_and_counts(s: Session) -> None:
    seen: list[dt.date] = []

    def source(code: str, as_at: dt.date) -> Sequence[tuple[dt.date, Decimal]]:
        seen.append(as_at)  # the metrics engine reads its aggregates as known at this date
        return []

    [otc] = attainment(s, "OBJ-X", as_at=AS_AT, measures=source)
    krs = {k.code: k for k in otc.key_results}
    lvl = krs["KR-LVL"]
    assert (lvl.aggregation, lvl.window, lvl.latest, lvl.latest_period) == (
        "level",
        "period",
        D(75),
        SEP,
    )
    assert lvl.attained_pct == D("50.0")
    ytd = krs["KR-YTD"]
    assert (ytd.aggregation, ytd.window_start, ytd.window_periods) == (
        "level",
        dt.date(2025, 4, 1),
        6,
    )
    assert (ytd.latest, ytd.attained_pct) == (D(35), D("50.0"))
    r12 = krs["KR-R12"]
    assert (r12.aggregation, r12.window_start, r12.window_periods) == (
        "flow",
        dt.date(2024, 10, 1),
        12,
    )
    assert r12.latest == D(120)
    assert (r12.attained_raw_pct, r12.attained_pct, r12.overshoot) == (
        D("120.0"),
        D("100.0"),
        True,
    )
    cnt = krs["KR-CNT"]
    assert (cnt.latest, cnt.attained_pct) == (D(3), D("50.0"))
    assert cnt.expected_value is not None and cnt.expected_value == cnt.expected_value.to_integral()
    assert otc.overshoot and otc.attained_pct == D("62.5")  # (50 + 50 + 100 + 50) / 4, capped
    assert seen == []  # no key result names a measure: the source is never asked


def test_metrics_source_is_asked_as_at_the_date(s: Session) -> None:
    seen: list[dt.date] = []
    row = s.scalars(select(KeyResult).where(KeyResult.code == "KR-LVL")).one()
    row.measure_code = "CSAT"
    s.flush()

    def source(code: str, as_at: dt.date) -> Sequence[tuple[dt.date, Decimal]]:
        seen.append(as_at)
        return [(AUG, D(76)), (SEP, D(78)), (OCT, D(99))]

    [otc] = attainment(s, "OBJ-X", as_at=AS_AT, measures=source)
    lvl = {k.code: k for k in otc.key_results}["KR-LVL"]
    assert seen == [AS_AT]
    assert (lvl.source, lvl.latest, lvl.latest_period) == ("metrics", D(78), SEP)


def test_cli_as_at(as_at_ws: Workspace, tmp_path: Path) -> None:
    if as_at_ws.backend != "sqlite":
        pytest.skip("the CLI is exercised on the SQLite copy")
    app = typer.Typer(cls=ErrorHandlingGroup)
    register(app)
    db = as_at_ws.url.render_as_string(hide_password=False)
    runner = CliRunner()
    for command in ("rollup", "balance", "benefits", "gaps", "attainment", "trace"):
        args = [command, *(["PF-X"] if command == "trace" else [])]
        result = runner.invoke(app, [*args, "--db", db, "--as-at", "2025-09-30", "--json"])
        assert result.exit_code == 0, (command, result.output)
    result = runner.invoke(app, ["rollup", "--db", db, "--as-at", "2025-09-30", "--json"])
    assert json.loads(result.output)["total"]["actual"] == "275.00"
    bad = runner.invoke(app, ["balance", "--db", db, "--as-at", "30/09/2025"])
    assert bad.exit_code != 0 and "--as-at" in bad.output
