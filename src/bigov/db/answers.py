"""Kept answers: the JSON of an expensive question (an organisation-wide roll-up, benefits
realisation, ...) computed once per data version and shared by every process on the database.

An answer is keyed by the question, its parameters and the :mod:`data version
<bigov.db.dataversion>` it was computed at. The version is read in the same transaction as the
data the answer is computed from, and any committed write moves it, so a kept answer is never
stale: after a write the next request finds no answer for the new version and computes one.

Computing is done once: on PostgreSQL the first transaction to miss takes an advisory lock on
the key while it computes, and the others (threads or processes) wait for it and then read its
answer; on SQLite (one server process) a thread lock per key does the same.
Answers of older versions are deleted by the write that makes them old (see
:mod:`bigov.db.dataversion`), so the table holds only answers that can still be served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, Text, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from bigov.db.base import Base, utcnow
from bigov.db.dataversion import DataVersion

# bumped when the shape of an answer changes, so answers of an older bigov are not served
ANSWER_FORMAT = "1"


class AnalysisAnswer(Base):
    """One kept answer: ``key`` is the SHA-256 of question, parameters and format."""

    __tablename__ = "analysis_answer"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    question: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    compute_ms: Mapped[int] = mapped_column(BigInteger, default=0)


def answer_key(question: str, params: dict[str, Any]) -> str:
    """The key of ``question`` asked with ``params`` (order-independent, JSON-typed values)."""
    canonical = json.dumps(
        {"q": question, "p": params, "f": ANSWER_FORMAT},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def _local_lock(key: str) -> threading.Lock:
    with _local_guard:
        if len(_local_locks) > 1024:
            # keys are per question and parameters; forget the idle ones now and then
            for k in [k for k, lock in _local_locks.items() if not lock.locked()]:
                del _local_locks[k]
        return _local_locks.setdefault(key, threading.Lock())


# answers a caller served last, by key: (data version, body); a kept answer of the current
# version is then not fetched again, only confirmed (its version is one small column)
Served = dict[str, tuple[int, str]]
MAX_SERVED = 64


def _remember(served: Served | None, key: str, version: int, body: str) -> None:
    if served is None:
        return
    if len(served) >= MAX_SERVED and key not in served:
        served.pop(next(iter(served)), None)
    served[key] = (version, body)


def _read(
    s: Session, key: str, served: Served | None, *, try_lock: bool = False
) -> tuple[int, str | None, bool]:
    """(data version, kept answer or None, whether this transaction now holds the key's
    advisory lock) in one statement. With ``try_lock`` (PostgreSQL) a miss also tries to take
    the lock, so the usual miss costs no extra round trip. An answer this process already holds
    for the current version is not sent again by the database."""
    known = served.get(key) if served is not None else None
    known_version = known[0] if known else -1
    fresh = DataVersion.version == known_version
    cols: list[Any] = [
        DataVersion.version,
        AnalysisAnswer.key.is_not(None),
        case((fresh, None), else_=AnalysisAnswer.body),
    ]
    if try_lock:
        cols.append(
            case(
                (AnalysisAnswer.key.is_(None), func.pg_try_advisory_xact_lock(_lock_id(key))),
                else_=False,
            )
        )
    row = s.execute(
        select(*cols)
        .select_from(DataVersion)
        .outerjoin(
            AnalysisAnswer,
            (AnalysisAnswer.key == key) & (AnalysisAnswer.data_version == DataVersion.version),
        )
        .where(DataVersion.id == 1)
    ).first()
    if row is None:
        # no version row (a damaged workspace): answers cannot be keyed, so none is kept
        return 0, None, False
    version, found, body = int(row[0]), bool(row[1]), row[2]
    locked = bool(row[3]) if try_lock else False
    if not found:
        return version, None, locked
    if body is None and known is not None and known[0] == version:
        body = known[1]
    if body is not None:
        _remember(served, key, version, body)
    return version, body, locked


def kept_answer(
    sessions: Callable[[], AbstractContextManager[Session]],
    question: str,
    params: dict[str, Any],
    compute: Callable[[Session], Any],
    served: Served | None = None,
) -> tuple[str, bool]:
    """The JSON text of ``question`` asked with ``params``, and whether it was kept already.

    ``sessions`` opens a unit of work (``Workspace.session``); ``compute(session)`` returns the
    answer as a pydantic model or JSON-able value, computed through that session — whose
    transaction has already read the data version the answer will be kept under. A kept answer
    costs one statement; a miss adds the computation and one insert. ``served`` (owned by the
    caller, one per workspace) keeps the bodies last served, so an unchanged answer is
    confirmed by the database rather than sent again.
    """
    key = answer_key(question, params)
    local = _local_lock(key)
    mine = False
    try:
        # the thread lock is released only after the session has committed (the finally
        # below runs after the with block), so a thread that waited for it reads the answer
        with sessions() as s:
            postgres = s.get_bind().dialect.name == "postgresql"
            version, body, locked = _read(s, key, served, try_lock=postgres)
            if body is not None:
                return body, True
            if version == 0:
                return _dump(compute(s)), False
            if postgres:
                # the advisory lock alone excludes every other thread and process (each has its
                # own transaction); taking a thread lock as well could deadlock against it
                waited = not locked
                if waited:
                    s.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
            else:
                mine = local.acquire(blocking=False)
                waited = not mine
                if not mine:
                    local.acquire()
                    mine = True
                # computed by another thread meanwhile (it keeps what it served before it lets
                # go of the lock): nothing to read or compute
                known = served.get(key) if served is not None else None
                if known is not None and known[0] == version:
                    return known[1], True
                waited = waited and served is None
            if waited:
                # another thread or process was computing it: read its answer
                version, body, _ = _read(s, key, served)
                if body is not None:
                    return body, True
            started = time.perf_counter()
            body = _dump(compute(s))
            row = {
                "key": key,
                "data_version": version,
                "question": question[:64],
                "body": body,
                "computed_at": utcnow(),
                "compute_ms": int((time.perf_counter() - started) * 1000),
            }
            insert = (pg_insert if postgres else sqlite_insert)(AnalysisAnswer).values(**row)
            s.execute(insert.on_conflict_do_nothing())
        _remember(served, key, version, body)
        return body, False
    finally:
        if mine:
            local.release()


def _dump(value: Any) -> str:
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    return json.dumps(value, separators=(",", ":"), default=str)


def _lock_id(key: str) -> int:
    # pg advisory locks take a signed 64-bit integer
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
