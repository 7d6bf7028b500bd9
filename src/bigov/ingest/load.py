"""Loading: run a validated :class:`~bigov.ingest.validate.Plan` in one transaction.

Inserts and updates are one ``executemany`` per kind (or per set of changed columns) on the
session's own connection, so they share its transaction: a failure anywhere rolls back the whole
batch. Values are converted to what the database driver takes a whole column at a time (codes to
ids by a join against a code → id map, dates and decimals by a cast where SQLite stores them as
text and floats, exactly as SQLAlchemy's own bind processors would), then handed to the driver
as plain tuples: the per-value work of SQLAlchemy's parameter processing is what made bulk
loads slow. Statements are built from the table metadata with the dialect's quoting; values are
always bound, never formatted into SQL.

Self-references (``parent``) are written after the rows of the kind exist, so a child may come
before its parent in the file. OTC changes of title, description or status go through
:func:`bigov.strategy.service.revise_otc_in`, the same logic as
:meth:`~bigov.strategy.service.StrategyService.revise_otc`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import JSON, Column, Table, insert, select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from bigov.db.base import utcnow
from bigov.ingest import jsonvalue
from bigov.ingest.spec import FieldSpec, KindSpec, kind_spec
from bigov.ingest.validate import (
    ID,
    KindPlan,
    Plan,
    existing_codes,
    polars_type,
    present_col,
    row_values,
)
from bigov.progress import SILENT, Reporter
from bigov.strategy.models import Otc, OtcStatus
from bigov.strategy.service import revise_otc_in

WRITE_CHUNK = 20_000


def _db_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _callable_default(spec: KindSpec, name: str) -> Any:
    col = spec.table.c[spec.fields[name].column]
    default = col.default
    if default is not None and getattr(default, "is_callable", False):
        arg: Any = getattr(default, "arg", None)
        try:
            return arg(None)  # SQLAlchemy wraps callables to take an execution context
        except TypeError:
            return arg()
    return None


# --- values for the driver -------------------------------------------------------------------


def _driver_values(series: pl.Series, col: Column[Any], dialect: Dialect) -> list[Any]:
    """A typed column as the DB-API driver takes it (what the column type's bind processor
    would make of each value, computed for the whole column where the result is known)."""
    processor = col.type.dialect_impl(dialect).bind_processor(dialect)
    dtype = series.dtype
    if isinstance(col.type, JSON):
        # validation holds the canonical text: the object goes to the column's own processor
        # (JSON text on SQLite, a JSON parameter on PostgreSQL), an empty cell is SQL NULL
        objects = [jsonvalue.from_text(v) for v in series.to_list()]
        if processor is None:
            return objects
        return [None if v is None else processor(v) for v in objects]
    if processor is None:
        return series.to_list()
    if dialect.name == "sqlite":
        # SQLite stores dates as ISO text and NUMERIC as floats (SQLAlchemy's processors)
        if dtype == pl.Date:
            return series.dt.strftime("%Y-%m-%d").to_list()
        if isinstance(dtype, pl.Decimal):
            return series.cast(pl.Float64).to_list()
    if dtype == pl.String:
        # enums are held as their stored values already: nothing for the processor to do
        return series.to_list()
    return [None if v is None else processor(v) for v in series.to_list()]


def _constant(value: Any, col: Column[Any], dialect: Dialect) -> Any:
    processor = col.type.dialect_impl(dialect).bind_processor(dialect)
    value = _db_value(value)
    return processor(value) if processor is not None and value is not None else value


def _placeholder(dialect: Dialect) -> str:
    return "?" if dialect.paramstyle in ("qmark",) else "%s"


def _executemany(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    for i in range(0, len(rows), WRITE_CHUNK):
        conn.exec_driver_sql(sql, list(rows[i : i + WRITE_CHUNK]))


def _insert_sql(table: Table, columns: list[str], dialect: Dialect) -> str:
    q = dialect.identifier_preparer
    mark = _placeholder(dialect)
    return (
        f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )


def _update_sql(table: Table, columns: list[str], dialect: Dialect) -> str:
    q = dialect.identifier_preparer
    mark = _placeholder(dialect)
    sets = ", ".join(f"{q.quote(c)} = {mark}" for c in columns)
    return f"UPDATE {q.format_table(table)} SET {sets} WHERE {q.quote('id')} = {mark}"


def _ids(session: Session, id_maps: dict[str, dict[str, int]], kind: str, codes: pl.Series) -> None:
    """Make sure ``id_maps[kind]`` knows every code of ``codes`` (one query for the rest)."""
    known = id_maps.setdefault(kind, {})
    missing = [c for c in codes.drop_nulls().unique().to_list() if c not in known]
    if missing:
        known.update(existing_codes(session, kind, missing))


def _ref_ids(
    session: Session, id_maps: dict[str, dict[str, int]], f: FieldSpec, codes: pl.Series
) -> pl.Series:
    assert f.ref is not None
    _ids(session, id_maps, f.ref, codes)
    known = id_maps[f.ref]
    used = codes.drop_nulls().unique().to_list()
    return codes.replace_strict(used, [known[c] for c in used], default=None, return_dtype=pl.Int64)


# --- the plan --------------------------------------------------------------------------------


def execute_plan(
    session: Session,
    plan: Plan,
    *,
    batch_id: int,
    user: str | None,
    reporter: Reporter = SILENT,
) -> None:
    """Write ``plan`` in the caller's transaction (the caller commits or rolls back)."""
    id_maps: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, known in plan.id_maps.items():
        id_maps[kind].update(known)
    reporter.start("writing", total=plan.writes or None)
    for kind, kp in plan.kinds.items():
        spec = kind_spec(kind)
        if kp.inserts.height:
            _insert(session, spec, kp.inserts, id_maps, batch_id=batch_id, user=user)
            reporter.advance(kp.inserts.height)
        for names, frame in kp.updates:
            _update(session, spec, names, frame, id_maps, batch_id=batch_id, user=user)
            reporter.advance(frame.height)
        for row_id, values in kp.revisions:
            _revise(session, row_id, values, id_maps, batch_id=batch_id, user=user)
            reporter.advance(1)
        if kind == "otc" and kp.inserts.height:
            _first_versions(
                session,
                kp.inserts,
                batch_id=batch_id,
                user=user,
                explicit=plan.kinds.get("otc_version"),
            )
    reporter.finish()


