"""Undo one batch — an import or a metrics load — when nothing later depends on it.

What a batch wrote is known from provenance:

* an **import** stamps every row it inserts or updates with its ``batch_id``; before it updates a
  row it keeps the row as it was in ``batch_change`` (:func:`record_before`). Reverting restores
  those rows and deletes the rows it inserted (those still carrying its id and not restored).
* a **metrics load** (or recompute) adds aggregate versions (``load_batch_id``), supersedes the
  versions they replaced (their ``superseded_at`` is the load's ``computed_at``) and, for a load,
  catalogues one raw file. Reverting supersedes its versions, adds the replaced versions back as
  current, and removes its raw file from the catalogue (the file itself goes after the commit),
  so as-at history still shows what was known in between.

A batch can be reverted only when nothing later depends on it: a row it wrote that a later batch
or a user changed since, a row of another batch or table that refers to a row it inserted, a later
metrics batch whose figures were computed from its rows or that replaced its figures, a decision
that answers an OTC version it added (the link names the version by number, not by row id).
Otherwise :class:`RevertBlockedError` lists exactly those, and nothing changes. A revert is one
transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Table,
    and_,
    delete,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from bigov.db.base import utcnow
from bigov.db.batch import BatchChange, ImportBatch
from bigov.db.registry import load_models
from bigov.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from bigov.ingest.validate import Plan
    from bigov.metrics.service import MetricsService
    from bigov.workspace import Workspace

CHUNK = 900  # ids per IN list (below SQLite's bound-parameter limit with room to spare)
SHOWN = 50  # dependents listed in the message; the count says how many in all
_SKIP = frozenset({"id"})


class Dependent(BaseModel):
    """One thing that stops a revert."""

    what: str  # e.g. "work_item PRJ-1"
    reason: str  # e.g. "changed later by batch 12"
    batch_id: int | None = None


class RevertResult(BaseModel):
    """What a revert did."""

    batch_id: int
    source: str
    restored: dict[str, int]  # rows put back as they were, by table
    deleted: dict[str, int]  # rows the batch inserted, removed, by table
    superseded: int = 0  # metrics: aggregate versions of the batch retired (kept as history)
    raw_file: str | None = None  # metrics: the raw file taken out of the catalogue


class RevertBlockedError(ConflictError):
    """The batch cannot be reverted: ``dependents`` say what depends on it."""

    def __init__(self, batch_id: int, dependents: Sequence[Dependent], total: int) -> None:
        shown = "; ".join(f"{d.what}: {d.reason}" for d in dependents[:10])
        more = f" (and {total - 10} more)" if total > 10 else ""
        super().__init__(
            f"batch {batch_id} cannot be reverted: {total} later change(s) depend on it — "
            f"{shown}{more}; nothing was changed",
            hint="revert the later batches first (newest first), or correct the data by a new "
            "import",
        )
        self.batch_id = batch_id
        self.dependents = list(dependents)
        self.total = total


# -- recording what an import replaces -----------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _typed(table: Table, name: str, value: Any) -> Any:
    """A before-image value (JSON) as the column takes it."""
    if value is None:
        return None
    col_type = table.c[name].type
    if isinstance(col_type, SAEnum) and col_type.enum_class is not None:
        return col_type.enum_class(value)
    if isinstance(col_type, DateTime):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(col_type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(col_type, Numeric) and not isinstance(col_type, Float):
        return Decimal(str(value))
    if isinstance(col_type, Boolean):
        return bool(value)
    if isinstance(col_type, Integer):
        return int(value)
    if isinstance(col_type, JSON):
        return value
    return value


def _table(name: str) -> Table:
    return load_models().tables[name]


def record_before(session: Session, plan: Plan, batch_id: int) -> int:
    """Keep, in ``batch_change``, what ``plan`` is about to overwrite: for each row it updates,
    the columns it changes (plus its provenance and ``updated_at``); for an OTC revision, the
    whole OTC row and the current version row whose end it sets. Returns how many rows were
    kept. Runs in the import's own transaction, before any write."""
    from bigov.ingest.spec import kind_spec
    from bigov.ingest.validate import ID

    # table -> row id -> columns to keep (a row may be in several update frames: union)
    wanted: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    tables: dict[str, Table] = {}
    for kind, kp in plan.kinds.items():
        spec = kind_spec(kind)
        tables[spec.table.name] = spec.table
        for names, frame in kp.updates:
            cols = {spec.fields[n].column for n in names} | set(_PROVENANCE)
            for row_id in frame[ID].to_list():
                wanted[spec.table.name][int(row_id)] |= cols
        for row_id, _ in kp.revisions:
            wanted[spec.table.name][int(row_id)] |= _all_columns(spec.table)
    revised = [row_id for kp in plan.kinds.values() for row_id, _ in kp.revisions]
    if revised:
        otc, versions = _table("otc"), _table("otc_version")
        tables["otc_version"] = versions
        for chunk in _chunks(revised):
            rows = session.execute(
                select(versions.c.id)
                .join(otc, and_(otc.c.id == versions.c.otc_id, otc.c.version == versions.c.version))
                .where(otc.c.id.in_(chunk))
            ).scalars()
            for row_id in rows:
                wanted["otc_version"][int(row_id)] |= _all_columns(versions)
    count = 0
    conn = session.connection()
    # plain tuples to the driver's executemany, as the loader writes (SQLAlchemy's per-row
    # parameter handling cost more than the database's work); the JSON column's own processor
    # still turns each before-image into what the driver takes
    changes = cast(Table, BatchChange.__table__)
    dialect = conn.dialect
    to_db = changes.c.before.type.dialect_impl(dialect).bind_processor(dialect)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    q = dialect.identifier_preparer
    columns = ("batch_id", "table_name", "row_id", "prior_batch_id", "before")
    insert_sql = (
        f"INSERT INTO {q.format_table(changes)} ({', '.join(q.quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    for name, by_row in wanted.items():
        table = tables[name]
        # one query per set of columns (an import's updates share a few sets)
        groups: dict[frozenset[str], list[int]] = defaultdict(list)
        for row_id, cols in by_row.items():
            groups[frozenset(cols)].append(row_id)
        for group, ids in groups.items():
            kept = sorted(group)
            convert = [_to_json(table.c[n]) for n in kept]
            params: list[tuple[Any, ...]] = []
            for chunk in _chunks(sorted(ids)):
                for row in conn.execute(
                    select(table.c.id, *(table.c[n] for n in kept)).where(table.c.id.in_(chunk))
                ):
                    before = {n: f(v) for n, f, v in zip(kept, convert, row[1:], strict=True)}
                    params.append(
                        (
                            batch_id,
                            name,
                            int(row[0]),
                            before.get("batch_id"),
                            to_db(before) if to_db is not None else before,
                        )
                    )
            if params:
                conn.exec_driver_sql(insert_sql, params)
                count += len(params)
    return count


_PROVENANCE = ("batch_id", "written_by", "updated_at")


def _all_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if c.name not in _SKIP}


