"""The data version: one counter that every committed change to the workspace's data moves on.

Anything derived from the data and kept for reuse (the server's analysis answers, see
:mod:`bigov.server.answers`) is keyed by it, so a kept answer is never stale: it belongs to the
version it was computed at, and any write makes a new version.

The counter is moved by the engine itself, not by each write path remembering to: a listener
notes a transaction that ran an INSERT / UPDATE / DELETE on a data table (imports, API writes,
CLI commands, cycles, metrics loads, a migration's data alike) and, as that transaction commits,
adds one to the counter **in the same transaction**, as its very last statement. So

* the new version becomes visible exactly when the data does (never before: no answer computed
  from old data can be stored under the new version; never after: no window where new data
  carries the old version);
* the row lock on the counter is the last lock a writer takes and is held only for its COMMIT,
  so writers never deadlock on it (a writer holding it waits for nothing else).

Bookkeeping tables that do not change any answer (users, tokens, the audit trail, the import
batch log, the kept answers themselves) do not move it, or every request's token check would
empty the cache.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, Integer, event, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from bigov.db.base import Base, utcnow

TABLE = "data_version"
# writes to these never change what an analysis answers
UNTRACKED = frozenset(
    {
        TABLE,
        "analysis_answer",
        "alembic_version",
        # the batch log: a batch's rows are data (and tracked); its own record is bookkeeping,
        # so a refused or unchanged import leaves the version (and every kept answer) alone
        "import_batch",
        "app_user",
        "app_user_scope",
        "api_token",
        "audit_event",
    }
)
_FLAG = "bigov_data_written"
# the table a DML statement writes, as SQLAlchemy renders it (optionally quoted / schema-qualified)
_DML = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|MERGE\s+INTO"
    r"|TRUNCATE(?:\s+TABLE)?|REPLACE\s+INTO|COPY)\s+(?:ONLY\s+)?"
    r'(?:"?[\w$]+"?\.)?"?([\w$]+)"?',
    re.IGNORECASE,
)
_BUMP = (
    f"UPDATE {TABLE} SET version = version + 1, changed_at = CURRENT_TIMESTAMP WHERE id = 1",
    # every kept answer belongs to an older version now: none can be served again
    "DELETE FROM analysis_answer",
)


class DataVersion(Base):
    """The single row (id 1) holding the workspace's data version."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def writes_data(statement: str) -> bool:
    """True when ``statement`` changes a tracked table (a DML statement on a data table)."""
    found = _DML.match(statement)
    return found is not None and found.group(1).lower() not in UNTRACKED


def _note_write(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    if not conn.info.get(_FLAG) and writes_data(statement):
        conn.info[_FLAG] = True


def _bump_on_commit(conn: Connection) -> None:
    if conn.info.pop(_FLAG, False):
        # straight on the DBAPI connection: the transaction is committing, so SQLAlchemy's own
        # execute would begin another one; this runs inside the one about to commit
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for statement in _BUMP:
                cursor.execute(statement)
        finally:
            cursor.close()


def _forget(conn: Connection) -> None:
    conn.info.pop(_FLAG, None)


def install(engine: Engine) -> None:
    """Keep the data version on ``engine`` from now on (once per engine; a workspace whose
    schema predates the counter is left alone)."""
    if event.contains(engine, "commit", _bump_on_commit):
        return
    with engine.connect() as conn:
        if not inspect(conn).has_table(TABLE):
            return
    event.listen(engine, "before_cursor_execute", _note_write)
    event.listen(engine, "commit", _bump_on_commit)
    event.listen(engine, "rollback", _forget)


def current(session: Session) -> int:
    """The data version as the session's transaction sees it."""
    return int(session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)
