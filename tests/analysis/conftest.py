"""The hand-built organisation every analysis test runs against, on SQLite and (when
``BIGOV_TEST_POSTGRES_URL`` is set) PostgreSQL.

Every figure the tests expect is worked out by hand from the data below; the comments give the
sums so a reader can check them without running anything.

As-at date of the tests: 2024-06-15 (fiscal year FY2025 = April 2024 – March 2025).

Work (org unit, nature/category):
    PF-1 portfolio (BU-DIG, change/transform)
      PG-1 programme (BU-DIG, change/transform)        -> OBJ-1 weight 0.6
        PRJ-A project (TEAM-DEV, change/transform)     -> OBJ-1 weight 0.4
        PRJ-B project (TEAM-DEV, change/grow)           depends on PRJ-A
        PRJ-C project (TEAM-DEV, change/transform)     -> OBJ-3 weight 0.5, no cost
        WS-1 workstream (TEAM-OPS-A, run/run)
      WS-BR workstream (BU-OPS, change/grow)           -> OBJ-2 (withdrawn 2024-07-01)
    RUN-1 workstream (TEAM-OPS-A, run/run)             -> TGT-1
    RUN-2 workstream (BU-OPS, run/run)                 contributes to nothing, no governing node

Cost (budget / forecast / actual, GBP):
    PRJ-A  Apr 100/100/90  May 100/120/110  Jun 100/130/-      = 300/350/200
    PRJ-B  Apr 50/50/50    May 50/60/55                        = 100/110/105
    WS-1   Apr 20/20/20    May 20/20/20                        =  40/40/40
    PG-1   Apr 10/10/10                                        =  10/10/10
    WS-BR  Apr 40/40/40    Jul 40/40/-                         =  80/80/40
    RUN-1  Apr 200/200/190 May 200/200/210                     = 400/400/400
    RUN-2  Apr 30/30/30                                        =  30/30/30
    PG-1 subtree 450/510/355; PF-1 subtree 530/590/395; organisation 960/1020/825.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitContribution,
    BenefitEnabler,
    BenefitKind,
    BenefitProfile,
)
from bigov.finance.models import CostLine
from bigov.governance.models import GovernanceNode, NodeKind, NodeScope
from bigov.org.models import (
    BusinessPlan,
    BusinessPlanTarget,
    ManagementTeam,
    OrgUnit,
    OrgUnitKind,
    Person,
)
from bigov.raid.models import RaidItem, RaidKind
from bigov.resources.models import Capacity, Demand, Skill
from bigov.strategy.models import (
    Direction,
    KeyResult,
    KeyResultActual,
    Otc,
    OtcKind,
    OtcStatus,
    OtcVersion,
    Otig,
    OtigKind,
    OtigOtc,
    Trajectory,
)
from bigov.work.models import (
    Category,
    Confidence,
    Contribution,
    Dependency,
    GateDecision,
    GateOutcome,
    Milestone,
    Nature,
    Phase,
    StatusReport,
    WorkItem,
    WorkKind,
)
from bigov.workspace import Workspace

APR, MAY, JUN, JUL = (dt.date(2024, m, 1) for m in (4, 5, 6, 7))
D = Decimal

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("BIGOV_TEST_POSTGRES_URL") else [])


def open_ws(backend: str, tmp_dir: os.PathLike[str] | str) -> tuple[Workspace, str | None]:
    """A fresh empty workspace on ``backend``; returns it and the PostgreSQL schema (or None)."""
    if backend == "sqlite":
        return Workspace.open(f"sqlite:///{tmp_dir}/analysis.db"), None
    schema = f"t_{secrets.token_hex(6)}"
    return Workspace.open(os.environ["BIGOV_TEST_POSTGRES_URL"], schema=schema), schema


def close_ws(ws: Workspace, schema: str | None) -> None:
    if schema is not None:
        with ws.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    ws.close()


def build(s: Session) -> dict[str, int]:
    """Write the hand-built organisation; returns ids by code (for tests that add faults)."""
    ids: dict[str, int] = {}

    def add(obj: object) -> object:
        s.add(obj)
        s.flush()
        ids[obj.code] = obj.id  # type: ignore[attr-defined]
        return obj

    # organisation
    add(OrgUnit(code="GRP", name="Group", kind=OrgUnitKind.GROUP))
    add(
        OrgUnit(
            code="BU-OPS", name="Operations", kind=OrgUnitKind.BUSINESS_UNIT, parent_id=ids["GRP"]
        )
    )
    add(
        OrgUnit(code="BU-DIG", name="Digital", kind=OrgUnitKind.BUSINESS_UNIT, parent_id=ids["GRP"])
    )
    add(
        OrgUnit(
            code="TEAM-OPS-A", name="Ops team A", kind=OrgUnitKind.TEAM, parent_id=ids["BU-OPS"]
        )
    )
    add(OrgUnit(code="TEAM-DEV", name="Dev team", kind=OrgUnitKind.TEAM, parent_id=ids["BU-DIG"]))
    for code, name, unit in (
        ("P-CEO", "Chief executive", "GRP"),
        ("P-SRO", "Senior responsible owner", "BU-DIG"),
        ("P-BEN", "Benefit owner", "BU-OPS"),
        ("P-OPS", "Operations lead", "BU-OPS"),
    ):
        add(Person(code=code, name=name, org_unit_id=ids[unit]))
    add(
        ManagementTeam(
            code="MT-OPS", name="Operations MT", org_unit_id=ids["BU-OPS"], lead_id=ids["P-OPS"]
        )
    )
    add(ManagementTeam(code="MT-DIG", name="Digital MT", org_unit_id=ids["BU-DIG"]))
    add(
        BusinessPlan(
            code="BP-OPS-2025", management_team_id=ids["MT-OPS"], fiscal_year=2025, title="Ops plan"
        )
    )

    # strategy
    add(Otig(code="OTIG-1", name="Digital disruption", kind=OtigKind.THREAT, owner_id=ids["P-CEO"]))

    def otc(
        code: str, kind: OtcKind, title: str, status: OtcStatus = OtcStatus.ACTIVE, **kw: object
    ) -> None:
        add(
            Otc(
                code=code,
                kind=kind,
                title=title,
                status=status,
                version=1,
                effective_from=APR,
                **kw,
            )
        )
        add(
            OtcVersion(
                code=f"{code}@v1",
                otc_id=ids[code],
                version=1,
                title=title,
                status=OtcStatus.ACTIVE,
                effective_from=APR,
                change_reason="created",
            )
        )

    otc("OBJ-1", OtcKind.OBJECTIVE, "Digitise customer service", owner_id=ids["P-CEO"])
    otc("OBJ-2", OtcKind.OBJECTIVE, "Open branches", status=OtcStatus.WITHDRAWN)
    otc("OBJ-3", OtcKind.OBJECTIVE, "Green IT")
    otc("OBJ-4", OtcKind.OBJECTIVE, "Net zero estate")
    otc("TGT-1", OtcKind.TARGET, "Cut unit cost 5 %", management_team_id=ids["MT-OPS"])
    otc("TGT-2", OtcKind.TARGET, "Staff turnover below 10 %")
    otc("CHL-1", OtcKind.CHALLENGE, "AI assistants")
    # strategy changes: OBJ-1 revised on 1 May, OBJ-2 withdrawn on 1 July
    s.get(OtcVersion, ids["OBJ-1@v1"]).effective_to = MAY  # type: ignore[union-attr]
    add(
        OtcVersion(
            code="OBJ-1@v2",
            otc_id=ids["OBJ-1"],
            version=2,
            title="Digitise service end to end",
            status=OtcStatus.ACTIVE,
            effective_from=MAY,
            change_reason="scope widened",
        )
    )
    s.get(OtcVersion, ids["OBJ-2@v1"]).effective_to = JUL  # type: ignore[union-attr]
    add(
        OtcVersion(
            code="OBJ-2@v2",
            otc_id=ids["OBJ-2"],
            version=2,
            title="Open branches",
            status=OtcStatus.WITHDRAWN,
            effective_from=JUL,
            change_reason="branches no longer needed",
        )
    )
    for otc_code in ("OBJ-1", "OBJ-2"):
        row = s.get(Otc, ids[otc_code])
        assert row is not None
        row.version = 2
        row.effective_from = MAY if otc_code == "OBJ-1" else JUL
    for otc_code in ("OBJ-1", "OBJ-2", "CHL-1"):
        add(OtigOtc(code=f"OTIG-1>{otc_code}", otig_id=ids["OTIG-1"], otc_id=ids[otc_code]))
    add(
        BusinessPlanTarget(
            code="BP-OPS-2025>TGT-1", business_plan_id=ids["BP-OPS-2025"], otc_id=ids["TGT-1"]
        )
    )

    # key results (time in whole months: baseline Apr 2024, target Apr 2025 = 12 months)
    target_day = dt.date(2025, 4, 1)
    add(
        KeyResult(
            code="KR-1",
            name="Digital share of contacts",
            otc_id=ids["OBJ-1"],
            unit="%",
            baseline=D(20),
            baseline_date=APR,
            target=D(60),
            target_date=target_day,
            direction=Direction.HIGHER_IS_BETTER,
            trajectory=Trajectory.LINEAR,
        )
    )
    add(
        KeyResult(
            code="KR-2",
            name="Calls per month",
            otc_id=ids["OBJ-1"],
            unit="calls",
            baseline=D(1000),
            baseline_date=APR,
            target=D(600),
            target_date=target_day,
            direction=Direction.LOWER_IS_BETTER,
            trajectory=Trajectory.BACK_LOADED,
        )
    )
    add(
        KeyResult(
            code="KR-3",
            name="Unit cost",
            otc_id=ids["TGT-1"],
            unit="GBP",
            baseline=D(10),
            baseline_date=APR,
            target=D("9.5"),
            target_date=target_day,
            direction=Direction.LOWER_IS_BETTER,
            trajectory=Trajectory.STEP,
            measure_code="UNIT_COST",
        )
    )
    for code, kr, period, value in (
        ("KRA-1", "KR-1", MAY, D(22)),
        ("KRA-2", "KR-1", JUN, D(26)),
        ("KRA-3", "KR-2", JUN, D(985)),
        ("KRA-4", "KR-3", JUN, D("9.8")),
        ("KRA-5", "KR-1", JUL, D(99)),  # after the as-at date: must be ignored
    ):
        add(KeyResultActual(code=code, key_result_id=ids[kr], period=period, value=value))

    # work
    def work(
        code: str,
        kind: WorkKind,
        parent: str | None,
        unit: str,
        nature: Nature,
        category: Category,
        **kw: object,
    ) -> None:
        add(
            WorkItem(
                code=code,
                name=code.title(),
                kind=kind,
                parent_id=ids[parent] if parent else None,
                org_unit_id=ids[unit],
                nature=nature,
                category=category,
                phase=kw.pop("phase", Phase.DELIVERY),
                **kw,
            )
        )

    work("PF-1", WorkKind.PORTFOLIO, None, "BU-DIG", Nature.CHANGE, Category.TRANSFORM)
    work(
        "PG-1",
        WorkKind.PROGRAMME,
        "PF-1",
        "BU-DIG",
        Nature.CHANGE,
        Category.TRANSFORM,
        owner_id=ids["P-SRO"],
    )
    work(
        "PRJ-A",
        WorkKind.PROJECT,
        "PG-1",
        "TEAM-DEV",
        Nature.CHANGE,
        Category.TRANSFORM,
        baseline_finish=dt.date(2025, 3, 31),
        forecast_finish=dt.date(2025, 3, 31),
    )
    work(
        "PRJ-B",
        WorkKind.PROJECT,
        "PG-1",
        "TEAM-DEV",
        Nature.CHANGE,
        Category.GROW,
        baseline_finish=dt.date(2024, 12, 31),
        forecast_finish=dt.date(2025, 2, 28),
    )
    work(
        "PRJ-C",
        WorkKind.PROJECT,
        "PG-1",
        "TEAM-DEV",
        Nature.CHANGE,
        Category.TRANSFORM,
        phase=Phase.IDENTIFICATION,
    )
    work("WS-1", WorkKind.WORKSTREAM, "PG-1", "TEAM-OPS-A", Nature.RUN, Category.RUN)
    work("WS-BR", WorkKind.WORKSTREAM, "PF-1", "BU-OPS", Nature.CHANGE, Category.GROW)
    work("RUN-1", WorkKind.WORKSTREAM, None, "TEAM-OPS-A", Nature.RUN, Category.RUN)
    work("RUN-2", WorkKind.WORKSTREAM, None, "BU-OPS", Nature.RUN, Category.RUN)
    s.get(Otc, ids["OBJ-1"]).portfolio_id = ids["PF-1"]  # type: ignore[union-attr]
    # governance: one board names every item but RUN-2; PRJ-C is governed through a node scope
    add(GovernanceNode(code="GN-1", name="Portfolio board", kind=NodeKind.PORTFOLIO_PROGRESS))
    for wcode in ("PF-1", "PG-1", "PRJ-A", "PRJ-B", "WS-1", "WS-BR", "RUN-1"):
        s.get(WorkItem, ids[wcode]).governing_node_id = ids["GN-1"]  # type: ignore[union-attr]
    add(NodeScope(code="GN-1>PRJ-C", node_id=ids["GN-1"], work_item_id=ids["PRJ-C"]))

    for wcode, ocode, weight in (
        ("PG-1", "OBJ-1", "0.6"),
        ("PRJ-A", "OBJ-1", "0.4"),
        ("PRJ-C", "OBJ-3", "0.5"),
        ("WS-BR", "OBJ-2", "1"),
        ("RUN-1", "TGT-1", "1"),
    ):
        add(
            Contribution(
                code=f"{wcode}>{ocode}",
                work_item_id=ids[wcode],
                otc_id=ids[ocode],
                weight=D(weight),
            )
        )
    add(Dependency(code="PRJ-A>PRJ-B", predecessor_id=ids["PRJ-A"], successor_id=ids["PRJ-B"]))

    for wcode, period, budget, forecast, actual in (
        ("PRJ-A", APR, 100, 100, 90),
        ("PRJ-A", MAY, 100, 120, 110),
        ("PRJ-A", JUN, 100, 130, None),
        ("PRJ-B", APR, 50, 50, 50),
        ("PRJ-B", MAY, 50, 60, 55),
        ("WS-1", APR, 20, 20, 20),
        ("WS-1", MAY, 20, 20, 20),
        ("PG-1", APR, 10, 10, 10),
        ("WS-BR", APR, 40, 40, 40),
        ("WS-BR", JUL, 40, 40, None),
        ("RUN-1", APR, 200, 200, 190),
        ("RUN-1", MAY, 200, 200, 210),
        ("RUN-2", APR, 30, 30, 30),
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

    # milestones (as at 15 June): A1 hit (-3 d), A2 missed (+30 d), B1 missed (+10 d),
    # B2 pending (+30 d), BR1 pending (no forecast)
    for code, wcode, baseline, forecast, actual in (
        ("M-A1", "PRJ-A", dt.date(2024, 5, 1), None, dt.date(2024, 4, 28)),
        ("M-A2", "PRJ-A", dt.date(2024, 6, 1), dt.date(2024, 7, 1), None),
        ("M-B1", "PRJ-B", dt.date(2024, 5, 15), None, dt.date(2024, 5, 25)),
        ("M-B2", "PRJ-B", dt.date(2024, 9, 1), dt.date(2024, 10, 1), None),
        ("M-BR1", "WS-BR", dt.date(2024, 8, 1), None, None),
    ):
        add(
            Milestone(
                code=code,
                work_item_id=ids[wcode],
                name=code,
                baseline_date=baseline,
                forecast_date=forecast,
                actual_date=actual,
            )
        )

    # status: latest at 15 June — PRJ-A amber, PRJ-B red, WS-1 green, PG-1 amber, WS-BR amber,
    # RUN-1 green (a July report must be ignored)
    c = Confidence
    for wcode, period, conf in (
        ("PRJ-A", APR, c.GREEN),
        ("PRJ-A", MAY, c.AMBER_GREEN),
        ("PRJ-A", JUN, c.AMBER),
        ("PRJ-B", APR, c.AMBER),
        ("PRJ-B", MAY, c.AMBER_RED),
        ("PRJ-B", JUN, c.RED),
        ("WS-1", MAY, c.GREEN),
        ("WS-1", JUN, c.GREEN),
        ("PG-1", JUN, c.AMBER),
        ("WS-BR", APR, c.AMBER),
        ("RUN-1", JUN, c.GREEN),
        ("RUN-1", JUL, c.RED),
    ):
        add(
            StatusReport(
                code=f"SR-{wcode}-{period:%m}",
                work_item_id=ids[wcode],
                period=period,
                confidence=conf,
            )
        )

    # benefits (GBP unless said): BEN-1 cashable, BEN-2 non-cashable without owner or measure,
    # DIS-1 a cashable dis-benefit, BEN-3 non-financial without realising team
    add(
        Benefit(
            code="BEN-1",
            name="Lower contact cost",
            kind=BenefitKind.BENEFIT,
            category=BenefitCategory.CASHABLE,
            owner_id=ids["P-BEN"],
            owner_unit_id=ids["BU-OPS"],
            realising_team_id=ids["MT-OPS"],
            measure="cost per contact",
            currency="GBP",
        )
    )
    add(
        Benefit(
            code="BEN-2",
            name="Agent hours saved",
            kind=BenefitKind.BENEFIT,
            category=BenefitCategory.NON_CASHABLE,
            realising_team_id=ids["MT-DIG"],
            currency="GBP",
        )
    )
    add(
        Benefit(
            code="DIS-1",
            name="Retraining disruption",
            kind=BenefitKind.DISBENEFIT,
            category=BenefitCategory.CASHABLE,
            owner_id=ids["P-OPS"],
            realising_team_id=ids["MT-OPS"],
            measure="hours lost",
            currency="GBP",
        )
    )
    add(
        Benefit(
            code="BEN-3",
            name="Customer satisfaction",
            kind=BenefitKind.BENEFIT,
            category=BenefitCategory.NON_FINANCIAL,
            owner_id=ids["P-BEN"],
            measure="CSAT",
            unit="points",
        )
    )
    for bcode, wcode in (
        ("BEN-1", "PRJ-A"),
        ("BEN-1", "PRJ-B"),
        ("BEN-2", "PRJ-B"),
        ("DIS-1", "PRJ-A"),
        ("BEN-3", "WS-1"),
    ):
        add(BenefitEnabler(code=f"{bcode}<{wcode}", benefit_id=ids[bcode], work_item_id=ids[wcode]))
    for bcode, ocode in (
        ("BEN-1", "OBJ-1"),
        ("BEN-1", "TGT-1"),
        ("BEN-2", "OBJ-1"),
        ("DIS-1", "OBJ-1"),
    ):
        add(BenefitContribution(code=f"{bcode}>{ocode}", benefit_id=ids[bcode], otc_id=ids[ocode]))
    for bcode, period, planned, forecast, actual in (
        ("BEN-1", APR, 10, 10, 8),
        ("BEN-1", MAY, 20, 18, 15),
        ("BEN-1", JUN, 30, 29, None),
        ("BEN-2", APR, 5, 5, 5),
        ("BEN-2", MAY, 5, 3, 2),
        ("BEN-2", JUN, 5, 2, None),
        ("DIS-1", APR, 4, 4, 4),
        ("DIS-1", MAY, 2, 2, 3),
        ("BEN-3", MAY, 2, 2, 1),
    ):
        add(
            BenefitProfile(
                code=f"BP-{bcode}-{period:%m}",
                benefit_id=ids[bcode],
                period=period,
                planned=D(planned),
                forecast=D(forecast),
                actual=None if actual is None else D(actual),
                currency=None if bcode == "BEN-3" else "GBP",
            )
        )

    # resources: TEAM-DEV has 5 developer FTE a month, TEAM-OPS-A 20 agents
    add(Skill(code="SK-DEV", name="Developer"))
    add(Skill(code="SK-AGENT", name="Contact agent"))
    for month in (APR, MAY, JUN):
        add(
            Capacity(
                code=f"CAP-DEV-{month:%m}",
                org_unit_id=ids["TEAM-DEV"],
                skill_id=ids["SK-DEV"],
                period=month,
                fte=D(5),
            )
        )
        add(
            Capacity(
                code=f"CAP-AGT-{month:%m}",
                org_unit_id=ids["TEAM-OPS-A"],
                skill_id=ids["SK-AGENT"],
                period=month,
                fte=D(20),
            )
        )
    for wcode, skill, unit, month, fte, used, status in (
        ("PRJ-A", "SK-DEV", "TEAM-DEV", APR, 3, 3, None),
        ("PRJ-A", "SK-DEV", "TEAM-DEV", MAY, 4, "4.5", None),
        ("PRJ-A", "SK-DEV", "TEAM-DEV", JUN, 4, None, None),
        ("PRJ-B", "SK-DEV", "TEAM-DEV", APR, 1, 1, "committed"),
        ("PRJ-B", "SK-DEV", "TEAM-DEV", MAY, 2, 2, "committed"),
        ("PRJ-B", "SK-DEV", "TEAM-DEV", JUN, 2, None, "committed"),
        ("WS-1", "SK-AGENT", "TEAM-OPS-A", APR, 2, 2, None),
        ("WS-1", "SK-AGENT", "TEAM-OPS-A", MAY, 2, 2, None),
        ("WS-1", "SK-AGENT", "TEAM-OPS-A", JUN, 2, None, None),
        ("RUN-1", "SK-AGENT", "TEAM-OPS-A", APR, 16, 16, None),
        ("RUN-1", "SK-AGENT", "TEAM-OPS-A", MAY, 16, 17, None),
        ("RUN-1", "SK-AGENT", "TEAM-OPS-A", JUN, 16, None, None),
        ("PRJ-C", "SK-DEV", "TEAM-DEV", JUN, 1, None, "proposed"),
    ):
        add(
            Demand(
                code=f"DM-{wcode}-{month:%m}",
                work_item_id=ids[wcode],
                skill_id=ids[skill],
                org_unit_id=ids[unit],
                period=month,
                fte=D(fte),
                actual_fte=None if used is None else D(used),
                status=status,
            )
        )

    # decisions answering the strategy changes: OBJ-1 (1 May) answered by D-1 on 11 May and a
    # gate of PRJ-B on 21 May; OBJ-2 withdrawn (1 July) answered by D-2 on WS-BR on 31 July.
    add(
        RaidItem(
            code="D-1",
            kind=RaidKind.DECISION,
            title="Re-scope digital programme",
            otc_id=ids["OBJ-1"],
            raised_on=dt.date(2024, 5, 11),
        )
    )
    add(
        RaidItem(
            code="D-0",
            kind=RaidKind.DECISION,
            title="Older decision",
            work_item_id=ids["PRJ-A"],
            raised_on=dt.date(2024, 4, 20),
        )
    )
    add(
        RaidItem(
            code="D-2",
            kind=RaidKind.DECISION,
            title="Stop branch expansion",
            work_item_id=ids["WS-BR"],
            raised_on=dt.date(2024, 7, 31),
        )
    )
    add(
        RaidItem(
            code="R-1",
            kind=RaidKind.RISK,
            title="Not a decision",
            work_item_id=ids["RUN-2"],
            raised_on=dt.date(2024, 7, 2),
        )
    )
    add(
        GateDecision(
            code="G-1",
            work_item_id=ids["PRJ-B"],
            to_phase=Phase.DELIVERY,
            outcome=GateOutcome.APPROVED,
            decided_on=dt.date(2024, 5, 21),
        )
    )
    return ids


def _make(
    backend: str, tmp_dir: os.PathLike[str] | str
) -> tuple[Workspace, str | None, dict[str, int]]:
    ws, schema = open_ws(backend, tmp_dir)
    with ws.session() as s:
        ids = build(s)
    return ws, schema, ids


@pytest.fixture(scope="session", params=BACKENDS)
def analysis_ws(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    """The hand-built organisation, read-only (tests must not write to it)."""
    ws, schema, _ids = _make(request.param, tmp_path_factory.mktemp("analysis"))
    yield ws
    close_ws(ws, schema)


@pytest.fixture(params=BACKENDS)
def faulty_ws(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> Iterator[tuple[Workspace, dict[str, int]]]:
    """A private copy of the hand-built organisation that a test may break."""
    ws, schema, ids = _make(request.param, tmp_path)
    yield ws, ids
    close_ws(ws, schema)


@pytest.fixture
def session(analysis_ws: Workspace) -> Iterator[Session]:
    """A session on the hand-built organisation, rolled back afterwards."""
    with analysis_ws.session() as s:
        yield s
        s.rollback()
