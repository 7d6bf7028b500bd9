"""Validation: raw rows by kind → a :class:`Plan` of inserts and updates, or every problem found.

Nothing here writes. :func:`plan_import` types every value, checks required fields, enumerations,
lengths, negative money, date order, duplicates within the batch and references (to codes stored
already *or* defined anywhere in the same batch), and compares each row with the stored one to
classify it as insert / update / unchanged. All problems are collected, then raised together as
one :class:`~bigov.errors.ValidationError`.

The work is done on whole columns (Polars), not row by row: a column of text is cast at once
where its cells have a plain, unambiguous spelling (``2025-03-31``, ``1234.50``, ``capex``), and
only the other cells go through the per-value parsers of :mod:`bigov.ingest.parse` — so every
problem keeps its precise message, file, sheet, row, column and value, and the accepted
spellings are exactly those of the parsers. Checks, duplicates, references (joins against code
sets) and change detection (a typed frame against the stored frame) are column operations too.

Database reads are bounded by the number of kinds, not of rows: per kind, one query (chunked
for very large batches) for the stored rows with the batch's codes, and one per referenced kind
for code ↔ id look-ups.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import polars as pl
from sqlalchemy import Float, Integer, String, Table, func, select, type_coerce
from sqlalchemy.orm import Session

from bigov.codes import (
    CODE_PATTERN,
    CONTROL_PATTERN,
    CONTROL_PATTERN_SHORT,
    code_problem,
    max_length,
    strip_control,
)
from bigov.errors import Problem, ValidationError
from bigov.ingest import jsonvalue
from bigov.ingest.mapping import Mapping, RecordSet
from bigov.ingest.parse import (
    DATE_MAX,
    DATE_MIN,
    DEFAULT_NUMBER_FORMAT,
    EMPTY_MARKERS,
    EXACT_DIGITS,
    FALSE_WORDS,
    TRUE_WORDS,
    ParseError,
    check_stored_exactly,
    decimal_limit,
    enum_lookup,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_enum,
    parse_int,
    parse_str,
)
from bigov.ingest.spec import FieldSpec, KindSpec, derive_code, kind_spec, kinds

CHUNK = 5000
# above this many codes, a look-up may read the whole table instead (see rows_with_codes)
SCAN_FROM = 500
CODE_LENGTH = 64
# whole-number fields are INTEGER columns (32-bit on PostgreSQL)
INT_LIMIT = 2**31 - 1
MAX_PROBLEMS = 10_000

# (start, finish) field pairs that must not run backwards
DATE_ORDER: tuple[tuple[str, str], ...] = (
    ("baseline_start", "baseline_finish"),
    ("forecast_start", "forecast_finish"),
    ("actual_start", "actual_finish"),
    ("baseline_date", "target_date"),
    ("effective_from", "effective_to"),
    ("raised_on", "closed_on"),
)
# OTC fields whose change is a change of strategy, recorded as a new version
OTC_VERSIONED = ("title", "description", "status", "target_date")

# Frame columns that are bookkeeping, not fields: recordset index, position, row number, and
# per field a "present" flag (an absent field is left as stored, unlike an empty one).
RS, POS, ROW, IDX, ID = "__rs", "__pos", "__row", "__i", "__id"
PRESENT = "__p_"

# Cells with blanks (or ASCII separators, which Python's str.strip also removes) at either end
# are left to the per-value parsers, so that stripping behaves exactly as str.strip.
_EDGE = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"

Converter = Callable[[Any], Any]


def present_col(name: str) -> str:
    """The frame column flagging the rows where field ``name`` was given."""
    return PRESENT + name


def polars_type(f: FieldSpec | None) -> pl.DataType:
    """The frame type of a field (``None``: the code). Enums are held as their stored values,
    JSON objects as their canonical text (:func:`bigov.ingest.jsonvalue.canonical`)."""
    if f is None or f.type in ("str", "ref", "enum", "json"):
        return pl.String()
    if f.type == "decimal":
        return pl.Decimal(min(f.precision or 38, 38), f.scale or 0)
    if f.type == "int":
        return pl.Int64()
    if f.type == "date":
        return pl.Date()
    if f.type == "bool":
        return pl.Boolean()
    raise AssertionError(f.type)  # pragma: no cover - spec only produces the types above


@dataclass
class KindPlan:
    """What loading one kind will do.

    ``inserts`` is the typed frame of new rows (fields, ``code``, present flags); ``updates``
    holds, per set of changed fields, a frame of ``__id`` and the new values; ``revisions`` are
    OTCs whose title/description/status changed (a new version), as plain values.
    """

    kind: str
    inserts: pl.DataFrame = field(default_factory=pl.DataFrame)
    updates: list[tuple[tuple[str, ...], pl.DataFrame]] = field(default_factory=list)
    revisions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    # text cells whose control characters were stripped (reported with the batch's counts)
    cleaned: int = 0

    @property
    def counts(self) -> dict[str, int]:
        out = {
            "inserted": self.inserts.height,
            "updated": sum(f.height for _, f in self.updates) + len(self.revisions),
            "unchanged": self.unchanged,
            "rejected": 0,
        }
        if self.cleaned:
            out["control_chars_stripped"] = self.cleaned
        return out


@dataclass
class Plan:
    """Validated work for one batch, in load order."""

    kinds: dict[str, KindPlan]
    # stored code → id per kind, as far as validation looked them up (the loader reuses them)
    id_maps: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Per kind: inserted / updated / unchanged / rejected."""
        return {k: p.counts for k, p in self.kinds.items()}

    @property
    def writes(self) -> int:
        return sum(
            p.inserts.height + sum(f.height for _, f in p.updates) + len(p.revisions)
            for p in self.kinds.values()
        )


