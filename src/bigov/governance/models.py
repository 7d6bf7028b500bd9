"""Governance design as data: nodes, members, scope, tolerances, standing agenda, information
definitions (what MI a node needs, how often, in what form)."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bigov.db.base import Entity, enum_type, id_fk


class NodeKind(enum.StrEnum):
    MAIN_BOARD = "main_board"
    BOARD_SUBGROUP = "board_subgroup"
    PORTFOLIO_DIRECTION = "portfolio_direction"
    PORTFOLIO_PROGRESS = "portfolio_progress"
    PROGRAMME_BOARD = "programme_board"
    PROJECT_BOARD = "project_board"
    MANAGEMENT_TEAM = "management_team"
    FINANCE = "finance"
    BUSINESS_SUPPORT = "business_support"
    ASSURANCE = "assurance"


class Cadence(enum.StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


class ToleranceDimension(enum.StrEnum):
    COST_PCT = "cost_pct"  # forecast over budget, % of budget
    SCHEDULE_DAYS = "schedule_days"  # forecast finish later than baseline, days
    BENEFIT_PCT = "benefit_pct"  # forecast benefit short of plan, % of plan
    RISK_SCORE = "risk_score"  # probability × impact above which a risk is out of appetite
    CONFIDENCE = "confidence"  # lowest DCA score (1 red .. 5 green) tolerated


class AgendaSection(enum.StrEnum):
    PREPARATION = "preparation"
    PROGRESS = "progress"
    ENABLERS = "enablers"
    PREDICTION = "prediction"
    ACTIONS = "actions"


class InfoForm(enum.StrEnum):
    TABLE = "table"
    CHART = "chart"
    TREND = "trend"
    EXCEPTIONS = "exceptions"
    NARRATIVE = "narrative"


class GovernanceNode(Entity):
    """A point of accountability; ``parent_id`` is the node it escalates to."""

    __tablename__ = "governance_node"

    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[NodeKind] = mapped_column(enum_type(NodeKind))
    parent_id: Mapped[int | None] = id_fk("governance_node.id")
    chair_id: Mapped[int | None] = id_fk("person.id")
    cadence: Mapped[Cadence] = mapped_column(enum_type(Cadence), default=Cadence.MONTHLY)
    # the day it sits: day of month for monthly/quarterly cadences, ISO weekday for weekly
    sitting_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id")
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    # thresholds of the exception rules for this node's cycles (keys of
    # bigov.governance.rules.RuleSettings); unset keys take the workspace defaults
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    parent: Mapped[GovernanceNode | None] = relationship(remote_side="GovernanceNode.id")


class NodeMember(Entity):
    __tablename__ = "node_member"
    __table_args__ = (UniqueConstraint("node_id", "person_id"),)

    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    person_id: Mapped[int] = id_fk("person.id", nullable=False)
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)


class NodeScope(Entity):
    """One thing a node governs: a work item (and its descendants), an org unit, or an OTC."""

    __tablename__ = "node_scope"

    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    work_item_id: Mapped[int | None] = id_fk("work_item.id", ondelete="CASCADE")
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id", ondelete="CASCADE")
    otc_id: Mapped[int | None] = id_fk("otc.id", ondelete="CASCADE")


class Tolerance(Entity):
    """Delegated authority of a node on one dimension; a breach beyond it goes to the parent."""

    __tablename__ = "tolerance"
    __table_args__ = (UniqueConstraint("node_id", "dimension"),)

    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    dimension: Mapped[ToleranceDimension] = mapped_column(enum_type(ToleranceDimension))
    limit: Mapped[Decimal] = mapped_column(Numeric(12, 4))


class AgendaItem(Entity):
    """A standing agenda item of a node, in a section, in order."""

    __tablename__ = "agenda_item"

    node_id: Mapped[int] = id_fk("governance_node.id", nullable=False, ondelete="CASCADE")
    sequence: Mapped[int] = mapped_column(Integer)
    section: Mapped[AgendaSection] = mapped_column(enum_type(AgendaSection))
    title: Mapped[str] = mapped_column(String(255))


class InformationDefinition(Entity):
    """What information an agenda item needs: from which part of the data model (``source``, e.g.
    ``finance.cost`` or ``work.status``), at what period grain, in what form, how fresh."""

    __tablename__ = "information_definition"

    agenda_item_id: Mapped[int] = id_fk("agenda_item.id", nullable=False, ondelete="CASCADE")
    title: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    grain: Mapped[str] = mapped_column(String(16), default="month")
    form: Mapped[InfoForm] = mapped_column(enum_type(InfoForm), default=InfoForm.TABLE)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    freshness_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner_id: Mapped[int | None] = id_fk("person.id")  # who owes the data
    # the board sits only on assured data for this definition: figures built on data the PMO
    # has not yet accepted are marked in the pack (bigov.datacall)
    assurance_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
