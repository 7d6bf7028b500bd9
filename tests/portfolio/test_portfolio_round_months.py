"""Planning rounds by month, commitments over capacity, and run work valued and flexed — built
from a real database (SQLite, and PostgreSQL when configured). The base round is the one of
``portfolio_db_helpers``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from portfolio_db_helpers import EXPECTED_VALUE, FY2028, seed
from sqlalchemy import select

from bigov.errors import InfeasibleError
from bigov.metrics.models import MetricMeasure
from bigov.org.models import OrgUnit
from bigov.portfolio.builder import RoundOptions
from bigov.portfolio.explain import explain
from bigov.portfolio.service import PortfolioService
from bigov.portfolio.solver import evaluate_plan, solve
from bigov.resources.models import Demand, Skill
from bigov.work.models import Category, Nature, Phase, WorkItem, WorkKind
from bigov.workspace import Workspace

MONTHS = [f"{m:%Y-%m}" for m in FY2028]


def test_monthly_round_budgets_by_fiscal_year_and_shifts(workspace: Workspace) -> None:
    seed(workspace)
    p = PortfolioService(workspace).build_problem(RoundOptions(years=[2028])).problem
    assert p.periods == MONTHS
    assert p.period_groups == {"FY2028": MONTHS}
    assert p.budgets == {"change": {"FY2028": 10.0}}
    assert p.capacity["SK-DEV"] == {m: pytest.approx(1.0) for m in MONTHS}
    assert p.candidate("A").resources["SK-DEV"]["2027-09"] == pytest.approx(0.6)
    assert p.labels["SK-DEV"] == "Developer"
    # proposals may start up to three months late; running work may not move
    a = p.candidate("A")
    assert a.shift is not None and (a.shift.earliest, a.shift.latest) == (0, 3)
    assert p.candidate("R").shift is None
    assert p.capacity_allowance == {}
    solution = solve(p)
    assert solution.selected_codes() == {"A", "B", "R"}
    assert solution.value == pytest.approx(EXPECTED_VALUE)


def _overcommit(ws: Workspace) -> None:
    """R (running, forced in) needs 0.7 FTE of developers in June-August 2027: with A's 0.6 that
    is more than the 1 FTE there is, and R alone already fits; a second running need of 0.5 in
    July breaks capacity before any choice is made."""
    with ws.session() as s:
        items = {w.code: w for w in s.scalars(select(WorkItem))}
        skill = s.scalar(select(Skill).where(Skill.code == "SK-DEV"))
        team = s.scalar(select(OrgUnit).where(OrgUnit.code == "TEAM"))
        assert skill is not None and team is not None
        for m, fte in ((dt.date(2027, 6, 1), "0.7"), (dt.date(2027, 7, 1), "1.2")):
            s.add(
                Demand(
                    code=f"DM-R-{m:%Y-%m}",
                    work_item_id=items["R"].id,
                    skill_id=skill.id,
                    org_unit_id=team.id,
                    period=m,
                    fte=Decimal(fte),
                    status="committed",
                )
            )


def test_commitments_over_capacity_are_an_explicit_allowance(workspace: Workspace) -> None:
    seed(workspace)
    _overcommit(workspace)
    pf = PortfolioService(workspace)
    built = pf.build_problem(RoundOptions(years=[2028]))
    p = built.problem
    # July: R needs 1.2 against 1.0, the 0.2 over is accepted and said so
    assert p.capacity["SK-DEV"]["2027-07"] == pytest.approx(1.0)
    assert p.capacity_allowance == {"SK-DEV": {"2027-07": pytest.approx(0.2)}}
    assert any("Developer (SK-DEV)" in n and "2027-07" in n for n in built.notes)
    solution = solve(p)
    assert evaluate_plan(p, solution.plan())[1] == []
    # the allowance is R's alone: A (0.6 FTE) cannot start in July, it moves past it
    assert "A" not in solution.selected_codes() or solution.plan()["A"].shift > 0
    why = explain(p, solution, time_limit=30)
    binding = {c.group for c in why.constraints if c.binding}
    assert "capacity SK-DEV 2027-07" in binding

    refused = RoundOptions(years=[2028], committed_overload="refuse")
    with pytest.raises(InfeasibleError) as err:
        solve(pf.build_problem(refused).problem)
    assert any(c.startswith("capacity SK-DEV 2027-07") for c in err.value.conflict)
    r = pf.relax_round(refused, allow=["capacity"])
    assert r.options[0].text == "+0.2 FTE of Developer in 2027-07"
    assert pf.relax_round(RoundOptions(years=[2028])).feasible


def test_explanation_names_the_binding_month_and_skill(workspace: Workspace) -> None:
    seed(workspace)
    _overcommit(workspace)
    pf = PortfolioService(workspace)
    p = pf.build_problem(RoundOptions(years=[2028], max_shift=0)).problem
    solution = solve(p)
    why = explain(p, solution, time_limit=30)
    a = why.item("A")
    assert not a.selected  # A cannot move now, and June/July have no room
    text = "; ".join(a.reasons)
    assert "capacity SK-DEV 2027-06..07 (Developer, tightest 2027-07" in text
    assert "committed over capacity" in text


def _add_run_work(ws: Workspace) -> None:
    """Two running BAU workstreams of equal cost: CONTACT's team owns two KPIs, BACK none."""
    with ws.session() as s:
        team = s.scalar(select(OrgUnit).where(OrgUnit.code == "TEAM"))
        assert team is not None
        from bigov.finance.models import CostLine, FundingSource

        run_fund = FundingSource(
            code="FUND-RUN-2028",
            name="Run 2027/28",
            nature=Nature.RUN,
            fiscal_year=2028,
            amount=Decimal(18),
        )
        s.add(run_fund)
        s.flush()
        for code in ("WS-CONTACT", "WS-BACK"):
            w = WorkItem(
                code=code,
                name=code,
                kind=WorkKind.WORKSTREAM,
                nature=Nature.RUN,
                category=Category.RUN,
                phase=Phase.DELIVERY,
                org_unit_id=team.id if code == "WS-CONTACT" else None,
            )
            s.add(w)
            s.flush()
            s.add(
                CostLine(
                    code=f"CL-{code}",
                    work_item_id=w.id,
                    period=dt.date(2027, 5, 1),
                    funding_source_id=run_fund.id,
                    budget=Decimal(8),
                    forecast=Decimal(8),
                )
            )
        for code in ("CALLS", "ABANDON"):
            s.add(MetricMeasure(code=code, name=code, entity_kind="org_unit", entity_code="TEAM"))


