"""Validation: raw rows by kind → a :class:`Plan` of inserts and updates, or every problem found.

Nothing here writes. :func:`plan_import` types every value, checks required fields, enumerations,
lengths, negative money, date order, duplicates within the batch and references (to codes stored
already *or* defined anywhere in the same batch), and compares each row with the stored one to
classify it as insert / update / unchanged. All problems are collected, then raised together as
one :class:`~bigov.errors.ValidationError`.

Database reads are bounded by the number of kinds, not of rows: per kind, one query (chunked
for very large batches) for the stored rows with the batch's codes, and one per referenced kind
for code ↔ id look-ups.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.errors import Problem, ValidationError
from bigov.ingest.mapping import Mapping, RecordSet
from bigov.ingest.parse import (
    DEFAULT_NUMBER_FORMAT,
    ParseError,
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
CODE_LENGTH = 64
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
OTC_VERSIONED = ("title", "description", "status")

Converter = Callable[[Any], Any]


@dataclass
class Located:
    """A typed row and where it came from."""

    values: dict[str, Any]
    file: str | None
    sheet: str | None
    row: int | None
    headers: dict[str, str]
    failed: set[str] = field(default_factory=set)  # fields whose value did not parse

    def problem(self, reason: str, fieldname: str | None = None, value: Any = None) -> Problem:
        column = self.headers.get(fieldname, fieldname) if fieldname else None
        return Problem(
            reason,
            file=self.file,
            sheet=self.sheet,
            row=self.row,
            column=column,
            value=None if value is None else str(value)[:500],
        )


@dataclass
class KindPlan:
    """What loading one kind will do."""

    kind: str
    inserts: list[Located] = field(default_factory=list)
    updates: list[tuple[int, Located, dict[str, Any]]] = field(default_factory=list)
    revisions: list[tuple[int, Located]] = field(default_factory=list)  # OTC new versions
    unchanged: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "inserted": len(self.inserts),
            "updated": len(self.updates) + len(self.revisions),
            "unchanged": self.unchanged,
            "rejected": 0,
        }


@dataclass
class Plan:
    """Validated work for one batch, in load order."""

    kinds: dict[str, KindPlan]

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Per kind: inserted / updated / unchanged / rejected."""
        return {k: p.counts for k, p in self.kinds.items()}

    @property
    def writes(self) -> int:
        return sum(len(p.inserts) + len(p.updates) + len(p.revisions) for p in self.kinds.values())


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
        limit = Decimal(10) ** ((f.precision or 38) - (f.scale or 0))
        plain = fmt.decimal == "." and factor is None

        def base(v: Any) -> Any:
            number: Decimal | None = None
            if plain and type(v) is str:
                try:  # fast path for plain numbers, the bulk of large extracts
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
            if abs(number) >= limit:
                raise ParseError(f"number {v!r} is too large for {f.name}")
            return number

    elif f.type == "int":

        def base(v: Any) -> Any:
            return parse_int(v, fmt=fmt)

    elif f.type == "date":

        def base(v: Any) -> Any:
            return parse_date(v, formats=formats)

    elif f.type == "bool":
        base = parse_bool
    elif f.type == "enum":
        assert f.enum is not None
        lookup = enum_lookup(f.enum)
        choices = f.choices

        def base(v: Any) -> Any:
            return parse_enum(v, lookup, choices)

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


def type_rows(recordsets: Sequence[RecordSet], problems: list[Problem]) -> dict[str, list[Located]]:
    """Typed rows by kind (load order), with row-level problems appended to ``problems``."""
    out: dict[str, list[Located]] = defaultdict(list)
    for rs in recordsets:
        spec = kind_spec(rs.kind)
        convs: dict[str, Callable[[Any], tuple[bool, Any]]] = {
            name: _cached(converter(f, rs.mapping)) for name, f in spec.fields.items()
        }
        convs["code"] = _cached(_code_converter(rs.mapping))
        headers = rs.headers
        for raw, number in zip(rs.rows, rs.row_numbers, strict=True):
            loc = Located({}, rs.file, rs.sheet, number, headers)
            values = loc.values
            for name, value in raw.items():
                conv = convs.get(name)
                if conv is None:
                    problems.append(loc.problem(f"unknown field {name!r} for {spec.kind}", name))
                    continue
                ok, result = conv(value)
                if ok:
                    values[name] = result
                else:
                    loc.failed.add(name)
                    problems.append(loc.problem(result, name, value))
            _row_checks(spec, loc, problems)
            out[spec.kind].append(loc)
    return {k: out[k] for k in kinds() if k in out}


