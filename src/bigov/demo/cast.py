"""Who plays the demo's people: the first programme and the first benefit with an owner.

The demo users (scripts/demo_users.py), the web benchmark and the web tests all seat their
programme manager and benefit owner on these two, so they agree on who sees what."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.benefits.models import Benefit
from bigov.work.models import WorkItem, WorkKind


def cast(s: Session) -> tuple[WorkItem | None, Benefit | None]:
    """The first programme and the first owned benefit, by code (None where the data has none)."""
    programme = s.scalars(
        select(WorkItem).where(WorkItem.kind == WorkKind.PROGRAMME).order_by(WorkItem.code)
    ).first()
    benefit = s.scalars(
        select(Benefit).where(Benefit.owner_id.is_not(None)).order_by(Benefit.code)
    ).first()
    return programme, benefit
