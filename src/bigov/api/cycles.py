"""Governance cycles: the list, the frozen document, its governed figures and exceptions, and
pack downloads. Everything is read from the stored snapshot; nothing is recomputed here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from bigov.api.common import SafeStr, not_found
from bigov.auth.scope import Scope
from bigov.governance.cycle_models import Cycle, CycleSnapshot
from bigov.governance.models import GovernanceNode
from bigov.governance.periods import parse_period
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem

router = APIRouter(prefix="/cycles", tags=["cycles"])
# NODE/YYYY-MM or NODE/YYYY-MM/vN; nothing else reaches a query
CYCLE_RE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}/\d{4}-\d{2}(/v\d{1,4})?$"
CycleCode = Annotated[str, Path(pattern=CYCLE_RE, description="NODE/YYYY-MM[/vN]")]
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class CycleRow(BaseModel):
    code: str
    node: str
    period: str
    version: int
    status: str
    as_at: dt.date
    exceptions: int | None = None
    owned_here: int | None = None
    escalated_up: int | None = None
    has_data: bool | None = None


def _visible(scope: Scope) -> Any:
    return True if scope.node_ids is None else Cycle.node_id.in_(sorted(scope.node_ids))


def _resolve(st: StateDep, user: UserDep, code: str) -> str:
    """The full code of a cycle the user may read (404 otherwise: absent or out of scope)."""
    return _resolve_with_status(st, user, code)[0]


def _resolve_with_status(st: StateDep, user: UserDep, code: str) -> tuple[str, str]:
    with scoped_read(st, user) as (s, scope):
        q = select(Cycle.code, Cycle.status).where(_visible(scope))
        if code.count("/") == 2:
            q = q.where(Cycle.code == code)
        else:
            node, _, period = code.partition("/")
            try:
                month = parse_period(period)
            except Exception:
                raise Problem(422, f"field 'code': {period!r} is not a period YYYY-MM") from None
            q = (
                q.join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
                .where(GovernanceNode.code == node, Cycle.period == month)
                .order_by(Cycle.version.desc())
                .limit(1)
            )
        found = s.execute(q).first()
    if found is None:
        raise not_found("cycle", code)
    return str(found[0]), found[1].value


@router.get("", response_model=list[CycleRow])
def list_cycles(
    st: StateDep,
    user: UserDep,
    node: Annotated[SafeStr | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> Any:
    """Cycles of the nodes you may see, newest period first."""
    with scoped_read(st, user) as (s, scope):
        q = (
            select(Cycle, GovernanceNode.code)
            .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
            .where(_visible(scope))
            .order_by(Cycle.period.desc(), GovernanceNode.code, Cycle.version)
        )
        if node is not None:
            q = q.where(GovernanceNode.code == node)
        if period is not None:
            try:
                month = parse_period(period)
            except Exception:
                raise Problem(422, f"field 'period': {period!r} is not a month YYYY-MM") from None
            q = q.where(Cycle.period == month)
        return [
            CycleRow(
                code=c.code,
                node=ncode,
                period=f"{c.period.year:04d}-{c.period.month:02d}",
                version=c.version,
                status=c.status.value,
                as_at=c.as_at,
                **{
                    k: (c.summary or {}).get(k)
                    for k in ("exceptions", "owned_here", "escalated_up", "has_data")
                },
            )
            for c, ncode in s.execute(q)
        ]


# the suffixed routes come first: a {code:path} would otherwise swallow "/figures"
@router.get("/{code:path}/figures")
def cycle_figures(code: CycleCode, st: StateDep, user: UserDep) -> Any:
    """The cycle's governed figures (key, label, value, unit, as at, definition): the same
    values as its pack's `data-figure`s and `bigov figures`."""
    from bigov.figures import figure_rows

    full, status = _resolve_with_status(st, user, code)
    key = f"figures {full}"
    cached = st.published.get(key)
    if cached is not None:
        return cached
    # only the stored governed figures (and their as-at date) are read out of the frozen
    # document, not the whole document: at scale it runs to megabytes
    with st.ws.session() as s:
        row = s.execute(
            select(
                CycleSnapshot.document["governed"],
                CycleSnapshot.document[("period", "as_at")],
            )
            .join(Cycle, Cycle.id == CycleSnapshot.cycle_id)
            .where(Cycle.code == full)
        ).first()
    if row is not None and isinstance(row[0], dict) and row[0]:
        doc: dict[str, Any] = {"governed": row[0], "period": {"as_at": row[1]}}
    else:
        # a cycle stored before the figure layer: computed from its document, same definitions
        doc = st.ws.governance.cycle_document(full)
    out = {"cycle": full, "figures": figure_rows(doc)}
    if status == "published":
        # a published cycle never changes, so its figures can be kept (bounded, per process)
        if len(st.published) >= 256:
            st.published.pop(next(iter(st.published)))
        st.published[key] = out
    return out


