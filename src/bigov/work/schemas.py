"""Pydantic I/O shapes of the work context."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bigov.codes import refuse_nul
from bigov.work.models import Confidence, Rag


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


class StatusReportIn(BaseModel):
    """A status report as written by ``PUT /work-items/{code}/status-reports/{period}`` and as
    submitted for a data call's status request (the whole report: omitted fields become empty)."""

    model_config = ConfigDict(extra="forbid")
    confidence: Confidence | None = None
    overall: Rag | None = None
    schedule: Rag | None = None
    cost: Rag | None = None
    scope: Rag | None = None
    benefits: Rag | None = None
    risk: Rag | None = None
    resources: Rag | None = None
    narrative: Annotated[str, AfterValidator(refuse_nul)] | None = Field(None, max_length=20000)
    reported_on: dt.date | None = None