# --- per-value parsers (the reference behaviour, and the path of every unusual cell) ---------


def converter(f: FieldSpec, mapping: Mapping | None) -> Converter:
    """The parser of one field, honouring the mapping's formats, code map and factor."""
    fmt = mapping.number_format if mapping else DEFAULT_NUMBER_FORMAT
    formats = tuple(mapping.date_formats) if mapping else ()
    codes = (mapping.codes.get(f.name) if mapping else None) or {}
    factor = mapping.multiply.get(f.name) if mapping else None
    base: Converter
    if f.type in ("ref", "str"):
        length = CODE_LENGTH if f.type == "ref" else f.max_length

        def base(v: Any) -> Any:
            text = parse_str(v, max_length=length)
            return codes.get(text, text) if text is not None and codes else text

    elif f.type == "decimal":
        quantum = Decimal(1).scaleb(-(f.scale or 0))
        limit = decimal_limit(f.precision, f.scale)
        plain = fmt.decimal == "." and factor is None

        def base(v: Any) -> Any:
            number: Decimal | None = None
            if plain and type(v) is str:
                try:  # fast path for plain numbers
                    number = Decimal(v)
                except InvalidOperation:
                    number = None
                if number is not None and not number.is_finite():
                    raise ParseError(f"expected a number, got {v!r}")
            if number is None:
                number = parse_decimal(v, fmt=fmt)
                if number is None:
                    return None
                if factor is not None:
                    number = number * factor
            try:
                number = number.quantize(quantum, rounding=ROUND_HALF_UP)
            except InvalidOperation as exc:
                raise ParseError(f"number {v!r} is too large") from exc
            if f.non_negative and number < 0:
                raise ParseError("must not be negative")
            check_stored_exactly(number, v, limit, f.name)
            return number

    elif f.type == "int":

        def base(v: Any) -> Any:
            number = parse_int(v, fmt=fmt)
            if number is not None and abs(number) > INT_LIMIT:
                # INTEGER columns are 32-bit on PostgreSQL: refuse here, not as a database error
                raise ParseError(f"whole number {v!r} is too large (at most {INT_LIMIT:,})")
            return number

    elif f.type == "date":

        def base(v: Any) -> Any:
            return parse_date(v, formats=formats)

    elif f.type == "bool":
        base = parse_bool
    elif f.type == "json":
        check = f.json_check

        def base(v: Any) -> Any:
            return jsonvalue.parse_cell(v, check)

    elif f.type == "enum":
        assert f.enum is not None
        lookup = enum_lookup(f.enum)
        choices = f.choices

        def base(v: Any) -> Any:
            member = parse_enum(v, lookup, choices)
            return None if member is None else str(member.value)

    else:  # pragma: no cover - spec only produces the types above
        raise AssertionError(f.type)
    return base


def _code_converter(mapping: Mapping | None) -> Converter:
    codes = (mapping.codes.get("code") if mapping else None) or {}

    def conv(v: Any) -> Any:
        text = parse_str(v, max_length=CODE_LENGTH)
        return codes.get(text, text) if text is not None and codes else text

    return conv


def _cached(conv: Converter) -> Callable[[Any], tuple[bool, Any]]:
    """Each distinct raw value is parsed once (periods, codes and enums repeat a lot)."""
    cache: dict[Any, tuple[bool, Any]] = {}

    def run(v: Any) -> tuple[bool, Any]:
        try:
            key = (type(v), v)
            hit = cache.get(key)
        except TypeError:  # unhashable: parse without caching
            key, hit = None, None
        if hit is not None:
            return hit
        try:
            result: tuple[bool, Any] = (True, conv(v))
        except ParseError as exc:
            result = (False, str(exc))
        if key is not None and len(cache) < 200_000:
            cache[key] = result
        return result

    return run


# --- vectorised typing -----------------------------------------------------------------------


