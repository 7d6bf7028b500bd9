"""Decisions and actions taken at a sitting, recorded against the cycle and what they affect.

A decision or action is a RAID item (kind ``decision`` / ``action``) of the node's own log, linked
to the cycle by :class:`~bigov.governance.cycle_models.CycleDecision` rows (one per affected work
item, or one with none). The OTCs a decision answers are
:class:`~bigov.governance.decision_links.DecisionOtc` rows, each at a version: the one named
(``OBJ-1@v2``) or else the one in force on the day it was taken. A decision is dated: its
``decided_on`` is the day given, or else the as-at date of its cycle (the day the pack's figures
stand at). :func:`record_decision` is the one way a decision is recorded: the CLI
(``bigov decision add``) and the web sitting form both call it. Recording a decision does not
change the cycle's snapshot: a published pack stays as published, and the *next* cycle of the
node shows open actions and how the items a decision concerned have moved since.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bigov.errors import Problem, UnknownReferenceError, ValidationError
from bigov.governance.cycle import get_cycle
from bigov.governance.cycle_models import Cycle, CycleDecision, CycleException
from bigov.governance.decision_links import DecisionOtc
from bigov.governance.models import GovernanceNode
from bigov.org.models import Person
from bigov.raid.models import RaidItem, RaidKind
from bigov.strategy.models import Otc, OtcVersion
from bigov.work.models import WorkItem

if TYPE_CHECKING:
    from bigov.workspace import Workspace

KINDS = {"decision": RaidKind.DECISION, "action": RaidKind.ACTION}


class DecisionEntry(BaseModel):
    """A decision or action to record at a cycle (checked by :func:`record_decision`)."""

    kind: str = "decision"
    title: str = ""
    decided_on: dt.date | None = None  # default: the cycle's as-at date
    due_on: dt.date | None = None
    items: list[str] = Field(default_factory=list)  # work item codes
    otcs: list[str] = Field(default_factory=list)  # "CODE" or "CODE@vN"
    exception: str | None = None  # the breach's thread code (``X-…``) or its row code
    owner: str | None = None  # a person's code
    description: str | None = None


class Recorded(BaseModel):
    """What :func:`record_decision` wrote."""

    code: str
    kind: str
    cycle: str
    otcs: list[str]  # "CODE@vN", the version each OTC was decided against


def _otc_link(
    s: Session, raw: str, day: dt.date, problems: list[Problem]
) -> tuple[int, int, str] | None:
    """(otc id, version, "CODE@vN") of ``raw`` ("CODE" or "CODE@vN"), or None with a problem."""
    code, sep, ver = raw.partition("@v")
    otc = s.scalar(select(Otc).where(Otc.code == code))
    if otc is None:
        problems.append(Problem(f"no OTC {code!r}", column="otcs", value=raw))
        return None
    if sep:
        if not ver.isdigit():  # a malformed reference, not an unknown one (exit 6, not 4)
            problems.append(
                Problem(f"write a version as {code}@v2, not @v{ver}", column="otcs", value=raw)
            )
            return None
        found = s.scalar(
            select(OtcVersion.version).where(
                OtcVersion.otc_id == otc.id, OtcVersion.version == int(ver)
            )
        )
        if found is None:
            problems.append(Problem(f"no version {ver} of {code}", column="otcs", value=raw))
            return None
        return otc.id, found, f"{code}@v{found}"
    # no version named: the one in force the day it was decided (the current one if none was)
    in_force = s.scalar(
        select(OtcVersion.version)
        .where(
            OtcVersion.otc_id == otc.id,
            OtcVersion.effective_from <= day,
            or_(OtcVersion.effective_to.is_(None), OtcVersion.effective_to > day),
        )
        .order_by(OtcVersion.version.desc())
        .limit(1)
    )
    version = in_force if in_force is not None else otc.version
    return otc.id, version, f"{code}@v{version}"


def record_decision(
    ws: Workspace,
    cycle: str,
    entry: DecisionEntry,
    *,
    written_by: str | None = None,
    problems: Sequence[Problem] = (),
) -> Recorded:
    """Check ``entry`` and record it at ``cycle`` in one transaction; the new RAID item's code
    is ``NODE-D001`` / ``NODE-A001``.

    ``problems`` are findings of the caller's own (a form's unparsable date, a field the form
    requires): they are reported together with this function's, so a person sees every bad field
    at once.

    Raises:
        ValidationError: one Problem per bad field (``column`` names the entry's field: kind,
            title, decided_on, due_on, owner, items, otcs, exception); nothing is written.
        NotFoundError: unknown cycle.
    """
    found: list[Problem] = list(problems)
    kind = entry.kind.strip()
    if kind not in KINDS:
        found.append(Problem("choose decision or action", column="kind", value=kind))
    title = entry.title.strip()
    if not title:
        found.append(Problem("say what was decided or is to be done", column="title"))
    elif len(title) > 255:
        found.append(Problem("at most 255 characters", column="title"))
    with ws.session() as s:
        cyc = get_cycle(s, cycle)
        node = s.get(GovernanceNode, cyc.node_id)
        assert node is not None  # the FK guarantees it
        day = entry.decided_on or cyc.as_at
        if entry.decided_on is not None and entry.decided_on < cyc.period_start:
            found.append(
                Problem(
                    f"before the cycle's period (from {cyc.period_start})",
                    column="decided_on",
                    value=entry.decided_on.isoformat(),
                )
            )
        if entry.due_on is not None and entry.due_on < day:
            found.append(
                Problem("due before the decision date", column="due_on", value=str(entry.due_on))
            )
        owner = (entry.owner or "").strip()
        owner_id = s.scalar(select(Person.id).where(Person.code == owner)) if owner else None
        if owner and owner_id is None:
            found.append(Problem(f"no person with code {owner!r}", column="owner", value=owner))
        codes = list(dict.fromkeys(c.strip() for c in entry.items if c.strip()))
        ids: dict[str, int] = dict(
            s.execute(select(WorkItem.code, WorkItem.id).where(WorkItem.code.in_(codes))).all()
        )
        found += [
            Problem(f"no work item {c!r}", column="items", value=c) for c in codes if c not in ids
        ]
        links: dict[int, tuple[int, str]] = {}
        for raw in (o.strip() for o in entry.otcs if o.strip()):
            link = _otc_link(s, raw, day, found)
            if link is None:
                continue
            if link[0] in links and links[link[0]][0] != link[1]:
                found.append(Problem("an OTC at two versions", column="otcs", value=raw))
            links.setdefault(link[0], (link[1], link[2]))
        exc_id = None
        if entry.exception and entry.exception.strip():
            # a pack names a breach by its thread code (``X-…``); its row is per period
            ref = entry.exception.strip()
            ref = ref if "/" in ref else f"{ref}/{cyc.period:%Y-%m}"
            exc_id = s.scalar(select(CycleException.id).where(CycleException.code == ref))
            if exc_id is None:
                found.append(
                    Problem(f"no exception {entry.exception!r}", column="exception", value=ref)
                )
        if found:
            # only unknown codes: exit 4, as for any code that names nothing (each such problem
            # above reads "no <what> <code>")
            unknown = all(p.reason.startswith("no ") for p in found)
            raise (UnknownReferenceError if unknown else ValidationError)(
                f"the {kind if kind in KINDS else 'decision'} was not recorded: "
                "correct the fields named",
                found,
            )
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
            title=title,
            description=(entry.description or "").strip() or None,
            node_id=node.id,
            work_item_id=ids[codes[0]] if codes else None,
            owner_id=owner_id,
            raised_on=day,
            decided_on=day if kind == "decision" else None,
            due_on=entry.due_on,
            written_by=written_by,
        )
        s.add(raid)
        s.flush()
        item_ids: list[int | None] = [ids[c] for c in codes]
        for wid in item_ids or [None]:
            s.add(
                CycleDecision(
                    cycle_id=cyc.id, raid_item_id=raid.id, work_item_id=wid, exception_id=exc_id
                )
            )
        labels = {otc_id: label for otc_id, (_v, label) in links.items()}
        for otc_id, (version, label) in links.items():
            s.add(
                DecisionOtc(
                    code=f"{code}/{label.partition('@v')[0]}",
                    raid_item_id=raid.id,
                    otc_id=otc_id,
                    otc_version=version,
                    written_by=written_by,
                )
            )
        return Recorded(code=code, kind=kind, cycle=cyc.code, otcs=list(labels.values()))


def list_decisions(
    ws: Workspace, *, node: str | None = None, cycle: str | None = None
) -> list[dict[str, Any]]:
    """Decisions and actions recorded at cycles (optionally of one node or one cycle): code,
    kind, title, status, node, cycle, decided_on, due_on, items, otcs (codes), otc_versions
    ("CODE@vN", the version each OTC was decided against), owner (code) and exception."""
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
        owner_of: dict[str, int] = {}
        raid_ids: dict[int, str] = {}
        for _link, ccode, raid, ncode, wcode, xcode in s.execute(q):
            decided = raid.decided_on or raid.raised_on
            raid_ids[raid.id] = raid.code
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
                    "otc_versions": [],
                    "owner": None,
                    # the breach's thread code, as packs show it (the row is per period)
                    "exception": xcode.split("/")[0] if xcode else None,
                },
            )
            if raid.owner_id is not None:
                owner_of[raid.code] = raid.owner_id
            if wcode and wcode not in row["items"]:
                row["items"].append(wcode)
        for rid, ocode, version in (
            s.execute(
                select(DecisionOtc.raid_item_id, Otc.code, DecisionOtc.otc_version)
                .join(Otc, Otc.id == DecisionOtc.otc_id)
                .where(DecisionOtc.raid_item_id.in_(sorted(raid_ids)))
                .order_by(DecisionOtc.id)
            )
            if raid_ids
            else ()
        ):
            row = out[raid_ids[rid]]
            row["otcs"].append(ocode)
            row["otc_versions"].append(f"{ocode}@v{version}")
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


__all__ = ["KINDS", "DecisionEntry", "Recorded", "list_decisions", "record_decision"]