def _row_checks(spec: KindSpec, loc: Located, problems: list[Problem]) -> None:
    values = loc.values
    for name in values.keys() & spec.fields.keys():
        f = spec.fields[name]
        if values[name] is None and f.required:
            problems.append(loc.problem(f"{name} is required", name))
    for start, finish in DATE_ORDER:
        a, b = values.get(start), values.get(finish)
        if isinstance(a, dt.date) and isinstance(b, dt.date) and b < a:
            problems.append(
                loc.problem(
                    f"{finish} ({b.isoformat()}) is before {start} ({a.isoformat()})", finish, b
                )
            )
    if values.get("code") is None:
        if spec.natural_key:
            code = derive_code(spec, values)
            if code is None:
                missing = [
                    k for k in spec.natural_key if values.get(k) is None and spec.fields[k].required
                ]
                problems.append(
                    loc.problem(
                        "no code, and cannot derive one: missing " + ", ".join(missing), "code"
                    )
                )
            elif len(code) > CODE_LENGTH:
                problems.append(
                    loc.problem(
                        f"derived code {code!r} is longer than {CODE_LENGTH} characters", "code"
                    )
                )
            else:
                values["code"] = code
        else:
            problems.append(loc.problem("code is required", "code"))


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def existing_codes(session: Session, kind: str, codes: Iterable[str]) -> dict[str, int]:
    """Stored code → id for the given codes of ``kind`` (chunked IN queries)."""
    table = kind_spec(kind).table
    wanted = sorted(set(codes))
    found: dict[str, int] = {}
    for part in _chunks(wanted):
        rows = session.execute(select(table.c.code, table.c.id).where(table.c.code.in_(part)))
        found.update((c, i) for c, i in rows)
    return found


def ids_to_codes(session: Session, kind: str, ids: Iterable[int]) -> dict[int, str]:
    """Stored id → code for the given ids of ``kind``."""
    table = kind_spec(kind).table
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    for part in _chunks(wanted):
        rows = session.execute(select(table.c.id, table.c.code).where(table.c.id.in_(part)))
        found.update((i, c) for i, c in rows)
    return found


def stored_rows(
    session: Session, spec: KindSpec, codes: Sequence[str]
) -> dict[str, tuple[int, dict[str, Any]]]:
    """Stored rows with these codes: code → (id, values by field, references as codes)."""
    table = spec.table
    cols = [table.c.id, table.c.code, *(table.c[f.column] for f in spec.fields.values())]
    raw: list[Any] = []
    for part in _chunks(sorted(set(codes))):
        raw.extend(session.execute(select(*cols).where(table.c.code.in_(part))).all())
    ref_maps: dict[str, dict[int, str]] = {}
    for f in spec.fields.values():
        if f.ref:
            idx = list(spec.fields).index(f.name) + 2
            ids = [r[idx] for r in raw if r[idx] is not None]
            ref_maps[f.name] = ids_to_codes(session, f.ref, ids) if ids else {}
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    names = list(spec.fields)
    for r in raw:
        values: dict[str, Any] = {}
        for i, name in enumerate(names, start=2):
            v = r[i]
            if spec.fields[name].ref and v is not None:
                v = ref_maps[name].get(v)
            values[name] = v
        out[r[1]] = (r[0], values)
    return out


