"""Loading: run a validated :class:`~bigov.ingest.validate.Plan` in one transaction.

Inserts and updates go through SQLAlchemy Core ``executemany`` (one statement per kind, or per
set of changed columns), never row by row through the ORM; references are resolved from codes to
ids with one query per referenced kind. Self-references (``parent``) are written after the rows
of the kind exist, so a child may come before its parent in the file. OTC changes of title,
description or status go through :func:`bigov.strategy.service.revise_otc_in`, the same logic as
:meth:`~bigov.strategy.service.StrategyService.revise_otc`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from bigov.db.base import utcnow
from bigov.ingest.spec import KindSpec, kind_spec
from bigov.ingest.validate import Located, Plan, existing_codes
from bigov.progress import SILENT, Reporter
from bigov.strategy.models import Otc, OtcStatus
from bigov.strategy.service import revise_otc_in

WRITE_CHUNK = 20_000


def _db_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _defaults(spec: KindSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in spec.fields.values():
        spec.table.c[f.column]
        if f.default is not None:
            out[f.name] = f.default
        else:  # callable defaults (dates of today) are computed per row
            out[f.name] = None
    return out


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
    reporter.start("writing", total=plan.writes or None)
    for kind, kp in plan.kinds.items():
        spec = kind_spec(kind)
        needed = _referenced_codes(spec, kp.inserts + [loc for _, loc, _ in kp.updates])
        for target, codes in needed.items():
            missing = codes - id_maps[target].keys()
            if missing:
                id_maps[target].update(existing_codes(session, target, missing))
        if kp.inserts:
            _insert(session, spec, kp.inserts, id_maps, batch_id=batch_id, user=user)
            reporter.advance(len(kp.inserts))
        if kp.updates:
            _update(session, spec, kp.updates, id_maps, batch_id=batch_id, user=user)
            reporter.advance(len(kp.updates))
        for row_id, loc in kp.revisions:
            _revise(session, row_id, loc, id_maps, batch_id=batch_id, user=user)
            reporter.advance(1)
        if kind == "otc" and kp.inserts:
            _first_versions(
                session,
                kp.inserts,
                batch_id=batch_id,
                user=user,
                explicit=plan.kinds.get("otc_version"),
            )
    reporter.finish()


def _referenced_codes(spec: KindSpec, rows: list[Located]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for f in spec.fields.values():
        if f.ref:
            out[f.ref].update(v for loc in rows if (v := loc.values.get(f.name)) is not None)
    return out


def _to_db(
    spec: KindSpec, values: dict[str, Any], id_maps: dict[str, dict[str, int]], names: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        f = spec.fields[name]
        v = values.get(name)
        if f.ref and v is not None:
            v = id_maps[f.ref][v]
        out[f.column] = _db_value(v)
    return out


def _insert(
    session: Session,
    spec: KindSpec,
    rows: list[Located],
    id_maps: dict[str, dict[str, int]],
    *,
    batch_id: int,
    user: str | None,
) -> None:
    defaults = _defaults(spec)
    names = [n for n in spec.fields if n not in spec.self_refs]
    now = utcnow()
    callables = {n for n in spec.fields if defaults[n] is None and not spec.fields[n].nullable}
    params = []
    for loc in rows:
        values = dict(defaults)
        values.update(
            {
                k: v
                for k, v in loc.values.items()
                if k in spec.fields and (v is not None or spec.fields[k].nullable)
            }
        )
        for n in callables:
            if values.get(n) is None:
                values[n] = _callable_default(spec, n)
        row = _to_db(spec, values, id_maps, names)
        row.update(
            code=loc.values["code"],
            batch_id=batch_id,
            written_by=user,
            created_at=now,
            updated_at=now,
        )
        params.append(row)
    table = spec.table
    for i in range(0, len(params), WRITE_CHUNK):
        session.execute(insert(table), params[i : i + WRITE_CHUNK])
    codes = [loc.values["code"] for loc in rows]
    id_maps[spec.kind].update(existing_codes(session, spec.kind, codes))
    if spec.self_refs:
        for name in spec.self_refs:
            col = spec.fields[name].column
            targets = {v for loc in rows if (v := loc.values.get(name)) is not None}
            id_maps[spec.kind].update(
                existing_codes(session, spec.kind, targets - id_maps[spec.kind].keys())
            )
            links = [
                {
                    "_id": id_maps[spec.kind][loc.values["code"]],
                    "_ref": id_maps[spec.kind][loc.values[name]],
                }
                for loc in rows
                if loc.values.get(name) is not None
            ]
            if links:
                session.execute(
                    update(table)
                    .where(table.c.id == bindparam("_id"))
                    .values({col: bindparam("_ref")})
                    .execution_options(synchronize_session=False),
                    links,
                )


def _update(
    session: Session,
    spec: KindSpec,
    rows: list[tuple[int, Located, dict[str, Any]]],
    id_maps: dict[str, dict[str, int]],
    *,
    batch_id: int,
    user: str | None,
) -> None:
    # executemany needs one statement per set of changed columns
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_id, _loc, changed in rows:
        names = tuple(sorted(changed))
        params = {f"p_{k}": v for k, v in _to_db(spec, changed, id_maps, list(names)).items()}
        params["_id"] = row_id
        groups[names].append(params)
    table = spec.table
    now = utcnow()
    for names, batch in groups.items():
        cols = [spec.fields[n].column for n in names]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(f"p_{c}") for c in cols})
            .values(batch_id=batch_id, written_by=user, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        for i in range(0, len(batch), WRITE_CHUNK):
            session.execute(stmt, batch[i : i + WRITE_CHUNK])


def _revise(
    session: Session,
    row_id: int,
    loc: Located,
    id_maps: dict[str, dict[str, int]],
    *,
    batch_id: int,
    user: str | None,
) -> None:
    otc = session.get(Otc, row_id)
    assert otc is not None
    v = loc.values
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
        written_by=user,
        batch_id=batch_id,
    )
    spec = kind_spec("otc")
    others = [
        n
        for n in v
        if n not in ("code", "title", "description", "status", "version", "effective_from")
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
        else:
            setattr(otc, f.column, value)
    session.flush()


def _first_versions(
    session: Session, rows: list[Located], *, batch_id: int, user: str | None, explicit: Any
) -> None:
    """The history row of each new OTC (as :meth:`StrategyService.add_otc` records it),
    unless the batch brings that version row itself (an export being re-imported)."""
    given = {loc.values.get("code") for loc in explicit.inserts} if explicit else set()
    given |= {loc.values.get("code") for _, loc, _ in explicit.updates} if explicit else set()
    ids = existing_codes(session, "otc", [loc.values["code"] for loc in rows])
    params = []
    now = utcnow()
    for loc in rows:
        v = loc.values
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
                "change_reason": "created",
                "batch_id": batch_id,
                "written_by": user,
                "created_at": now,
                "updated_at": now,
            }
        )
    if params:
        session.execute(insert(kind_spec("otc_version").table), params)