def _fast(
    f: FieldSpec | None, s: pl.Series, mapping: Mapping | None
) -> tuple[pl.Series, pl.Series]:
    """Cast the plain cells of a text column at once.

    Returns the typed column (null where not cast) and a mask of the cells the per-value parser
    must read (every cell whose spelling the cast cannot vouch for, including all bad ones, so
    that their problems carry the parser's exact reason).
    """
    kind = "code" if f is None else f.type
    dtype = polars_type(f)
    null = s.is_null()
    frame = pl.DataFrame({"s": s})
    col = pl.col("s")
    slow_expr: pl.Expr
    value_expr: pl.Expr
    if kind == "json":  # every cell is parsed (and checked) as JSON by its converter
        return pl.Series(s.name, [None] * len(s), dtype=dtype), ~null
    if kind in ("code", "str", "ref"):
        length = CODE_LENGTH if kind in ("code", "ref") else (f.max_length if f else None)
        slow_expr = col.str.contains(_EDGE)
        if length is not None:
            slow_expr = slow_expr | (col.str.len_chars() > length)
        name = "code" if f is None else f.name
        codes = (mapping.codes.get(name) if mapping else None) or {}
        value_expr = col.replace(list(codes), list(codes.values())) if codes else col
        value_expr = pl.when(col == "").then(None).otherwise(value_expr)
    elif kind == "decimal":
        assert f is not None
        fmt = mapping.number_format if mapping else DEFAULT_NUMBER_FORMAT
        factor = mapping.multiply.get(f.name) if mapping else None
        if fmt.decimal != "." or factor is not None:  # formats the cast does not know
            return pl.Series(s.name, [None] * len(s), dtype=dtype), ~null
        scale = f.scale or 0
        # plain cells cast here have at most EXACT_DIGITS digits and fit the column; any other
        # goes through the parser, which says why it is refused
        limit_digits = len(str(decimal_limit(f.precision, scale))) - 1
        whole = max(min(limit_digits, EXACT_DIGITS - scale), 1)
        sign = r"\+?" if f.non_negative else r"[+-]?"
        frac = rf"(\.\d{{0,{scale}}})?" if scale else ""
        plain = col.str.contains(rf"^{sign}\d{{1,{whole}}}{frac}$")
        value_expr = (
            pl.when(plain).then(col.str.strip_suffix(".")).otherwise(None).cast(dtype, strict=False)
        )
        slow_expr = (col != "") & value_expr.is_null()
    elif kind == "int":
        plain = col.str.contains(r"^[+-]?\d{1,9}$")  # larger ones: the parser checks the limit
        value_expr = pl.when(plain).then(col).otherwise(None).cast(pl.Int64, strict=False)
        slow_expr = (col != "") & value_expr.is_null()
    elif kind == "date":
        if mapping is not None and mapping.date_formats:  # the user's formats come first
            return pl.Series(s.name, [None] * len(s), dtype=dtype), ~null
        day = col.str.contains(r"^[12]\d{3}-\d{2}-\d{2}$")
        month = col.str.contains(r"^[12]\d{3}-\d{2}$")
        value_expr = (
            pl.when(day)
            .then(col)
            .when(month)
            .then(col + "-01")
            .otherwise(None)
            .str.to_date("%Y-%m-%d", strict=False)
        )
        # dates outside the accepted range go to the parser, whose message names the range
        value_expr = pl.when(value_expr.is_between(pl.lit(DATE_MIN), pl.lit(DATE_MAX))).then(
            value_expr
        )
        # cells that look like dates but are not (31 Feb) are left to the parser's message
        slow_expr = (col != "") & value_expr.is_null()
    elif kind == "bool":
        lower = col.str.to_lowercase()
        words = dict.fromkeys(TRUE_WORDS, True) | dict.fromkeys(FALSE_WORDS, False)
        value_expr = lower.replace_strict(
            list(words), list(words.values()), default=None, return_dtype=pl.Boolean
        )
        slow_expr = (col != "") & value_expr.is_null()
    elif kind == "enum":
        assert f is not None and f.enum is not None
        lookup = {k: str(m.value) for k, m in enum_lookup(f.enum).items()}
        ascii_ = col.str.contains(r"^[\x00-\x7f]*$")
        marker = col.str.strip_chars().str.to_lowercase().is_in(sorted(EMPTY_MARKERS))
        key = col.str.to_lowercase().str.replace_all(r"[^0-9a-z]+", "")
        value_expr = (
            pl.when(ascii_ & ~marker)
            .then(key)
            .otherwise(None)
            .replace_strict(list(lookup), list(lookup.values()), default=None)
        )
        slow_expr = (col != "") & value_expr.is_null()
    else:  # pragma: no cover
        raise AssertionError(kind)
    out = frame.select(value_expr.cast(dtype).alias("v"), slow_expr.fill_null(False).alias("slow"))
    typed = out["v"].alias(s.name)
    slow = out["slow"] & ~null
    return typed, slow


def type_column(
    name: str, values: list[Any], f: FieldSpec | None, mapping: Mapping | None
) -> tuple[pl.Series, list[tuple[int, str, Any]]]:
    """A column typed as field ``f`` (None: the code), and the cells that failed
    (position, reason, raw value)."""
    dtype = polars_type(f)
    conv = _cached(_code_converter(mapping) if f is None else converter(f, mapping))
    try:
        text = pl.Series(name, values, dtype=pl.String, strict=True)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        text = None
    if text is not None:
        typed, slow_mask = _fast(f, text, mapping)
        slow = slow_mask.arg_true().to_list()
    else:  # numbers, dates, booleans (XLSX, JSON, importers): every cell through its parser
        typed = pl.Series(name, [None] * len(values), dtype=dtype)
        slow = list(range(len(values)))
    errors: list[tuple[int, str, Any]] = []
    if slow:
        good_at: list[int] = []
        good: list[Any] = []
        for i in slow:
            raw = values[i]
            ok, result = conv(raw)
            if not ok:
                errors.append((i, result, raw))
            good_at.append(i)  # a failed or empty cell is null, whatever the cast made of it
            good.append(result if ok else None)
        if good_at:
            typed = typed.scatter(good_at, pl.Series(good, dtype=dtype))
    return typed, errors


# --- problems --------------------------------------------------------------------------------


@dataclass
class _Problems:
    """Problems with a sort key, so that they come out in file order whatever the check."""

    items: list[tuple[tuple[Any, ...], Problem]] = field(default_factory=list)
    # per kind, text cells cleaned of control characters (not problems: the batch report says so)
    cleaned: dict[str, int] = field(default_factory=dict)
    # problems (by id) that only repeat what another problem says about the same cell
    echoes: set[int] = field(default_factory=set)

    def add(self, key: tuple[Any, ...], problem: Problem, *, echo: bool = False) -> None:
        self.items.append((key, problem))
        if echo:
            self.echoes.add(id(problem))

    def __bool__(self) -> bool:
        return bool(self.items)

    def ordered(self) -> list[Problem]:
        """Every problem in file order; an echo is left out when the same cell has a problem of
        its own (a bad start date is said once, not again by the finish computed from it)."""
        ordered = [p for _, p in sorted(self.items, key=lambda kp: kp[0])]
        if not self.echoes:
            return ordered
        said = {_cell(p) for p in ordered if id(p) not in self.echoes}
        return [p for p in ordered if id(p) not in self.echoes or _cell(p) not in said]


