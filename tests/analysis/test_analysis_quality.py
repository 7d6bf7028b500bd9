"""Bad input: faults become findings with the offending codes; nothing crashes, loops or
silently changes a total."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from analysis_dates import AS_AT

from bigov.analysis.alignment import gaps
from bigov.analysis.balance import balance
from bigov.analysis.benefits import realisation
from bigov.analysis.quality import findings
from bigov.analysis.rollups import rollup
from bigov.benefits.models import BenefitProfile
from bigov.finance.models import CostLine
from bigov.work.models import Contribution, Dependency, WorkItem
from bigov.workspace import Workspace

D = Decimal


def test_clean_data_has_no_findings(analysis_ws: Workspace) -> None:
    with analysis_ws.session() as s:
        assert findings(s).findings == []


def test_hierarchy_cycle(faulty_ws: tuple[Workspace, dict[str, int]]) -> None:
    ws, ids = faulty_ws
    with ws.session() as s:
        pf = s.get(WorkItem, ids["PF-1"])
        assert pf is not None
        pf.parent_id = ids["PRJ-A"]  # PF-1 -> PG-1 -> PRJ-A -> PF-1
    with ws.session() as s:
        found = findings(s).of("work_hierarchy_cycle")
        assert [f.codes for f in found] == [["PF-1", "PG-1", "PRJ-A"]]
        report = rollup(s, "PG-1", as_at=AS_AT)  # terminates, counts each item once
        rows = {r.code: r for r in report.rows}
        assert rows["PG-1"].total.budget == D(530)  # the whole cycle's subtree, no double count
        assert report.total.budget == D(530)
        assert rollup(s, as_at=AS_AT).total.budget == D(960)  # organisation total unchanged
        assert gaps(s).unaligned_work is not None
        assert realisation(s, by="portfolio", as_at=AS_AT).total.planned == D(69)
        assert balance(s).totals[0].budget.total == D(960)


def test_dependency_cycle_and_weights(faulty_ws: tuple[Workspace, dict[str, int]]) -> None:
    ws, ids = faulty_ws
    with ws.session() as s:
        s.add(
            Dependency(code="PRJ-B>PRJ-A", predecessor_id=ids["PRJ-B"], successor_id=ids["PRJ-A"])
        )
        s.add(
            Contribution(
                code="PRJ-A>OBJ-3", work_item_id=ids["PRJ-A"], otc_id=ids["OBJ-3"], weight=D("0.8")
            )
        )
        s.add(
            Contribution(
                code="WS-1>OBJ-1", work_item_id=ids["WS-1"], otc_id=ids["OBJ-1"], weight=D("0.5")
            )
        )
    with ws.session() as s:
        report = findings(s)
        assert [f.codes for f in report.of("dependency_cycle")] == [["PRJ-A", "PRJ-B"]]
        assert [f.codes for f in report.of("work_weights_over_100")] == [["PRJ-A"]]
        assert "120.0%" in report.of("work_weights_over_100")[0].message
        assert [f.codes for f in report.of("otc_weights_over_100")] == [["OBJ-1"], ["OBJ-3"]]
        assert [w.code for w in gaps(s).work_weights_over_100] == ["PRJ-A"]


def test_wrong_currency_and_off_calendar(faulty_ws: tuple[Workspace, dict[str, int]]) -> None:
    ws, ids = faulty_ws
    with ws.session() as s:
        s.add(
            BenefitProfile(
                code="BP-BEN-1-USD",
                benefit_id=ids["BEN-1"],
                period=dt.date(2024, 7, 1),
                planned=D(1000),
                forecast=D(1000),
                currency="USD",
            )
        )
        s.add(
            CostLine(
                code="CL-USD",
                work_item_id=ids["PRJ-A"],
                period=dt.date(2024, 7, 1),
                budget=D(500),
                forecast=D(500),
                currency="USD",
            )
        )
        s.add(
            CostLine(
                code="CL-MID",
                work_item_id=ids["RUN-2"],
                period=dt.date(2024, 5, 15),
                budget=D(5),
                forecast=D(5),
                actual=D(5),
            )
        )
    with ws.session() as s:
        report = findings(s)
        assert [f.codes for f in report.of("benefit_profile_currency")] == [
            ["BEN-1", "BP-BEN-1-USD"]
        ]
        assert [f.codes for f in report.of("cost_line_currency")] == [["PRJ-A", "CL-USD"]]
        assert [f.codes for f in report.of("off_calendar_period")] == [["CL-MID"]]
        benefits = realisation(s, as_at=AS_AT)
        assert benefits.total.planned == D(69)  # the USD row is left out ...
        assert benefits.excluded_profile_rows == 1  # ... and says so
        costs = rollup(s, as_at=AS_AT)
        assert costs.total.budget == D(965)  # 960 + the mid-month GBP line; USD left out
        assert costs.excluded_cost_lines == 1
        trend = {t.period: t for t in balance(s).trend}
        assert trend[dt.date(2024, 5, 1)].budget.amounts["run"] == D(225)  # counted in May
