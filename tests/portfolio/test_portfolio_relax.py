"""What it takes to make an infeasible round feasible (``--relax``), in the users' units."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bigov.errors import ConfigError, InfeasibleError
from bigov.portfolio.cli import app
from bigov.portfolio.problem import PortfolioProblem, parse_problem, save_problem
from bigov.portfolio.relax import apply_option, relax
from bigov.portfolio.solver import evaluate_plan, solve

runner = CliRunner()
MONTHS = ["2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03"]


def squeezed() -> PortfolioProblem:
    """Two running projects forced in need 8 FTE of data engineers each in 2027-01..03, and the
    team has 10: the round is infeasible by exactly 6 FTE in each of those three months."""
    busy = dict.fromkeys(MONTHS[3:], 8.0)
    data: dict[str, Any] = {
        "name": "squeezed round",
        "currency": "GBP",
        "periods": MONTHS,
        "period_groups": {"FY2027": MONTHS},
        "budgets": {"change": {"FY2027": 5_000_000}},
        "capacity": {"SK-DATA": dict.fromkeys(MONTHS, 10.0)},
        "labels": {"SK-DATA": "Data Engineer"},
        "candidates": [
            {
                "code": "PRJ-X",
                "value": 3,
                "cost": {"change": dict.fromkeys(MONTHS, 400000.0)},
                "resources": {"SK-DATA": busy},
            },
            {
                "code": "PRJ-Y",
                "value": 5,
                "cost": {"change": dict.fromkeys(MONTHS, 300000.0)},
                "resources": {"SK-DATA": busy},
            },
            {"code": "PRJ-Z", "value": 1, "cost": {"change": {"2026-10": 100_000.0}}},
        ],
        "forced": [
            {"code": "PRJ-X", "decision": "in", "reason": "contract signed"},
            {"code": "PRJ-Y", "decision": "in", "reason": "regulator"},
        ],
    }
    return parse_problem(data)


def test_deliberately_infeasible_round_and_its_relaxation() -> None:
    p = squeezed()
    with pytest.raises(InfeasibleError):
        solve(p)
    r = relax(p)
    assert not r.feasible
    texts = [o.text for o in r.options]
    # the least weighted change: one forced decision released beats 18 FTE-months of hiring
    assert r.options[0].kinds == ["budget", "capacity", "force"]
    assert texts[0] in ("release the force-in of PRJ-X", "release the force-in of PRJ-Y")
    # capacity alone: exactly the shortfall, in FTE, over the months it occurs
    assert "+6.0 FTE of Data Engineer in 2027-01..03" in texts
    assert all(o.verified for o in r.options)
    assert any(c.startswith("capacity SK-DATA 2027-0") for c in r.conflict)
    for option in r.options:
        fixed = apply_option(p, option)
        s = solve(fixed)
        assert evaluate_plan(fixed, s.plan())[1] == []
    capacity_only = next(o for o in r.options if o.kinds == ["capacity"])
    change = capacity_only.changes[0]
    assert (change.kind, change.key, change.amount) == ("capacity", "SK-DATA", 6.0)
    assert change.periods == ["2027-01", "2027-02", "2027-03"]


def test_kinds_can_be_refused() -> None:
    p = squeezed()
    only_budget = relax(p, allow=["budget"])
    assert only_budget.options == []
    assert "never relaxed" in only_budget.text
    forces = relax(p, allow=["force"], with_conflict=False)
    assert [o.kinds for o in forces.options] == [["force"]]
    with pytest.raises(ConfigError):
        relax(p, allow=[])


def test_budget_rise_is_in_money_and_rounded_up() -> None:
    p = parse_problem(
        {
            "periods": ["FY2027"],
            "budgets": {"change": {"FY2027": 1_000_000}},
            "candidates": [
                {"code": "A", "value": 1, "cost": {"change": {"FY2027": 1_234_567.0}}},
            ],
            "forced": [{"code": "A", "decision": "in", "reason": "law"}],
        }
    )
    r = relax(p, allow=["budget"])
    assert r.options[0].text == "+£235k on the change budget in FY2027"
    assert r.options[0].changes[0].amount == 235_000.0


def test_feasible_round_needs_no_change() -> None:
    p = squeezed().model_copy(update={"forced": []})
    r = relax(p)
    assert r.feasible and r.options == []


def test_cli_relax_prints_the_change_and_a_plan(tmp_path: Path) -> None:
    f = tmp_path / "round.yaml"
    save_problem(squeezed(), f)
    refused = runner.invoke(app, ["optimise", str(f)])
    assert refused.exit_code == 7
    result = runner.invoke(app, ["optimise", str(f), "--relax", "--allow", "capacity"])
    assert result.exit_code == 0, result.output
    assert "+6.0 FTE of Data Engineer in 2027-01..03" in result.stdout
    assert "proven optimal" in result.stdout
    out = runner.invoke(app, ["optimise", str(f), "--relax", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["relaxation"]["options"][0]["verified"] is True
    assert data["plan"]["proven_optimal"] is True
    bad = runner.invoke(app, ["optimise", str(f), "--relax", "--allow", "money"])
    assert bad.exit_code != 0 and "unknown kind of change" in bad.output


def test_cli_relax_with_nothing_allowed_that_helps(tmp_path: Path) -> None:
    f = tmp_path / "round.yaml"
    save_problem(squeezed(), f)
    result = runner.invoke(app, ["optimise", str(f), "--relax", "--allow", "budget"])
    assert result.exit_code == 7
    assert "never relaxed" in result.output
