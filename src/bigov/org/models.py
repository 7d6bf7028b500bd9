"""Organisation: units (a hierarchy), people, roles, management teams and their business plans."""

from __future__ import annotations

import enum

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bigov.db.base import Entity, enum_type, id_fk


class OrgUnitKind(enum.StrEnum):
    GROUP = "group"
    DIVISION = "division"
    BUSINESS_UNIT = "business_unit"
    DEPARTMENT = "department"
    TEAM = "team"
    FUNCTION = "function"


class OrgUnit(Entity):
    """A node of the organisation structure; ``parent_id`` makes the hierarchy."""

    __tablename__ = "org_unit"

    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[OrgUnitKind] = mapped_column(
        enum_type(OrgUnitKind), default=OrgUnitKind.DEPARTMENT
    )
    parent_id: Mapped[int | None] = id_fk("org_unit.id")
    cost_centre: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side="OrgUnit.id")


class Role(Entity):
    """A job role a person holds (e.g. SRO, business change manager, finance business partner)."""

    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class Person(Entity):
    """Someone accountable for something: an owner, SRO, chair, member, benefit owner."""

    __tablename__ = "person"

    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id")
    role_id: Mapped[int | None] = id_fk("role.id")

    org_unit: Mapped[OrgUnit | None] = relationship()
    role: Mapped[Role | None] = relationship()


class ManagementTeam(Entity):
    """A BAU team or department leadership that runs a business plan answering its Targets."""

    __tablename__ = "management_team"

    name: Mapped[str] = mapped_column(String(255))
    org_unit_id: Mapped[int] = id_fk("org_unit.id", nullable=False)
    lead_id: Mapped[int | None] = id_fk("person.id")

    org_unit: Mapped[OrgUnit] = relationship()
    lead: Mapped[Person | None] = relationship()


class BusinessPlan(Entity):
    """A management team's plan for one fiscal year; it answers Targets (``BusinessPlanTarget``)."""

    __tablename__ = "business_plan"
    __table_args__ = (UniqueConstraint("management_team_id", "fiscal_year"),)

    management_team_id: Mapped[int] = id_fk("management_team.id", nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="approved")
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)

    management_team: Mapped[ManagementTeam] = relationship()


class BusinessPlanTarget(Entity):
    """A Target (an OTC of kind target) taken into a business plan."""

    __tablename__ = "business_plan_target"
    __table_args__ = (UniqueConstraint("business_plan_id", "otc_id"),)

    business_plan_id: Mapped[int] = id_fk("business_plan.id", nullable=False, ondelete="CASCADE")
    otc_id: Mapped[int] = id_fk("otc.id", nullable=False, ondelete="CASCADE")
