"""How a measure combines its observations: plain enums, apart from the ORM models so the CLI can
offer them as option choices without loading SQLAlchemy (see tests/test_startup.py).
:mod:`bigov.metrics.models` re-exports them."""

from __future__ import annotations

import enum


class TimeAggregation(enum.StrEnum):
    """How a series' observations combine into one value per period."""

    SUM = "sum"  # flows: cases handled
    LAST = "last"  # stocks: backlog, headcount at period end
    WEIGHTED_MEAN = "weighted_mean"  # rates: utilisation weighted by hours (weight 1 = plain mean)
    MAX = "max"  # extremes: worst incident duration
    MIN = "min"


class OrgRollup(enum.StrEnum):
    """How series of several organisation units combine into one value for a parent unit."""

    SUM = "sum"
    WEIGHTED_MEAN = "weighted_mean"  # weighted by each series' weight sum for the period
    MAX = "max"
    MIN = "min"
    NONE = "none"  # only meaningful for the unit's own series


class MeasureDirection(enum.StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


__all__ = ["MeasureDirection", "OrgRollup", "TimeAggregation"]
