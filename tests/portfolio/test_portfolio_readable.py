"""Plans a portfolio manager can read, a frontier that draws gaps, a solver that searches on the
second core and stays exact, and a CLI that starts without the heavy libraries."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from portfolio_random import brute_force, random_problem
from typer.testing import CliRunner

from bigov.portfolio.cli import app
from bigov.portfolio.explain import explain
from bigov.portfolio.frontier import compute_frontier, plot_frontier
from bigov.portfolio.problem import parse_problem, save_problem
from bigov.portfolio.readable import fraction, money, money_tick, points, snap
from bigov.portfolio.solver import PlanItem, evaluate_plan, snap_plan, solve

runner = CliRunner()
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def big_round() -> dict[str, Any]:
    """Money in the hundreds of millions, FTE with long decimals, a partial item, a tie."""
    return {
        "name": "big round",
        "currency": "GBP",
        "periods": ["FY2027"],
        "budgets": {"change": {"FY2027": 134_000_000.0}},
        "capacity": {"SK-DATA": {"FY2027": 59.0}},
        "labels": {"SK-DATA": "Data Engineer"},
        "candidates": [
            {
                "code": "A",
                "value": 40.0,
                "cost": {"change": {"FY2027": 60_000_000.0}},
                "resources": {"SK-DATA": {"FY2027": 30.1234}},
            },
            {
                "code": "B",
                "value": 30.0,
                "cost": {"change": {"FY2027": 50_000_000.0}},
                "resources": {"SK-DATA": {"FY2027": 19.8765}},
            },
            {"code": "C", "value": 30.0, "cost": {"change": {"FY2027": 50_000_000.0}}},
            {
                "code": "D",
                "value": 10.0,
                "cost": {"change": {"FY2027": 48_000_000.0}},
                "partial": {"min_fraction": 0.2},
            },
        ],
    }


def test_formatters() -> None:
    assert money(102_143_000.0) == "£102.14m"
    assert money(412_345.0) == "£412k"
    assert money_tick(150_000_000.0) == "£150m" and money_tick(2_500_000.0) == "£2.5m"
    assert points(1.4210854715202004e-14) == "0.0"
    assert points(49.9476) == "49.9" and points(0.0421) == "0.042"
    assert fraction(0.500000954) == "50%" and fraction(0.927) == "92.7%"
    assert snap(0.500000954, 0.01) == pytest.approx(0.5) and snap(0.5123, 0.01) == 0.5123


def test_partial_fractions_are_snapped_while_the_plan_stays_feasible() -> None:
    p = parse_problem(big_round())
    plan = {"A": PlanItem(), "C": PlanItem(), "D": PlanItem(0, 0.500000954)}
    assert evaluate_plan(p, plan)[1] == []
    snapped = snap_plan(p, plan)
    assert snapped["D"].fraction == 0.5
    assert evaluate_plan(p, snapped)[1] == []


def test_optimise_output_reads_in_money_fte_and_percent(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    save_problem(parse_problem(big_round()), f)
    from bigov.cli_support import console

    # the console's width is set, not read from COLUMNS: a console created while another test
    # ran under a narrower COLUMNS keeps that width (Rich reads the variable when it is built)
    before = console._width
    console.width = 200
    try:
        result = runner.invoke(app, ["optimise", str(f), "--explain"])
    finally:
        console._width = before
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not SCIENTIFIC.search(out), out
    assert "£134.00m" in out and "Data Engineer" in out
    assert re.search(r"\d+\.\d FTE", out)
    assert "rose by more than 1.4" not in out
    frontier = runner.invoke(app, ["frontier", str(f), "--points", "5"], env={"COLUMNS": "200"})
    assert frontier.exit_code == 0, frontier.output
    assert not SCIENTIFIC.search(frontier.stdout) and "£" in frontier.stdout


def test_a_tie_is_said_as_a_tie() -> None:
    # B and C are interchangeable: the one left out needs no rise in value at all
    p = parse_problem(
        {
            "periods": ["Y1"],
            "budgets": {"capex": {"Y1": 10}},
            "candidates": [
                {"code": "B", "value": 7, "cost": {"capex": {"Y1": 6}}},
                {"code": "C", "value": 7, "cost": {"capex": {"Y1": 6}}},
            ],
        }
    )
    e = explain(p)
    out = next(it for it in e.items if not it.selected)
    assert out.value_increase_needed == 0.0
    assert any(r.startswith("ties with the chosen plan") for r in out.reasons)


def test_frontier_draws_infeasible_levels_as_gaps(tmp_path: Path) -> None:
    data = big_round()
    data["forced"] = [{"code": "A", "decision": "in", "reason": "contract"}]
    p = parse_problem(data)
    classic = compute_frontier(p, 10, start="zero")
    assert any(pt.value is None for pt in classic.points)  # below A's £60m nothing fits
    useful = compute_frontier(p, 10)
    assert all(pt.value is not None for pt in useful.points)
    assert useful.points[0].level == pytest.approx(60_000_000, rel=1e-4)
    svg = plot_frontier(classic, tmp_path / "f.svg", currency="GBP").read_text("utf-8")
    assert "no plan fits" in svg and "£" in svg
    assert "1e8" not in svg
    png = plot_frontier(useful, tmp_path / "f.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("seed", range(8))
def test_search_with_a_time_limit_is_exact_on_small_problems(seed: int) -> None:
    p = random_problem(seed, n=8)
    best = brute_force(p)
    if best is None:
        return
    s = solve(p, time_limit=5)
    assert s.value == pytest.approx(best)
    assert evaluate_plan(p, s.plan())[1] == []
    assert solve(p, time_limit=5, search=False).value == pytest.approx(best)


def test_search_plans_are_feasible_on_a_hard_instance() -> None:
    import random

    rng = random.Random(5)
    periods = [f"k{i}" for i in range(5)]
    w = [[rng.randint(0, 1000) for _ in range(60)] for _ in periods]
    p = parse_problem(
        {
            "periods": periods,
            "budgets": {"b": {k: sum(w[i]) * 0.5 for i, k in enumerate(periods)}},
            "candidates": [
                {
                    "code": f"x{j}",
                    "value": sum(w[i][j] for i in range(5)) / 5 + rng.randint(0, 500),
                    "cost": {"b": {k: float(w[i][j]) for i, k in enumerate(periods)}},
                }
                for j in range(60)
            ],
        }
    )
    s = solve(p, time_limit=1.5)
    assert evaluate_plan(p, s.plan())[1] == []
    assert s.value <= s.bound + 1e-6
    assert s.gap == pytest.approx(max(0.0, (s.bound - s.value) / s.bound), abs=1e-9)


def test_portfolio_cli_starts_without_heavy_libraries() -> None:
    code = (
        "import sys, bigov.portfolio.cli; "
        "print(sorted(m for m in ('highspy', 'numpy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("workers", [1, 2])
def test_warm_frontier_equals_cold_solves(workers: int) -> None:
    p = random_problem(21, n=10)
    warm = compute_frontier(p, 12, workers=workers)
    cold = compute_frontier(p, 12, warm=False)
    assert [pt.value for pt in warm.points] == pytest.approx([pt.value for pt in cold.points])
    assert all(pt.proven_optimal for pt in warm.points if pt.value is not None)
