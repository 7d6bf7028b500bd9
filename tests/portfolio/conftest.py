"""Fixtures for the portfolio optimiser: small hand-made problems and an exhaustive solver
(see ``portfolio_random``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio_random import BruteForce, brute_force

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "portfolio-small.yaml"


@pytest.fixture
def exhaustive() -> BruteForce:
    return brute_force


@pytest.fixture
def small_example() -> Path:
    return EXAMPLE