def _cell(p: Problem) -> tuple[str | None, str | None, int | None, str | None]:
    return (p.file, p.sheet, p.row, p.column)


def _problem(
    rs: RecordSet, row: int | None, reason: str, fieldname: str | None = None, value: Any = None
) -> Problem:
    column = rs.headers.get(fieldname, fieldname) if fieldname else None
    return Problem(
        reason,
        file=rs.file,
        sheet=rs.sheet,
        row=row,
        column=column,
        value=None if value is None else str(value)[:500],
    )


# --- typing a record set ---------------------------------------------------------------------


def _type_recordset(index: int, rs: RecordSet, spec: KindSpec, problems: _Problems) -> pl.DataFrame:
    columns, present = rs.columns()
    n = len(rs)
    numbers = rs.row_numbers
    data: dict[str, pl.Series] = {
        RS: pl.Series(RS, [index] * n, dtype=pl.Int32),
        POS: pl.Series(POS, range(n), dtype=pl.Int64),
        ROW: pl.Series(ROW, numbers, dtype=pl.Int64),
    }
    failed: dict[str, pl.Series] = {}
    order = {name: j for j, name in enumerate(columns)}
    # Problems met while mapping the rows (computed values, disagreeing repeats) come out with
    # the rest; a field they left empty is not called missing as well.
    explained: dict[str, set[int]] = {}
    at = {row: i for i, row in enumerate(numbers)} if rs.row_problems else {}
    for rp in rs.row_problems:
        i = at.get(rp.problem.row, n)
        problems.add((0, index, i, 0, order.get(rp.unset or "", -1)), rp.problem, echo=rp.echo)
        if rp.unset is not None and i < n:
            explained.setdefault(rp.unset, set()).add(i)
    for name, values in columns.items():
        mask = present.get(name)
        if name != "code" and name not in spec.fields:
            for i in range(n) if mask is None else (i for i in range(n) if mask[i]):
                problems.add(
                    (0, index, i, 0, order[name]),
                    _problem(rs, numbers[i], f"unknown field {name!r} for {spec.kind}", name),
                )
            continue
        f = None if name == "code" else spec.fields[name]
        typed, errors = type_column(name, values, f, rs.mapping)
        for i, reason, raw in errors:
            problems.add((0, index, i, 0, order[name]), _problem(rs, numbers[i], reason, name, raw))
        data[name] = typed
        explained.setdefault(name, set()).update(i for i, _, _ in errors)
        bad = sorted(explained[name])
        failed[name] = pl.Series([False] * n).scatter(bad, True) if bad else pl.Series([False] * n)
        if name != "code":
            data[present_col(name)] = (
                pl.Series(present_col(name), mask, dtype=pl.Boolean)
                if mask is not None
                else pl.Series(present_col(name), [True] * n, dtype=pl.Boolean)
            )
    frame = pl.DataFrame(data)
    # required fields given empty (failed cells already have their own problem)
    for name in columns:
        f = spec.fields.get(name)
        if f is None or not f.required:
            continue
        hit = frame[present_col(name)] & frame[name].is_null() & ~failed[name]
        for i in hit.arg_true().to_list():
            problems.add(
                (0, index, i, 1, order[name]),
                _problem(rs, numbers[i], f"{name} is required", name),
            )
    # dates out of order
    for k, (start, finish) in enumerate(DATE_ORDER):
        if start not in frame.columns or finish not in frame.columns:
            continue
        if frame[start].dtype != pl.Date or frame[finish].dtype != pl.Date:
            continue
        back = (frame[finish] < frame[start]).fill_null(False)
        for i in back.arg_true().to_list():
            a, b = frame[start][i], frame[finish][i]
            problems.add(
                (0, index, i, 2, k),
                _problem(
                    rs,
                    numbers[i],
                    f"{finish} ({b.isoformat()}) is before {start} ({a.isoformat()})",
                    finish,
                    b,
                ),
            )
    frame = _clean_text(spec, frame, problems)
    return _check_codes(
        index, rs, spec, _with_codes(index, rs, spec, frame, problems, explained), problems
    )


def _clean_text(spec: KindSpec, frame: pl.DataFrame, problems: _Problems) -> pl.DataFrame:
    """Control characters stripped from text fields, which master sources legitimately carry
    (pasted names, exported descriptions), counted for the batch report. Runs before codes are
    derived from natural keys, so derived codes are made of clean text."""
    for name, f in spec.fields.items():
        if f.type != "str" or name not in frame.columns:
            continue
        long_text = f.max_length is None or f.max_length > 255
        pattern = CONTROL_PATTERN if long_text else CONTROL_PATTERN_SHORT
        hit = frame[name].str.contains(pattern).fill_null(False)
        at = hit.arg_true()
        if at.len():
            clean = [strip_control(v, long_text=long_text) for v in frame[name].gather(at)]
            frame = frame.with_columns(frame[name].scatter(at, pl.Series(clean, dtype=pl.String)))
            problems.cleaned[spec.kind] = problems.cleaned.get(spec.kind, 0) + at.len()
    return frame