def _to_json(col: Any) -> Any:
    """How one column's values become JSON (chosen once per column, not per value)."""
    col_type = col.type
    if isinstance(col_type, SAEnum):
        return lambda v: v.value if isinstance(v, enum.Enum) else v
    if isinstance(col_type, Date | DateTime):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(col_type, Numeric) and not isinstance(col_type, Float):
        return lambda v: None if v is None else str(v)
    return _json_value


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# -- revert ----------------------------------------------------------------------------------------


def revert_batch(
    ws: Workspace,
    batch_id: int,
    *,
    user: str | None = None,
    metrics: MetricsService | None = None,
) -> RevertResult:
    """Undo batch ``batch_id`` (see the module docstring). ``metrics`` is the metrics service
    whose raw store holds a metrics batch's file (default: the workspace's).

    Raises:
        NotFoundError: no such batch.
        ConflictError: the batch is not committed (rejected, running, already reverted).
        RevertBlockedError: later changes depend on it (each one listed); nothing changed.
    """
    with ws.session() as s:
        source = s.scalar(select(ImportBatch.source).where(ImportBatch.id == batch_id))
    if source is None:
        raise NotFoundError(f"no batch {batch_id}", hint="bigov batches lists them")
    if source != "metrics":
        return _revert(ws, batch_id, user, None)
    from bigov.metrics.service import _LoadLock

    service = metrics or ws.metrics
    service.recover_interrupted()
    # no load or recompute may run meanwhile: they read the raw files this one takes away
    with _LoadLock(service.store.root / "locks"):
        return _revert(ws, batch_id, user, service)


