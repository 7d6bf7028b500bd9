"""The demo enterprise exported to XLSX and to CSV re-imports into a fresh workspace as the same
data set: every table compared by code, on every column but ids, audit timestamps and
provenance (batch, writer), with references compared as the codes they point to."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select

from bigov.db.base import Base
from bigov.demo import generate
from bigov.ingest.export import export
from bigov.ingest.service import import_file, resolve_options
from bigov.ingest.spec import kinds
from bigov.workspace import Workspace

# not data: surrogate keys, audit timestamps, provenance
SKIPPED = frozenset({"id", "created_at", "updated_at", "batch_id", "written_by"})


def _normal(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def by_code(ws: Workspace) -> dict[str, dict[str, dict[str, Any]]]:
    """Every table with a ``code``: code → {column: value}, foreign keys as the target's code."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    with ws.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        tables = {n: t for n, t in Base.metadata.tables.items() if n in present and "code" in t.c}
        codes = {n: dict(conn.execute(select(t.c.id, t.c.code)).all()) for n, t in tables.items()}
        for name, table in sorted(tables.items()):
            rows: dict[str, dict[str, Any]] = {}
            for r in conn.execute(select(table)).mappings():
                values: dict[str, Any] = {}
                for col in table.c:
                    if col.name in SKIPPED or col.name == "code":
                        continue
                    v = r[col.name]
                    fks = list(col.foreign_keys)
                    if fks and v is not None:
                        target = fks[0].column.table.name
                        v = codes[target].get(v, ("id", v)) if target in codes else ("id", v)
                    values[col.name] = _normal(v)
                rows[r["code"]] = values
            out[name] = rows
    return out


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_demo_round_trip(tmp_path: Path, fmt: str) -> None:
    source = Workspace.open(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        generate(source, scale="small")
        expected = by_code(source)
        out = tmp_path / ("export" if fmt == "csv" else "export.xlsx")
        files = export(source, out, fmt=fmt)
    finally:
        source.close()
    fresh = Workspace.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        if fmt == "csv":
            for f in files:  # one file per kind, in load order
                import_file(fresh, f, options=resolve_options(kind=f.stem), user="rt")
        else:
            import_file(fresh, files[0], user="rt")
        got = by_code(fresh)
    finally:
        fresh.close()
    importable = set(kinds())
    filled = {t for t, rows in expected.items() if rows}
    assert filled - importable == set(), "the demo fills tables the export does not carry"
    for table in sorted(filled):
        want, have = expected[table], got.get(table, {})
        assert set(have) == set(want), f"{table}: codes differ"
        diffs = {
            (code, col): (v, have[code].get(col))
            for code, row in want.items()
            for col, v in row.items()
            if have[code].get(col) != v
        }
        assert not diffs, f"{table}: {len(diffs)} values differ, e.g. {list(diffs.items())[:5]}"
