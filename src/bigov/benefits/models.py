"""Benefits and dis-benefits: owned in the business, enabled by work, profiled by period."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Date, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import Entity, enum_type, id_fk


class BenefitKind(enum.StrEnum):
    BENEFIT = "benefit"
    DISBENEFIT = "disbenefit"


class BenefitCategory(enum.StrEnum):
    CASHABLE = "cashable"  # financial, releases money that can be taken out of budgets
    NON_CASHABLE = "non_cashable"  # financial value, but no budget released (time saved, ...)
    NON_FINANCIAL = "non_financial"  # measured in its own unit (satisfaction, carbon, ...)


class BenefitStatus(enum.StrEnum):
    IDENTIFIED = "identified"
    PLANNED = "planned"
    REALISING = "realising"
    REALISED = "realised"
    CLOSED = "closed"


class Benefit(Entity):
    """A measurable improvement (or dis-benefit) that a business unit owns and realises."""

    __tablename__ = "benefit"

    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[BenefitKind] = mapped_column(enum_type(BenefitKind), default=BenefitKind.BENEFIT)
    category: Mapped[BenefitCategory] = mapped_column(enum_type(BenefitCategory))
    status: Mapped[BenefitStatus] = mapped_column(
        enum_type(BenefitStatus), default=BenefitStatus.PLANNED
    )
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[int | None] = id_fk("person.id")
    owner_unit_id: Mapped[int | None] = id_fk("org_unit.id")  # business unit that owns it
    realising_team_id: Mapped[int | None] = id_fk("management_team.id")
    measure: Mapped[str | None] = mapped_column(String(255), nullable=True)  # how it is measured
    measure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # metrics series
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)  # GBP, hours, % ...
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)


class BenefitEnabler(Entity):
    """A work item that enables a benefit."""

    __tablename__ = "benefit_enabler"
    __table_args__ = (UniqueConstraint("benefit_id", "work_item_id"),)

    benefit_id: Mapped[int] = id_fk("benefit.id", nullable=False, ondelete="CASCADE")
    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")


class BenefitContribution(Entity):
    """An OTC a benefit contributes to."""

    __tablename__ = "benefit_contribution"
    __table_args__ = (UniqueConstraint("benefit_id", "otc_id"),)

    benefit_id: Mapped[int] = id_fk("benefit.id", nullable=False, ondelete="CASCADE")
    otc_id: Mapped[int] = id_fk("otc.id", nullable=False, ondelete="CASCADE")


class BenefitProfile(Entity):
    """Planned, forecast and actual value of a benefit in one period (month start)."""

    __tablename__ = "benefit_profile"
    __table_args__ = (UniqueConstraint("benefit_id", "period"),)

    benefit_id: Mapped[int] = id_fk("benefit.id", nullable=False, ondelete="CASCADE")
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    planned: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    forecast: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    actual: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
