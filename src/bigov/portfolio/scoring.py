"""From driver scores to one value per candidate.

value = (Σ weight(driver) × score(driver) + npv_weight × NPV) × confidence factor

Weights come from the problem's scoring settings (direct, normalised to sum to 1, or by pairwise
comparison). A candidate that states ``value`` uses it in place of the bracket; the confidence
factor still applies, so a Red item is worth less than a Green one with the same value. Items
without a confidence rating are not adjusted.
"""

from __future__ import annotations

from collections.abc import Mapping

from bigov.portfolio.ahp import AhpResult, ahp_weights
from bigov.portfolio.problem import Candidate, Confidence, PortfolioProblem

__all__ = [
    "DEFAULT_CONFIDENCE_FACTORS",
    "candidate_value",
    "candidate_values",
    "driver_weights",
]

# Expected share of value delivered by delivery-confidence rating. A convention, not a law: a
# problem can override it (scoring.confidence_factors).
DEFAULT_CONFIDENCE_FACTORS: dict[Confidence, float] = {
    Confidence.GREEN: 1.0,
    Confidence.AMBER_GREEN: 0.9,
    Confidence.AMBER: 0.75,
    Confidence.AMBER_RED: 0.5,
    Confidence.RED: 0.25,
}


def driver_weights(problem: PortfolioProblem) -> tuple[dict[str, float], AhpResult | None]:
    """Normalised driver weights, and the AHP result when they came from pairwise comparison.

    Returns empty weights when the problem has no drivers (every candidate then states a value).
    """
    scoring = problem.scoring
    if scoring.pairwise is not None:
        result = ahp_weights(scoring.pairwise.drivers, scoring.pairwise.matrix)
        return dict(result.weights), result
    raw = scoring.weights or {}
    total = sum(raw.values())
    if total <= 0:
        return {}, None
    return {d: w / total for d, w in raw.items()}, None


def candidate_value(
    candidate: Candidate,
    weights: Mapping[str, float],
    *,
    npv_weight: float = 0.0,
    confidence_factors: Mapping[Confidence, float] | None = None,
) -> float:
    """Risk-adjusted value of one candidate (see the module docstring for the formula)."""
    if candidate.value is not None:
        base = candidate.value
    else:
        base = sum(weights.get(d, 0.0) * s for d, s in candidate.scores.items())
        if candidate.npv is not None:
            base += npv_weight * candidate.npv
    factors = DEFAULT_CONFIDENCE_FACTORS if confidence_factors is None else confidence_factors
    if candidate.confidence is not None:
        base *= factors.get(candidate.confidence, DEFAULT_CONFIDENCE_FACTORS[candidate.confidence])
    return float(base)


def candidate_values(problem: PortfolioProblem) -> dict[str, float]:
    """Value of every candidate, by code, as the optimiser maximises it."""
    weights, _ = driver_weights(problem)
    s = problem.scoring
    return {
        c.code: candidate_value(
            c, weights, npv_weight=s.npv_weight, confidence_factors=s.confidence_factors
        )
        for c in problem.candidates
    }