def _revert(
    ws: Workspace, batch_id: int, user: str | None, service: MetricsService | None
) -> RevertResult:
    raw: str | None = None
    with ws.session() as s:
        batch = s.get(ImportBatch, batch_id)
        assert batch is not None
        if batch.status != "committed":
            why = {
                "rejected": "it was rejected and wrote nothing",
                "reverted": "it was reverted already",
                "running": "it is still running",
            }.get(batch.status, f"its status is {batch.status}")
            raise ConflictError(f"batch {batch_id} cannot be reverted: {why}")
        if service is not None:
            result, raw = _revert_metrics(s, batch)
        else:
            result = _revert_import(s, batch)
        now = utcnow()
        done = (
            f"reverted {now:%Y-%m-%d %H:%M} UTC by {user or 'unknown'}: "
            f"{sum(result.restored.values())} restored, {sum(result.deleted.values())} deleted"
            + (f", {result.superseded} aggregate version(s) retired" if result.superseded else "")
        )
        batch.status = "reverted"
        batch.message = f"{done} — {batch.message or ''}"[:2000]
        batch.counts = {**(batch.counts or {}), "reverted": {"at": now.isoformat(), "by": user}}
    if raw is not None and service is not None:
        # after the commit: a file the catalogue no longer lists is not data (doctor removes
        # one left behind if this unlink fails)
        (service.store.root / service.store.relative_path(batch_id)).unlink(missing_ok=True)
    return result


def _tables_with_provenance() -> list[Table]:
    # rows stamped with the batch that wrote them (the metrics raw-file catalogue, keyed by its
    # batch, is the metrics revert's business)
    return [
        t
        for t in load_models().sorted_tables
        if "batch_id" in t.c and "id" in t.c and t.name != "batch_change"
    ]


def _label(table: Table, row: Any) -> str:
    code = row.get("code") if hasattr(row, "get") else None
    return f"{table.name} {code}" if code else f"{table.name} #{row['id']}"


