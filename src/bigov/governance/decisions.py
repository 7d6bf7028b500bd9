"""Decisions and actions taken at a sitting, recorded against the cycle and the items they affect.

A decision or action is a RAID item (kind ``decision`` / ``action``) of the node's own log, linked
to the cycle by :class:`~bigov.governance.cycle_models.CycleDecision` rows (one per affected work
item or OTC, or one with neither). A decision is dated: ``decided_on`` is the day given, or else
the as-at date of its cycle (the day the pack's figures stand at). Recording a decision does not
change the cycle's snapshot: a published pack stays as published, and the *next* cycle of the
node shows open actions and how the items a decision concerned have moved since.
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
from bigov.strategy.models import Otc, OtcVersion
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
    decided_on: dt.date | None = None,
    otcs: Sequence[str] = (),
    otc_version: str | None = None,
) -> str:
    """Record a decision or action taken at ``cycle``; returns the new RAID item's code
    (``NODE-D001`` / ``NODE-A001``).

    ``decided_on`` defaults to the cycle's as-at date. ``otcs`` are the OTCs it concerns;
    ``otc_version`` (``OTC-1@v2``) the OTC version it decided, e.g. a change of deadline (its
    OTC counts as concerned too).

    Raises:
        ConfigError: unknown kind or empty title.
        NotFoundError: unknown cycle, work item, OTC, OTC version, exception or owner (nothing
            is written).
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
        otc_ids = [get_by_code(s, Otc, c).id for c in otcs]
        version = get_by_code(s, OtcVersion, otc_version) if otc_version else None
        if version is not None and version.otc_id not in otc_ids:
            otc_ids.append(version.otc_id)
        otc_ids = list(dict.fromkeys(otc_ids))
        day = decided_on or cyc.as_at
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
            otc_id=otc_ids[0] if otc_ids else None,
            otc_version_id=version.id if version is not None else None,
            owner_id=owner_id,
            raised_on=day,
            decided_on=day if kind == "decision" else None,
            due_on=due,
            written_by=written_by,
        )
        s.add(raid)
        s.flush()
        links: list[tuple[int | None, int | None]] = [(w, None) for w in item_ids]
        links += [(None, o) for o in otc_ids]
        for wid, oid in links or [(None, None)]:
            s.add(
                CycleDecision(
                    cycle_id=cyc.id,
                    raid_item_id=raid.id,
                    work_item_id=wid,
                    otc_id=oid,
                    exception_id=exc_id,
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
                Otc.code,
                OtcVersion.code,
            )
            .join(Cycle, Cycle.id == CycleDecision.cycle_id)
            .join(RaidItem, RaidItem.id == CycleDecision.raid_item_id)
            .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
            .outerjoin(WorkItem, WorkItem.id == CycleDecision.work_item_id)
            .outerjoin(CycleException, CycleException.id == CycleDecision.exception_id)
            .outerjoin(Otc, Otc.id == CycleDecision.otc_id)
            .outerjoin(OtcVersion, OtcVersion.id == RaidItem.otc_version_id)
            .order_by(Cycle.period, RaidItem.code)
        )
        if node:
            q = q.where(GovernanceNode.code == node)
        if cycle:
            q = q.where(Cycle.id == get_cycle(s, cycle).id)
        out: dict[str, dict[str, Any]] = {}
        owner_of: dict[str, int] = {}
        for _link, ccode, raid, ncode, wcode, xcode, ocode, vcode in s.execute(q):
            decided = raid.decided_on or raid.raised_on
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
                    "decided_on": decided.isoformat() if decided else None,
                    "items": [],
                    "otcs": [],
                    "otc_version": vcode,
                    "owner": None,
                    # the breach's thread code, as packs show it (the row is per period)
                    "exception": xcode.split("/")[0] if xcode else None,
                },
            )
            if raid.owner_id is not None:
                owner_of[raid.code] = raid.owner_id
            if wcode and wcode not in row["items"]:
                row["items"].append(wcode)
            if ocode and ocode not in row["otcs"]:
                row["otcs"].append(ocode)
        if owner_of:
            people = set(owner_of.values())
            names = {
                int(pid): str(pcode)
                for pid, pcode in s.execute(
                    select(Person.id, Person.code).where(Person.id.in_(people))
                )
            }
            for raid_code, person_id in owner_of.items():
                out[raid_code]["owner"] = names.get(person_id)
        return list(out.values())


__all__ = ["add_decision", "list_decisions"]