def _insert(
    session: Session,
    spec: KindSpec,
    frame: pl.DataFrame,
    id_maps: dict[str, dict[str, int]],
    *,
    batch_id: int,
    user: str | None,
) -> None:
    conn = session.connection()
    dialect = conn.dialect
    table = spec.table
    n = frame.height
    now = utcnow()
    columns: list[str] = ["code"]
    values: list[list[Any]] = [frame["code"].to_list()]
    for name, f in spec.fields.items():
        if name in spec.self_refs:
            continue
        col = table.c[f.column]
        dtype = polars_type(f)
        # An absent value takes the column default; so does an empty one where the column may
        # not be NULL (a nullable column given empty stays empty).
        default = f.default
        if default is None and not f.nullable:
            default = _callable_default(spec, name)
        if name in frame.columns:
            if f.type == "json" and default is not None:  # the frame holds JSON as its text
                default = jsonvalue.canonical(default)
            series = frame[name]
            use_default = ~frame[present_col(name)]
            if not f.nullable:
                use_default = use_default | series.is_null()
            if default is not None and use_default.any():
                series = pl.select(
                    pl.when(use_default)
                    .then(pl.lit(_db_value(default), dtype=dtype))
                    .otherwise(series)
                ).to_series()
            elif default is None and use_default.any():
                series = pl.select(pl.when(use_default).then(None).otherwise(series)).to_series()
            if f.ref:
                series = _ref_ids(session, id_maps, f, series)
            values.append(_driver_values(series, col, dialect))
        else:
            values.append([_constant(default, col, dialect)] * n)
        columns.append(f.column)
    for name, value in (
        ("batch_id", batch_id),
        ("written_by", user),
        ("created_at", now),
        ("updated_at", now),
    ):
        columns.append(name)
        values.append([_constant(value, table.c[name], dialect)] * n)
    _executemany(conn, _insert_sql(table, columns, dialect), list(zip(*values, strict=True)))
    for name in spec.self_refs:
        f = spec.fields[name]
        if name not in frame.columns:
            continue
        linked = frame.filter(pl.col(name).is_not_null() & pl.col(present_col(name)))
        if not linked.height:
            continue
        # the rows just inserted (and any targets stored before) get their ids in one query
        _ids(session, id_maps, spec.kind, pl.concat([linked["code"], linked[name]]))
        own = linked["code"].to_list()
        targets = _ref_ids(session, id_maps, f, linked[name]).to_list()
        rows = [(t, id_maps[spec.kind][c]) for c, t in zip(own, targets, strict=True)]
        _executemany(conn, _update_sql(table, [f.column], dialect), rows)


