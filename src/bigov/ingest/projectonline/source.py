"""Read a Project Online export: the ``ProjectData`` feed saved as JSON pages, or CSV / XLSX from
Excel or Power Query, into typed rows per entity set.

A source is a folder (or one file) holding, per entity set, any of:

* JSON pages as the feed returns them: OData v3 "JSON light" ``{"value": [...],
  "odata.nextLink": "..."}`` (also ``@odata.nextLink``), or OData v2 "verbose" ``{"d": {"results":
  [...], "__next": "..."}}``. Pages may be saved under any name (``Projects.json``,
  ``Projects_2.json``, ``page-003.json``): the set is the file name's, else the feed's own
  ``odata.metadata`` / ``__metadata.type``. A set whose saved pages still announce a next page
  is incomplete and refused, naming the file;
* CSV (any encoding the tabular reader takes, with or without BOM) or XLSX (a workbook per set,
  or one workbook with a sheet per set), with the headers Power Query writes (``ProjectName``) or
  a PWA view writes (``Project Name``, ``Owner``, ``% Complete``).

Values are typed here, by the published property types (:mod:`.schema`): dates from ISO text,
``/Date(ms)/``, Excel dates, or ``d/m/y`` and ``m/d/y`` text (the order read from the column: a
day above 12 settles it, else the mapping's ``date_order``); decimals through the tabular
importer's number parser with the mapping's ``decimal`` / ``thousands`` (so ``1.234,56`` with
``decimal: ","``), plus the "h"/"hrs" and currency marks of formatted exports. A cell that cannot
be typed is a :class:`~bigov.errors.Problem` on that row (file, row, column), not an exception.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bigov import safeload
from bigov.errors import Problem, ValidationError
from bigov.ingest.parse import (
    NumberFormat,
    ParseError,
    is_empty,
    parse_bool,
    parse_date,
    parse_decimal,
)
from bigov.ingest.projectonline.schema import (
    ENTITY_SETS,
    ENTITY_TYPES,
    canonical_headers,
    entity_set_for,
    header_key,
)
from bigov.ingest.readers import CSV_SUFFIXES, XLSX_SUFFIXES, read_tables

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp][Mm])?)?$"
)
_UNITS = re.compile(r"\s*(hrs?|hours?|h|days?|d|%)\s*$", re.IGNORECASE)


@dataclass
class SourceRow:
    """One record of an entity set, with where it came from (for every message)."""

    values: dict[str, Any]
    file: str
    row: int | None = None
    sheet: str | None = None

    def where(self, column: str | None = None, value: Any = None, reason: str = "") -> Problem:
        """A problem located at this row."""
        return Problem(
            reason,
            file=self.file,
            sheet=self.sheet,
            row=self.row,
            column=column,
            value=None if value is None else str(value)[:200],
        )


@dataclass
class EntityData:
    """Every record read for one entity set, and what is known about its columns."""

    name: str
    rows: list[SourceRow] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # headers that are not standard properties (custom fields), in first-seen order
    custom_fields: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Source:
    """An export as read: typed rows per entity set, and what was noticed on the way."""

    sets: dict[str, EntityData]
    notes: list[str] = field(default_factory=list)

    def get(self, name: str) -> EntityData | None:
        return self.sets.get(name)


@dataclass
class SourceOptions:
    """How to read numbers and ambiguous dates."""

    number_format: NumberFormat = field(default_factory=NumberFormat)
    date_order: str = "dmy"  # for d/m/y text whose column never shows a day above 12
    date_formats: list[str] = field(default_factory=list)


@dataclass
class _Table:
    set_name: str
    file: str
    sheet: str | None
    records: Sequence[tuple[int | None, dict[str, Any]]]
    next_link: str | None = None
    is_json: bool = False


def read_source(path: Path, options: SourceOptions | None = None) -> Source:
    """The export at ``path`` (a folder or one file) as typed rows per entity set.

    Only the entity sets present are returned. Rows with cells that cannot be typed keep the
    cell empty and carry the problem in :attr:`EntityData.problems` (the caller rejects them).

    Raises:
        ValidationError: no export there, a file the readers refuse, an entity set saved twice
            in different forms, or JSON pages that announce a page that was not saved.
    """
    options = options or SourceOptions()
    if not path.exists():
        raise ValidationError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    tables: list[_Table] = []
    problems: list[Problem] = []
    for file in files:
        suffix = file.suffix.casefold()
        rel = str(file.relative_to(path)) if path.is_dir() else file.name
        try:
            if suffix == ".json":
                tables.append(_read_json(file, rel))
            elif suffix in CSV_SUFFIXES or suffix in XLSX_SUFFIXES:
                tables.extend(_read_tabular(file, rel))
        except ValidationError as err:
            problems.extend(err.problems or [Problem(err.message, file=rel)])
    if problems:
        raise ValidationError(
            f"{path.name}: {len(problems)} file(s) of the export could not be read; "
            "nothing was imported",
            problems,
        )
    ignored = sorted({t.file for t in tables if not t.set_name})
    tables = [t for t in tables if t.set_name]
    if not tables:
        raise ValidationError(
            f"{path}: no ProjectData entity set found",
            [
                Problem(
                    "expected files named after the entity sets (Projects.json, Tasks.csv, "
                    "Resources.xlsx, ...) or OData pages of the ProjectData feed",
                    file=path.name,
                )
            ],
        )
    source = Source(_assemble(tables, options))
    if ignored:
        source.notes.append(
            "not an entity set of the ProjectData feed, left out: " + ", ".join(ignored)
        )
    for data in source.sets.values():
        source.notes.extend(data.notes)
    return source


def _read_json(file: Path, rel: str) -> _Table:
    safeload.check_size(file, "json")
    text = file.read_bytes().decode("utf-8-sig", errors="strict")
    data = safeload.load_json(text, rel)
    items: Any
    next_link: str | None = None
    metadata = ""
    if isinstance(data, dict) and "d" in data:
        body = data["d"]
        if isinstance(body, dict):
            items = body.get("results", [])
            next_link = body.get("__next")
        else:
            items = body
    elif isinstance(data, dict) and "value" in data:
        items = data["value"]
        next_link = data.get("odata.nextLink") or data.get("@odata.nextLink")
        metadata = str(data.get("odata.metadata") or data.get("@odata.context") or "")
    elif isinstance(data, list):
        items = data
    else:
        raise ValidationError(
            f"{rel}: not an OData page",
            [Problem('expected {"value": [...]} or {"d": {"results": [...]}}', file=rel)],
        )
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValidationError(
            f"{rel}: not an OData page",
            [Problem("the page's records are not a list of objects", file=rel)],
        )
    set_name = entity_set_for(file.stem)
    if set_name is None and "#" in metadata:
        set_name = entity_set_for(metadata.rsplit("#", 1)[1].split("/")[0].split("(")[0])
    if set_name is None and items:
        meta = items[0].get("__metadata")
        if isinstance(meta, dict):
            set_name = ENTITY_TYPES.get(header_key(str(meta.get("type", "")).rsplit(".", 1)[-1]))
        odata_type = items[0].get("odata.type") or items[0].get("@odata.type")
        if set_name is None and odata_type:
            set_name = ENTITY_TYPES.get(header_key(str(odata_type).rsplit(".", 1)[-1]))
    records = [
        (
            i,
            {
                k: v
                for k, v in item.items()
                if not k.startswith(("__", "odata.", "@odata")) and not isinstance(v, dict | list)
            },
        )
        for i, item in enumerate(items, start=1)
    ]
    return _Table(set_name or "", rel, None, records, next_link=next_link, is_json=True)


def _read_tabular(file: Path, rel: str) -> list[_Table]:
    out: list[_Table] = []
    for table in read_tables(file):
        set_name = entity_set_for(table.sheet) if table.sheet else None
        if set_name is None:
            set_name = entity_set_for(file.stem)
        if set_name is None:
            out.append(_Table("", rel, table.sheet, []))
            continue
        records = [
            (
                number,
                {
                    h: v
                    for h, v in zip(table.headers, row, strict=False)
                    if h is not None and str(h).strip()
                },
            )
            for row, number in zip(table.rows, table.row_numbers, strict=True)
            if any(not is_empty(v) for v in row)
        ]
        out.append(_Table(set_name, rel, table.sheet, records))
    return out


def _assemble(tables: list[_Table], options: SourceOptions) -> dict[str, EntityData]:
    by_set: dict[str, list[_Table]] = {}
    for t in tables:
        by_set.setdefault(t.set_name, []).append(t)
    out: dict[str, EntityData] = {}
    problems: list[Problem] = []
    for set_name, group in by_set.items():
        kinds = {t.is_json for t in group}
        if len(kinds) > 1:
            problems.append(
                Problem(
                    f"{set_name} is given both as JSON pages and as CSV/XLSX "
                    f"({', '.join(t.file for t in group)}): keep one form of it",
                    file=group[0].file,
                )
            )
            continue
        if group[0].is_json:
            ends = [t for t in group if not t.next_link]
            if not ends:
                last = group[-1]
                problems.append(
                    Problem(
                        f"{set_name}: every saved page has an odata.nextLink, so the last page "
                        "of the feed was not saved",
                        file=last.file,
                        value=str(last.next_link)[:200],
                    )
                )
                continue
            if len(ends) > 1:
                problems.append(
                    Problem(
                        f"{set_name}: {len(ends)} pages end the feed "
                        f"({', '.join(t.file for t in ends)}); pages of two exports are mixed",
                        file=ends[1].file,
                    )
                )
                continue
        out[set_name] = _typed(set_name, group, options)
    if problems:
        raise ValidationError(
            f"{len(problems)} problem(s) with the export's pages; nothing was imported", problems
        )
    return out


def _typed(set_name: str, group: list[_Table], options: SourceOptions) -> EntityData:
    entity = ENTITY_SETS[set_name]
    data = EntityData(set_name, files=sorted({t.file for t in group}))
    raw_rows: list[tuple[_Table, int | None, dict[str, Any]]] = []
    for table in group:
        headers: list[str] = []
        for _, record in table.records:
            headers.extend(h for h in record if h not in headers)
        names = canonical_headers(set_name, headers)
        for prop in names.values():
            if prop not in entity.properties and prop not in data.custom_fields:
                data.custom_fields.append(prop)
        for number, record in table.records:
            raw_rows.append((table, number, {names[h]: v for h, v in record.items() if h in names}))
    orders = _date_orders(entity.properties, [r for _, _, r in raw_rows], options.date_order)
    formats = _number_formats(entity.properties, [r for _, _, r in raw_rows], options)
    for prop, fmt in formats.items():
        if fmt != options.number_format:
            data.notes.append(
                f"{set_name}.{prop}: numbers read with a decimal comma (as the column is written)"
            )
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    # a feed repeats its values (GUIDs, days, "8.000000"): each distinct cell is typed once
    cache: dict[tuple[str, Any], Any] = {}
    for table, number, record in raw_rows:
        row = SourceRow({}, table.file, number, table.sheet)
        if table.is_json:
            row.row = number  # the record's position in its page
        for prop, raw in record.items():
            cell = (prop, raw) if isinstance(raw, str | int | float | bool) or raw is None else None
            if cell is not None and cell in cache:
                value = cache[cell]
                if not isinstance(value, ParseError):
                    row.values[prop] = value
                    continue
            try:
                kind = entity.properties.get(prop, "text")
                value = convert(
                    raw, kind, _with_format(options, formats.get(prop)), orders.get(prop)
                )
            except ParseError as exc:
                value = exc
            if cell is not None:
                cache[cell] = value
            if isinstance(value, ParseError):
                row.values[prop] = None
                data.problems.append(row.where(prop, raw, str(value)))
            else:
                row.values[prop] = value
        if (
            set_name == "Projects"
            and not row.values.get("ProjectId")
            and row.values.get("ProjectName")
        ):
            # a PWA view exported to Excel has no GUID column: the name identifies the project
            row.values["ProjectId"] = str(uuid.uuid5(_NAME_IDS, str(row.values["ProjectName"])))
            if not any("without a ProjectId" in n for n in data.notes):
                data.notes.append(
                    "Projects without a ProjectId (a view export): identified by ProjectName"
                )
        key = tuple(row.values.get(k) for k in entity.key)
        if all(k is not None for k in key):
            if key in seen:
                if seen[key] == row.values:
                    continue  # the same record saved twice (overlapping pages)
                data.problems.append(
                    row.where(
                        entity.key[-1],
                        key[-1],
                        f"{set_name}: a second, different record with the same key",
                    )
                )
                continue
            seen[key] = row.values
        data.rows.append(row)
    return data


_NAME_IDS = uuid.UUID("6f1d2a9e-3c55-4c1e-9a57-5e0b1c9d7a11")  # namespace of name-made ids


def _with_format(options: SourceOptions, fmt: NumberFormat | None) -> SourceOptions:
    if fmt is None or fmt == options.number_format:
        return options
    return SourceOptions(fmt, options.date_order, options.date_formats)


def _number_formats(
    props: dict[str, str], records: list[dict[str, Any]], options: SourceOptions
) -> dict[str, NumberFormat]:
    """The number format of each text number column: the mapping's, unless the mapping keeps
    the decimal point and the column only reads with a decimal comma (``1.650.000,00``)."""
    out: dict[str, NumberFormat] = {}
    if options.number_format.decimal != ".":
        return out
    comma = NumberFormat(decimal=",", thousands=".")
    for prop, kind in props.items():
        if kind not in ("decimal", "int"):
            continue
        texts = {
            _UNITS.sub("", v.strip())
            for v in {r.get(prop) for r in records}
            if isinstance(v, str) and not is_empty(v)
        }
        if not texts or all(_reads(t, options.number_format) for t in texts):
            continue
        if all(_reads(t, comma) for t in texts):
            out[prop] = comma
    return out


def _reads(text: str, fmt: NumberFormat) -> bool:
    try:
        parse_decimal(text, fmt=fmt)
    except ParseError:
        return False
    return True


def _date_orders(
    props: dict[str, str], records: list[dict[str, Any]], default: str
) -> dict[str, str]:
    """The day/month order of each text date column: ``dmy`` or ``mdy``."""
    out: dict[str, str] = {}
    for prop, kind in props.items():
        if kind != "date":
            continue
        first_big = second_big = False
        for value in {record.get(prop) for record in records}:
            if not isinstance(value, str):
                continue
            m = _NUMERIC_DATE.match(value.strip())
            if m:
                first_big |= int(m.group(1)) > 12
                second_big |= int(m.group(2)) > 12
        out[prop] = "dmy" if first_big else "mdy" if second_big else default
    return out


def convert(
    raw: Any, kind: str, options: SourceOptions | None = None, date_order: str | None = None
) -> Any:
    """One cell as its published type (None when empty).

    Raises:
        ParseError: the cell is not a value of that type (the message says why).
    """
    options = options or SourceOptions()
    if is_empty(raw):
        return None
    if kind == "guid":
        try:
            return str(uuid.UUID(str(raw).strip().removeprefix("guid'").rstrip("'")))
        except ValueError:
            raise ParseError(f"expected a GUID, got {str(raw)[:60]!r}") from None
    if kind == "date":
        return parse_odata_date(raw, date_order or options.date_order, options.date_formats)
    if kind in ("decimal", "int"):
        value = raw
        if isinstance(value, str):
            value = _UNITS.sub("", value.strip())
        number = parse_decimal(value, fmt=options.number_format)
        if number is None:
            return None
        if kind == "int":
            return int(number.to_integral_value())
        return number
    if kind == "bool":
        return parse_bool(raw)
    text = str(raw).strip()
    return text or None


def parse_odata_date(raw: Any, order: str = "dmy", formats: list[str] | None = None) -> dt.date:
    """A date from the spellings a ProjectData export holds (see the module docstring).

    Raises:
        ParseError: not a date.
    """
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        from bigov.ingest.parse import excel_serial_to_date

        return excel_serial_to_date(float(raw))
    text = str(raw).strip()
    for pattern in formats or []:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    m = _MS_DATE.match(text)
    if m:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(m.group(1)))).date()
    m = _NUMERIC_DATE.match(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year = year + 2000 if year < 100 else year
        day, month = (a, b) if order == "dmy" else (b, a)
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise ParseError(f"expected a date, got {text!r} (read as {order})") from None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        parsed = parse_date(text)  # the other spellings bigov reads: "4 Jan 2027", "Jan-27"
    except ParseError:
        parsed = None
    if parsed is None:
        raise ParseError(f"expected a date, got {text[:60]!r} (ISO, /Date(ms)/, or day/month/year)")
    return parsed