def same(a: Any, b: Any) -> bool:
    """Equality after normalising what the database hands back (enums, datetimes, Decimals)."""
    if isinstance(a, enum.Enum):
        a = a.value
    if isinstance(b, enum.Enum):
        b = b.value
    if isinstance(a, dt.datetime):
        a = a.date()
    if isinstance(b, dt.datetime):
        b = b.date()
    if (
        isinstance(a, Decimal | int | float)
        and isinstance(b, Decimal | int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return Decimal(str(a)) == Decimal(str(b))
    return bool(a == b)


def plan_import(
    session: Session, recordsets: Sequence[RecordSet], *, today: dt.date | None = None
) -> Plan:
    """Validate ``recordsets`` against the stored data and plan the writes.

    Raises:
        ValidationError: with every problem found (file, sheet, row, column, value, reason).
    """
    problems: list[Problem] = []
    typed = type_rows(recordsets, problems)
    today = today or dt.date.today()

    # duplicates within the batch
    batch_codes: dict[str, set[str]] = {}
    for kind, rows in typed.items():
        first: dict[str, Located] = {}
        for loc in rows:
            code = loc.values.get("code")
            if code is None:
                continue
            if code in first:
                prev = first[code]
                where = f"row {prev.row}" + (f" of sheet {prev.sheet!r}" if prev.sheet else "")
                problems.append(
                    loc.problem(f"duplicate {kind} code (first at {where})", "code", code)
                )
            else:
                first[code] = loc
        batch_codes[kind] = set(first)

    # references: stored codes or codes of the same batch
    referenced: dict[str, set[str]] = defaultdict(set)
    for kind, rows in typed.items():
        spec = kind_spec(kind)
        for f in spec.fields.values():
            if f.ref:
                referenced[f.ref].update(
                    v for loc in rows if (v := loc.values.get(f.name)) is not None
                )
    known: dict[str, set[str]] = {}
    for target, codes in referenced.items():
        missing = codes - batch_codes.get(target, set())
        stored = existing_codes(session, target, missing) if missing else {}
        known[target] = batch_codes.get(target, set()) | set(stored)
    for kind, rows in typed.items():
        spec = kind_spec(kind)
        ref_fields = [f for f in spec.fields.values() if f.ref]
        for loc in rows:
            for f in ref_fields:
                v = loc.values.get(f.name)
                if v is not None and f.ref is not None and v not in known[f.ref]:
                    problems.append(loc.problem(f"unknown {f.ref} code {v!r}", f.name, v))

    plans: dict[str, KindPlan] = {}
    for kind, located in typed.items():
        spec = kind_spec(kind)
        kp = KindPlan(kind)
        batch = [c for loc in located if (c := loc.values.get("code")) is not None]
        previous = stored_rows(session, spec, batch) if batch else {}
        for loc in located:
            code = loc.values.get("code")
            if code is None:
                continue
            hit = previous.get(code)
            if hit is None:
                for f in spec.fields.values():
                    if f.required and f.name not in loc.values and f.name not in loc.failed:
                        problems.append(
                            loc.problem(f"{f.name} is required for a new {kind}", f.name)
                        )
                kp.inserts.append(loc)
                continue
            row_id, old = hit
            changed = {
                name: v
                for name, v in loc.values.items()
                if name != "code"
                and not (v is None and not spec.fields[name].nullable)
                and not same(v, old.get(name))
            }
            if kind == "otc" and changed.keys() & set(OTC_VERSIONED):
                _plan_revision(loc, old, changed, problems)
                kp.revisions.append((row_id, loc))
            elif changed:
                kp.updates.append((row_id, loc, changed))
            else:
                kp.unchanged += 1
        plans[kind] = kp
    if problems:
        raise ValidationError(_summary(problems, typed), problems[:MAX_PROBLEMS])
    return Plan(plans)


def _plan_revision(
    loc: Located, old: dict[str, Any], changed: dict[str, Any], problems: list[Problem]
) -> None:
    start = loc.values.get("effective_from")
    current = old.get("effective_from")
    if not isinstance(start, dt.date) or (isinstance(current, dt.date) and start <= current):
        shown = current.isoformat() if isinstance(current, dt.date) else "?"
        problems.append(
            loc.problem(
                f"title/description/status changed: a new version needs an effective_from after "
                f"the current version's ({shown})",
                "effective_from",
                start,
            )
        )


def _summary(problems: list[Problem], typed: dict[str, list[Located]]) -> str:
    rows = {(p.file, p.sheet, p.row) for p in problems}
    total = sum(len(v) for v in typed.values())
    return f"{len(problems)} problem(s) in {len(rows)} row(s) of {total}: nothing was imported"


def rejected_counts(
    problems: Sequence[Problem], typed_total: dict[str, int]
) -> dict[str, dict[str, int]]:
    """Counts of a rejected batch: every row rejected, nothing written."""
    return {
        k: {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": n}
        for k, n in typed_total.items()
    }
