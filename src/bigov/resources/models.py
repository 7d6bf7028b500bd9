"""Resources: skills, capacity by team/skill/period and demand (and actuals) by work item."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Date, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import Entity, enum_type, id_fk


class DemandStatus(enum.StrEnum):
    """Whether demand is only asked for or agreed: analyses count every demand that is not
    ``proposed`` (and demand with no status) as committed."""

    PROPOSED = "proposed"
    COMMITTED = "committed"


class Skill(Entity):
    """A skill or resource role (e.g. business analyst, data engineer)."""

    __tablename__ = "skill"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class Capacity(Entity):
    """FTE a team can supply of a skill in a period (month start)."""

    __tablename__ = "capacity"
    __table_args__ = (UniqueConstraint("org_unit_id", "skill_id", "period"),)

    org_unit_id: Mapped[int] = id_fk("org_unit.id", nullable=False)
    skill_id: Mapped[int] = id_fk("skill.id", nullable=False)
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    fte: Mapped[Decimal] = mapped_column(Numeric(10, 2))


class Demand(Entity):
    """FTE a work item needs of a skill in a period, and what it actually used."""

    __tablename__ = "demand"
    __table_args__ = (UniqueConstraint("work_item_id", "skill_id", "org_unit_id", "period"),)

    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    skill_id: Mapped[int] = id_fk("skill.id", nullable=False)
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id")  # supplying team, when known
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    fte: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    actual_fte: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    # the hours behind the FTE, when the source gives them (schedules, Project Online): work
    # reconciles to the hundredth against the source, which FTE (rounded per month) cannot
    hours: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    status: Mapped[DemandStatus | None] = mapped_column(enum_type(DemandStatus), nullable=True)
