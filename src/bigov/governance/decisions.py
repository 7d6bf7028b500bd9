"""Decisions and actions taken at a sitting, recorded against the cycle and the items they affect.

A decision or action is a RAID item (kind ``decision`` / ``action``) of the node's own log, linked
to the cycle by :class:`~bigov.governance.cycle_models.CycleDecision` rows (one per affected work
item, or one with no item). Recording a decision does not change the cycle's snapshot: a published
pack stays as published, and the *next* cycle of the node shows open actions and how the items a
decision concerned have moved since.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bigov.db.service import get_by_code
from bigov.errors import ConfigError
from bigov.governance.cycle import get_cycle
from bigov.governance.cycle_models import Cycle, CycleDecision, CycleException
from bigov.governance.models import GovernanceNode
from bigov.org.models import Person
from bigov.raid.models import RaidItem, RaidKind
from bigov.work.models import WorkItem

if TYPE_CHECKING:
    from bigov.workspace import Workspace

KINDS = {"decision": RaidKind.DECISION, "action": RaidKind.ACTION}


def add_decision(
    ws: Workspace,
    cycle: str,
    title: str,
    *,
    kind: str = "decision",
    items: Sequence[str] = (),
    exception: str | None = None,
    owner: str | None = None,
    due: dt.date | None = None,
    description: str | None = None,
    written_by: str | None = None,
) -> str:
    """Record a decision or action taken at ``cycle``; returns the new RAID item's code
    (``NODE-D001`` / ``NODE-A001``).

    Raises:
        ConfigError: unknown kind or empty title.
        NotFoundError: unknown cycle, work item, exception or owner (nothing is written).
    """
    if kind not in KINDS:
        raise ConfigError(f"kind must be decision or action, not {kind!r}")
    if not title.strip():
        raise ConfigError("a decision needs a title")
    with ws.session() as s:
        cyc = get_cycle(s, cycle)
        node = s.get(GovernanceNode, cyc.node_id)
        assert node is not None  # the FK guarantees it
        item_ids = [get_by_code(s, WorkItem, c).id for c in items]
        exc_id = None
        if exception:
            # a pack names a breach by its thread code (``X-…``); its row is per period
            ref = exception if "/" in exception else f"{exception}/{cyc.period:%Y-%m}"
            exc_id = get_by_code(s, CycleException, ref).id
        owner_id = get_by_code(s, Person, owner).id if owner else None
        prefix = f"{node.code}-{'D' if kind == 'decision' else 'A'}"
        n = int(
            s.scalar(
                select(func.count())
                .select_from(RaidItem)
                .where(RaidItem.code.startswith(prefix, autoescape=True))
            )
            or 0
        )
        code = f"{prefix}{n + 1:03d}"
        while s.scalar(select(RaidItem.id).where(RaidItem.code == code)) is not None:
            n += 1
            code = f"{prefix}{n + 1:03d}"
        raid = RaidItem(
            code=code,
            kind=KINDS[kind],
            title=title.strip()[:255],
            description=description,
            node_id=node.id,
            work_item_id=item_ids[0] if item_ids else None,
            owner_id=owner_id,
            raised_on=cyc.as_at,
            due_on=due,
            written_by=written_by,
        )
        s.add(raid)
        s.flush()
        targets: list[int | None] = list(item_ids) or [None]
        for wid in targets:
            s.add(
                CycleDecision(
                    cycle_id=cyc.id, raid_item_id=raid.id, work_item_id=wid, exception_id=exc_id
                )
            )
        return code


def list_decisions(
    ws: Workspace, *, node: str | None = None, cycle: str | None = None
) -> list[dict[str, Any]]:
    """Decisions and actions recorded at cycles (optionally of one node or one cycle)."""
    with ws.session() as s:
        q = (
            select(
                CycleDecision,
                Cycle.code,
                RaidItem,
                GovernanceNode.code,
                WorkItem.code,
                CycleException.code,
            )
            .join(Cycle, Cycle.id == CycleDecision.cycle_id)
            .join(RaidItem, RaidItem.id == CycleDecision.raid_item_id)
            .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
            .outerjoin(WorkItem, WorkItem.id == CycleDecision.work_item_id)
            .outerjoin(CycleException, CycleException.id == CycleDecision.exception_id)
            .order_by(Cycle.period, RaidItem.code)
        )
        if node:
            q = q.where(GovernanceNode.code == node)
        if cycle:
            q = q.where(Cycle.id == get_cycle(s, cycle).id)
        out: dict[str, dict[str, Any]] = {}
        for _link, ccode, raid, ncode, wcode, xcode in s.execute(q):
            row = out.setdefault(
                raid.code,
                {
                    "code": raid.code,
                    "kind": raid.kind.value,
                    "title": raid.title,
                    "status": raid.status.value,
                    "node": ncode,
                    "cycle": ccode,
                    "due_on": raid.due_on.isoformat() if raid.due_on else None,
                    "decided_on": raid.raised_on.isoformat() if raid.raised_on else None,
                    "items": [],
                    # the breach's thread code, as packs show it (the row is per period)
                    "exception": xcode.split("/")[0] if xcode else None,
                },
            )
            if wcode:
                row["items"].append(wcode)
        return list(out.values())


__all__ = ["add_decision", "list_decisions"]
