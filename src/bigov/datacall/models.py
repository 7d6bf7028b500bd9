"""Tables of the data-call context: requests, what they were asked for, submissions seen,
assurance verdicts, and the outbox of reminder emails.

A request stores *who owes what by when*; whether it is requested, submitted, returned or
assured is never stored as a flag: it is derived from the data itself (the same rows readiness
reads) and the verdicts recorded here (see :mod:`bigov.datacall.state`), so a request and the
readiness of the boards that need it cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base, enum_type, id_fk, utcnow


class RequestKind(enum.StrEnum):
    STATUS = "status"  # one work item's status report for the period
    BENEFIT = "benefit"  # one benefit's actual for the period
    DEFINITION = "definition"  # an information definition's data for a node's scope


class Verdict(enum.StrEnum):
    ACCEPTED = "accepted"
    RETURNED = "returned"


class Channel(enum.StrEnum):
    API = "api"
    IMPORT = "import"
    FORM = "form"
    SEEN = "seen"  # found in the data by a later look (written by any other path)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # composed, not yet accepted by the SMTP server
    SENT = "sent"
    SUPERSEDED = "superseded"  # never sent; a later day's digest replaced it


def _id() -> Mapped[int]:
    return mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )


class DataRequest(AuditMixin, Base):
    """What one person owes for one period: a work item's status report, a benefit's actual, or
    an information definition's data. ``code`` is stable, so opening a call twice finds it."""

    __tablename__ = "datacall_request"

    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(160), unique=True, index=True)
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[RequestKind] = mapped_column(enum_type(RequestKind))
    source: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    work_item_id: Mapped[int | None] = id_fk("work_item.id", ondelete="CASCADE")
    benefit_id: Mapped[int | None] = id_fk("benefit.id", ondelete="CASCADE")
    definition_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    owner_id: Mapped[int] = id_fk("person.id", nullable=False)
    # the node whose cut-off comes first; due_on is that cut-off
    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    opened_by: Mapped[str | None] = mapped_column(String(255), nullable=True)


class DataNeed(Base):
    """One node's need behind a request (a request may serve several boards' sittings)."""

    __tablename__ = "datacall_need"
    __table_args__ = (UniqueConstraint("request_id", "node_id", "definition_code"),)

    id: Mapped[int] = _id()
    request_id: Mapped[int] = id_fk("datacall_request.id", nullable=False, ondelete="CASCADE")
    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    definition_code: Mapped[str] = mapped_column(String(64))
    sitting_on: Mapped[dt.date] = mapped_column(Date)
    cutoff_on: Mapped[dt.date] = mapped_column(Date)
    assurance_required: Mapped[bool] = mapped_column(default=False)


class DataSubmission(Base):
    """One version of the data seen for a request: when it was written (the data's own time),
    through which channel, by whom or which import batch. ``version`` identifies the rows'
    state, so the same data is recorded once however often it is looked at."""

    __tablename__ = "datacall_submission"
    __table_args__ = (UniqueConstraint("request_id", "version"),)

    id: Mapped[int] = _id()
    request_id: Mapped[int] = id_fk("datacall_request.id", nullable=False, ondelete="CASCADE")
    version: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    batch_id: Mapped[int | None] = id_fk("import_batch.id", ondelete="SET NULL")
    by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DataVerdict(Base):
    """The PMO's or assurer's verdict on the version of the data they looked at."""

    __tablename__ = "datacall_verdict"

    id: Mapped[int] = _id()
    request_id: Mapped[int] = id_fk("datacall_request.id", nullable=False, ondelete="CASCADE")
    verdict: Mapped[Verdict] = mapped_column(enum_type(Verdict))
    version: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    by: Mapped[str] = mapped_column(String(255))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxMessage(AuditMixin, Base):
    """One reminder digest to one person for one day. Unique per (recipient, day): a second
    ``remind`` the same day composes nothing new, and a digest the SMTP server has not accepted
    stays pending for the next run to retry."""

    __tablename__ = "datacall_outbox"
    __table_args__ = (UniqueConstraint("recipient", "day"),)

    id: Mapped[int] = _id()
    recipient: Mapped[str] = mapped_column(String(255))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    cc: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    requests: Mapped[str] = mapped_column(Text)  # the request codes the digest lists, one a line
    escalated: Mapped[bool] = mapped_column(default=False)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


__all__ = [
    "Channel",
    "DataNeed",
    "DataRequest",
    "DataSubmission",
    "DataVerdict",
    "OutboxMessage",
    "OutboxStatus",
    "RequestKind",
    "Verdict",
]