def _revert_import(s: Session, batch: ImportBatch) -> RevertResult:
    n = batch.id
    finished = _utc(batch.finished_at)
    dependents: list[Dependent] = []

    def edited_since(updated_at: dt.datetime | None) -> bool:
        stamp = _utc(updated_at)
        return finished is not None and stamp is not None and stamp > finished

    # rows the batch updated: still as the batch left them?
    changes = list(
        s.execute(
            select(BatchChange.table_name, BatchChange.row_id, BatchChange.prior_batch_id)
            .where(BatchChange.batch_id == n)
            .order_by(BatchChange.id)
        )
    )
    updated: dict[str, set[int]] = defaultdict(set)
    for name, row_id, _ in changes:
        updated[name].add(int(row_id))
    prior = {(name, int(row_id)): p for name, row_id, p in changes}
    # rows it inserted (or updated) that a later, still committed batch changed: that batch's
    # before-image names this one. Read first: such a row is reported once, as that batch's
    # change — a later batch may change a row without stamping it (an OTC revision ends the
    # previous version row in place), which otherwise also reads as "edited since the batch"
    later = _changed_later(s, n)
    for name, ids in updated.items():
        table = _table(name)
        cols = [table.c.id, table.c.batch_id, table.c.updated_at]
        if "code" in table.c:
            cols.append(table.c.code)
        seen: set[int] = set()
        for chunk in _chunks(sorted(ids)):
            for row in s.execute(select(*cols).where(table.c.id.in_(chunk))).mappings():
                seen.add(int(row["id"]))
                current = row["batch_id"]
                if (name, int(row["id"])) in later:
                    continue
                if current not in (n, prior[(name, int(row["id"]))]):
                    dependents.append(
                        Dependent(
                            what=_label(table, row),
                            reason=f"changed later by batch {current}"
                            if current is not None
                            else "changed later by a user",
                            batch_id=current,
                        )
                    )
                elif edited_since(row["updated_at"]):
                    dependents.append(
                        Dependent(what=_label(table, row), reason="edited since the batch")
                    )
        for gone in sorted(ids - seen):
            dependents.append(
                Dependent(what=f"{name} #{gone}", reason="deleted since the batch: cannot restore")
            )

    # rows the batch inserted: every row still carrying its id that it did not update
    inserted: dict[str, list[int]] = {}
    for table in _tables_with_provenance():
        cols = [table.c.id, table.c.updated_at] if "updated_at" in table.c else [table.c.id]
        if "code" in table.c:
            cols.append(table.c.code)
        fresh: list[int] = []
        for row in s.execute(select(*cols).where(table.c.batch_id == n)).mappings():
            row_id = int(row["id"])
            if row_id in updated.get(table.name, ()):
                continue
            fresh.append(row_id)
            if (
                "updated_at" in row
                and edited_since(row["updated_at"])
                and (table.name, row_id) not in later
            ):
                dependents.append(
                    Dependent(what=_label(table, row), reason="edited since the batch")
                )
        if fresh:
            inserted[table.name] = fresh
    dependents.extend(later.values())

    doomed = {name: set(ids) for name, ids in inserted.items()}
    # decisions answering an OTC version it added: the link names the version by its number,
    # not by the version row's id, so the foreign-key scan below cannot see it
    # the decision links the batch re-pointed (their before-images), read once for both checks
    repointed: dict[int, dict[str, Any]] = {
        int(row_id): dict(before)
        for row_id, before in s.execute(
            select(BatchChange.row_id, BatchChange.before)
            .where(BatchChange.batch_id == n, BatchChange.table_name == "decision_otc")
            .order_by(BatchChange.id)
        )
    }
    answering = _decisions_on_versions(s, set(repointed), doomed)
    dependents.extend(answering.values())
    # and the other way: a link it re-pointed must not be put back on a version that is gone
    dependents.extend(_links_put_back_on_lost_versions(s, repointed, doomed))
    # rows elsewhere that refer to rows it inserted (and would be left dangling or cascaded)
    for table in load_models().sorted_tables:
        for fk in table.foreign_keys:
            target = fk.column.table.name
            if target not in doomed or fk.parent.name == "batch_id":
                continue
            own = doomed.get(table.name, set())
            cols = [table.c.id] if "id" in table.c else []
            if "code" in table.c:
                cols.append(table.c.code)
            if not cols:
                cols = [fk.parent]
            cols.append(fk.parent)
            target_codes = _codes(s, fk.column.table, doomed[target])
            for chunk in _chunks(sorted(doomed[target])):
                for row in s.execute(select(*cols).where(fk.parent.in_(chunk))).mappings():
                    if "id" in row and int(row["id"]) in own:
                        continue
                    if "id" in row and table.name == "decision_otc" and int(row["id"]) in answering:
                        continue  # listed above, as the decision and the version it answers
                    ref = target_codes.get(int(row[fk.parent.name]), f"#{row[fk.parent.name]}")
                    who = _label(table, row) if "id" in row else table.name
                    dependents.append(
                        Dependent(what=who, reason=f"refers to {target} {ref}, added by this batch")
                    )
    if dependents:
        raise RevertBlockedError(n, dependents[:SHOWN], len(dependents))

    # restore, newest change first so the earliest before-image of a row is the one kept
    restored: dict[str, int] = defaultdict(int)
    for name, row_id, before in s.execute(
        select(BatchChange.table_name, BatchChange.row_id, BatchChange.before)
        .where(BatchChange.batch_id == n)
        .order_by(BatchChange.id.desc())
    ).all():
        table = _table(name)
        values = {k: _typed(table, k, v) for k, v in dict(before).items() if k in table.c}
        s.execute(update(table).where(table.c.id == row_id).values(**values))
        restored[name] += 1
    deleted: dict[str, int] = {}
    order = [t for t in reversed(load_models().sorted_tables) if t.name in inserted]
    for table in order:  # self-references first, so a child and its parent go together
        for fk in table.foreign_keys:
            if fk.column.table is table and fk.parent.nullable:
                for chunk in _chunks(inserted[table.name]):
                    s.execute(
                        update(table).where(table.c.id.in_(chunk)).values({fk.parent.name: None})
                    )
    for table in order:
        for chunk in _chunks(inserted[table.name]):
            s.execute(delete(table).where(table.c.id.in_(chunk)))
        deleted[table.name] = len(inserted[table.name])
    s.flush()
    return RevertResult(batch_id=n, source=batch.source, restored=dict(restored), deleted=deleted)