def _check_codes(
    index: int, rs: RecordSet, spec: KindSpec, frame: pl.DataFrame, problems: _Problems
) -> pl.DataFrame:
    """The one rule for codes (:mod:`bigov.codes`) on every code of the batch, each bad code a
    problem. Codes of kinds with a natural key may be derived from the key's values (a title's
    spaces included), so they are held to the fact-code rule (no control characters).

    A bad code, and a reference holding control characters (no stored code can), is set to
    null once reported: it is never sent to the database as a look-up parameter (PostgreSQL
    refuses a NUL byte in a query with an error instead of an answer)."""
    codes = frame["code"]
    fact = bool(spec.natural_key)
    shape = codes.str.contains(CONTROL_PATTERN_SHORT) if fact else ~codes.str.contains(CODE_PATTERN)
    bad = (
        codes.is_not_null() & (shape | (codes.str.len_chars() > max_length(spec.kind)))
    ).fill_null(False)
    for i in bad.arg_true().to_list():
        reason = code_problem(codes[i], spec.kind, fact=fact) or "invalid code"
        problems.add((0, index, i, 4), _problem(rs, rs.row_numbers[i], reason, "code", codes[i]))
    if bad.any():
        frame = frame.with_columns(codes.set(bad, None))
    for name, f in spec.fields.items():
        if f.type != "ref" or name not in frame.columns:
            continue
        hit = frame[name].str.contains(CONTROL_PATTERN_SHORT).fill_null(False)
        for i in hit.arg_true().to_list():
            problems.add(
                (0, index, i, 4),
                _problem(
                    rs,
                    rs.row_numbers[i],
                    f"unknown {f.ref} code (it holds control characters)",
                    name,
                    frame[name][i],
                ),
            )
        if hit.any():
            frame = frame.with_columns(frame[name].set(hit, None))
    return frame


def _with_codes(
    index: int,
    rs: RecordSet,
    spec: KindSpec,
    frame: pl.DataFrame,
    problems: _Problems,
    explained: dict[str, set[int]],
) -> pl.DataFrame:
    """Fill empty codes from the natural key (fact rows), or report them. A code (or part of
    the key) that is empty because its cell already has a problem (``explained``: positions by
    field) is not reported a second time as missing."""
    if "code" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("code"))
    need = frame["code"].is_null()
    if not need.any():
        return frame
    numbers = rs.row_numbers
    unset_code = explained.get("code", set())
    if not spec.natural_key:
        for i in need.arg_true().to_list():
            if i not in unset_code:
                problems.add((0, index, i, 3), _problem(rs, numbers[i], "code is required", "code"))
        return frame
    parts: list[pl.Expr] = []
    missing_required: list[pl.Expr] = []
    for name in spec.natural_key:
        f = spec.fields[name]
        value = pl.col(name) if name in frame.columns else pl.lit(None, dtype=polars_type(f))
        if f.default is not None:
            value = value.fill_null(pl.lit(f.default, dtype=polars_type(f)))
        if f.type == "date":
            text = (
                pl.when(value.dt.day() == 1)
                .then(value.dt.strftime("%Y-%m"))
                .otherwise(value.dt.strftime("%Y-%m-%d"))
            )
        elif f.type in ("str", "ref", "enum", "int"):
            text = value.cast(pl.String)
        else:  # decimals/booleans in a key: the row-based derivation, per row
            text = value.map_elements(lambda v: None if v is None else str(v), pl.String)
        parts.append(text)
        if f.required:
            missing_required.append(text.is_null())
    # with_columns, not select: a key made only of absent columns (literals) must still give
    # one value per row, not a single one
    derived = frame.with_columns(
        pl.when(pl.any_horizontal(missing_required) if missing_required else pl.lit(False))
        .then(None)
        .otherwise(pl.concat_str(parts, separator="/", ignore_nulls=True))
        .alias("__derived")
    )["__derived"]
    derived = pl.select(pl.when(derived == "").then(None).otherwise(derived)).to_series()
    for i in (need & derived.is_null()).arg_true().to_list():
        row = frame.row(i, named=True)
        missing = [k for k in spec.natural_key if row.get(k) is None and spec.fields[k].required]
        if i in unset_code or (missing and all(i in explained.get(k, ()) for k in missing)):
            continue
        problems.add(
            (0, index, i, 3),
            _problem(
                rs,
                numbers[i],
                "no code, and cannot derive one: missing " + ", ".join(missing),
                "code",
            ),
        )
    too_long = need & (derived.str.len_chars() > CODE_LENGTH).fill_null(False)
    for i in too_long.arg_true().to_list():
        problems.add(
            (0, index, i, 3),
            _problem(
                rs,
                numbers[i],
                f"derived code {derived[i]!r} is longer than {CODE_LENGTH} characters",
                "code",
            ),
        )
    usable = need & ~too_long
    return (
        frame.with_columns(derived.alias("__d"), usable.alias("__u"))
        .with_columns(
            pl.when(pl.col("__u")).then(pl.col("__d")).otherwise(pl.col("code")).alias("code")
        )
        .drop("__d", "__u")
    )


def type_frames(
    recordsets: Sequence[RecordSet], problems: _Problems
) -> tuple[dict[str, pl.DataFrame], list[RecordSet]]:
    """Typed rows by kind (load order, one frame per kind with ``__rs``/``__pos``/``__row``),
    with row-level problems added to ``problems``."""
    by_kind: dict[str, list[pl.DataFrame]] = {}
    sets = list(recordsets)
    for index, rs in enumerate(sets):
        spec = kind_spec(rs.kind)
        if not len(rs):
            continue
        by_kind.setdefault(spec.kind, []).append(_type_recordset(index, rs, spec, problems))
    out: dict[str, pl.DataFrame] = {}
    for kind in kinds():
        frames = by_kind.get(kind)
        if not frames:
            continue
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        flags = [c for c in frame.columns if c.startswith(PRESENT)]
        out[kind] = frame.with_columns(pl.col(flags).fill_null(False)).with_row_index(IDX)
    return out, sets


