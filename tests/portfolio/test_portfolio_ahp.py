"""Pairwise-comparison weights against textbook results."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigov.errors import ValidationError
from bigov.portfolio.ahp import ahp_weights, load_pairwise
from bigov.portfolio.problem import Candidate, Confidence, parse_problem
from bigov.portfolio.scoring import candidate_value, candidate_values


def test_textbook_three_by_three() -> None:
    # The classic 3×3 example (e.g. Saaty; reproduced in most OR textbooks):
    # weights 0.157 / 0.594 / 0.249, λmax 3.054, CI 0.027, CR 0.046.
    r = ahp_weights(["a", "b", "c"], [[1, "1/3", "1/2"], [3, 1, 3], [2, "1/3", 1]])
    assert r.weights["a"] == pytest.approx(0.1571, abs=5e-4)
    assert r.weights["b"] == pytest.approx(0.5936, abs=5e-4)
    assert r.weights["c"] == pytest.approx(0.2493, abs=5e-4)
    assert r.lambda_max == pytest.approx(3.0536, abs=5e-4)
    assert r.cr == pytest.approx(0.046, abs=1e-3)
    assert r.consistent
    assert r.warning is None


def test_consistent_matrix_gives_exact_ratios() -> None:
    w = [0.5, 0.25, 0.125, 0.125]
    m = [[w[i] / w[j] for j in range(4)] for i in range(4)]
    r = ahp_weights(list("wxyz"), m)
    assert list(r.weights.values()) == pytest.approx(w)
    assert r.cr == pytest.approx(0.0, abs=1e-9)


def test_inconsistent_matrix_warns_with_worst_pairs() -> None:
    # a ≫ b, b ≫ c but c ≫ a: a circular preference.
    r = ahp_weights(["a", "b", "c"], [[1, 9, "1/9"], [None, 1, 9], [None, None, 1]])
    assert r.cr > 0.1
    assert not r.consistent
    assert r.warning is not None and "inconsistent" in r.warning
    assert len(r.inconsistent_pairs) == 3
    assert r.inconsistent_pairs[0].disagreement > 1.0


def test_bad_judgements_are_named() -> None:
    with pytest.raises(ValidationError) as info:
        ahp_weights(["a", "b", "c"], [[1, 12, "x"], [1, 1, None], [1, 1, 1]])
    where = {p.column: p.reason for p in info.value.problems}
    assert "outside" in where["a vs b"]
    assert "not a number" in where["a vs c"]
    assert "missing" in where["b vs c"]


def test_load_pairwise(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("drivers: [x, y]\nmatrix: [[1, 3], [null, 1]]\n", encoding="utf-8")
    r = load_pairwise(f)
    assert r.weights == pytest.approx({"x": 0.75, "y": 0.25})


def test_value_is_weighted_score_plus_npv_risk_adjusted() -> None:
    cand = Candidate(
        code="X",
        scores={"a": 4, "b": 2},
        npv=10,
        confidence=Confidence.AMBER,
        cost={"capex": {"Y1": 1}},
    )
    v = candidate_value(cand, {"a": 0.5, "b": 0.5}, npv_weight=0.1)
    assert v == pytest.approx((0.5 * 4 + 0.5 * 2 + 0.1 * 10) * 0.75)


def test_values_from_pairwise_weights() -> None:
    problem = parse_problem(
        {
            "periods": ["Y1"],
            "funding_sources": ["capex"],
            "scoring": {"pairwise": {"drivers": ["a", "b"], "matrix": [[1, 3], [None, 1]]}},
            "candidates": [
                {"code": "P", "scores": {"a": 4}, "cost": {"capex": {"Y1": 1}}},
                {
                    "code": "Q",
                    "scores": {"b": 4},
                    "confidence": "red",
                    "cost": {"capex": {"Y1": 1}},
                },
            ],
        }
    )
    assert candidate_values(problem) == pytest.approx({"P": 3.0, "Q": 0.25})