def _update(
    session: Session,
    spec: KindSpec,
    names: tuple[str, ...],
    frame: pl.DataFrame,
    id_maps: dict[str, dict[str, int]],
    *,
    batch_id: int,
    user: str | None,
) -> None:
    conn = session.connection()
    dialect = conn.dialect
    table = spec.table
    n = frame.height
    columns: list[str] = []
    values: list[list[Any]] = []
    for name in names:
        f = spec.fields[name]
        col = table.c[f.column]
        series = frame[name]
        if f.ref:
            series = _ref_ids(session, id_maps, f, series)
        columns.append(f.column)
        values.append(_driver_values(series, col, dialect))
    for name, value in (("batch_id", batch_id), ("written_by", user), ("updated_at", utcnow())):
        columns.append(name)
        values.append([_constant(value, table.c[name], dialect)] * n)
    values.append(frame[ID].to_list())
    _executemany(conn, _update_sql(table, columns, dialect), list(zip(*values, strict=True)))


def _revise(
    session: Session,
    row_id: int,
    v: dict[str, Any],
    id_maps: dict[str, dict[str, int]],
    *,
    batch_id: int,
    user: str | None,
) -> None:
    otc = session.get(Otc, row_id)
    assert otc is not None
    status = v.get("status")
    revise_otc_in(
        session,
        otc,
        effective_from=v["effective_from"],
        reason=str(v.get("change_reason") or f"imported (batch {batch_id})"),
        title=v.get("title"),
        description=v.get("description"),
        status=OtcStatus(status.value if isinstance(status, enum.Enum) else status)
        if status is not None
        else None,
        target_date=v.get("target_date", ...),
        written_by=user,
        batch_id=batch_id,
    )
    spec = kind_spec("otc")
    others = [
        n
        for n in v
        if n
        not in (
            "code",
            "title",
            "description",
            "status",
            "version",
            "effective_from",
            "target_date",
            "change_reason",
        )
        and v[n] is not None
    ]
    for name in others:
        f = spec.fields[name]
        value = v[name]
        if f.ref:
            value = (
                session.scalar(select(spec.table.c.id).where(spec.table.c.code == value))
                if f.ref == "otc"
                else id_maps[f.ref].get(value)
            )
        setattr(otc, f.column, value)
    session.flush()


def _first_versions(
    session: Session,
    frame: pl.DataFrame,
    *,
    batch_id: int,
    user: str | None,
    explicit: KindPlan | None,
) -> None:
    """The history row of each new OTC (as :meth:`StrategyService.add_otc` records it),
    unless the batch brings that version row itself (an export being re-imported)."""
    given: set[str] = set()
    if explicit is not None:
        if explicit.inserts.height:
            given |= set(explicit.inserts["code"].to_list())
        for _, part in explicit.updates:
            given |= set(existing_ids_to_codes(session, part[ID].to_list()))
    spec = kind_spec("otc")
    rows = [row_values(spec, r) for r in frame.iter_rows(named=True)]
    ids = existing_codes(session, "otc", [r["code"] for r in rows])
    params = []
    now = utcnow()
    for v in rows:
        version = v.get("version") or 1
        code = f"{v['code']}@v{version}"
        if code in given:
            continue
        status = v.get("status") or OtcStatus.ACTIVE
        params.append(
            {
                "code": code,
                "otc_id": ids[v["code"]],
                "version": version,
                "title": v["title"],
                "description": v.get("description"),
                "status": _db_value(status),
                "effective_from": v.get("effective_from") or dt.date.today(),
                "change_reason": v.get("change_reason") or "created",
                "target_date": v.get("target_date"),
                "batch_id": batch_id,
                "written_by": user,
                "created_at": now,
                "updated_at": now,
            }
        )
    if params:
        session.execute(insert(kind_spec("otc_version").table), params)


def existing_ids_to_codes(session: Session, ids: list[int]) -> list[str]:
    """Codes of stored OTC versions by id (updates of a batch carry ids, not codes)."""
    table = kind_spec("otc_version").table
    return list(session.scalars(select(table.c.code).where(table.c.id.in_(ids))))
