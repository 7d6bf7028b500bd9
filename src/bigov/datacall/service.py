"""Data calls: who owes what for each sitting (queries and commands; nothing here prints).

What callers may rely on:

* :meth:`DataCallService.open` makes, for every node due in a period that has a data cut-off,
  one request per required information definition and owner: a status report of each live
  item the node expects to report (to the item's owner), an actual of each benefit of its scope
  that is due (to the benefit's owner), and the definition's data for the node's scope (to the
  definition's owner). A request several boards need is made once, due at the earliest cut-off.
  Opening the same call again changes nothing; opening after the design changed adds what is new.
* a request's state is derived from the data and the verdicts (:mod:`bigov.datacall.state`):
  the API, an import batch, the web form (:meth:`DataCallService.submit_status`,
  :meth:`~DataCallService.submit_benefit`) and any other writer all satisfy it the same way.
* every command takes a unit of work of its own and changes nothing when it raises.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from bigov.benefits.models import Benefit, BenefitEnabler, BenefitProfile
from bigov.datacall.calendar import (
    DueItem,
    Sitting,
    cutoff_days,
    sitting_for,
    sittings,
    to_ics,
)
from bigov.datacall.models import (
    Channel,
    DataNeed,
    DataRequest,
    DataSubmission,
    DataVerdict,
    RequestKind,
    Verdict,
)
from bigov.datacall.schemas import (
    OPEN_STATES,
    BenefitSubmission,
    NeedOut,
    NodeBoard,
    OpenResult,
    Rates,
    RequestDetail,
    RequestOut,
    Skipped,
    StatusSubmission,
    SubmissionOut,
    VerdictOut,
)
from bigov.datacall.state import Standing, needs_of, standings
from bigov.db.service import Service
from bigov.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from bigov.governance.models import (
    AgendaItem,
    Cadence,
    GovernanceNode,
    InformationDefinition,
    NodeMember,
)
from bigov.governance.periods import add_months, is_due, parse_period, period_label
from bigov.governance.readiness import DEFAULT_AGENDA, expected_reporters
from bigov.governance.sources import resolve_source
from bigov.governance.topology import Topology
from bigov.org.models import OrgUnit, Person
from bigov.work.models import StatusReport, WorkItem

if TYPE_CHECKING:
    from bigov.workspace import Workspace

STATUS_SOURCE = "work.status"

# called inside a write's own transaction (before, after), so the API's audit row commits with
# the write or not at all
AuditHook = Callable[[Session, BaseModel | None, BaseModel], None]


# -- opening a call ---------------------------------------------------------------------------
@dataclass
class _Wanted:
    code: str
    kind: RequestKind
    source: str
    title: str
    owner_id: int
    work_item_id: int | None = None
    benefit_id: int | None = None
    definition_code: str | None = None
    # (cut-off, node code, node id, definition code, sitting, assurance required)
    needs: list[tuple[dt.date, str, int, str, dt.date, bool]] = field(default_factory=list)


def request_code(period: str, kind: RequestKind, subject: str) -> str:
    """The stable code of a request: ``2026-10:status:PRJ-1``, ``2026-10:benefit:BEN-1``,
    ``2026-10:info:INF-1``. Letters, digits and ``._:-`` only, so it sits in a URL as is."""
    tag = {RequestKind.STATUS: "status", RequestKind.BENEFIT: "benefit"}.get(kind, "info")
    return f"{period}:{tag}:{subject}"


def _definitions(s: Session, node_id: int) -> list[dict[str, Any]]:
    """The node's agenda with its information definitions, plus the standard items of every
    section it leaves empty (as readiness assesses it)."""
    items: dict[int, dict[str, Any]] = {
        a.id: {"section": a.section.value, "title": a.title, "information": []}
        for a in s.scalars(
            select(AgendaItem).where(AgendaItem.node_id == node_id).order_by(AgendaItem.sequence)
        )
    }
    for d in s.scalars(
        select(InformationDefinition)
        .where(InformationDefinition.agenda_item_id.in_(list(items)))
        .order_by(InformationDefinition.code)
    ):
        items[d.agenda_item_id]["information"].append(
            {
                "code": d.code,
                "title": d.title,
                "source": d.source,
                "required": d.required,
                "owner_id": d.owner_id,
                "assured": d.assurance_required,
                "standard": False,
            }
        )
    own = list(items.values())
    sections = {a["section"] for a in own}
    for a in DEFAULT_AGENDA:
        if a["section"] not in sections:
            own.append(
                {
                    **a,
                    "information": [
                        {**d, "owner_id": None, "assured": False, "standard": True}
                        for d in a["information"]
                    ],
                }
            )
    return [d for a in own for d in a["information"]]


def _due_benefits(s: Session, topo: Topology, node_id: int, month: dt.date) -> list[int]:
    """Benefits of the node's scope that plan value by ``month`` (their actuals are owed), as
    readiness judges them due."""
    first = dict(
        s.execute(
            select(BenefitProfile.benefit_id, func.min(BenefitProfile.period))
            .where(BenefitProfile.planned.is_not(None), BenefitProfile.planned != 0)
            .group_by(BenefitProfile.benefit_id)
        ).all()
    )
    if topo.governs_everything(node_id):
        ids = set(first)
    else:
        scope = topo.scope(node_id)
        ids = {
            b
            for b, w in s.execute(select(BenefitEnabler.benefit_id, BenefitEnabler.work_item_id))
            if w in scope
        }
        units = topo.units_of(node_id)
        if units:
            ids |= set(
                s.scalars(select(Benefit.id).where(Benefit.owner_unit_id.in_(sorted(units))))
            )
    return sorted(b for b in ids if b in first and first[b] <= month)


def open_call(
    ws: Workspace,
    period: str,
    node: str | None = None,
    *,
    by: str | None = None,
    audit: AuditHook | None = None,
) -> OpenResult:
    """Open the data call of ``period`` (every node due then, or one node).

    Raises:
        ConfigError: bad period; the node named does not sit for the period or has no cut-off.
        NotFoundError: no such node.
    """
    month = parse_period(period)
    label = period_label(month)
    fy = ws.fiscal_year_start_month
    skipped: list[Skipped] = []
    with ws.session() as s:
        topo = Topology(s)
        if node is not None:
            info = topo.by_code.get(node)
            if info is None:
                raise NotFoundError(f"no governance node with code {node!r}")
            if not is_due(Cadence(info.cadence), month, fy):
                raise ConfigError(f"node {node} ({info.cadence}) does not sit for {label}")
            if cutoff_days(info.rules) is None:
                raise ConfigError(
                    f"node {node} has no data cut-off",
                    hint="set rules: {data_cutoff_days: N} for it in the governance design",
                )
            nodes = [info]
        else:
            nodes = [n for n in topo.nodes.values() if is_due(Cadence(n.cadence), month, fy)]
        item_owner = dict(s.execute(select(WorkItem.id, WorkItem.owner_id)).all())
        benefits = {
            b.id: (b.code, b.name, b.owner_id)
            for b in s.execute(select(Benefit.id, Benefit.code, Benefit.name, Benefit.owner_id))
        }
        wanted: dict[str, _Wanted] = {}
        covered: list[str] = []
        for n in sorted(nodes, key=lambda x: x.code):
            days = cutoff_days(n.rules)
            if days is None:
                skipped.append(Skipped(node=n.code, reason="no data cut-off in the design"))
                continue
            sit = sitting_for(n.code, n.name, n.cadence, n.sitting_day, n.rules, month)
            assert sit.cutoff_on is not None
            covered.append(n.code)
            _, live = expected_reporters(topo, n.id)
            due_benefits: list[int] | None = None
            for d in _definitions(s, n.id):
                if not d["required"]:
                    continue
                try:
                    spec = resolve_source(str(d["source"])).spec
                except ValueError as exc:
                    skipped.append(Skipped(node=n.code, definition=d["code"], reason=str(exc)))
                    continue
                # cycle-derived data and RAID logs (rightly empty) are owed by nobody
                if spec is None or spec.raid_kind is not None:
                    continue
                need = (sit.cutoff_on, n.code, n.id, d["code"], sit.sitting_on, bool(d["assured"]))
                if spec.key == STATUS_SOURCE:
                    for i in live:
                        item = topo.items[i]
                        owner = item_owner.get(i)
                        if owner is None:
                            skipped.append(
                                Skipped(
                                    node=n.code,
                                    definition=d["code"],
                                    subject=item.code,
                                    reason=f"work item {item.code} has no owner",
                                )
                            )
                            continue
                        code = request_code(label, RequestKind.STATUS, item.code)
                        w = wanted.setdefault(
                            code,
                            _Wanted(
                                code,
                                RequestKind.STATUS,
                                STATUS_SOURCE,
                                f"Status report: {item.code} {item.name}"[:255],
                                owner,
                                work_item_id=i,
                            ),
                        )
                        w.needs.append(need)
                elif spec.key.startswith("benefits."):
                    if due_benefits is None:
                        due_benefits = _due_benefits(s, topo, n.id, month)
                    for b in due_benefits:
                        bcode, bname, owner = benefits[b]
                        if owner is None:
                            skipped.append(
                                Skipped(
                                    node=n.code,
                                    definition=d["code"],
                                    subject=bcode,
                                    reason=f"benefit {bcode} has no owner",
                                )
                            )
                            continue
                        code = request_code(label, RequestKind.BENEFIT, bcode)
                        w = wanted.setdefault(
                            code,
                            _Wanted(
                                code,
                                RequestKind.BENEFIT,
                                "benefits.profile",
                                f"Benefit actual: {bcode} {bname}"[:255],
                                owner,
                                benefit_id=b,
                            ),
                        )
                        w.needs.append(need)
                else:
                    if d["owner_id"] is None:
                        if not d["standard"]:
                            skipped.append(
                                Skipped(
                                    node=n.code,
                                    definition=d["code"],
                                    reason=f"information definition {d['code']} has no owner",
                                )
                            )
                        continue
                    code = request_code(label, RequestKind.DEFINITION, d["code"])
                    w = wanted.setdefault(
                        code,
                        _Wanted(
                            code,
                            RequestKind.DEFINITION,
                            str(d["source"]),
                            f"{d['title']} for {n.code}"[:255],
                            d["owner_id"],
                            definition_code=d["code"],
                        ),
                    )
                    w.needs.append(need)
        created = updated = unchanged = needs_added = 0
        existing = {
            r.code: r for r in s.scalars(select(DataRequest).where(DataRequest.period == month))
        }
        have_needs: set[tuple[int, int, str]] = {
            (rid, nid, dc)
            for rid, nid, dc in s.execute(
                select(DataNeed.request_id, DataNeed.node_id, DataNeed.definition_code).where(
                    DataNeed.request_id.in_([r.id for r in existing.values()])
                )
            )
        }
        for code, w in sorted(wanted.items()):
            first = min(w.needs)
            due, node_id = first[0], first[2]
            row = existing.get(code)
            values: dict[str, Any] = {
                "kind": w.kind,
                "source": w.source,
                "title": w.title,
                "work_item_id": w.work_item_id,
                "benefit_id": w.benefit_id,
                "definition_code": w.definition_code,
                "owner_id": w.owner_id,
                "node_id": node_id,
            }
            if row is None:
                row = DataRequest(code=code, period=month, due_on=due, opened_by=by, **values)
                s.add(row)
                s.flush()
                created += 1
            else:
                # a call opened again keeps the earliest cut-off already promised (and the
                # node that set it)
                if row.due_on <= due:
                    due, values["node_id"] = row.due_on, row.node_id
                changed = {k: v for k, v in values.items() if getattr(row, k) != v}
                for k, v in changed.items():
                    setattr(row, k, v)
                if row.due_on != due:
                    row.due_on = due
                    changed["due_on"] = due
                if changed:
                    updated += 1
                else:
                    unchanged += 1
            for cutoff, _, nid, dcode, sitting_on, assured in sorted(set(w.needs)):
                if (row.id, nid, dcode) in have_needs:
                    continue
                have_needs.add((row.id, nid, dcode))
                s.add(
                    DataNeed(
                        request_id=row.id,
                        node_id=nid,
                        definition_code=dcode,
                        sitting_on=sitting_on,
                        cutoff_on=cutoff,
                        assurance_required=assured,
                    )
                )
                needs_added += 1
        result = OpenResult(
            period=label,
            nodes=covered,
            created=created,
            updated=updated,
            unchanged=unchanged,
            needs_added=needs_added,
            skipped=skipped,
        )
        if audit is not None and (created or updated or needs_added):
            audit(s, None, result)
    return result


# -- reading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """What a list of requests is narrowed to (None: not narrowed)."""

    period: str | None = None
    node: str | None = None
    owner: str | None = None  # an email (case-insensitive) or a person code
    state: str | None = None
    kind: str | None = None


def person_ids(s: Session, who: str) -> list[int]:
    """People matching an email (case-insensitive, an equality) or a person code.

    Raises:
        NotFoundError: nobody has that email or code.
    """
    ids = list(
        s.scalars(
            select(Person.id).where(
                or_(func.lower(Person.email) == who.strip().lower(), Person.code == who.strip())
            )
        )
    )
    if not ids:
        raise NotFoundError(f"no person with email or code {who!r}")
    return ids


def _query(s: Session, f: Filters, visible: ColumnElement[bool] | None = None) -> Any:
    q = select(DataRequest).order_by(DataRequest.due_on, DataRequest.code)
    if visible is not None:
        q = q.where(visible)
    if f.period:
        q = q.where(DataRequest.period == parse_period(f.period))
    if f.kind:
        q = q.where(DataRequest.kind == RequestKind(f.kind))
    if f.owner:
        q = q.where(DataRequest.owner_id.in_(person_ids(s, f.owner)))
    if f.node:
        nid = s.scalar(select(GovernanceNode.id).where(GovernanceNode.code == f.node))
        if nid is None:
            raise NotFoundError(f"no governance node with code {f.node!r}")
        q = q.where(DataRequest.id.in_(select(DataNeed.request_id).where(DataNeed.node_id == nid)))
    return q


def _views(
    s: Session, rows: Sequence[DataRequest], today: dt.date, channel: Channel = Channel.SEEN
) -> list[RequestOut]:
    if not rows:
        return []
    st = standings(s, rows, channel=channel)
    people = {
        p.id: p
        for p in s.scalars(select(Person).where(Person.id.in_(sorted({r.owner_id for r in rows}))))
    }
    units = dict(s.execute(select(OrgUnit.id, OrgUnit.code)).all())
    nodes = dict(s.execute(select(GovernanceNode.id, GovernanceNode.code)).all())
    items = dict(
        s.execute(
            select(WorkItem.id, WorkItem.code).where(
                WorkItem.id.in_(sorted({r.work_item_id for r in rows if r.work_item_id}))
            )
        ).all()
    )
    bens = dict(
        s.execute(
            select(Benefit.id, Benefit.code).where(
                Benefit.id.in_(sorted({r.benefit_id for r in rows if r.benefit_id}))
            )
        ).all()
    )
    assured_needed = {
        rid
        for (rid,) in s.execute(
            select(DataNeed.request_id)
            .where(DataNeed.request_id.in_([r.id for r in rows]), DataNeed.assurance_required)
            .distinct()
        )
    }
    return [
        _view(r, st[r.id], people[r.owner_id], units, nodes, items, bens, assured_needed, today)
        for r in rows
    ]


def _view(
    r: DataRequest,
    st: Standing,
    p: Person,
    units: dict[int, str],
    nodes: dict[int, str],
    items: dict[int, str],
    bens: dict[int, str],
    assured_needed: set[int],
    today: dt.date,
) -> RequestOut:
    owed = st.state in OPEN_STATES
    subject = items.get(r.work_item_id or 0) or bens.get(r.benefit_id or 0)
    on_time = None if st.submitted_on is None else st.submitted_on <= r.due_on
    return RequestOut(
        code=r.code,
        period=period_label(r.period),
        kind=r.kind.value,
        source=r.source,
        title=r.title,
        subject=subject,
        definition=r.definition_code,
        owner=p.email or p.code,
        owner_name=p.name,
        owner_code=p.code,
        unit=units.get(p.org_unit_id) if p.org_unit_id else None,
        node=nodes.get(r.node_id, ""),
        due_on=r.due_on,
        state=st.state,
        overdue_days=max((today - r.due_on).days, 0) if owed else 0,
        submitted_on=st.submitted_on,
        on_time=on_time,
        returned_comment=st.returned_comment,
        version=st.seen.version,
        assurance_required=r.id in assured_needed,
    )


def list_requests(
    ws: Workspace,
    f: Filters = Filters(),
    *,
    today: dt.date | None = None,
    visible: ColumnElement[bool] | None = None,
) -> list[RequestOut]:
    """Requests (due date, then code), narrowed by ``f`` and by ``visible`` (a scope predicate).

    Raises:
        NotFoundError: an owner or node filter names nobody / no node.
        ConfigError: a bad period.
    """
    today = today or dt.date.today()
    with ws.session() as s:
        rows = list(s.scalars(_query(s, f, visible)))
        out = _views(s, rows, today)
    if f.state:
        out = [r for r in out if r.state == f.state]
    return out


def get_request(
    ws: Workspace,
    code: str,
    *,
    today: dt.date | None = None,
    visible: ColumnElement[bool] | None = None,
) -> RequestDetail:
    """One request with its needs, submissions and verdicts.

    Raises:
        NotFoundError: no such request (or not visible).
    """
    today = today or dt.date.today()
    with ws.session() as s:
        q = select(DataRequest).where(DataRequest.code == code)
        if visible is not None:
            q = q.where(visible)
        row = s.scalar(q)
        if row is None:
            raise NotFoundError(f"no data request {code}")
        (view,) = _views(s, [row], today)
        return _detail(s, row, view)


def _detail(s: Session, row: DataRequest, view: RequestOut) -> RequestDetail:
    nodes = dict(s.execute(select(GovernanceNode.id, GovernanceNode.code)).all())
    needs = [
        NeedOut(
            node=nodes.get(n.node_id, ""),
            definition=n.definition_code,
            sitting_on=n.sitting_on,
            cutoff_on=n.cutoff_on,
            assurance_required=n.assurance_required,
        )
        for n in needs_of(s, [row.id])[row.id]
    ]
    subs = [
        SubmissionOut(
            channel=x.channel.value,
            submitted_on=x.submitted_on,
            by=x.by,
            batch_id=x.batch_id,
        )
        for x in s.scalars(
            select(DataSubmission)
            .where(DataSubmission.request_id == row.id)
            .order_by(DataSubmission.id)
        )
    ]
    verdicts = [
        VerdictOut(
            verdict=v.verdict.value,
            comment=v.comment,
            by=v.by,
            at=v.at if v.at.tzinfo else v.at.replace(tzinfo=dt.UTC),
        )
        for v in s.scalars(
            select(DataVerdict).where(DataVerdict.request_id == row.id).order_by(DataVerdict.id)
        )
    ]
    return RequestDetail(**view.model_dump(), needs=needs, submissions=subs, verdicts=verdicts)


def owed_by(
    ws: Workspace, who: str, *, period: str | None = None, today: dt.date | None = None
) -> list[RequestOut]:
    """What a person (email or person code) still owes: requested or returned, due first —
    the "what I owe" list of their home page.

    Raises:
        NotFoundError: nobody has that email or code.
    """
    return [
        r
        for r in list_requests(ws, Filters(period=period, owner=who), today=today)
        if r.state in OPEN_STATES
    ]


# -- submitting --------------------------------------------------------------------------------
def _lock_request(s: Session, code: str, visible: ColumnElement[bool] | None) -> DataRequest:
    q = select(DataRequest).where(DataRequest.code == code)
    if visible is not None:
        q = q.where(visible)
    row = s.scalar(q.with_for_update())
    if row is None:
        raise NotFoundError(f"no data request {code}")
    return row


def _check_version(current: str | None, if_version: str | None) -> None:
    if if_version is not None and if_version.strip('"') not in (current, "*"):
        raise ConflictError(
            "the data changed since you read it",
            hint="read the request again and submit on its current version",
        )


def submit_status(
    ws: Workspace,
    code: str,
    body: StatusSubmission,
    *,
    by: str,
    channel: Channel = Channel.FORM,
    if_version: str | None = None,
    visible: ColumnElement[bool] | None = None,
    today: dt.date | None = None,
    audit: AuditHook | None = None,
) -> RequestDetail:
    """Write the status report a status request asks for (create or replace) and record the
    submission — what the monthly-return form and ``POST …/submission`` call.

    Raises:
        NotFoundError: no such request.
        ConflictError: not a status request; ``if_version`` names another version of the data.
    """
    today = today or dt.date.today()
    with ws.session() as s:
        row = _lock_request(s, code, visible)
        if row.kind is not RequestKind.STATUS or row.work_item_id is None:
            raise ConflictError(f"{code} asks for {row.source} data, not a status report")
        (before,) = _views(s, [row], today)
        _check_version(before.version, if_version)
        report = s.scalar(
            select(StatusReport).where(
                StatusReport.work_item_id == row.work_item_id, StatusReport.period == row.period
            )
        )
        if report is None:
            item = s.get(WorkItem, row.work_item_id)
            assert item is not None
            report = StatusReport(
                code=f"SR-{item.code}-{period_label(row.period)}",
                work_item_id=row.work_item_id,
                period=row.period,
            )
            s.add(report)
        values = body.model_dump()
        values["reported_on"] = values["reported_on"] or today
        for name, value in values.items():
            setattr(report, name, value)
        report.written_by = by
        s.flush()
        standings(s, [row], channel=channel, by=by)
        (view,) = _views(s, [row], today)
        after = _detail(s, row, view)
        if audit is not None:
            audit(s, before, after)
        return after


def submit_benefit(
    ws: Workspace,
    code: str,
    body: BenefitSubmission,
    *,
    by: str,
    channel: Channel = Channel.FORM,
    if_version: str | None = None,
    visible: ColumnElement[bool] | None = None,
    today: dt.date | None = None,
    audit: AuditHook | None = None,
) -> RequestDetail:
    """Write a benefit's actual for the request's period (the benefit-actuals form).

    Raises:
        NotFoundError: no such request.
        ConflictError: not a benefit request; ``if_version`` names another version.
    """
    today = today or dt.date.today()
    with ws.session() as s:
        row = _lock_request(s, code, visible)
        if row.kind is not RequestKind.BENEFIT or row.benefit_id is None:
            raise ConflictError(f"{code} asks for {row.source} data, not a benefit actual")
        (before,) = _views(s, [row], today)
        _check_version(before.version, if_version)
        profile = s.scalar(
            select(BenefitProfile).where(
                BenefitProfile.benefit_id == row.benefit_id, BenefitProfile.period == row.period
            )
        )
        if profile is None:
            ben = s.get(Benefit, row.benefit_id)
            assert ben is not None
            profile = BenefitProfile(
                code=f"BP-{ben.code}-{period_label(row.period)}",
                benefit_id=row.benefit_id,
                period=row.period,
            )
            s.add(profile)
        profile.actual = body.actual
        if body.forecast is not None:
            profile.forecast = body.forecast
        profile.written_by = by
        s.flush()
        standings(s, [row], channel=channel, by=by)
        (view,) = _views(s, [row], today)
        after = _detail(s, row, view)
        if audit is not None:
            audit(s, before, after)
        return after


def record_batch(s: Session, batch_id: int, user: str | None = None) -> list[str]:
    """Record, in an import's own transaction, the requests its rows satisfy (codes returned):
    status reports and benefit actuals it wrote for an open request's period, and sources of
    definition requests it wrote rows of."""
    from bigov.db.registry import load_models

    candidates: list[DataRequest] = []
    pairs = set(
        s.execute(
            select(StatusReport.work_item_id, StatusReport.period).where(
                StatusReport.batch_id == batch_id
            )
        ).all()
    )
    ben_pairs = set(
        s.execute(
            select(BenefitProfile.benefit_id, BenefitProfile.period).where(
                BenefitProfile.batch_id == batch_id, BenefitProfile.actual.is_not(None)
            )
        ).all()
    )
    if pairs:
        candidates += [
            r
            for r in s.scalars(
                select(DataRequest).where(
                    DataRequest.kind == RequestKind.STATUS,
                    DataRequest.period.in_(sorted({p for _, p in pairs})),
                )
            )
            if (r.work_item_id, r.period) in pairs
        ]
    if ben_pairs:
        candidates += [
            r
            for r in s.scalars(
                select(DataRequest).where(
                    DataRequest.kind == RequestKind.BENEFIT,
                    DataRequest.period.in_(sorted({p for _, p in ben_pairs})),
                )
            )
            if (r.benefit_id, r.period) in ben_pairs
        ]
    defs = list(s.scalars(select(DataRequest).where(DataRequest.kind == RequestKind.DEFINITION)))
    touched: dict[str, bool] = {}
    for r in defs:
        spec = resolve_source(r.source).spec
        if spec is None:
            continue
        if spec.table not in touched:
            table = load_models().tables[spec.table]
            touched[spec.table] = (
                "batch_id" in table.c
                and s.scalar(select(table.c.id).where(table.c.batch_id == batch_id).limit(1))
                is not None
            )
        if touched[spec.table]:
            candidates.append(r)
    if not candidates:
        return []
    before = {r.id: r for r in candidates}
    st = standings(s, candidates, channel=Channel.IMPORT, by=user)
    return sorted(
        r.code for r in before.values() if st[r.id].seen.batch_id == batch_id and st[r.id].seen.rows
    )


# -- assurance ---------------------------------------------------------------------------------
def judge(
    ws: Workspace,
    code: str,
    verdict: Verdict,
    *,
    by: str,
    comment: str | None = None,
    if_version: str | None = None,
    today: dt.date | None = None,
    visible: ColumnElement[bool] | None = None,
    audit: AuditHook | None = None,
) -> RequestDetail:
    """Accept or return the data of a submitted request (the PMO's or assurer's verdict).

    Raises:
        NotFoundError: no such request.
        ValidationError: a return without a comment.
        ConflictError: nothing submitted to judge, or the data changed since ``if_version``.
    """
    today = today or dt.date.today()
    text = (comment or "").strip() or None
    if verdict is Verdict.RETURNED and not text:
        raise ValidationError("a returned submission needs a comment saying what to fix")
    with ws.session() as s:
        row = _lock_request(s, code, visible)
        (before,) = _views(s, [row], today)
        st = standings(s, [row])[row.id]
        if st.seen.version is None:
            raise ConflictError(f"{code} has no data submitted to judge")
        _check_version(st.seen.version, if_version)
        s.add(
            DataVerdict(
                request_id=row.id, verdict=verdict, version=st.seen.version, comment=text, by=by
            )
        )
        s.flush()
        (view,) = _views(s, [row], today)
        after = _detail(s, row, view)
        if audit is not None:
            audit(s, before, after)
        return after


def accept_submitted(
    ws: Workspace, f: Filters, *, by: str, comment: str | None = None
) -> list[str]:
    """Accept, in one unit of work, every request matching ``f`` whose data is submitted and
    not yet judged in this version (the PMO's "assure the rest"). Returns the codes accepted.

    Raises:
        NotFoundError: an owner or node filter names nobody / no node.
    """
    text = (comment or "").strip() or None
    with ws.session() as s:
        rows = list(s.scalars(_query(s, f).with_for_update()))
        st = standings(s, rows)
        done: list[str] = []
        for r in rows:
            version = st[r.id].seen.version
            if st[r.id].state != "submitted" or version is None:
                continue
            s.add(
                DataVerdict(
                    request_id=r.id, verdict=Verdict.ACCEPTED, version=version, comment=text, by=by
                )
            )
            done.append(r.code)
    return done


# -- boards, rates, packs ----------------------------------------------------------------------
def node_board(ws: Workspace, node: str, period: str, *, today: dt.date | None = None) -> NodeBoard:
    """A node's readiness board for a period: the requests its sitting needs, by state.

    Raises:
        NotFoundError: no such node.
    """
    month = parse_period(period)
    rows = list_requests(ws, Filters(period=period, node=node), today=today)
    with ws.session() as s:
        n = s.scalar(select(GovernanceNode).where(GovernanceNode.code == node))
        assert n is not None
        sit = sitting_for(n.code, n.name, n.cadence.value, n.sitting_day, n.rules, month)
    counts = dict.fromkeys(("requested", "submitted", "returned", "assured"), 0)
    for r in rows:
        counts[r.state] += 1
    return NodeBoard(
        node=node,
        period=period_label(month),
        sitting_on=sit.sitting_on,
        cutoff_on=sit.cutoff_on,
        counts=counts,
        requests=rows,
    )


def _on_time(submitted: dt.date | None, due: dt.date) -> bool:
    return submitted is not None and submitted <= due


def _pct(num: int, den: int) -> Decimal | None:
    return (Decimal(100) * num / den).quantize(Decimal("0.1")) if den else None


def rates(
    ws: Workspace,
    by: str = "owner",
    *,
    periods: Sequence[str] | None = None,
    node: str | None = None,
    today: dt.date | None = None,
) -> list[Rates]:
    """Timeliness and first-time-right per owner, unit or node, per period (see
    :class:`~bigov.datacall.schemas.Rates`). A request counts for every node that needs it.

    Raises:
        ConfigError: ``by`` is not owner, unit or node.
    """
    if by not in ("owner", "unit", "node"):
        raise ConfigError(f"rates are by owner, unit or node, not {by!r}")
    today = today or dt.date.today()
    rows = list_requests(ws, Filters(node=node), today=today)
    if periods:
        wanted = {period_label(parse_period(p)) for p in periods}
        rows = [r for r in rows if r.period in wanted]
    firsts: dict[str, str | None] = {}
    node_keys: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    with ws.session() as s:
        if rows:
            ids = dict(
                s.execute(
                    select(DataRequest.code, DataRequest.id).where(
                        DataRequest.code.in_([r.code for r in rows])
                    )
                ).all()
            )
            first_verdict: dict[int, str] = {}
            for rid, verdict in s.execute(
                select(DataVerdict.request_id, DataVerdict.verdict)
                .where(DataVerdict.request_id.in_(list(ids.values())))
                .order_by(DataVerdict.id)
            ):
                first_verdict.setdefault(rid, verdict.value)
            firsts = {c: first_verdict.get(i) for c, i in ids.items()}
            if by == "node":
                codes = dict(s.execute(select(GovernanceNode.id, GovernanceNode.code)).all())
                by_id = {i: c for c, i in ids.items()}
                for rid, nid in s.execute(
                    select(DataNeed.request_id, DataNeed.node_id)
                    .where(DataNeed.request_id.in_(list(ids.values())))
                    .distinct()
                ):
                    node_keys[by_id[rid]].append(codes[nid])
                names = dict(s.execute(select(GovernanceNode.code, GovernanceNode.name)).all())
            elif by == "unit":
                names = dict(s.execute(select(OrgUnit.code, OrgUnit.name)).all())
    groups: dict[tuple[str, str], list[RequestOut]] = defaultdict(list)
    for r in rows:
        if by == "owner":
            keys = [r.owner]
            names[r.owner] = r.owner_name
        elif by == "unit":
            keys = [r.unit or "(no unit)"]
        else:
            keys = sorted(set(node_keys.get(r.code, [r.node])))
        for k in keys:
            groups[(r.period, k)].append(r)
    out: list[Rates] = []
    for (period, key), rs in sorted(groups.items()):
        counted = [r for r in rs if r.submitted_on is not None or r.due_on < today]
        on_time = sum(1 for r in counted if r.on_time)
        judged = [r for r in rs if firsts.get(r.code)]
        ftr = sum(1 for r in judged if firsts[r.code] == Verdict.ACCEPTED.value)
        out.append(
            Rates(
                period=period,
                by=by,
                key=key,
                name=names.get(key, key),
                requests=len(rs),
                due=len(counted),
                on_time=on_time,
                timeliness=_pct(on_time, len(counted)),
                judged=len(judged),
                first_time_right=ftr,
                first_time_right_pct=_pct(ftr, len(judged)),
            )
        )
    return out


def pack_section(s: Session, node_id: int, month: dt.date, today: dt.date) -> dict[str, Any] | None:
    """What a pack's data-readiness section shows of the data call (None: no call covers the
    node's sitting): per information definition, how many requests are in each state and
    whether figures built on it rest on unassured data the board requires assured; and the
    node's timeliness and first-time-right over its last six periods."""
    need_rows = list(
        s.execute(
            select(DataNeed.definition_code, DataNeed.assurance_required, DataRequest)
            .join(DataRequest, DataRequest.id == DataNeed.request_id)
            .where(DataNeed.node_id == node_id, DataRequest.period == month)
        )
    )
    if not need_rows:
        return None
    reqs = list({r.id: r for _, _, r in need_rows}.values())
    st = standings(s, reqs)
    defs: dict[str, dict[str, Any]] = {}
    for dcode, assured_required, r in need_rows:
        entry = defs.setdefault(
            dcode,
            {
                "definition": dcode,
                "assurance_required": bool(assured_required),
                "requested": 0,
                "submitted": 0,
                "returned": 0,
                "assured": 0,
            },
        )
        entry[st[r.id].state] += 1
    for entry in defs.values():
        open_ = entry["requested"] + entry["submitted"] + entry["returned"]
        entry["unassured"] = bool(entry["assurance_required"] and open_)
    history: list[dict[str, Any]] = []
    first = add_months(month, -5)
    hist_rows = list(
        s.execute(
            select(DataRequest)
            .join(DataNeed, DataNeed.request_id == DataRequest.id)
            .where(
                DataNeed.node_id == node_id,
                DataRequest.period >= first,
                DataRequest.period <= month,
            )
            .distinct()
        ).scalars()
    )
    hist = standings(s, hist_rows)
    first_verdicts: dict[int, str] = {}
    for rid, verdict in s.execute(
        select(DataVerdict.request_id, DataVerdict.verdict)
        .where(DataVerdict.request_id.in_([r.id for r in hist_rows]))
        .order_by(DataVerdict.id)
    ):
        first_verdicts.setdefault(rid, verdict.value)
    by_period: dict[dt.date, list[DataRequest]] = defaultdict(list)
    for r in hist_rows:
        by_period[r.period].append(r)
    for p in sorted(by_period):
        rs = by_period[p]
        counted = [r for r in rs if hist[r.id].submitted_on is not None or r.due_on < today]
        on_time = sum(1 for r in counted if _on_time(hist[r.id].submitted_on, r.due_on))
        judged = [r for r in rs if r.id in first_verdicts]
        ftr = sum(1 for r in judged if first_verdicts[r.id] == Verdict.ACCEPTED.value)
        history.append(
            {
                "period": period_label(p),
                "requests": len(rs),
                "timeliness": None if not counted else str(_pct(on_time, len(counted))),
                "first_time_right": None if not judged else str(_pct(ftr, len(judged))),
            }
        )
    # each request once, however many of the node's definitions need it
    counts = dict.fromkeys(("requested", "submitted", "returned", "assured"), 0)
    for r in reqs:
        counts[st[r.id].state] += 1
    return {
        "period": period_label(month),
        "counts": counts,
        "definitions": [defs[k] for k in sorted(defs)],
        "unassured": sorted(k for k, d in defs.items() if d["unassured"]),
        "history": history,
    }


# -- calendars ---------------------------------------------------------------------------------
def node_calendar(ws: Workspace, node: str, first: str, months: int = 12) -> bytes:
    """A node's sittings and data cut-offs for ``months`` months from period ``first`` (.ics).

    Raises:
        NotFoundError: no such node.
    """
    month = parse_period(first)
    fy = ws.fiscal_year_start_month
    with ws.session() as s:
        n = s.scalar(select(GovernanceNode).where(GovernanceNode.code == node))
        if n is None:
            raise NotFoundError(f"no governance node with code {node!r}")
        sits = sittings(n.code, n.name, n.cadence.value, n.sitting_day, n.rules, month, months, fy)
        return to_ics(f"{n.name} — sittings and data cut-offs", sits)


def person_calendar(
    ws: Workspace, who: str, first: str, months: int = 12, *, base_url: str | None = None
) -> bytes:
    """A person's calendar (.ics): the due dates of everything they owe, and the sittings and
    cut-offs of the nodes they sit on.

    Raises:
        NotFoundError: nobody has that email or code.
    """
    month = parse_period(first)
    fy = ws.fiscal_year_start_month
    owed = owed_by(ws, who)
    with ws.session() as s:
        ids = person_ids(s, who)
        name = s.scalar(select(Person.name).where(Person.id == ids[0])) or who
        sits: list[Sitting] = []
        for n in s.scalars(
            select(GovernanceNode)
            .where(
                GovernanceNode.id.in_(
                    select(NodeMember.node_id).where(NodeMember.person_id.in_(ids))
                )
            )
            .order_by(GovernanceNode.code)
        ):
            sits += sittings(
                n.code, n.name, n.cadence.value, n.sitting_day, n.rules, month, months, fy
            )
    base = (base_url or "").rstrip("/")
    due = [
        DueItem(r.code, r.title, r.period, r.due_on, f"{base}/datacalls/{r.code}" if base else None)
        for r in owed
    ]
    return to_ics(f"{name} — data owed and sittings", sits, due)


# -- the facade --------------------------------------------------------------------------------
class DataCallService(Service):
    """Data calls: open, read, submit, assure, remind, calendars and rates."""

    def open(self, period: str, node: str | None = None, *, by: str | None = None) -> OpenResult:
        """See :func:`open_call`."""
        return open_call(self.ws, period, node, by=by)

    def requests(self, f: Filters = Filters(), *, today: dt.date | None = None) -> list[RequestOut]:
        """See :func:`list_requests`."""
        return list_requests(self.ws, f, today=today)

    def request(self, code: str, *, today: dt.date | None = None) -> RequestDetail:
        """See :func:`get_request`."""
        return get_request(self.ws, code, today=today)

    def owed_by(
        self, who: str, *, period: str | None = None, today: dt.date | None = None
    ) -> list[RequestOut]:
        """See :func:`owed_by`."""
        return owed_by(self.ws, who, period=period, today=today)

    def submit_status(
        self,
        code: str,
        body: StatusSubmission,
        *,
        by: str,
        channel: Channel = Channel.FORM,
        if_version: str | None = None,
    ) -> RequestDetail:
        """See :func:`submit_status` (the monthly-return form calls this)."""
        return submit_status(self.ws, code, body, by=by, channel=channel, if_version=if_version)

    def submit_benefit(
        self,
        code: str,
        body: BenefitSubmission,
        *,
        by: str,
        channel: Channel = Channel.FORM,
        if_version: str | None = None,
    ) -> RequestDetail:
        """See :func:`submit_benefit` (the benefit-actuals form calls this)."""
        return submit_benefit(self.ws, code, body, by=by, channel=channel, if_version=if_version)

    def accept(self, code: str, *, by: str, comment: str | None = None) -> RequestDetail:
        """Accept the submitted data (see :func:`judge`)."""
        return judge(self.ws, code, Verdict.ACCEPTED, by=by, comment=comment)

    def accept_submitted(
        self, f: Filters = Filters(), *, by: str, comment: str | None = None
    ) -> list[str]:
        """See :func:`accept_submitted`."""
        return accept_submitted(self.ws, f, by=by, comment=comment)

    def return_(self, code: str, *, by: str, comment: str) -> RequestDetail:
        """Return the submitted data with what to fix (see :func:`judge`)."""
        return judge(self.ws, code, Verdict.RETURNED, by=by, comment=comment)

    def node_board(self, node: str, period: str, *, today: dt.date | None = None) -> NodeBoard:
        """See :func:`node_board`."""
        return node_board(self.ws, node, period, today=today)

    def rates(
        self,
        by: str = "owner",
        *,
        periods: Sequence[str] | None = None,
        node: str | None = None,
        today: dt.date | None = None,
    ) -> list[Rates]:
        """See :func:`rates`."""
        return rates(self.ws, by, periods=periods, node=node, today=today)

    def node_calendar(self, node: str, first: str, months: int = 12) -> bytes:
        """See :func:`node_calendar`."""
        return node_calendar(self.ws, node, first, months)

    def person_calendar(
        self, who: str, first: str, months: int = 12, *, base_url: str | None = None
    ) -> bytes:
        """See :func:`person_calendar`."""
        return person_calendar(self.ws, who, first, months, base_url=base_url)


def visible_requests(
    work: ColumnElement[bool],
    benefits: ColumnElement[bool],
    node_ids: frozenset[int] | None,
    people: Any,
) -> ColumnElement[bool]:
    """The requests a user may see, as one predicate: their own (``people``: a select of their
    person ids), those on work and benefits in their scope, and definition requests of the nodes
    they may read (all nodes when ``node_ids`` is None)."""
    nodes: ColumnElement[bool] = (
        true() if node_ids is None else DataRequest.node_id.in_(sorted(node_ids))
    )
    return or_(
        DataRequest.owner_id.in_(people),
        and_(
            DataRequest.kind == RequestKind.STATUS,
            DataRequest.work_item_id.in_(select(WorkItem.id).where(work)),
        ),
        and_(
            DataRequest.kind == RequestKind.BENEFIT,
            DataRequest.benefit_id.in_(select(Benefit.id).where(benefits)),
        ),
        and_(DataRequest.kind == RequestKind.DEFINITION, nodes),
    )


__all__ = [
    "AuditHook",
    "DataCallService",
    "Filters",
    "accept_submitted",
    "get_request",
    "judge",
    "list_requests",
    "node_board",
    "node_calendar",
    "open_call",
    "owed_by",
    "pack_section",
    "person_calendar",
    "person_ids",
    "rates",
    "record_batch",
    "request_code",
    "submit_benefit",
    "submit_status",
    "visible_requests",
]