@router.get("/{code:path}/exceptions")
def cycle_exceptions(code: CycleCode, st: StateDep, user: UserDep, all: bool = False) -> Any:
    """The exceptions the cycle owns and those it passed on (with `all`, those managed below)."""
    doc = st.ws.governance.cycle_document(_resolve(st, user, code))
    rows = [e for e in doc["exceptions"] if all or e["role"] != "managed below"]
    out: dict[str, Any] = {
        "cycle": doc["cycle"]["code"],
        "owned": [e for e in rows if e["role"] == "owned"],
        "passed_on": [e for e in rows if e["role"] in ("escalated up", "passed on")],
    }
    if all:
        out["managed_below"] = [e for e in rows if e["role"] == "managed below"]
    return out


@router.get("/{code:path}/pack")
def cycle_pack(
    code: CycleCode,
    st: StateDep,
    user: UserDep,
    format: Literal["html", "pdf", "xlsx"] = "html",
) -> Response:
    """The MI pack rendered from the frozen document (the same bytes `cycle show --render`
    writes), as a download."""
    from bigov.reports import RENDERERS, safe_filename

    full = _resolve(st, user, code)
    data = RENDERERS[format](st.ws.governance.cycle_document(full))
    name = f"{safe_filename(full)}.{format}"
    return Response(
        data,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{code:path}")
def cycle_document(code: CycleCode, st: StateDep, user: UserDep) -> Any:
    """The frozen snapshot document the packs are rendered from."""
    return JSONResponse(st.ws.governance.cycle_document(_resolve(st, user, code)))


class DecisionOut(BaseModel):
    code: str
    kind: str
    title: str
    status: str
    node: str
    cycle: str
    due_on: dt.date | None
    decided_on: dt.date | None
    items: list[str]
    otcs: list[str] = []  # "CODE@vN": each OTC it answers, at the version decided against
    exception: str | None


decisions_router = APIRouter(prefix="/decisions", tags=["decisions"])


@decisions_router.get("", response_model=list[DecisionOut])
def list_decisions(
    st: StateDep,
    user: UserDep,
    node: Annotated[SafeStr | None, Query(max_length=64)] = None,
) -> Any:
    """Decisions and actions recorded at the sittings of the nodes whose cycles you may see,
    with the work they affect (as `bigov decision list`)."""
    from bigov.governance.cycle_models import CycleDecision, CycleException
    from bigov.raid.models import RaidItem
    from bigov.work.models import WorkItem

    with scoped_read(st, user) as (s, scope):
        q = (
            select(
                RaidItem.code,
                RaidItem.kind,
                RaidItem.title,
                RaidItem.status,
                GovernanceNode.code.label("node"),
                Cycle.code.label("cycle"),
                RaidItem.due_on,
                RaidItem.raised_on,
                RaidItem.decided_on,
                WorkItem.code.label("item"),
                CycleException.code.label("exception"),
            )
            .select_from(CycleDecision)
            .join(Cycle, Cycle.id == CycleDecision.cycle_id)
            .join(RaidItem, RaidItem.id == CycleDecision.raid_item_id)
            .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
            .outerjoin(WorkItem, WorkItem.id == CycleDecision.work_item_id)
            .outerjoin(CycleException, CycleException.id == CycleDecision.exception_id)
            .where(_visible(scope))
            .order_by(Cycle.period, RaidItem.code)
        )
        if node is not None:
            q = q.where(GovernanceNode.code == node)
        out: dict[str, DecisionOut] = {}
        for r in s.execute(q):
            row = out.get(r.code)
            if row is None:
                row = out[r.code] = DecisionOut(
                    code=r.code,
                    kind=r.kind.value,
                    title=r.title,
                    status=r.status.value,
                    node=r.node,
                    cycle=r.cycle,
                    due_on=r.due_on,
                    decided_on=r.decided_on or r.raised_on,
                    items=[],
                    # the breach's thread code, as packs show it (the row is per period)
                    exception=r.exception.split("/")[0] if r.exception else None,
                )
            if r.item:
                row.items.append(r.item)
        if out:
            from bigov.governance.decision_links import DecisionOtc
            from bigov.strategy.models import Otc

            for rcode, ocode, version in s.execute(
                select(RaidItem.code, Otc.code, DecisionOtc.otc_version)
                .join(DecisionOtc, DecisionOtc.raid_item_id == RaidItem.id)
                .join(Otc, Otc.id == DecisionOtc.otc_id)
                .where(RaidItem.code.in_(sorted(out)))
                .order_by(DecisionOtc.id)
            ):
                out[rcode].otcs.append(f"{ocode}@v{version}")
    return list(out.values())
