"""Export the data set (or some kinds) in the default-mapping shape, so it re-imports as is.

Each kind becomes a table whose header row is ``code`` + the kind's field names (references as
codes: ``parent``, ``owner``, ...) — exactly what ``bigov import`` reads without a mapping.
Formats: XLSX (one sheet per kind, sheet name = kind), CSV (one file per kind in a folder, or one
file for one kind), JSON (``{"kind": [{field: value}, ...]}``). Dates are ISO dates, numbers
keep their stored decimals, enums their values (``amber/green``), JSON columns (a node's
``rules``) their canonical JSON text (compact, keys sorted: :mod:`bigov.ingest.jsonvalue`),
a text cell in every format.

One query per kind plus one per referenced kind: no per-row look-ups.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.errors import ConfigError
from bigov.ingest import jsonvalue
from bigov.ingest.csv_guard import guard
from bigov.ingest.spec import KindSpec, kind_spec, kinds
from bigov.workspace import Workspace

Table = tuple[list[str], list[list[Any]]]


def collect(session: Session, only: list[str] | None = None) -> dict[str, Table]:
    """Header and rows of each kind (load order; ``only`` limits the kinds), ordered by code."""
    wanted = [kind_spec(k).kind for k in only] if only else kinds()
    code_maps: dict[str, dict[int, str]] = {}
    out: dict[str, Table] = {}
    for kind in kinds():
        if kind not in wanted:
            continue
        spec = kind_spec(kind)
        out[kind] = _rows(session, spec, code_maps)
    return out


def _code_map(session: Session, kind: str, cache: dict[str, dict[int, str]]) -> dict[int, str]:
    if kind not in cache:
        table = kind_spec(kind).table
        cache[kind] = dict(session.execute(select(table.c.id, table.c.code)).all())
    return cache[kind]


def _rows(session: Session, spec: KindSpec, code_maps: dict[str, dict[int, str]]) -> Table:
    table = spec.table
    names = list(spec.fields)
    cols = [table.c.code, *(table.c[spec.fields[n].column] for n in names)]
    header = ["code", *names]
    rows: list[list[Any]] = []
    refs = {
        n: _code_map(session, spec.fields[n].ref or "", code_maps)
        for n in names
        if spec.fields[n].ref
    }
    objects = {n for n in names if spec.fields[n].type == "json"}
    for r in session.execute(select(*cols).order_by(table.c.code)):
        row: list[Any] = [r[0]]
        for i, n in enumerate(names, start=1):
            v = r[i]
            if n in refs and v is not None:
                v = refs[n].get(v)
            elif n in objects and v is not None:
                v = jsonvalue.canonical(v)
            row.append(_plain(v))
        rows.append(row)
    return header, rows


def _plain(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, dt.datetime):
        return v.date()
    return v


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def export(
    ws: Workspace,
    out: Path,
    *,
    only: list[str] | None = None,
    fmt: str | None = None,
    csv_raw: bool = False,
) -> list[Path]:
    """Write the data set to ``out`` and return the files written.

    ``fmt`` is ``xlsx``, ``csv`` or ``json`` (default: from the suffix; a path without a suffix
    means a CSV folder). For CSV, ``out`` is a folder (one ``<kind>.csv`` per kind that has rows,
    or per kind of ``only``) unless it ends in ``.csv`` and one kind is exported. CSV text cells
    that a spreadsheet would run as a formula are prefixed with ``'`` unless ``csv_raw`` (see
    :func:`write_csv`).

    Raises:
        ConfigError: unknown format or kind, or several kinds into one CSV file.
    """
    fmt = (fmt or out.suffix.lstrip(".") or "csv").casefold()
    with ws.session() as s:
        data = collect(s, only)
    if fmt == "xlsx":
        return [write_xlsx(data, out)]
    if fmt == "json":
        return [write_json(data, out)]
    if fmt == "csv":
        if out.suffix.casefold() == ".csv":
            if len(data) != 1:
                raise ConfigError(
                    "a single CSV file holds one kind",
                    hint="pass --kind, or give a folder for one CSV per kind",
                )
            ((header, rows),) = data.values()
            return [write_csv(header, rows, out, raw=csv_raw)]
        out.mkdir(parents=True, exist_ok=True)
        # a kind with no rows gets no file unless asked for by name: a header-only CSV would
        # not import back (an empty file is refused), and `bigov template` gives the headers
        return [
            write_csv(h, r, out / f"{k}.csv", raw=csv_raw)
            for k, (h, r) in data.items()
            if r or only
        ]
    raise ConfigError(f"unknown export format {fmt!r}", hint="use xlsx, csv or json")


def write_csv(header: list[str], rows: list[list[Any]], path: Path, *, raw: bool = False) -> Path:
    """UTF-8 CSV (with a BOM so that Excel opens accents correctly). Text cells beginning with
    ``= + - @`` tab or CR get a leading ``'`` so a spreadsheet shows them instead of running them
    (:mod:`bigov.ingest.csv_guard`; the import removes it); ``raw`` writes them as stored."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        if raw:
            w.writerows([_text(v) for v in row] for row in rows)
        else:  # only text is guarded: numbers, dates and booleans are never str here
            w.writerows([guard(v) if isinstance(v, str) else _text(v) for v in row] for row in rows)
    return path


def write_json(data: dict[str, Table], path: Path) -> Path:
    """``{"kind": [{field: value}]}``; numbers as strings so no precision is lost."""
    payload = {
        kind: [
            {
                h: (_text(v) if v is not None else None) if not isinstance(v, bool) else v
                for h, v in zip(header, row, strict=True)
            }
            for row in rows
        ]
        for kind, (header, rows) in data.items()
    }
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def write_xlsx(data: dict[str, Table], path: Path) -> Path:
    """One sheet per kind; dates as dates, numbers as numbers, header row frozen."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for kind, (header, rows) in data.items():
        ws = wb.create_sheet(kind[:31])
        ws.freeze_panes = "A2"
        ws.append(header)
        for row in rows:
            ws.append([_xlsx(ws, v) for v in row])
    if not data:
        wb.create_sheet("empty")
    wb.save(path)
    return path


def _xlsx(ws: Any, v: Any) -> Any:
    if isinstance(v, Decimal):
        # Exact text when a float would round it (very large amounts), a number otherwise.
        return float(v) if abs(v) < Decimal(10) ** 12 else format(v, "f")
    if isinstance(v, str) and v.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=v)
        cell.data_type = "s"  # text that looks like a formula stays text
        return cell
    return v
