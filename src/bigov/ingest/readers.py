"""Read CSV, XLSX and JSON files into plain tables (header + rows), with clear errors.

A :class:`SourceTable` keeps cells as the file gives them (text for CSV; numbers, dates and text
for XLSX; JSON scalars) — typing is the validator's job. Row numbers are the ones a user sees in
Excel or a text editor's CSV view: the header is row 1 (plus any skipped rows above it).

Bad files raise :class:`~bigov.errors.ValidationError` naming the file and, where it can, the
cell: unknown format, empty file, unreadable XLSX, a formula without a cached value, a CSV field
larger than the limit. Nothing else escapes (the caller's transaction has not started yet).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bigov import safeload
from bigov.errors import BigovError, Problem, ValidationError
from bigov.ingest.csv_guard import unguard

CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
JSON_SUFFIXES = frozenset({".json"})
TABULAR_SUFFIXES = CSV_SUFFIXES | XLSX_SUFFIXES | JSON_SUFFIXES

# A single CSV field longer than this is almost certainly a broken quote, not data.
MAX_FIELD_CHARS = 1_000_000
# Files above this size are refused before reading (a misdirected dump, not a data extract);
# each kind of file has its own limit (bigov.safeload.max_bytes), this is the CSV one.
DEFAULT_MAX_BYTES = safeload.DEFAULT_MAX_BYTES["csv"]


@dataclass
class SourceTable:
    """One table of a file: a CSV, one worksheet, or one JSON array."""

    file: str
    sheet: str | None
    headers: list[str]
    rows: list[list[Any]]
    row_numbers: list[int]
    # 1-based row of the header (more than 1 when rows above it were skipped)
    header_row: int = 1
    notes: list[str] = field(default_factory=list)


def fail(
    message: str,
    file: str,
    *,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
    hint: str | None = None,
) -> ValidationError:
    """A ValidationError with a single located problem (for file-level failures)."""
    problem = Problem(message, file=file, sheet=sheet, row=row, column=column, value=value)
    return ValidationError(f"{file}: {message}", [problem], hint=hint)


def file_kind(path: Path) -> str:
    """The kind of a tabular file for its size limit (``csv``, ``xlsx`` or ``json``)."""
    suffix = path.suffix.casefold()
    return "xlsx" if suffix in XLSX_SUFFIXES else "json" if suffix in JSON_SUFFIXES else "csv"


def check_file(path: Path, *, max_bytes: int | None = None) -> None:
    """Refuse a missing, unreadable, empty or oversized file before parsing it (``max_bytes``
    None: the limit of the file's kind, see :func:`bigov.safeload.max_bytes`)."""
    name = path.name
    if not path.exists():
        raise fail("file not found", name)
    if not path.is_file():
        raise fail("not a file", name)
    size = path.stat().st_size
    if size == 0:
        raise fail("the file is empty", name)
    kind = file_kind(path)
    limit = safeload.max_bytes(kind) if max_bytes is None else max_bytes
    if size > limit:
        raise safeload.refuse(
            f"{name}: the file is {size:,} bytes, over the limit of {limit:,} for {kind} files "
            f"(split the extract, or raise the limit with --option max_bytes=N or "
            f"$BIGOV_MAX_{kind.upper()}_BYTES)"
        )


def decode_text(data: bytes, file: str, encoding: str | None = None) -> str:
    """Text of a CSV/JSON file: the given encoding, else UTF-8 (with or without BOM), else
    Windows-1252 (what Excel on Windows writes for "CSV"), which can decode almost any bytes."""
    if b"\x00" in data[:4096]:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        raise fail("this is a binary file, not a text (CSV/JSON) file", file)
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise fail(f"cannot decode the file as {encoding}: {exc}", file) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_tables(
    path: Path,
    *,
    sheet: str | None = None,
    skip_rows: int = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_bytes: int | None = None,
    header: bool = True,
) -> list[SourceTable]:
    """Every table in ``path`` (one per CSV, per non-empty worksheet, per JSON kind).

    ``sheet`` limits an XLSX to one worksheet; ``skip_rows`` skips rows above the header.
    With ``header=False`` the first row is kept as data and headers are ``1``, ``2``, ...
    """
    check_file(path, max_bytes=max_bytes)
    suffix = path.suffix.casefold()
    if suffix in CSV_SUFFIXES:
        return [
            read_csv(
                path, skip_rows=skip_rows, encoding=encoding, delimiter=delimiter, header=header
            )
        ]
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path, sheet=sheet, skip_rows=skip_rows, header=header)
    if suffix in JSON_SUFFIXES:
        return read_json(path, encoding=encoding)
    if suffix == ".xls":
        raise fail(
            "old binary Excel (.xls) files are not supported",
            path.name,
            hint="save it as .xlsx or .csv",
        )
    raise fail(
        f"unsupported file type {suffix or '(none)'!r}",
        path.name,
        hint="use .csv, .xlsx or .json (or a schedule format read by the mpxj importer)",
    )


