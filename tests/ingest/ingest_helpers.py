"""Helpers shared by the ingest tests (imported by module name: tests have no packages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from bigov.db.base import Base
from bigov.workspace import Workspace

DATA = Path(__file__).parent / "data"


def dump(ws: Workspace, *, skip: tuple[str, ...] = ("import_batch",)) -> dict[str, Any]:
    """Every row of every table (ordered), for before/after comparisons."""
    out: dict[str, Any] = {}
    with ws.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for name, table in sorted(Base.metadata.tables.items()):
            if name in skip or name not in present:
                continue
            order = list(table.primary_key.columns)
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def write(path: Path, text_: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text_.encode(encoding))
    return path
