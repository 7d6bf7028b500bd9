"""``bigov portfolio …`` commands through Typer's test runner, as a user would call them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bigov.portfolio.cli import app

runner = CliRunner()


def test_optimise_json(small_example: Path) -> None:
    result = runner.invoke(app, ["optimise", str(small_example), "--time-limit", "30", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["proven_optimal"] is True
    assert "REG-05" in {s["code"] for s in data["selected"]}
    assert set(data["spend"]) == {"capex", "opex"}


def test_optimise_table_with_explanation(small_example: Path) -> None:
    result = runner.invoke(app, ["optimise", str(small_example), "--explain"])
    assert result.exit_code == 0, result.output
    assert "proven optimal" in result.stdout
    assert "forced in: regulatory deadline" in result.stdout
    assert "Why in or out" in result.stdout


def test_infeasible_problem_exit_code_and_conflict(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        """
periods: [Y1]
budgets: {capex: {Y1: 5}}
candidates:
  - {code: A, value: 1, cost: {capex: {Y1: 4}}}
  - {code: B, value: 1, cost: {capex: {Y1: 4}}}
forced:
  - {code: A, decision: in, reason: law}
  - {code: B, decision: in, reason: contract}
""",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["optimise", str(f)])
    assert result.exit_code == 7
    assert "force-in A (law)" in result.output and "budget capex Y1" in result.output


def test_invalid_problem_names_items(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(
        json.dumps(
            {
                "periods": ["Y1"],
                "budgets": {"capex": {"Y1": 5}},
                "candidates": [{"code": "A", "value": 1, "cost": {"capex": {"Y1": -4}}}],
            }
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["optimise", str(f)])
    assert result.exit_code == 6
    assert "candidates[A]" in result.output


def test_frontier_writes_chart(small_example: Path, tmp_path: Path) -> None:
    out = tmp_path / "frontier.svg"
    result = runner.invoke(
        app,
        ["frontier", str(small_example), "--points", "6", "--out", str(out), "--plan", "REG-05"],
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and "<svg" in out.read_text(encoding="utf-8")
    assert "Efficient frontier" in result.stdout


def test_frontier_json(small_example: Path) -> None:
    result = runner.invoke(app, ["frontier", str(small_example), "--points", "4", "--json"])
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)["points"]
    assert len(points) == 4


def test_ahp_command(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(
        "drivers: [a, b, c]\nmatrix: [[1, 9, '1/9'], [null, 1, 9], [null, null, 1]]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ahp", str(f), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["consistent"] is False and "revisit" in data["warning"]
    table = runner.invoke(app, ["ahp", str(f)])
    assert "CR" in table.output
