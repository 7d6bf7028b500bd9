"""Recording what a board decides at its sitting, from a form: a decision (its date, the cycle,
the items and the OTCs — at the version in force — it answers, its owner) or an action (its
owner and due date). Every field is checked first and every problem reported at once; nothing
is written unless all pass. The writing itself is :func:`bigov.governance.decisions.add_decision`
(one RAID item, linked to the cycle and the items), plus the OTC links in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from sqlalchemy import select

from bigov.errors import Problem, ValidationError
from bigov.governance.cycle import get_cycle
from bigov.governance.cycle_models import CycleDecision, CycleException
from bigov.governance.decision_links import DecisionOtc
from bigov.governance.decisions import KINDS
from bigov.governance.models import GovernanceNode
from bigov.org.models import Person
from bigov.raid.models import RaidItem
from bigov.strategy.models import Otc, OtcVersion
from bigov.work.models import WorkItem

if TYPE_CHECKING:
    from bigov.workspace import Workspace


class SittingRecord(BaseModel):
    """A decision or action as entered at the sitting (strings as typed; checked by
    :func:`record`)."""

    kind: str = "decision"
    title: str = ""
    decided_on: str = ""
    items: list[str] = Field(default_factory=list)
    otcs: list[str] = Field(default_factory=list)  # "CODE" or "CODE@vN"
    exception: str | None = None
    owner: str = ""
    due_on: str = ""
    description: str = ""


class Recorded(BaseModel):
    code: str
    kind: str
    cycle: str
    otcs: list[str]


def _date(value: str, field: str, problems: list[Problem]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        problems.append(Problem(f"{value!r} is not a date (YYYY-MM-DD)", column=field))
        return None


def record(ws: Workspace, cycle: str, entry: SittingRecord, *, written_by: str) -> Recorded:
    """Validate ``entry`` and record it at ``cycle``.

    Raises:
        ValidationError: one Problem per bad field (``column`` names the form field); nothing
            is written.
        NotFoundError: unknown cycle.
    """
    problems: list[Problem] = []
    kind = entry.kind.strip()
    if kind not in KINDS:
        problems.append(Problem("choose decision or action", column="kind"))
    title = entry.title.strip()
    if not title:
        problems.append(Problem("say what was decided or is to be done", column="title"))
    elif len(title) > 255:
        problems.append(Problem("at most 255 characters", column="title"))
    decided = _date(entry.decided_on, "decided_on", problems) if entry.decided_on.strip() else None
    due = _date(entry.due_on, "due_on", problems) if entry.due_on.strip() else None
    if kind == "action" and due is None and not entry.due_on.strip():
        problems.append(Problem("an action needs a due date", column="due_on"))
    if kind == "decision" and decided is None and not entry.decided_on.strip():
        problems.append(Problem("a decision needs the date it was taken", column="decided_on"))
    if not entry.owner.strip():
        problems.append(Problem("name who owns it (a person's code)", column="owner"))
    otc_links: list[tuple[int, int, str]] = []
    with ws.session() as s:
        cyc = get_cycle(s, cycle)
        if decided is not None and decided < cyc.period_start:
            problems.append(
                Problem(f"before the cycle's period (from {cyc.period_start})", column="decided_on")
            )
        if due is not None and decided is not None and due < decided:
            problems.append(Problem("due before the decision date", column="due_on"))
        owner = entry.owner.strip()
        if owner and s.scalar(select(Person.id).where(Person.code == owner)) is None:
            problems.append(Problem(f"no person with code {owner!r}", column="owner", value=owner))
        codes = [c.strip() for c in entry.items if c.strip()]
        found = set(s.scalars(select(WorkItem.code).where(WorkItem.code.in_(codes))))
        for c in codes:
            if c not in found:
                problems.append(Problem(f"no work item {c!r}", column="items", value=c))
        for raw in (o.strip() for o in entry.otcs if o.strip()):
            code, _, ver = raw.partition("@v")
            otc = s.scalar(select(Otc).where(Otc.code == code))
            if otc is None:
                problems.append(Problem(f"no OTC {code!r}", column="otcs", value=raw))
                continue
            version = otc.version
            if ver:
                known = (
                    s.scalar(
                        select(OtcVersion.version).where(
                            OtcVersion.otc_id == otc.id, OtcVersion.version == int(ver)
                        )
                    )
                    if ver.isdigit()
                    else None
                )
                if known is None and not (ver.isdigit() and int(ver) == otc.version):
                    problems.append(
                        Problem(f"{code} has no version {ver}", column="otcs", value=raw)
                    )
                    continue
                version = int(ver)
            otc_links.append((otc.id, version, f"{code}@v{version}"))
        if entry.exception:
            ref = entry.exception
            ref = ref if "/" in ref else f"{ref}/{cyc.period:%Y-%m}"
            if s.scalar(select(CycleException.id).where(CycleException.code == ref)) is None:
                problems.append(Problem(f"no exception {entry.exception!r}", column="exception"))
    if problems:
        raise ValidationError("the decision was not recorded: correct the fields shown", problems)
    code = ws.governance.add_decision(
        cycle,
        title,
        kind=kind,
        items=codes,
        exception=entry.exception or None,
        owner=entry.owner.strip(),
        due=due,
        description=entry.description.strip() or None,
        written_by=written_by,
    )
    with ws.session() as s:
        raid = s.scalar(select(RaidItem).where(RaidItem.code == code))
        assert raid is not None
        if decided is not None:
            raid.raised_on = decided
        for otc_id, version, _label in otc_links:
            s.add(DecisionOtc(raid_item_id=raid.id, otc_id=otc_id, otc_version=version))
        full = get_cycle(s, cycle).code
    return Recorded(code=code, kind=kind, cycle=full, otcs=[x[2] for x in otc_links])


class SittingEntry(BaseModel):
    code: str
    kind: str
    title: str
    status: str
    decided_on: dt.date | None
    due_on: dt.date | None
    owner: str | None
    items: list[str]
    otcs: list[str]


def recorded_at(ws: Workspace, cycle: str) -> list[SittingEntry]:
    """Decisions and actions recorded at ``cycle`` (three statements)."""
    with ws.session() as s:
        cyc = get_cycle(s, cycle)
        rows = s.execute(
            select(RaidItem, Person.name, WorkItem.code)
            .join(CycleDecision, CycleDecision.raid_item_id == RaidItem.id)
            .outerjoin(Person, Person.id == RaidItem.owner_id)
            .outerjoin(WorkItem, WorkItem.id == CycleDecision.work_item_id)
            .where(CycleDecision.cycle_id == cyc.id)
            .order_by(RaidItem.code)
        ).all()
        ids = {r.id for r, _, _ in rows}
        links: dict[int, list[str]] = {}
        for rid, code, ver in s.execute(
            select(DecisionOtc.raid_item_id, Otc.code, DecisionOtc.otc_version)
            .join(Otc, Otc.id == DecisionOtc.otc_id)
            .where(DecisionOtc.raid_item_id.in_(sorted(ids)))
        ):
            links.setdefault(rid, []).append(f"{code}@v{ver}")
        out: dict[str, SittingEntry] = {}
        for r, owner, item in rows:
            e = out.setdefault(
                r.code,
                SittingEntry(
                    code=r.code,
                    kind=r.kind.value,
                    title=r.title,
                    status=r.status.value,
                    decided_on=r.raised_on,
                    due_on=r.due_on,
                    owner=owner,
                    items=[],
                    otcs=sorted(links.get(r.id, [])),
                ),
            )
            if item:
                e.items.append(item)
        return list(out.values())


def node_people(ws: Workspace, node: str) -> list[tuple[str, str]]:
    """(code, name) of a board's chair and members: who usually owns its decisions (one
    statement; the form accepts any person's code)."""
    from sqlalchemy import or_

    from bigov.governance.models import NodeMember

    with ws.session() as s:
        node_id = s.scalar(select(GovernanceNode.id).where(GovernanceNode.code == node))
        chair = select(GovernanceNode.chair_id).where(GovernanceNode.id == node_id)
        members = select(NodeMember.person_id).where(NodeMember.node_id == node_id)
        rows = s.execute(
            select(Person.code, Person.name)
            .where(or_(Person.id.in_(chair), Person.id.in_(members)))
            .order_by(Person.name)
        ).all()
    return [(c, n) for c, n in rows]


__all__ = ["Recorded", "SittingEntry", "SittingRecord", "node_people", "record", "recorded_at"]
