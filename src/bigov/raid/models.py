"""RAID: risks, issues, actions, decisions, assumptions — held by entities and by nodes alike."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import Entity, enum_type, id_fk


class RaidKind(enum.StrEnum):
    RISK = "risk"
    ISSUE = "issue"
    ACTION = "action"
    DECISION = "decision"
    ASSUMPTION = "assumption"


class RaidStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class RaidItem(Entity):
    """One log entry. It is attached to what it concerns — a work item, a benefit, an OTC, an
    organisation unit — or to a governance node's own log (a node keeps a RAID of its own, separate
    from the RAID of the items it governs). One table for the five kinds because they share almost
    every column and are listed together on agendas.

    Risk score = probability × impact, each on a 1–5 scale.
    """

    __tablename__ = "raid_item"
    __table_args__ = (
        CheckConstraint("probability IS NULL OR (probability BETWEEN 1 AND 5)", name="probability"),
        CheckConstraint("impact IS NULL OR (impact BETWEEN 1 AND 5)", name="impact"),
    )

    kind: Mapped[RaidKind] = mapped_column(enum_type(RaidKind), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[RaidStatus] = mapped_column(enum_type(RaidStatus), default=RaidStatus.OPEN)
    owner_id: Mapped[int | None] = id_fk("person.id")
    work_item_id: Mapped[int | None] = id_fk("work_item.id", ondelete="CASCADE")
    benefit_id: Mapped[int | None] = id_fk("benefit.id", ondelete="CASCADE")
    otc_id: Mapped[int | None] = id_fk("otc.id", ondelete="CASCADE")
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id")
    node_id: Mapped[int | None] = id_fk("governance_node.id", ondelete="CASCADE")
    probability: Mapped[int | None] = mapped_column(Integer, nullable=True)
    impact: Mapped[int | None] = mapped_column(Integer, nullable=True)
    proximity: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # when it may bite
    raised_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    # decisions: the day it was decided (the OTCs it answers, each at a version, are
    # :class:`bigov.governance.decision_links.DecisionOtc` rows)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    @property
    def score(self) -> int | None:
        """probability × impact (1–25), or None when either is unknown."""
        if self.probability is None or self.impact is None:
            return None
        return self.probability * self.impact