# --- database look-ups -----------------------------------------------------------------------


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def rows_with_codes(
    session: Session, table: Table, cols: Sequence[Any], codes: Iterable[str]
) -> list[Any]:
    """Rows (``cols``, the first being ``code``) of ``table`` whose code is one of ``codes``.

    Chunked IN queries; but a large set of codes against a table not much larger is read in
    one scan and filtered here: binding thousands of codes per query costs more than the scan
    (and a fresh table answers at once).
    """
    wanted = sorted(set(codes))
    if not wanted:
        return []
    if len(wanted) > SCAN_FROM:
        stored = session.scalar(select(func.count()).select_from(table)) or 0
        if stored <= 3 * len(wanted):
            keep = set(wanted)
            return (
                [r for r in session.execute(select(*cols)).all() if r[0] in keep] if stored else []
            )
    raw: list[Any] = []
    for part in _chunks(wanted):
        raw.extend(session.execute(select(*cols).where(table.c.code.in_(part))).all())
    return raw


def existing_codes(session: Session, kind: str, codes: Iterable[str]) -> dict[str, int]:
    """Stored code → id for the given codes of ``kind``."""
    table = kind_spec(kind).table
    return dict(rows_with_codes(session, table, (table.c.code, table.c.id), codes))


def ids_to_codes(session: Session, kind: str, ids: Iterable[int]) -> dict[int, str]:
    """Stored id → code for the given ids of ``kind``."""
    table = kind_spec(kind).table
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    for part in _chunks(wanted):
        rows = session.execute(select(table.c.id, table.c.code).where(table.c.id.in_(part)))
        found.update((i, c) for i, c in rows)
    return found


