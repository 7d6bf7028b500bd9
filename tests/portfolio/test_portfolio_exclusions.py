"""Mutual exclusions stored in the workspace reach the planning round: A and B of the
hand-built round (see ``portfolio_db_helpers``) made alternatives, the optimum keeps one."""

from __future__ import annotations

import pytest
from portfolio_db_helpers import seed
from sqlalchemy import select

from bigov.portfolio.builder import RoundOptions
from bigov.portfolio.models import Exclusion, ExclusionItem
from bigov.portfolio.problem import Exclusion as ProblemExclusion
from bigov.portfolio.service import PortfolioService
from bigov.portfolio.solver import solve
from bigov.work.models import WorkItem
from bigov.workspace import Workspace


def _exclude(ws: Workspace, code: str, members: list[str], reason: str | None) -> None:
    with ws.session() as s:
        ids = dict(s.execute(select(WorkItem.code, WorkItem.id)).all())
        group = Exclusion(code=code, reason=reason)
        s.add(group)
        s.flush()
        for member in members:
            s.add(
                ExclusionItem(
                    code=f"{code}/{member}", exclusion_id=group.id, work_item_id=ids[member]
                )
            )


def test_stored_exclusions_are_in_the_round(workspace: Workspace) -> None:
    seed(workspace)
    pf = PortfolioService(workspace)
    # without rules the optimum is A + B (+ R, running)
    assert solve(pf.build_problem(RoundOptions(years=[2028])).problem).selected_codes() == {
        "A",
        "B",
        "R",
    }
    _exclude(workspace, "X-AB", ["A", "B"], "two answers to the same need")
    _exclude(workspace, "X-AR", ["A", "R"], None)  # R runs (forced in): A cannot be chosen
    built = pf.build_problem(RoundOptions(years=[2028]))
    assert built.problem.exclusions == [
        ProblemExclusion(codes=["A", "B"], reason="two answers to the same need"),
        ProblemExclusion(codes=["A", "R"], reason="X-AR"),
    ]
    solution = solve(built.problem)
    # without A, B + C (3 + 4 of the 8 left) is the best plan that keeps the rules
    assert solution.selected_codes() == {"B", "C", "R"}
    assert solution.value == pytest.approx(300 / 7)
