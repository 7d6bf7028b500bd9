"""Recording what a board decides at its sitting, from a form: a decision (its date, the cycle,
the items and the OTCs — at the version in force — it answers, its owner) or an action (its
owner and due date). The form's own rules (dates as typed, an owner, a decision's date, an
action's due date) are checked here; everything else, and the writing, is
:func:`bigov.governance.decisions.record_decision`, the same function ``bigov decision add``
calls. Every problem is reported at once; nothing is written unless all pass.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from sqlalchemy import select

from bigov.errors import Problem
from bigov.governance.decisions import DecisionEntry, Recorded, list_decisions
from bigov.governance.models import GovernanceNode
from bigov.org.models import Person

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
    decided = _date(entry.decided_on, "decided_on", problems) if entry.decided_on.strip() else None
    due = _date(entry.due_on, "due_on", problems) if entry.due_on.strip() else None
    # the form asks for what the CLI may leave to defaults: a sitting minutes who and when
    if kind == "action" and not entry.due_on.strip():
        problems.append(Problem("an action needs a due date", column="due_on"))
    if kind == "decision" and not entry.decided_on.strip():
        problems.append(Problem("a decision needs the date it was taken", column="decided_on"))
    if not entry.owner.strip():
        problems.append(Problem("name who owns it (a person's code)", column="owner"))
    return ws.governance.record_decision(
        cycle,
        DecisionEntry(
            kind=kind,
            title=entry.title,
            decided_on=decided,
            due_on=due,
            items=entry.items,
            otcs=entry.otcs,
            exception=entry.exception or None,
            owner=entry.owner.strip() or None,
            description=entry.description.strip() or None,
        ),
        written_by=written_by,
        problems=problems,
    )


class SittingEntry(BaseModel):
    code: str
    kind: str
    title: str
    status: str
    decided_on: dt.date | None
    due_on: dt.date | None
    owner: str | None
    items: list[str]
    otcs: list[str]  # "CODE@vN"


def recorded_at(ws: Workspace, cycle: str) -> list[SittingEntry]:
    """Decisions and actions recorded at ``cycle``: the rows of ``bigov decision list``, with
    the owner's name for the page."""
    rows = list_decisions(ws, cycle=cycle)
    owners = {r["owner"] for r in rows if r["owner"]}
    names: dict[str, str] = {}
    if owners:
        with ws.session() as s:
            names = dict(
                s.execute(
                    select(Person.code, Person.name).where(Person.code.in_(sorted(owners)))
                ).all()
            )
    return [
        SittingEntry(
            code=r["code"],
            kind=r["kind"],
            title=r["title"],
            status=r["status"],
            decided_on=dt.date.fromisoformat(r["decided_on"]) if r["decided_on"] else None,
            due_on=dt.date.fromisoformat(r["due_on"]) if r["due_on"] else None,
            owner=names.get(r["owner"], r["owner"]),
            items=r["items"],
            otcs=r["otc_versions"],
        )
        for r in sorted(rows, key=lambda r: str(r["code"]))
    ]


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
