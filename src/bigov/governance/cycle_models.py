"""Tables of the governance *cycle*: one sitting of a node for one period.

* :class:`Cycle` (``gov_cycle``) — node × period × version, draft or published. A published cycle
  is immutable; a re-run makes a new version and both are kept.
* :class:`CycleSnapshot` (``cycle_snapshot``) — the frozen JSON document every pack of the cycle is
  rendered from (figures, provenance, exceptions as seen, readiness), so a pack can be reproduced
  byte for byte and later data changes never alter it.
* :class:`CycleException` (``cycle_exception``) — a tolerance breach or rule finding, raised once
  per subject, rule and period, owned by exactly one node.
* :class:`CycleEscalation` (``cycle_escalation``) — the path of an exception, one row per step
  from the node where it arose to the node that owns it.
* :class:`CycleExceptionLink` (``cycle_exception_link``) — which cycles saw which exceptions.
* :class:`CycleDecision` (``cycle_decision``) — a decision or action (a :class:`RaidItem`) taken
  at a cycle, and the work item / exception it concerns.
* :class:`CycleArtefact` (``cycle_artefact``) — a rendered pack file (HTML, PDF, XLSX) and its hash.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base, Entity, enum_type, id_fk, utcnow


class CycleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ExceptionStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def _pk() -> Mapped[int]:
    return mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )


class Cycle(Entity):
    """One sitting of a node for one period; ``code`` is ``NODE/YYYY-MM/vN``."""

    __tablename__ = "gov_cycle"
    __table_args__ = (UniqueConstraint("node_id", "period", "version"),)

    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    period: Mapped[dt.date] = mapped_column(
        Date, index=True
    )  # first day of the period's last month
    period_start: Mapped[dt.date] = mapped_column(Date)  # first day covered (quarter start, ...)
    as_at: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[CycleStatus] = mapped_column(enum_type(CycleStatus), default=CycleStatus.DRAFT)
    run_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CycleSnapshot(AuditMixin, Base):
    """The frozen document of a cycle (one per cycle); ``sha256`` of its canonical JSON."""

    __tablename__ = "cycle_snapshot"

    id: Mapped[int] = _pk()
    cycle_id: Mapped[int] = id_fk("gov_cycle.id", nullable=False, ondelete="CASCADE")
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))


class CycleException(Entity):
    """A finding of an exception rule, raised once per ``key`` (rule + subject) and period.

    ``origin_node_id`` is where it arose (the lowest node governing the subject), ``owner_node_id``
    the one node that owns it: the first node up the escalation path whose tolerance covers it (the
    top node when none does). ``escalated`` is true when owner ≠ origin.
    """

    __tablename__ = "cycle_exception"
    __table_args__ = (UniqueConstraint("key", "period"),)

    key: Mapped[str] = mapped_column(String(255), index=True)
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    rule: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_code: Mapped[str] = mapped_column(String(128))
    work_item_id: Mapped[int | None] = id_fk("work_item.id", ondelete="SET NULL")
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4), nullable=True)
    limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 4), nullable=True)
    origin_node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    owner_node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    escalated: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ExceptionStatus] = mapped_column(
        enum_type(ExceptionStatus), default=ExceptionStatus.OPEN
    )
    first_cycle_id: Mapped[int | None] = id_fk("gov_cycle.id", ondelete="SET NULL")
    # the first period of an unbroken run of periods in which the same breach (key) was raised:
    # a breach that persists is one exception growing older, not a new one each month
    first_period: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # money at stake (overspend, benefit shortfall) in the reporting currency, for materiality
    at_stake: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)


class CycleEscalation(AuditMixin, Base):
    """One step of an exception's path: ``step`` 0 is the origin; the last step is the owner."""

    __tablename__ = "cycle_escalation"
    __table_args__ = (UniqueConstraint("exception_id", "step"),)

    id: Mapped[int] = _pk()
    exception_id: Mapped[int] = id_fk("cycle_exception.id", nullable=False, ondelete="CASCADE")
    step: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 4), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # "escalated" | "owned"
    reason: Mapped[str] = mapped_column(String(255))


class CycleExceptionLink(AuditMixin, Base):
    """A cycle that saw an exception (the same exception can appear in several nodes' packs)."""

    __tablename__ = "cycle_exception_link"
    __table_args__ = (UniqueConstraint("cycle_id", "exception_id"),)

    id: Mapped[int] = _pk()
    cycle_id: Mapped[int] = id_fk("gov_cycle.id", nullable=False, ondelete="CASCADE")
    exception_id: Mapped[int] = id_fk("cycle_exception.id", nullable=False, ondelete="CASCADE")


class CycleDecision(AuditMixin, Base):
    """A decision or action (a RAID item of the node's own log) taken at a cycle, and what it
    concerns: a work item and/or an exception. One row per affected item. The OTCs it answers
    are not cycle links but facts of the decision: :class:`~bigov.governance.decision_links.
    DecisionOtc`."""

    __tablename__ = "cycle_decision"

    id: Mapped[int] = _pk()
    cycle_id: Mapped[int] = id_fk("gov_cycle.id", nullable=False, ondelete="CASCADE")
    raid_item_id: Mapped[int] = id_fk("raid_item.id", nullable=False, ondelete="CASCADE")
    work_item_id: Mapped[int | None] = id_fk("work_item.id", ondelete="SET NULL")
    exception_id: Mapped[int | None] = id_fk("cycle_exception.id", ondelete="SET NULL")


class CycleArtefact(AuditMixin, Base):
    """A rendered pack file of a cycle."""

    __tablename__ = "cycle_artefact"
    __table_args__ = (UniqueConstraint("cycle_id", "format"),)

    id: Mapped[int] = _pk()
    cycle_id: Mapped[int] = id_fk("gov_cycle.id", nullable=False, ondelete="CASCADE")
    format: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


__all__ = [
    "Cycle",
    "CycleArtefact",
    "CycleDecision",
    "CycleEscalation",
    "CycleException",
    "CycleExceptionLink",
    "CycleSnapshot",
    "CycleStatus",
    "ExceptionStatus",
]
