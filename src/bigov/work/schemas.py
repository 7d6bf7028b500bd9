"""Pydantic I/O shapes of the work context."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field


class PortfolioSummary(BaseModel):
    """What ``bigov status`` shows: the shape of the portfolio at a glance."""

    organisation: str
    currency: str = "GBP"
    fiscal_year: int | None = None
    by_kind: dict[str, int] = Field(default_factory=dict)
    by_phase: dict[str, int] = Field(default_factory=dict)
    budget_by_nature: dict[str, Decimal] = Field(default_factory=dict)
    budget_by_category: dict[str, Decimal] = Field(default_factory=dict)
    confidence: dict[str, int] = Field(default_factory=dict)
    confidence_period: dt.date | None = None
    counts: dict[str, int] = Field(default_factory=dict)
