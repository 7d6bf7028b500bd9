"""The problem file format: loading, saving and the errors a user sees for bad input."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bigov.errors import ValidationError
from bigov.portfolio.problem import (
    dump_problem,
    load_problem,
    parse_problem,
    save_problem,
)

BASE: dict[str, Any] = {
    "periods": ["Y1", "Y2"],
    "budgets": {"capex": {"Y1": 10, "Y2": 10}},
    "capacity": {"dev": {"Y1": 3}},
    "candidates": [
        {"code": "A", "value": 5, "cost": {"capex": {"Y1": 4}}},
        {"code": "B", "value": 4, "cost": {"capex": {"Y2": 4}}, "requires": ["A"]},
    ],
}


def broken(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def reasons(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse_problem(data)
    return [f"{p.column}: {p.reason}" for p in info.value.problems]


def test_example_loads(small_example: Path) -> None:
    problem = load_problem(small_example)
    assert len(problem.candidates) == 15
    assert problem.periods == ["FY2025", "FY2026", "FY2027"]


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_round_trip(small_example: Path, tmp_path: Path, suffix: str) -> None:
    problem = load_problem(small_example)
    target = tmp_path / f"p{suffix}"
    save_problem(problem, target)
    assert load_problem(target) == problem


def test_dump_is_stable(small_example: Path) -> None:
    problem = load_problem(small_example)
    assert parse_problem(__import__("yaml").safe_load(dump_problem(problem))) == problem


def test_negative_and_missing_costs_are_named() -> None:
    data = broken()
    data["candidates"][0]["cost"] = {"capex": {"Y1": -4}}
    del data["candidates"][1]["cost"]
    found = reasons(data)
    assert any("candidates[A].cost.capex.Y1" in r and "non-negative" in r for r in found)
    assert any("candidates[B].cost" in r and "has no cost" in r for r in found)


def test_unknown_codes_are_named() -> None:
    data = broken(
        exclusions=[{"codes": ["A", "ZZ"]}],
        forced=[{"code": "QQ", "decision": "in", "reason": "x"}],
    )
    data["candidates"][1]["requires"] = ["NOPE"]
    data["candidates"][0]["cost"] = {"opex": {"Y9": 1}}
    data["candidates"][0]["resources"] = {"tester": {"Y1": 1}}
    found = " | ".join(reasons(data))
    for needle in ["'NOPE'", "'ZZ'", "'QQ'", "funding source 'opex'", "period 'Y9'", "'tester'"]:
        assert needle in found


def test_cyclic_dependency_names_the_cycle() -> None:
    data = broken()
    data["candidates"][0]["requires"] = ["B"]
    (found,) = reasons(data)
    assert "cyclic dependency" in found
    assert "A → B → A" in found or "B → A → B" in found


def test_shape_errors_name_the_candidate() -> None:
    data = broken()
    data["candidates"][1]["value"] = "lots"
    data["candidates"][1]["colour"] = "red"
    found = reasons(data)
    assert any(r.startswith("candidates[B].value") for r in found)
    assert any(r.startswith("candidates[B].colour") for r in found)


def test_forced_both_ways_and_without_reason() -> None:
    data = broken(
        forced=[
            {"code": "A", "decision": "in", "reason": "law"},
            {"code": "A", "decision": "out", "reason": " "},
        ]
    )
    found = " | ".join(reasons(data))
    assert "forced both in and out" in found
    assert "needs a reason" in found


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        load_problem(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON"):
        load_problem(bad)