def _plain(value: Any) -> Any:
    """A stored value as the frame holds it (enum values, datetimes as dates)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _stored_expr(col: Any, f: FieldSpec, dialect: str) -> Any:
    """The column as the driver stores it where converting it per value in Python is what
    costs: enums as their text, and on SQLite dates as ISO text, decimals as the floats SQLite
    keeps, booleans as 0/1. They are converted a column at a time in :func:`stored_frame`."""
    if f.type == "enum":
        return type_coerce(col, String)
    if dialect == "sqlite":
        if f.type == "decimal":
            return type_coerce(col, Float)
        if f.type == "date":
            return type_coerce(col, String)
        if f.type == "bool":
            return type_coerce(col, Integer)
    return col


def stored_frame(session: Session, spec: KindSpec, codes: Sequence[str]) -> pl.DataFrame:
    """Stored rows with these codes: ``code``, ``__id`` and each field (references as codes),
    typed like the batch frame — except that on SQLite decimals stay the floats it stores, so
    that "unchanged" means "writing the new value would store the same float"."""
    table = spec.table
    names = list(spec.fields)
    dialect = session.get_bind().dialect.name
    cols = [
        table.c.code,
        table.c.id,
        *(_stored_expr(table.c[spec.fields[n].column], spec.fields[n], dialect) for n in names),
    ]
    raw = rows_with_codes(session, table, cols, codes)
    transposed = list(zip(*raw, strict=True)) if raw else [() for _ in cols]
    columns: dict[str, pl.Series] = {
        "code": pl.Series("code", transposed[0], dtype=pl.String),
        ID: pl.Series(ID, transposed[1], dtype=pl.Int64),
    }
    for j, name in enumerate(names, start=2):
        f = spec.fields[name]
        values = transposed[j]
        dtype = polars_type(f)
        series: pl.Series
        if f.ref:
            ids = pl.Series(name, values, dtype=pl.Int64)
            used = ids.drop_nulls().unique().to_list()
            lookup = ids_to_codes(session, f.ref, used) if used else {}
            series = ids.replace_strict(
                used, [lookup.get(i) for i in used], default=None, return_dtype=pl.String
            )
        elif dialect == "sqlite" and f.type == "decimal":
            series = pl.Series(name, values, dtype=pl.Float64, strict=False)
        elif dialect == "sqlite" and f.type == "date":
            text = pl.Series(name, values, dtype=pl.String, strict=False)
            series = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        elif dialect == "sqlite" and f.type == "bool":
            series = pl.Series(name, values, dtype=pl.Int64, strict=False).cast(pl.Boolean)
        elif f.type in ("str", "enum"):
            series = pl.Series(name, values, dtype=pl.String, strict=False)
        elif f.type == "json":  # the driver gives the object: its canonical text, as a batch's
            texts = [None if v is None else jsonvalue.canonical(v) for v in values]
            series = pl.Series(name, texts, dtype=pl.String)
        else:
            series = pl.Series(name, [_plain(v) for v in values], dtype=dtype, strict=False)
        columns[name] = series.alias(name)
    return pl.DataFrame(columns)


# --- the plan --------------------------------------------------------------------------------


def plan_import(
    session: Session, recordsets: Sequence[RecordSet], *, today: dt.date | None = None
) -> Plan:
    """Validate ``recordsets`` against the stored data and plan the writes.

    Raises:
        ValidationError: with every problem found (file, sheet, row, column, value, reason).
    """
    problems = _Problems()
    typed, sets = type_frames(recordsets, problems)
    order = {k: i for i, k in enumerate(typed)}

    def where(frame: pl.DataFrame, i: int) -> tuple[RecordSet, int | None]:
        return sets[frame[RS][i]], frame[ROW][i]

    # duplicates within the batch; a row that repeats another's key with other values has its
    # problem from the mapping already (naming both rows and why), so is not a "duplicate" too
    repeats = {
        (j, rp.problem.row) for j, rs in enumerate(sets) for rp in rs.row_problems if rp.repeat
    }
    batch_codes: dict[str, pl.Series] = {}
    for kind, frame in typed.items():
        coded = frame.filter(pl.col("code").is_not_null())
        first = coded.filter(pl.col("code").is_first_distinct())
        batch_codes[kind] = first["code"]
        dups = coded.filter(~pl.col("code").is_first_distinct())
        if dups.height:
            firsts = first.select("code", pl.col(RS).alias("_frs"), pl.col(ROW).alias("_frow"))
            for r in dups.join(firsts, on="code", how="left").sort(IDX).iter_rows(named=True):
                if (r[RS], r[ROW]) in repeats:
                    continue
                prev = sets[r["_frs"]]
                at = f"row {r['_frow']}" + (f" of sheet {prev.sheet!r}" if prev.sheet else "")
                problems.add(
                    (1, order[kind], r[IDX]),
                    _problem(
                        sets[r[RS]],
                        r[ROW],
                        f"duplicate {kind} code (first at {at})",
                        "code",
                        r["code"],
                    ),
                )

    # references: stored codes or codes of the same batch
    referenced: dict[str, list[pl.Series]] = {}
    for kind, frame in typed.items():
        for f in kind_spec(kind).fields.values():
            if f.ref and f.name in frame.columns:
                referenced.setdefault(f.ref, []).append(frame[f.name].drop_nulls())
    id_maps: dict[str, dict[str, int]] = {}
    known: dict[str, pl.Series] = {}
    for target, series in referenced.items():
        wanted = pl.concat(series).unique()
        in_batch = batch_codes.get(target, pl.Series([], dtype=pl.String))
        missing = wanted.filter(~wanted.is_in(in_batch.implode())).to_list()
        stored = existing_codes(session, target, missing) if missing else {}
        id_maps.setdefault(target, {}).update(stored)
        known[target] = pl.concat([in_batch, pl.Series(list(stored), dtype=pl.String)])
    for kind, frame in typed.items():
        spec = kind_spec(kind)
        for k, f in enumerate(spec.fields.values()):
            if not f.ref or f.name not in frame.columns:
                continue
            bad = frame.filter(
                pl.col(f.name).is_not_null() & ~pl.col(f.name).is_in(known[f.ref].implode())
            )
            for i, rs_index, row, v in bad.select(IDX, RS, ROW, f.name).iter_rows():
                problems.add(
                    (2, order[kind], i, k),
                    _problem(sets[rs_index], row, f"unknown {f.ref} code {v!r}", f.name, v),
                )

    _check_decision_versions(session, typed, sets, problems, order)

    plans: dict[str, KindPlan] = {}
    for kind, frame in typed.items():
        spec = kind_spec(kind)
        plans[kind] = _plan_kind(session, spec, frame, sets, problems, order[kind], id_maps)
        plans[kind].cleaned = problems.cleaned.get(kind, 0)
    if problems:
        ordered = problems.ordered()
        total = sum(f.height for f in typed.values())
        raise ValidationError(_summary(ordered, total), ordered[:MAX_PROBLEMS])
    return Plan(plans, id_maps)


def _check_decision_versions(
    session: Session,
    typed: dict[str, pl.DataFrame],
    sets: Sequence[RecordSet],
    problems: _Problems,
    order: dict[str, int],
) -> None:
    """A decision's link names its OTC version by number, which no foreign key guards: a
    version that does not exist is refused here (doctor's ``links`` check would find it later).
    A link to an OTC this same batch writes is left to the load, which creates its versions."""
    frame = typed.get("decision_otc")
    if frame is None or not {"otc", "otc_version"} <= set(frame.columns):
        return
    from bigov.strategy.models import Otc, OtcVersion

    written = {
        str(c)
        for kind in ("otc", "otc_version")
        if kind in typed
        for c in typed[kind]["code" if kind == "otc" else "otc"].drop_nulls().to_list()
    }
    asked = frame.filter(
        pl.col("otc").is_not_null()
        & pl.col("otc_version").is_not_null()
        & ~pl.col("otc").is_in(list(written))
    )
    if not asked.height:
        return
    codes = sorted({str(c) for c in asked["otc"].to_list()})
    stored: set[tuple[str, int]] = set()
    for chunk in _chunks(codes):
        stored.update(
            (str(code), int(version))
            for code, version in session.execute(
                select(Otc.code, OtcVersion.version)
                .join(OtcVersion, OtcVersion.otc_id == Otc.id)
                .where(Otc.code.in_(chunk))
            )
        )
    k = list(kind_spec("decision_otc").fields).index("otc_version")
    for i, rs_index, row, code, version in asked.select(
        IDX, RS, ROW, "otc", "otc_version"
    ).iter_rows():
        if (str(code), int(version)) not in stored:
            problems.add(
                (2, order["decision_otc"], i, k),
                _problem(
                    sets[rs_index],
                    row,
                    f"{code} has no version {version} (bigov trace {code} lists its versions)",
                    "otc_version",
                    version,
                ),
            )


def _plan_kind(
    session: Session,
    spec: KindSpec,
    frame: pl.DataFrame,
    sets: list[RecordSet],
    problems: _Problems,
    rank: int,
    id_maps: dict[str, dict[str, int]],
) -> KindPlan:
    kind = spec.kind
    kp = KindPlan(kind)
    coded = frame.filter(pl.col("code").is_not_null())
    codes = coded["code"].unique().to_list()
    stored = (
        stored_frame(session, spec, codes)
        if codes
        else pl.DataFrame({"code": [], ID: []}, schema={"code": pl.String, ID: pl.Int64})
    )
    if stored.height:
        id_maps.setdefault(kind, {}).update(zip(stored["code"], stored[ID], strict=True))
    fields = [n for n in spec.fields if n in frame.columns]
    old = stored.select(
        "code", ID, *(pl.col(n).alias("__old_" + n) for n in spec.fields if n in stored.columns)
    )
    joined = coded.join(old, on="code", how="left", maintain_order="left")
    new = joined.filter(pl.col(ID).is_null())
    # a new row must bring every required field (an update may leave stored ones as they are)
    for k, f in enumerate(spec.fields.values()):
        if not f.required:
            continue
        given = pl.col(present_col(f.name)) if f.name in frame.columns else pl.lit(False)
        for i, rs_index, row in new.filter(~given).select(IDX, RS, ROW).iter_rows():
            problems.add(
                (3, rank, i, 0, k),
                _problem(sets[rs_index], row, f"{f.name} is required for a new {kind}", f.name),
            )
    kp.inserts = new.drop(ID, *(c for c in new.columns if c.startswith("__old_")))
    existing = joined.filter(pl.col(ID).is_not_null())
    if not existing.height:
        return kp
    changed: dict[str, pl.Expr] = {}
    for n in fields:
        f = spec.fields[n]
        value, before = pl.col(n), pl.col("__old_" + n)
        if stored.schema.get(n) == pl.Float64 and f.type == "decimal":
            value = value.cast(pl.Float64)  # SQLite keeps decimals as floats
        ignore = value.is_null() if not f.nullable else pl.lit(False)
        changed[n] = pl.col(present_col(n)) & ~ignore & value.ne_missing(before)
    names = list(changed)
    # one "0"/"1" flag per field: rows with the same changed fields share one UPDATE statement
    flags = [e.cast(pl.String) for e in (c.cast(pl.Int8) for c in changed.values())]
    masked = existing.with_columns(
        (pl.concat_str(flags) if flags else pl.lit("")).alias("__mask")
    ).with_columns(pl.col("__mask").str.contains("1").alias("__any"))
    kp.unchanged = masked.filter(~pl.col("__any")).height
    touched = masked.filter(pl.col("__any"))
    if kind == "otc" and touched.height:
        versioned = [names.index(n) for n in OTC_VERSIONED if n in names]
        revise = pl.any_horizontal(
            [pl.col("__mask").str.slice(j, 1) == "1" for j in versioned] or [pl.lit(False)]
        )
        revised = touched.filter(revise)
        touched = touched.filter(~revise)
        for r in revised.iter_rows(named=True):
            values = row_values(spec, r)
            _check_revision(
                sets[r[RS]],
                r[ROW],
                values,
                r.get("__old_effective_from"),
                problems,
                (3, rank, r[IDX], 1),
            )
            kp.revisions.append((int(r[ID]), values))
    for part in touched.partition_by("__mask", maintain_order=True):
        mask = str(part["__mask"][0])
        cols = tuple(n for j, n in enumerate(names) if mask[j] == "1")
        kp.updates.append((cols, part.select(ID, *cols)))
    return kp


def row_values(spec: KindSpec, row: dict[str, Any]) -> dict[str, Any]:
    """The given fields of one frame row as Python values (enum members and JSON objects, like
    the models)."""
    out: dict[str, Any] = {"code": row.get("code")}
    for name, f in spec.fields.items():
        if not row.get(present_col(name)):
            continue
        v = row.get(name)
        if f.enum is not None and v is not None:
            v = f.enum(v)
        elif f.type == "json":
            v = jsonvalue.from_text(v)
        out[name] = v
    return out


def _check_revision(
    rs: RecordSet,
    row: int | None,
    values: dict[str, Any],
    current: Any,
    problems: _Problems,
    key: tuple[Any, ...],
) -> None:
    start = values.get("effective_from")
    if not isinstance(start, dt.date) or (isinstance(current, dt.date) and start <= current):
        shown = current.isoformat() if isinstance(current, dt.date) else "?"
        problems.add(
            key,
            _problem(
                rs,
                row,
                "title/description/status/target_date changed: a new version needs an "
                f"effective_from after the current version's ({shown})",
                "effective_from",
                start,
            ),
        )


def _summary(problems: list[Problem], total: int) -> str:
    rows = {(p.file, p.sheet, p.row) for p in problems}
    return f"{len(problems)} problem(s) in {len(rows)} row(s) of {total}: nothing was imported"


def rejected_counts(
    problems: Sequence[Problem], typed_total: dict[str, int]
) -> dict[str, dict[str, int]]:
    """Counts of a rejected batch: every row rejected, nothing written."""
    return {
        k: {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": n}
        for k, n in typed_total.items()
    }


__all__ = [
    "CODE_LENGTH",
    "KindPlan",
    "Plan",
    "converter",
    "derive_code",
    "existing_codes",
    "ids_to_codes",
    "plan_import",
    "polars_type",
    "present_col",
    "row_values",
    "stored_frame",
    "type_column",
]