def read_csv(
    path: Path,
    *,
    skip_rows: int = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
    header: bool = True,
) -> SourceTable:
    """One CSV file. The delimiter is sniffed (``,`` ``;`` tab ``|``) unless given."""
    name = path.name
    text = decode_text(path.read_bytes(), name, encoding)
    if not text.strip():
        raise fail("the file has no data (only blanks)", name)
    if delimiter is None:
        delimiter = "\t" if path.suffix.casefold() == ".tsv" else _sniff(text)
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records: list[list[str]] = list(reader)  # parsed in C; row numbers are positions + 1
    except csv.Error as exc:
        raise fail(
            f"malformed CSV near line {reader.line_num}: {exc}", name, row=reader.line_num
        ) from exc
    # a row is blank when all its cells are: one join + strip in C, not one strip per cell
    first = next((i for i in range(skip_rows, len(records)) if "".join(records[i]).strip()), None)
    if first is None:
        raise fail("the file has no header row", name)
    if header:
        headers, header_row, body = records[first], first + 1, first + 1
    else:
        headers = [str(i + 1) for i in range(len(records[first]))]
        header_row, body = first, first
    numbers = [i + 1 for i in range(body, len(records)) if "".join(records[i]).strip()]
    rows: list[list[Any]] = [records[n - 1] for n in numbers]
    if "'" in text:  # undo the formula guard of bigov's CSV export (docs/importing.md)
        rows = [[unguard(c) if c[:1] == "'" else c for c in row] for row in rows]
    return SourceTable(name, None, _clean_headers(headers), rows, numbers, header_row)


def _sniff(text: str) -> str:
    sample = text[:20000]
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean_headers(headers: list[Any]) -> list[str]:
    out = []
    for i, h in enumerate(headers):
        text = "" if h is None else str(h).strip()
        out.append(text or f"column {i + 1}")
    return out


def read_xlsx(
    path: Path, *, sheet: str | None = None, skip_rows: int = 0, header: bool = True
) -> list[SourceTable]:
    """Every non-empty worksheet (or only ``sheet``), with cached values of formula cells.

    A formula cell without a cached value (a workbook written by a program and never opened in
    Excel) is an error naming the cell: bigov does not evaluate formulas. Merged header cells
    are filled: a merged header spanning columns gives each column its text (numbered if it
    would repeat); a value merged over several rows below the header fills each row.
    """
    import openpyxl  # imported here: a heavy module that CSV-only imports never need
    from openpyxl.utils.exceptions import InvalidFileException

    name = path.name
    # sizes, compression ratio and DOCTYPEs are checked before any XML parser runs
    safeload.check_xlsx(path)
    try:
        # from bytes, not the path: openpyxl leaves its file open when a part fails to parse
        data = path.read_bytes()
        values_wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
        formulas_wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=False)
    except BigovError:
        raise
    except (zipfile.BadZipFile, InvalidFileException) as exc:
        raise fail(
            f"not a readable XLSX workbook ({type(exc).__name__}: {exc})",
            name,
            hint="open it in Excel and save it again as .xlsx",
        ) from exc
    except RecursionError as exc:
        raise fail("not a readable XLSX workbook (its XML is nested too deeply)", name) from exc
    except Exception as exc:
        # openpyxl reports damaged parts with whatever its XML layer raised (ParseError,
        # KeyError, TypeError, zlib.error, ...): all mean "this file is not a usable workbook"
        raise fail(
            f"not a readable XLSX workbook ({type(exc).__name__}: {exc})",
            name,
            hint="open it in Excel and save it again as .xlsx",
        ) from exc
    try:
        names = values_wb.sheetnames
        if sheet is not None:
            match = [n for n in names if n.casefold() == sheet.casefold()]
            if not match:
                raise fail(f"no sheet named {sheet!r} (sheets: {', '.join(names)})", name)
            names = match
        tables = []
        problems: list[Problem] = []
        for sheet_name in names:
            sheet_ws = values_wb[sheet_name]
            safeload.check_sheet_extent(name, sheet_name, sheet_ws.max_row, sheet_ws.max_column)
            table = _read_sheet(
                values_wb[sheet_name], formulas_wb[sheet_name], name, skip_rows, header, problems
            )
            if table is not None:
                tables.append(table)
        if problems:
            raise ValidationError(
                f"{name}: {len(problems)} formula cell(s) have no cached value",
                problems,
                hint="open the workbook in Excel (or LibreOffice), let it calculate, and save",
            )
        if not any(t.rows for t in tables):
            raise fail("the workbook has no data (every sheet is empty or has only headers)", name)
        return tables
    finally:
        values_wb.close()
        formulas_wb.close()


