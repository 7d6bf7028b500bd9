"""Queries and commands of the RAID context."""

from __future__ import annotations

from sqlalchemy import select

from bigov.db.service import Service
from bigov.raid.models import RaidItem, RaidKind, RaidStatus


class RaidService(Service):
    """RAID logs of items and of governance nodes."""

    def open_items(self, kind: RaidKind | None = None) -> list[RaidItem]:
        """Open (not closed) RAID entries, optionally of one kind, by code."""
        with self.ws.session() as s:
            q = select(RaidItem).where(RaidItem.status != RaidStatus.CLOSED)
            if kind is not None:
                q = q.where(RaidItem.kind == kind)
            return list(s.scalars(q.order_by(RaidItem.code)))

    def risks_above(self, score: int) -> list[RaidItem]:
        """Open risks whose probability × impact exceeds ``score`` (risk appetite), worst first."""
        product = RaidItem.probability * RaidItem.impact
        with self.ws.session() as s:
            return list(
                s.scalars(
                    select(RaidItem)
                    .where(
                        RaidItem.kind == RaidKind.RISK,
                        RaidItem.status != RaidStatus.CLOSED,
                        product > score,
                    )
                    .order_by(product.desc(), RaidItem.code)
                )
            )
