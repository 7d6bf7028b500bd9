"""Writing the demo: rows collected with pre-assigned ids, bulk-inserted in foreign-key order."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, inspect, select, update

from bigov.db.base import Entity
from bigov.db.registry import load_models
from bigov.demo.common import WRITTEN_BY

_CHUNK = 5000  # rows per bulk insert: large enough to amortise round trips, small enough for memory


# -- writing -----------------------------------------------------------------------------------
class _Writer:
    """Collects rows per table with pre-assigned ids and bulk-inserts them in foreign-key order.

    Ids are assigned here rather than returned by the database so that rows can reference each
    other before anything is written (one executemany per table instead of a flush per row).
    """

    def __init__(self, conn: Connection, batch_id: int) -> None:
        self.conn = conn
        self.batch_id = batch_id
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.next_id: dict[str, int] = {}
        self.counts: dict[str, int] = defaultdict(int)
        self.streaming = False  # once structure is written, big tables are written in chunks
        self.tables: dict[str, Table] = {t.name: t for t in load_models().sorted_tables}

    def reserve(self, model: type[Entity]) -> int:
        """The id the next row of ``model`` will get (for rows written later with ``id=``)."""
        name = model.__tablename__
        if name not in self.next_id:
            table = self.tables[name]
            self.next_id[name] = int(self.conn.scalar(select(func.max(table.c.id))) or 0) + 1
        row_id = self.next_id[name]
        self.next_id[name] = row_id + 1
        return row_id

    def add(self, model: type[Entity], **values: Any) -> int:
        name = model.__tablename__
        row_id = int(values["id"]) if "id" in values else self.reserve(model)
        values["id"] = row_id
        values["batch_id"] = self.batch_id
        values["written_by"] = WRITTEN_BY
        rows = self.pending[name]
        rows.append(values)
        if self.streaming and len(rows) >= _CHUNK:
            self._write(name)
        return row_id

    def flush(self) -> None:
        """Write every pending row, parents before children."""
        for table in load_models().sorted_tables:
            if self.pending.get(table.name):
                self._write(table.name)

    def _write(self, name: str) -> None:
        rows = self.pending.pop(name)
        keys: dict[str, None] = {}
        for row in rows:
            keys.update(dict.fromkeys(row))
        # executemany needs one key set per statement; optional columns left out become NULL
        full = [r if len(r) == len(keys) else {k: r.get(k) for k in keys} for r in rows]
        table = self.tables[name]
        for i in range(0, len(full), _CHUNK):
            self.conn.execute(insert(table), full[i : i + _CHUNK])
        self.counts[name] += len(rows)

    def fix_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids assigned here."""
        if self.conn.dialect.name != "postgresql":
            return
        for name in sorted(self.counts):
            table = self.tables[name]
            self.conn.execute(
                select(
                    func.setval(
                        func.pg_get_serial_sequence(name, "id"),
                        select(func.max(table.c.id)).scalar_subquery(),
                    )
                )
            )


def _clear(conn: Connection) -> None:
    """Delete every row of the P3M tables (children first); settings and batch history stay."""
    keep = {"setting", "alembic_version", "import_batch"}
    # only tables that exist: a context whose models are loaded may not be migrated in yet
    present = set(inspect(conn).get_table_names())
    for table in reversed(load_models().sorted_tables):
        if table.name in keep or table.name not in present:
            continue
        for fk in table.foreign_keys:
            # self-references (parent_id) are cut first so the delete never trips on row order
            if fk.column.table is table and fk.parent.nullable:
                conn.execute(update(table).values({fk.parent.name: None}))
        conn.execute(delete(table))