def _read_sheet(
    ws: Any, fws: Any, file: str, skip_rows: int, header: bool, problems: list[Problem]
) -> SourceTable | None:
    grid: list[list[Any]] = [list(r) for r in ws.iter_rows(values_only=True)]
    if not grid:
        return None
    width = max((len(r) for r in grid), default=0)
    for r in grid:
        r.extend([None] * (width - len(r)))
    merged_header_cols: dict[int, str] = {}
    for rng in ws.merged_cells.ranges:
        top = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row <= len(grid) else None
        for row in range(rng.min_row, min(rng.max_row, len(grid)) + 1):
            for col in range(rng.min_col, min(rng.max_col, width) + 1):
                grid[row - 1][col - 1] = top
                if rng.max_col > rng.min_col:
                    merged_header_cols[col - 1] = "" if top is None else str(top)
    # Formula cells whose cached value is missing: the values workbook has None there.
    for row_cells in fws.iter_rows():
        for cell in row_cells:
            if cell.data_type == "f" and (
                cell.row > len(grid) or grid[cell.row - 1][cell.column - 1] is None
            ):
                problems.append(
                    Problem(
                        "formula has no cached value (bigov reads the value Excel saved)",
                        file=file,
                        sheet=ws.title,
                        row=cell.row,
                        column=cell.coordinate,
                        value=str(cell.value)[:200],
                    )
                )
    start = skip_rows
    while start < len(grid) and all(_blank(v) for v in grid[start]):
        start += 1
    if start >= len(grid):
        return None
    if header:
        raw_headers = list(grid[start])
        body_start = start + 1
        # A two-row header: a group title merged across columns above sub-headers
        # ("Financial Year (£m)" over "Baseline" | "Forecast") reads as "title sub-header".
        spanned = [c for c in merged_header_cols if _merged_in_row(ws, start + 1, c + 1)]
        if (
            spanned
            and body_start < len(grid)
            and all(
                isinstance(grid[body_start][c], str) and grid[body_start][c].strip()
                for c in spanned
            )
        ):
            below = grid[body_start]
            for c in range(width):
                top, sub = raw_headers[c], below[c]
                if _blank(sub) or sub == top:
                    continue
                raw_headers[c] = sub if _blank(top) else f"{top} {sub}"
            body_start += 1
            merged_header_cols.clear()
        headers = _clean_headers(raw_headers)
        # A header merged across columns: number the repeats so each column stays addressable.
        seen: dict[str, int] = {}
        for i, h in enumerate(headers):
            if i in merged_header_cols and h in seen:
                seen[h] += 1
                headers[i] = f"{h} ({seen[h]})"
            else:
                seen.setdefault(h, 1)
        header_row = body_start
    else:
        headers = [str(i + 1) for i in range(width)]
        body_start, header_row = start, start
    body: list[list[Any]] = []
    numbers: list[int] = []
    for i in range(body_start, len(grid)):
        cells = grid[i]
        if all(_blank(v) for v in cells):
            continue
        body.append(cells[: len(headers)])
        numbers.append(i + 1)
    return SourceTable(file, ws.title, headers, body, numbers, header_row)


def _merged_in_row(ws: Any, row: int, col: int) -> bool:
    return any(
        r.min_row <= row <= r.max_row and r.min_col <= col <= r.max_col and r.max_col > r.min_col
        for r in ws.merged_cells.ranges
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_json(path: Path, *, encoding: str | None = None) -> list[SourceTable]:
    """``{"kind": [ {field: value}, ... ], ...}`` (one table per kind, the kind as sheet name)
    or a bare list of objects (sheet None). Row numbers are 1-based positions in each list + 1,
    so that "row 2" is the first object, as in a spreadsheet."""
    name = path.name
    text = decode_text(path.read_bytes(), name, encoding)
    try:
        # the structure read here is two levels deep; deeper values become text cells (their
        # depth is checked before they are written back as JSON, see _json_cell)
        data = safeload.load_json(text, name, walk=False)
    except json.JSONDecodeError as exc:
        raise fail(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            name,
            row=exc.lineno,
        ) from exc
    groups: list[tuple[str | None, Any]]
    if isinstance(data, list):
        groups = [(None, data)]
    elif isinstance(data, dict):
        groups = [(str(k), v) for k, v in data.items() if not str(k).startswith("_")]
    else:
        raise fail("expected a JSON object of lists, or a list of objects", name)
    tables = []
    for sheet, items in groups:
        if not isinstance(items, list):
            raise fail(f"{sheet!r} must hold a list of objects", name, sheet=sheet)
        # an ordered set: a list's membership test made a file of many distinct keys quadratic
        seen: dict[str, None] = {}
        for item in items:
            if not isinstance(item, dict):
                raise fail("every entry must be an object", name, sheet=sheet)
            seen.update(dict.fromkeys(item))
        headers = list(seen)
        rows = [[_json_cell(item.get(h), name) for h in headers] for item in items]
        tables.append(SourceTable(name, sheet, headers, rows, list(range(2, len(items) + 2))))
    if not any(t.rows for t in tables):
        raise fail("the file has no data", name)
    return [t for t in tables if t.rows]


def _json_cell(value: Any, file: str) -> Any:
    if isinstance(value, dict | list):
        safeload.check_depth(value, file, max_depth=safeload.MAX_DEPTH - 2)
        return json.dumps(value)
    return value


def iter_cells(table: SourceTable) -> Iterator[tuple[int, str, Any]]:
    """(row number, header, value) of every cell (for diagnostics)."""
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        for h, v in zip(table.headers, row, strict=False):
            yield number, h, v
