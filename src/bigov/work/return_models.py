"""A project manager's monthly return while it is being written: one row per item and month,
held as a draft until it is submitted (then its values are written to the status report, cost
forecasts, milestone forecasts and RAID log in one unit of work, and the row stays as the
record of what was submitted)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base, enum_type, id_fk


class ReturnStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class MonthlyReturn(AuditMixin, Base):
    __tablename__ = "monthly_return"
    __table_args__ = (UniqueConstraint("work_item_id", "period"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    period: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[ReturnStatus] = mapped_column(enum_type(ReturnStatus))
    # the form's values as entered (validated): what a draft resumes from
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