def test_run_work_is_valued_protected_and_may_grow(workspace: Workspace) -> None:
    seed(workspace)
    _add_run_work(workspace)
    pf = PortfolioService(workspace)
    built = pf.build_problem(RoundOptions(years=[2028], run_max_fraction=1.25))
    p = built.problem
    contact, back = p.candidate("WS-CONTACT"), p.candidate("WS-BACK")
    assert contact.value is not None and back.value is not None
    # same cost; the line serving two KPIs is worth three times the one serving none (1 + 2)
    assert contact.value == pytest.approx(3 * back.value)
    assert back.value > 0
    assert contact.partial is not None and contact.partial.max_fraction == 1.25
    assert contact.partial.min_fraction == 0.9
    assert {f.code for f in p.forced} >= {"WS-CONTACT", "WS-BACK"}
    assert any("running BAU item(s) valued" in n for n in built.notes)
    assert p.target_split == {"run": 0.7, "grow": 0.2, "transform": 0.1}
    s = solve(p)
    # the run envelope (18) funds both lines in full and grows the more valuable one by 25 %
    plan = s.plan()
    assert plan["WS-CONTACT"].fraction == pytest.approx(1.25)
    assert plan["WS-BACK"].fraction == pytest.approx(1.0)
    assert s.split["run"] == pytest.approx(18.0)
    assert s.target_split["run"] == pytest.approx(0.7)
