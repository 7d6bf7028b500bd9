"""Finance: one organisation-wide pot split between run and change, and cost lines by period."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import Entity, enum_type, id_fk
from bigov.work.models import Nature


class Expenditure(enum.StrEnum):
    CAPEX = "capex"
    OPEX = "opex"


class FundingSource(Entity):
    """A pot of money. The root is organisation-wide; children split it (run / change, per BU)."""

    __tablename__ = "funding_source"

    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = id_fk("funding_source.id")
    nature: Mapped[Nature | None] = mapped_column(enum_type(Nature), nullable=True)
    fiscal_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class CostLine(Entity):
    """Budget, forecast and actual cost of a work item in one period (month start)."""

    __tablename__ = "cost_line"
    __table_args__ = (
        UniqueConstraint("work_item_id", "period", "expenditure", "funding_source_id"),
    )

    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    funding_source_id: Mapped[int | None] = id_fk("funding_source.id")
    expenditure: Mapped[Expenditure] = mapped_column(
        enum_type(Expenditure), default=Expenditure.OPEX
    )
    budget: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    forecast: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    actual: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
