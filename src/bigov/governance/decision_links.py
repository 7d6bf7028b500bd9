"""Which OTCs (and which version of each) a decision answers. A decision may answer several;
the version is the one it was taken against (named, or else the one in force on the day it was
taken), so a later revision of the objective does not rewrite what the board decided against.

This is the one store of a decision's OTCs: the CLI, the web sitting form and imports all write
it (an import kind, ``decision_otc``: ``raid_item``, ``otc``, ``otc_version``; its code is
``<decision>/<otc>``).
"""

from __future__ import annotations

from sqlalchemy import Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import Entity, id_fk


class DecisionOtc(Entity):
    __tablename__ = "decision_otc"
    __table_args__ = (UniqueConstraint("raid_item_id", "otc_id"),)

    raid_item_id: Mapped[int] = id_fk("raid_item.id", nullable=False, ondelete="CASCADE")
    otc_id: Mapped[int] = id_fk("otc.id", nullable=False, ondelete="CASCADE")
    # the version number (``OtcVersion.version``); with ``otc_id`` it names one version row
    otc_version: Mapped[int] = mapped_column(Integer)


__all__ = ["DecisionOtc"]
