"""Work: one hierarchy of accountable work (run and change), milestones, dependencies,
contributions to OTCs, gate decisions and periodic status reports."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Boolean, Date, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bigov.db.base import Entity, enum_type, id_fk


class WorkKind(enum.StrEnum):
    PORTFOLIO = "portfolio"
    PROGRAMME = "programme"
    PROJECT = "project"
    WORKSTREAM = "workstream"
    PRODUCT = "product"


class Nature(enum.StrEnum):
    RUN = "run"
    CHANGE = "change"


class Category(enum.StrEnum):
    """The run / grow / transform split a board sets for its one pot of money and people."""

    RUN = "run"
    GROW = "grow"
    TRANSFORM = "transform"


class Phase(enum.StrEnum):
    IDENTIFICATION = "identification"
    DEFINITION = "definition"
    DELIVERY = "delivery"
    CLOSURE = "closure"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Confidence(enum.StrEnum):
    """Delivery Confidence Assessment, five-point scale (UK practice). Order matters: best first."""

    GREEN = "green"
    AMBER_GREEN = "amber/green"
    AMBER = "amber"
    AMBER_RED = "amber/red"
    RED = "red"

    @property
    def score(self) -> int:
        """5 (green) .. 1 (red): higher is better, so trends and averages read naturally."""
        return 5 - list(Confidence).index(self)


class Rag(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class GateOutcome(enum.StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    DEFERRED = "deferred"
    REJECTED = "rejected"


class DependencyKind(enum.StrEnum):
    FINISH_TO_START = "finish_to_start"
    START_TO_START = "start_to_start"
    NEEDS = "needs"  # the successor cannot go ahead at all without the predecessor (selection)


class WorkItem(Entity):
    """A portfolio, programme, project, workstream or product; ``parent_id`` makes the hierarchy.

    Run and change live in the same table on purpose: the border between a project and a BAU
    workstream is arbitrary and both consume the same money and people.
    """

    __tablename__ = "work_item"

    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[WorkKind] = mapped_column(enum_type(WorkKind))
    parent_id: Mapped[int | None] = id_fk("work_item.id")
    nature: Mapped[Nature] = mapped_column(enum_type(Nature), default=Nature.CHANGE)
    category: Mapped[Category] = mapped_column(enum_type(Category), default=Category.TRANSFORM)
    phase: Mapped[Phase] = mapped_column(enum_type(Phase), default=Phase.IDENTIFICATION)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[int | None] = id_fk("person.id")  # SRO / accountable person
    governing_node_id: Mapped[int | None] = id_fk("governance_node.id")
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id")
    baseline_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    baseline_finish: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    forecast_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    forecast_finish: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    actual_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    actual_finish: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    percent_complete: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    whole_life_cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)

    parent: Mapped[WorkItem | None] = relationship(remote_side="WorkItem.id")


class Milestone(Entity):
    __tablename__ = "milestone"

    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    name: Mapped[str] = mapped_column(String(255))
    baseline_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    forecast_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    actual_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)


class Dependency(Entity):
    """``successor`` depends on ``predecessor``."""

    __tablename__ = "dependency"
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id"),)

    predecessor_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    successor_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    kind: Mapped[DependencyKind] = mapped_column(
        enum_type(DependencyKind), default=DependencyKind.FINISH_TO_START
    )
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class Contribution(Entity):
    """How much of an OTC a work item serves; weights of one OTC's contributors should sum to 1."""

    __tablename__ = "contribution"
    __table_args__ = (UniqueConstraint("work_item_id", "otc_id"),)

    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    otc_id: Mapped[int] = id_fk("otc.id", nullable=False, ondelete="CASCADE")
    weight: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal("1"))


class GateDecision(Entity):
    """A lifecycle gate: moving a work item into ``to_phase``, decided by a node on a date."""

    __tablename__ = "gate_decision"

    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    to_phase: Mapped[Phase] = mapped_column(enum_type(Phase))
    outcome: Mapped[GateOutcome] = mapped_column(enum_type(GateOutcome))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    node_id: Mapped[int | None] = id_fk("governance_node.id")
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class StatusReport(Entity):
    """A work item's status for one period (month start): DCA plus RAG by dimension."""

    __tablename__ = "status_report"
    __table_args__ = (UniqueConstraint("work_item_id", "period"),)

    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    confidence: Mapped[Confidence | None] = mapped_column(enum_type(Confidence), nullable=True)
    overall: Mapped[Rag | None] = mapped_column(enum_type(Rag), nullable=True)
    schedule: Mapped[Rag | None] = mapped_column(enum_type(Rag), nullable=True)
    cost: Mapped[Rag | None] = mapped_column(enum_type(Rag), nullable=True)
    scope: Mapped[Rag | None] = mapped_column(enum_type(Rag), nullable=True)
    benefits: Mapped[Rag | None] = mapped_column(enum_type(Rag), nullable=True)
    risk: Mapped[Rag | None] = mapped_column(enum_type(Rag), nullable=True)
    resources: Mapped[Rag | None] = mapped_column(enum_type(Rag), nullable=True)
    narrative: Mapped[str | None] = mapped_column(Text, nullable=True)
    reported_by_id: Mapped[int | None] = id_fk("person.id")
    reported_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
