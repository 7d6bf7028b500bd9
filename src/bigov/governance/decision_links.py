"""Which OTCs (and which version of each) a decision taken at a sitting answers. A decision may
answer several; the version is the one in force when it was taken, so a later revision of the
objective does not rewrite what the board decided against."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import Base, id_fk


class DecisionOtc(Base):
    __tablename__ = "decision_otc"
    __table_args__ = (UniqueConstraint("raid_item_id", "otc_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    raid_item_id: Mapped[int] = id_fk("raid_item.id", nullable=False, ondelete="CASCADE")
    otc_id: Mapped[int] = id_fk("otc.id", nullable=False, ondelete="CASCADE")
    otc_version: Mapped[int] = mapped_column(Integer)
