"""What the data-call services take and return (the CLI, API and web pages all read these)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bigov.work.schemas import StatusReportIn

State = Literal["requested", "submitted", "returned", "assured"]
OPEN_STATES: frozenset[str] = frozenset({"requested", "returned"})


class Skipped(BaseModel):
    """A node or definition a call could not make requests for, and why."""

    node: str
    definition: str | None = None
    subject: str | None = None
    reason: str


class OpenResult(BaseModel):
    """What ``datacall open`` did: counts, the nodes it covered and what it had to skip."""

    period: str
    nodes: list[str]
    created: int
    updated: int
    unchanged: int
    needs_added: int
    skipped: list[Skipped] = Field(default_factory=list)


class VerdictOut(BaseModel):
    verdict: Literal["accepted", "returned"]
    comment: str | None
    by: str
    at: dt.datetime


class SubmissionOut(BaseModel):
    channel: Literal["api", "import", "form", "seen"]
    submitted_on: dt.date
    by: str | None
    batch_id: int | None


class NeedOut(BaseModel):
    node: str
    definition: str
    sitting_on: dt.date
    cutoff_on: dt.date
    assurance_required: bool


class RequestOut(BaseModel):
    """One request: who owes what for which period, by when, and where it stands."""

    code: str
    period: str
    kind: Literal["status", "benefit", "definition"]
    source: str
    title: str
    subject: str | None  # the work item or benefit code; None for a definition's data
    definition: str | None
    owner: str  # the owner's email (their code when they have none)
    owner_name: str
    owner_code: str
    unit: str | None
    node: str  # the node whose cut-off comes first
    due_on: dt.date
    state: State
    overdue_days: int  # working and non-working days past due while owed; 0 otherwise
    submitted_on: dt.date | None  # first submission of the data (its own date)
    on_time: bool | None  # first submission on or before the due date; None while owed
    returned_comment: str | None
    version: str | None  # the data's version (the ETag a submission replaces)
    assurance_required: bool


class RequestDetail(RequestOut):
    needs: list[NeedOut]
    submissions: list[SubmissionOut]
    verdicts: list[VerdictOut]


# a status request is answered with the status report the API's PUT writes: one shape for both
StatusSubmission = StatusReportIn


class BenefitSubmission(BaseModel):
    """A benefit's actual (and optionally revised forecast) for the request's period."""

    model_config = ConfigDict(extra="forbid")
    actual: Decimal = Field(max_digits=18, decimal_places=2)
    forecast: Decimal | None = Field(None, max_digits=18, decimal_places=2)


class Rates(BaseModel):
    """Timeliness and first-time-right of one owner, unit or node in one period.

    ``timeliness`` = requests first submitted on or before their due date ÷ requests due (by
    the day of the look) or submitted; ``first_time_right`` = requests whose first verdict was
    an acceptance ÷ requests with a verdict. Percentages; None when nothing counts yet."""

    period: str
    by: Literal["owner", "unit", "node"]
    key: str
    name: str
    requests: int
    due: int
    on_time: int
    timeliness: Decimal | None
    judged: int
    first_time_right: int
    first_time_right_pct: Decimal | None


class NodeBoard(BaseModel):
    """A node's readiness board for one period: its requests by state, and its rates."""

    node: str
    period: str
    sitting_on: dt.date | None
    cutoff_on: dt.date | None
    counts: dict[str, int]
    requests: list[RequestOut]


class Digest(BaseModel):
    """One reminder email to one person for one day."""

    recipient: str
    cc: list[str]
    subject: str
    body: str
    requests: list[str]
    escalated: bool
    status: Literal["pending", "sent", "superseded", "dry-run"]


class RemindResult(BaseModel):
    day: dt.date
    composed: int  # new digests written to the outbox today
    sent: int  # digests the SMTP server accepted in this run
    already_sent: int  # digests of today sent by an earlier run (not sent again)
    pending: int  # digests left in the outbox for a later run
    superseded: int
    digests: list[Digest]
    problems: list[str] = Field(default_factory=list)


__all__ = [
    "OPEN_STATES",
    "BenefitSubmission",
    "Digest",
    "NeedOut",
    "NodeBoard",
    "OpenResult",
    "Rates",
    "RemindResult",
    "RequestDetail",
    "RequestOut",
    "Skipped",
    "State",
    "StatusSubmission",
    "SubmissionOut",
    "VerdictOut",
]