def _changed_later(s: Session, n: int) -> dict[tuple[str, int], Dependent]:
    """Rows batch ``n`` wrote that a later, still committed batch changed, by (table, row id);
    the earliest such batch is the one named (it has to be reverted first)."""
    out: dict[tuple[str, int], Dependent] = {}
    for name, row_id, other in s.execute(
        select(BatchChange.table_name, BatchChange.row_id, BatchChange.batch_id)
        .join(ImportBatch, ImportBatch.id == BatchChange.batch_id)
        .where(
            BatchChange.prior_batch_id == n,
            BatchChange.batch_id != n,
            ImportBatch.status == "committed",
        )
        .order_by(BatchChange.batch_id, BatchChange.id)
    ):
        key = (str(name), int(row_id))
        if key in out:
            continue
        table = _table(name)
        code = (
            s.scalar(select(table.c.code).where(table.c.id == row_id))
            if "code" in table.c
            else None
        )
        what = f"{name} {code}" if code else f"{name} #{row_id}"
        out[key] = Dependent(what=what, reason=f"changed later by batch {other}", batch_id=other)
    return out


def _decisions_on_versions(
    s: Session, repointed: set[int], doomed: dict[str, set[int]]
) -> dict[int, Dependent]:
    """Decisions (and actions) that answer an OTC version among the ``doomed`` rows, by the id of
    their ``decision_otc`` link. Links the batch inserted go with it, and links it re-pointed
    (``repointed``) go back to their before-image (whose version
    :func:`_links_put_back_on_lost_versions` checks): neither depends on the batch."""
    ids = doomed.get("otc_version")
    if not ids:
        return {}
    versions, links = _table("otc_version"), _table("decision_otc")
    raid, otc = _table("raid_item"), _table("otc")
    own = doomed.get("decision_otc", set()) | repointed
    out: dict[int, Dependent] = {}
    for chunk in _chunks(sorted(ids)):
        rows = s.execute(
            select(
                links.c.id,
                links.c.batch_id,
                links.c.otc_version,
                raid.c.code,
                raid.c.kind,
                otc.c.code.label("otc"),
            )
            .join(
                versions,
                and_(
                    versions.c.otc_id == links.c.otc_id,
                    versions.c.version == links.c.otc_version,
                ),
            )
            .join(raid, raid.c.id == links.c.raid_item_id)
            .join(otc, otc.c.id == links.c.otc_id)
            .where(versions.c.id.in_(chunk))
            .order_by(links.c.id)
        ).mappings()
        for row in rows:
            link = int(row["id"])
            if link in own:
                continue
            out[link] = Dependent(
                what=f"{_json_value(row['kind'])} {row['code']}",
                reason=f"answers {row['otc']}@v{row['otc_version']}, added by this batch",
                batch_id=row["batch_id"],
            )
    return out


def _links_put_back_on_lost_versions(
    s: Session, repointed: dict[int, dict[str, Any]], doomed: dict[str, set[int]]
) -> list[Dependent]:
    """Decision links the batch re-pointed (``repointed``: row id -> before-image) whose
    before-image names an OTC version that no longer exists (or that this revert removes):
    restoring them would leave them dangling. Two queries, whatever the number of links."""
    wanted = {k: b for k, b in repointed.items() if b.get("otc_version") is not None}
    if not wanted:
        return []
    versions, links = _table("otc_version"), _table("decision_otc")
    raid, otc = _table("raid_item"), _table("otc")
    now: dict[int, Any] = {}
    for chunk in _chunks(sorted(wanted)):
        now.update(
            (int(row["id"]), row)
            for row in s.execute(
                select(
                    links.c.id, links.c.otc_id, raid.c.code, raid.c.kind, otc.c.code.label("otc")
                )
                .join(raid, raid.c.id == links.c.raid_item_id)
                .join(otc, otc.c.id == links.c.otc_id)
                .where(links.c.id.in_(chunk))
            ).mappings()
        )  # a link gone since is reported as "deleted since the batch"
    otc_of = {k: int(b.get("otc_id") or now[k]["otc_id"]) for k, b in wanted.items() if k in now}
    existing: dict[tuple[int, int], int] = {}
    for chunk in _chunks(sorted(set(otc_of.values()))):
        existing.update(
            ((int(o), int(v)), int(i))
            for i, o, v in s.execute(
                select(versions.c.id, versions.c.otc_id, versions.c.version).where(
                    versions.c.otc_id.in_(chunk)
                )
            )
        )
    going = doomed.get("otc_version", set())
    out: list[Dependent] = []
    for row_id, before in wanted.items():
        if row_id not in otc_of:
            continue
        old = int(before["otc_version"])
        found = existing.get((otc_of[row_id], old))
        if found is None or found in going:
            link = now[row_id]
            out.append(
                Dependent(
                    what=f"{_json_value(link['kind'])} {link['code']}",
                    reason=f"would answer {link['otc']}@v{old} again, which no longer exists",
                )
            )
    return out


