"""The demo enterprise's planning round, and the workspace commands of ``bigov portfolio``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from portfolio_db_helpers import EXPECTED_VALUE, seed
from typer.testing import CliRunner

from bigov.demo import generate
from bigov.portfolio.builder import RoundOptions
from bigov.portfolio.explain import explain
from bigov.portfolio.problem import load_problem
from bigov.portfolio.service import PortfolioService
from bigov.portfolio.solver import solve
from bigov.strategy.models import OtcStatus
from bigov.workspace import Workspace

runner = CliRunner()


@pytest.mark.slow
def test_demo_planning_round_is_feasible_and_not_trivial(workspace: Workspace) -> None:
    generate(workspace, scale="small")
    # yearly grain: this test reads budgets, spend and capacity by fiscal year
    built = PortfolioService(workspace).build_problem(RoundOptions(years=[2028], grain="year"))
    p = built.problem
    proposals = {c.code for c in p.candidates} - {f.code for f in p.forced}
    solution = solve(p, time_limit=60)
    assert solution.proven_optimal
    chosen = solution.selected_codes()
    assert proposals & chosen and proposals - chosen  # some proposals in, some out
    why = explain(p, solution, time_limit=60)
    out_for_budget = [
        it.code
        for it in why.items
        if it.code in proposals - chosen
        and any(r.startswith("would break budget change") for r in it.reasons)
    ]
    assert out_for_budget  # the change envelope decides
    change = solution.spend["change"]["FY2028"] / p.budgets["change"]["FY2028"]
    assert change > 0.95
    # the scarce skills: every candidate together would need more than there is
    short = [
        k
        for k, limits in p.capacity.items()
        if sum(c.resources.get(k, {}).get("FY2028", 0.0) for c in p.candidates) > limits["FY2028"]
    ]
    assert short


@pytest.mark.slow
def test_demo_round_of_the_current_year_solves_as_exported(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    """The FY2027 round of the demo: running work already over-uses data engineers, which the
    round accepts as an explicit allowance; proposals compete for what is left, month by month,
    and the explanation names the month and skill that bind."""
    generate(sqlite_workspace, scale="small")
    db = ["--db", str(sqlite_workspace.url)]
    out = tmp_path / "fy2027.yaml"
    summary = _invoke("export-problem", str(out), "--year", "2027", *db)
    assert isinstance(summary, dict)
    notes = summary["notes"]
    assert isinstance(notes, list)
    assert any("Data Engineer (SK-DATA)" in str(n) for n in notes)
    p = load_problem(out)
    assert "SK-DATA" in p.capacity_allowance
    from bigov.portfolio.cli import app

    result = runner.invoke(app, ["optimise", str(out), "--explain", "--time-limit", "20"])
    assert result.exit_code == 0, result.output
    assert "capacity SK-DATA" in result.stdout and "Data Engineer" in result.stdout
    solution = solve(p, time_limit=20)
    why = explain(p, solution, time_limit=20)
    binding = [c.group for c in why.constraints if c.binding and c.kind == "capacity"]
    assert binding and all(len(g.split(" ")) == 3 for g in binding)  # skill and month
    # refused, the same round has no plan, and --relax says what it takes
    strict = tmp_path / "strict.yaml"
    _invoke("export-problem", str(strict), "--year", "2027", "--refuse-overload", *db)
    refused = runner.invoke(app, ["optimise", str(strict)])
    assert refused.exit_code == 7
    relaxed = runner.invoke(app, ["optimise", str(strict), "--relax", "--time-limit", "20"])
    assert relaxed.exit_code == 0, relaxed.output
    assert "FTE of Data Engineer in" in relaxed.stdout or "release the force-in" in relaxed.stdout


def _invoke(*args: str) -> dict[str, object] | list[object]:
    from bigov.portfolio.cli import app

    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] | list[object] = json.loads(result.stdout)
    return data


def test_cli_round_scenarios_commit_rebalance(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    seed(sqlite_workspace)
    db = ["--db", str(sqlite_workspace.url)]
    out = tmp_path / "round.yaml"
    summary = _invoke("export-problem", str(out), "--year", "2028", *db)
    assert isinstance(summary, dict) and summary["candidates"] == 4
    assert solve(load_problem(out)).value == pytest.approx(EXPECTED_VALUE)

    saved = _invoke("scenario", "save", "base", "--year", "2028", *db)
    assert isinstance(saved, dict) and saved["selected"] == ["A", "B", "R"]
    drivers = _invoke("drivers", "--derive", *db)
    assert isinstance(drivers, list) and len(drivers) == 2
    pairwise = tmp_path / "pairwise.yaml"
    pairwise.write_text("drivers: [DRV/O1, DRV/O2]\nmatrix: [[1, 1/9], [null, 1]]\n", "utf-8")
    prio = _invoke("prioritise", "PRIO", "--pairwise", str(pairwise), *db)
    assert isinstance(prio, dict) and prio["current_version"] == 1
    rated = _invoke("rate", "C", "DRV/O2=60", *db)
    assert rated == {"ratings": 1}
    _invoke("scenario", "save", "leakage", "--year", "2028", *db)
    listed = _invoke("scenario", "list", *db)
    assert [s["name"] for s in listed if isinstance(s, dict)] == ["base", "leakage"]
    cmp = _invoke("scenario", "compare", "base", "leakage", *db)
    assert isinstance(cmp, dict) and cmp["lose_coverage"] == {"leakage": ["O1"]}
    committed = _invoke("scenario", "commit", "base", "--date", "2027-02-01", *db)
    assert isinstance(committed, dict) and committed["decision"].startswith("DEC-POR-")

    sqlite_workspace.strategy.revise_otc(
        "O1", effective_from=dt.date(2027, 3, 1), reason="exit", status=OtcStatus.WITHDRAWN
    )
    report = _invoke("rebalance", "--tolerance", "0", *db)
    assert isinstance(report, dict)
    actions = {(c["code"], c["action"]) for c in report["result"]["changes"]}
    assert ("A", "stop") in actions and ("C", "start") in actions

    # table output works too
    from bigov.portfolio.cli import app

    shown = runner.invoke(app, ["scenario", "compare", "base", "leakage", *db])
    assert shown.exit_code == 0 and "Items that differ" in shown.stdout


def test_cli_import_solved_problem(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    seed(sqlite_workspace)
    db = ["--db", str(sqlite_workspace.url)]
    problem_file = tmp_path / "round.json"
    _invoke("export-problem", str(problem_file), "--year", "2028", *db)
    from bigov.portfolio.cli import app

    solved = runner.invoke(app, ["optimise", str(problem_file), "--json"])
    assert solved.exit_code == 0
    solution_file = tmp_path / "solution.json"
    solution_file.write_text(solved.stdout, encoding="utf-8")
    imported = _invoke(
        "scenario", "import", "external", str(problem_file), "--solution", str(solution_file),
        "--round", "FY2028", *db,
    )  # fmt: skip
    assert isinstance(imported, dict) and imported["origin"] == "imported"
    assert imported["selected"] == ["A", "B", "R"]


def test_cli_unknown_scenario_is_a_clear_error(sqlite_workspace: Workspace) -> None:
    from bigov.portfolio.cli import app

    result = runner.invoke(app, ["scenario", "commit", "nope", "--db", str(sqlite_workspace.url)])
    assert result.exit_code == 4
    assert "no scenario named 'nope'" in result.output
