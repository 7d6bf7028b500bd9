"""Where each request stands, derived from the data and the verdicts — never a stored flag.

A request is

* ``requested`` while its data is absent: no status report of the item for the period, no
  actual of the benefit for the period, no row of the definition's source in the node's window
  and scope (the very counts readiness reads, :func:`bigov.governance.facts.source_stats`);
* ``submitted`` once the data is there and no verdict judged this version of it;
* ``assured`` when the latest verdict accepted this version; ``returned`` when it returned it.
  Any later write to the data makes a new version, so returned data that is corrected goes
  back to ``submitted``, and assured data that changes needs assuring again.

Each look records a version it has not seen before as a submission (its own date, the channel
and batch that wrote it), so timeliness is measured on when the data arrived, not on when
someone looked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bigov.benefits.models import BenefitProfile
from bigov.datacall.models import (
    Channel,
    DataNeed,
    DataRequest,
    DataSubmission,
    DataVerdict,
    RequestKind,
    Verdict,
)
from bigov.db.base import utcnow
from bigov.governance.facts import source_stats
from bigov.governance.models import Cadence
from bigov.governance.periods import cycle_period
from bigov.governance.sources import SOURCES, resolve_source
from bigov.governance.topology import Topology


@dataclass(frozen=True)
class Seen:
    """The data behind one request as it stands: rows, their own latest date, newest write and
    import batch, and a version token naming that state."""

    rows: int
    dated: dt.date | None
    written: dt.datetime | None
    batch_id: int | None

    @property
    def version(self) -> str | None:
        if not self.rows:
            return None
        stamp = self.written.isoformat() if self.written else ""
        return hashlib.sha256(f"{self.rows}|{stamp}".encode()).hexdigest()[:32]


NOTHING = Seen(0, None, None, None)


def _seen_at(rows: int, written: dt.datetime | None, batch: int | None) -> Seen:
    """Data with no date of its own (a benefit's actual) is dated by its write."""
    return Seen(rows, written.date() if written else None, written, batch)


@dataclass(frozen=True)
class Standing:
    """A request's derived state and what it rests on."""

    state: str
    seen: Seen
    submitted_on: dt.date | None  # the first version's own date
    first_verdict: str | None
    returned_comment: str | None


def _utc(value: Any) -> dt.datetime | None:
    if isinstance(value, str) and value:
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def _merge(parts: Iterable[tuple[int, dt.date | None, dt.datetime | None, int | None]]) -> Seen:
    rows, dated, written, batch = 0, None, None, None
    for n, d, w, b in parts:
        rows += n
        if d is not None and (dated is None or d > dated):
            dated = d
        if w is not None and (written is None or w > written):
            written, batch = w, b
    return Seen(rows, dated, written, batch)


def seen(
    s: Session, requests: Sequence[DataRequest], topo: Topology | None = None
) -> dict[int, Seen]:
    """The data behind each request, in one grouped query per source and window."""
    out: dict[int, Seen] = {}
    by_period: dict[dt.date, list[DataRequest]] = defaultdict(list)
    for r in requests:
        by_period[r.period].append(r)
    status_spec = SOURCES["work.status"]
    for month, rs in by_period.items():
        status = [r for r in rs if r.kind is RequestKind.STATUS]
        if status:
            stats = source_stats(s, status_spec, cycle_period(Cadence.MONTHLY, month))
            for r in status:
                n, dated = stats.by_item.get(r.work_item_id, (0, None))
                written, batch = stats.written.get(r.work_item_id, (None, None))
                out[r.id] = Seen(n, dated, written, batch) if n else NOTHING
        benefits = [r for r in rs if r.kind is RequestKind.BENEFIT]
        if benefits:
            # a benefit's actual: its profile row for the month with the actual filled in
            rows = {
                b: _seen_at(int(n), _utc(w), batch)
                for b, n, w, batch in s.execute(
                    select(
                        BenefitProfile.benefit_id,
                        func.count(),
                        func.max(BenefitProfile.updated_at),
                        func.max(BenefitProfile.batch_id),
                    )
                    .where(
                        BenefitProfile.period == month,
                        BenefitProfile.actual.is_not(None),
                        BenefitProfile.benefit_id.in_(
                            sorted({r.benefit_id for r in benefits if r.benefit_id})
                        ),
                    )
                    .group_by(BenefitProfile.benefit_id)
                )
            }
            for r in benefits:
                out[r.id] = rows.get(r.benefit_id or 0, NOTHING)
        defs = [r for r in rs if r.kind is RequestKind.DEFINITION]
        if defs:
            topo = topo or Topology(s)
            cache: dict[tuple[str, str], Any] = {}
            for r in defs:
                node = topo.nodes.get(r.node_id)
                spec = resolve_source(r.source).spec
                if node is None or spec is None:
                    out[r.id] = NOTHING
                    continue
                window = cycle_period(Cadence(node.cadence), month)
                key = (spec.key + "|" + spec.table, window.start.isoformat())
                if key not in cache:
                    cache[key] = source_stats(s, spec, window)
                stats = cache[key]
                if spec.item or spec.via_benefit:
                    keys: Iterable[int | None] = [
                        k for k in topo.scope(r.node_id) if k in stats.by_item
                    ]
                else:
                    keys = list(stats.by_item)
                out[r.id] = _merge(
                    (stats.by_item[k][0], stats.by_item[k][1], *stats.written.get(k, (None, None)))
                    for k in keys
                )
    return out


def _insert_ignore(s: Session, rows: list[dict[str, Any]]) -> None:
    """Record submissions; one already recorded (the same version, by a concurrent look) is
    left as it is rather than failing the caller."""
    if not rows:
        return
    dialect = s.get_bind().dialect.name
    table = DataSubmission.__table__
    assert isinstance(table, Table)
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(rows).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(rows).on_conflict_do_nothing()
    s.execute(stmt)


def standings(
    s: Session,
    requests: Sequence[DataRequest],
    *,
    channel: Channel = Channel.SEEN,
    by: str | None = None,
    topo: Topology | None = None,
) -> dict[int, Standing]:
    """Each request's state, recording any version of its data not seen before (as written by
    ``channel``; an import batch is named whatever the channel)."""
    if not requests:
        return {}
    data = seen(s, requests, topo)
    ids = [r.id for r in requests]
    subs: dict[int, set[str]] = defaultdict(set)
    first_on: dict[int, dt.date] = {}
    for rid, known, on in s.execute(
        select(DataSubmission.request_id, DataSubmission.version, DataSubmission.submitted_on)
        .where(DataSubmission.request_id.in_(ids))
        .order_by(DataSubmission.id)
    ):
        subs[rid].add(known)
        if rid not in first_on or on < first_on[rid]:
            first_on[rid] = on
    new: list[dict[str, Any]] = []
    now = utcnow()
    for r in requests:
        d = data.get(r.id, NOTHING)
        version = d.version
        if not version or version in subs[r.id]:
            continue
        on = d.dated or (d.written.date() if d.written else now.date())
        via = Channel.IMPORT if (channel is Channel.SEEN and d.batch_id) else channel
        new.append(
            {
                "request_id": r.id,
                "version": version,
                "submitted_at": d.written or now,
                "submitted_on": on,
                "channel": via.value,
                "batch_id": d.batch_id if via is Channel.IMPORT else None,
                "by": by,
                "recorded_at": now,
            }
        )
        subs[r.id].add(version)
        if r.id not in first_on or on < first_on[r.id]:
            first_on[r.id] = on
    _insert_ignore(s, new)
    verdicts: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
    for rid, verdict, version, comment in s.execute(
        select(
            DataVerdict.request_id, DataVerdict.verdict, DataVerdict.version, DataVerdict.comment
        )
        .where(DataVerdict.request_id.in_(ids))
        .order_by(DataVerdict.id)
    ):
        verdicts[rid].append((verdict.value, version, comment))
    out: dict[int, Standing] = {}
    for r in requests:
        d = data.get(r.id, NOTHING)
        vs = verdicts.get(r.id, [])
        first = vs[0][0] if vs else None
        last = vs[-1] if vs else None
        comment = last[2] if last and last[0] == Verdict.RETURNED.value else None
        if not d.rows:
            state = "requested"
        elif last is not None and last[1] == d.version:
            state = "assured" if last[0] == Verdict.ACCEPTED.value else "returned"
        else:
            state = "submitted"
        out[r.id] = Standing(
            state, d, first_on.get(r.id) if d.rows or r.id in first_on else None, first, comment
        )
    return out


def needs_of(s: Session, ids: Sequence[int]) -> dict[int, list[DataNeed]]:
    """The needs behind each request."""
    out: dict[int, list[DataNeed]] = defaultdict(list)
    if ids:
        for n in s.scalars(
            select(DataNeed).where(DataNeed.request_id.in_(list(ids))).order_by(DataNeed.cutoff_on)
        ):
            out[n.request_id].append(n)
    return out


__all__ = ["NOTHING", "Seen", "Standing", "needs_of", "seen", "standings"]