def _codes(s: Session, table: Table, ids: set[int]) -> dict[int, str]:
    if "code" not in table.c:
        return {}
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        out.update(
            (int(i), str(c))
            for i, c in s.execute(select(table.c.id, table.c.code).where(table.c.id.in_(chunk)))
        )
    return out


# -- metrics ---------------------------------------------------------------------------------------


def _revert_metrics(s: Session, batch: ImportBatch) -> tuple[RevertResult, str | None]:
    from bigov.metrics.models import MetricAggregate, MetricRawFile

    agg = cast(Table, MetricAggregate.__table__)
    n = batch.id
    mine = agg.alias("mine")
    key = (
        (agg.c.series_id == mine.c.series_id)
        & (agg.c.grain == mine.c.grain)
        & (agg.c.period_start == mine.c.period_start)
    )
    dependents: list[Dependent] = []
    # later batches whose figures were computed from this batch's raw rows
    listed = literal(",") + agg.c.batch_ids + literal(",")
    users = s.execute(
        select(agg.c.load_batch_id)
        .join(ImportBatch, ImportBatch.id == agg.c.load_batch_id)
        .where(
            agg.c.load_batch_id != n,
            ImportBatch.status == "committed",
            listed.contains(f",{n},"),
        )
        .distinct()
    ).scalars()
    for other in sorted(int(b) for b in users):
        dependents.append(
            Dependent(
                what=f"metrics batch {other}",
                reason="its aggregates were computed from this batch's observations",
                batch_id=other,
            )
        )
    # later batches that replaced figures this batch computed
    replaced_by = s.execute(
        select(agg.c.load_batch_id)
        .select_from(mine)
        .join(agg, key)
        .join(ImportBatch, ImportBatch.id == agg.c.load_batch_id)
        .where(
            mine.c.load_batch_id == n,
            agg.c.load_batch_id != n,
            agg.c.computed_at > mine.c.computed_at,
            ImportBatch.status == "committed",
        )
        .distinct()
    ).scalars()
    for other in sorted(int(b) for b in replaced_by):
        if not any(d.batch_id == other for d in dependents):
            dependents.append(
                Dependent(
                    what=f"metrics batch {other}",
                    reason="it replaced figures this batch computed",
                    batch_id=other,
                )
            )
    if dependents:
        raise RevertBlockedError(n, dependents[:SHOWN], len(dependents))

    stamp = s.scalar(select(agg.c.computed_at).where(agg.c.load_batch_id == n).limit(1))
    now = utcnow().replace(tzinfo=None)  # aggregates hold naive UTC (see metrics.service)
    restored = superseded = 0
    if stamp is not None:
        keys = select(mine.c.series_id, mine.c.grain, mine.c.period_start).where(
            mine.c.load_batch_id == n
        )
        previous = [
            dict(r)
            for r in s.execute(
                select(agg).where(
                    agg.c.superseded_at == stamp,
                    tuple_(agg.c.series_id, agg.c.grain, agg.c.period_start).in_(keys),
                )
            ).mappings()
        ]
        superseded = max(
            s.execute(  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount
                update(agg)
                .where(agg.c.load_batch_id == n, agg.c.superseded_at.is_(None))
                .values(superseded_at=now)
            ).rowcount
            or 0,
            0,
        )
        for row in previous:
            row.pop("id")
            row.update(computed_at=now, superseded_at=None)
        if previous:
            s.execute(insert(agg), previous)
        restored = len(previous)
    raw = s.scalar(select(MetricRawFile.path).where(MetricRawFile.batch_id == n))
    if raw is not None:
        s.execute(delete(MetricRawFile).where(MetricRawFile.batch_id == n))
    return (
        RevertResult(
            batch_id=n,
            source=batch.source,
            restored={"metric_aggregate": restored},
            deleted={},
            superseded=superseded,
            raw_file=raw,
        ),
        raw,
    )
