"""Value parsers: turn what a spreadsheet cell or CSV field holds into a typed value.

Every parser takes the raw value (``str``, ``int``, ``float``, ``Decimal``, ``date``,
``datetime``, ``bool`` or ``None``) and returns the typed value or None for an empty cell, or
raises :class:`ParseError` whose message is the reason shown to the user. They never raise anything
else (a property test checks this), so one bad cell cannot crash an import.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Excel's day zero (the 1900 leap-year bug makes it 30 Dec 1899 for serials after Feb 1900).
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serials outside this range are not plausible dates in project data (years 1900–2199).
EXCEL_SERIAL_RANGE = (1, 109574)
# Dates accepted on import: a year such as 9999 is a typing slip or a "never" marker, and one
# such date used to stop a whole governance cycle (the period after it does not exist).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2200, 12, 31)

# Numbers every backend stores exactly. SQLite keeps NUMERIC columns as binary floats, which
# hold 15 significant decimal digits exactly; PostgreSQL NUMERIC(p, s) holds p - s whole digits.
EXACT_DIGITS = 15
# Money (2 decimals) must be below 10^13 in absolute value: 9,999,999,999,999.99 at most.
MONEY_LIMIT = Decimal(10) ** 13

EMPTY_MARKERS = frozenset({"", "-", "—", "–", "n/a", "na", "null", "none", "#n/a"})
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "x", "✓", "on"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off"})

DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %Y",
    "%B %Y",
    "%b-%y",
    "%b-%Y",
    "%Y-%m",
    "%Y%m%d",
)


class ParseError(ValueError):
    """A value that cannot be read as the wanted type; the message is the user-facing reason."""


def decimal_limit(precision: int | None, scale: int | None) -> Decimal:
    """The magnitude a decimal column of this precision and scale accepts (exclusive): what the
    column holds, and for money (2 decimals) :data:`MONEY_LIMIT`."""
    whole = (precision or 38) - (scale or 0)
    limit = Decimal(10) ** whole
    return min(limit, MONEY_LIMIT) if scale == 2 else limit


def check_stored_exactly(number: Decimal, raw: Any, limit: Decimal, name: str = "") -> None:
    """Refuse a (rounded) number that a backend would not store exactly: too large for the
    column, or more significant digits than a float keeps (SQLite)."""
    where = f" for {name}" if name else ""
    if abs(number) >= limit:
        raise ParseError(
            f"number {raw!r} is too large{where} (the limit is {limit - 1:,} and a bit, "
            "so that every database stores it exactly)"
            if limit < Decimal(10) ** 30
            else f"number {raw!r} is too large{where}"
        )
    if number and len(number.normalize().as_tuple().digits) > EXACT_DIGITS:
        raise ParseError(
            f"number {raw!r} has more than {EXACT_DIGITS} significant digits{where}; "
            "it would not be stored exactly"
        )


@dataclass(frozen=True)
class NumberFormat:
    """How numbers are written: ``decimal`` and ``thousands`` separators (a mapping setting).

    The thousands separator (and blanks or ``'``) is accepted only between groups of three
    digits, so a decimal comma is never read as a thousands separator: with the default format
    ``1,234.5`` is 1234.5 and ``1,5`` is refused; with ``decimal=","`` (thousands then ``.``)
    ``1.234,50`` is 1234.50 and ``1,5`` is 1.5."""

    decimal: str = "."
    thousands: str = ","


DEFAULT_NUMBER_FORMAT = NumberFormat()


def is_empty(value: Any) -> bool:
    """True for None, blank text and the usual "nothing here" markers (``N/A``, ``-``)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return value.strip().casefold() in EMPTY_MARKERS
    return False


_CURRENCY = re.compile(r"[£$€¥]|\b(?:GBP|USD|EUR)\b", re.IGNORECASE)
# Separators of digit groups besides the format's own: blanks (also no-break) and apostrophes.
_GROUP_MARKS = " \u00a0\u202f'"
_NUMBER_CACHE: dict[NumberFormat, re.Pattern[str]] = {}


def _number_pattern(fmt: NumberFormat) -> re.Pattern[str]:
    """sign, whole part (plain, or in groups of three with one separator throughout),
    fraction, exponent."""
    pattern = _NUMBER_CACHE.get(fmt)
    if pattern is None:
        marks = "".join(dict.fromkeys(fmt.thousands + _GROUP_MARKS))
        sep = "[" + re.escape(marks) + "]"
        dec = re.escape(fmt.decimal)
        pattern = re.compile(
            rf"(?P<sign>[+-]?)(?P<whole>[0-9]+|[0-9]{{1,3}}(?P<sep>{sep})[0-9]{{3}}"
            rf"(?:(?P=sep)[0-9]{{3}})*)?(?:{dec}(?P<frac>[0-9]*))?(?P<exp>[eE][+-]?[0-9]{{1,3}})?"
        )
        _NUMBER_CACHE[fmt] = pattern
    return pattern


def parse_decimal(
    value: Any, *, scale: int | None = None, fmt: NumberFormat = DEFAULT_NUMBER_FORMAT
) -> Decimal | None:
    """A Decimal (rounded half-up to ``scale`` decimals when given), or None when empty.

    Accepts numbers, and text such as ``1,234.50``, ``£1.2m`` is *not* accepted (units are the
    mapping's business), but ``(1,234)`` (accounting negative), ``-12``, ``+3``, ``12%`` (as 12),
    ``1 234,5`` with ``decimal=","`` are.
    """
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise ParseError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if math.isinf(value):
            raise ParseError("expected a number, got infinity")
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = _decimal_from_text(value, fmt)
    else:
        raise ParseError(f"expected a number, got {type(value).__name__}")
    if not number.is_finite():
        raise ParseError(f"expected a number, got {value!r}")
    if scale is not None:
        try:
            number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        except InvalidOperation as exc:
            raise ParseError(f"number {value!r} is too large") from exc
    return number


def _decimal_from_text(text: str, fmt: NumberFormat) -> Decimal:
    raw = text
    s = text.strip()
    try:  # fast path: plain numbers, the common case in large files
        if fmt.decimal == ".":
            return Decimal(s) if "_" not in s and s.isascii() else _slow_decimal(raw, s, fmt)
    except InvalidOperation:
        pass
    return _slow_decimal(raw, s, fmt)


def _slow_decimal(raw: str, s: str, fmt: NumberFormat) -> Decimal:
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    s = _CURRENCY.sub("", s).replace("\u2212", "-").strip()
    if s.endswith("%"):
        s = s[:-1].strip()
    if s[:1] in ("+", "-"):  # "- 1,234" and "-£1,234" once the currency is gone
        s = s[0] + s[1:].lstrip()
    match = _number_pattern(fmt).fullmatch(s)
    if match is None or (match["whole"] is None and not match["frac"]):
        raise ParseError(f"expected a number, got {raw!r}{_separator_hint(s, fmt)}")
    whole = (match["whole"] or "0").replace(match["sep"] or " ", "")
    text = f"{match['sign']}{whole}.{match['frac'] or '0'}{match['exp'] or ''}"
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already filters
        raise ParseError(f"expected a number, got {raw!r}") from exc
    return -number if negative else number


def _separator_hint(s: str, fmt: NumberFormat) -> str:
    """Why a number with separators was refused (the commonest surprise in imported files)."""
    if fmt.decimal == "." and "," in s:
        return (
            " (a comma is read only as a thousands separator between groups of three digits; "
            'for a decimal comma set decimal: "," in the mapping)'
        )
    if fmt.decimal == "," and "." in s:
        return " (with decimal comma, a point is read only between groups of three digits)"
    return ""


def parse_int(value: Any, *, fmt: NumberFormat = DEFAULT_NUMBER_FORMAT) -> int | None:
    """A whole number, or None when empty (``3.0`` is 3; ``3.5`` is an error)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = parse_decimal(value, fmt=fmt)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ParseError(f"expected a whole number, got {value!r}")
    if abs(number) > 2**62:
        raise ParseError(f"number {value!r} is too large")
    return int(number)


def parse_bool(value: Any) -> bool | None:
    """True/False from ``true``/``yes``/``y``/``1``/``x`` and their opposites; None when empty."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    if is_empty(value):
        return None
    word = str(value).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ParseError(f"expected true or false (yes/no), got {value!r}")


def excel_serial_to_date(serial: float) -> dt.date:
    """The date of an Excel serial day number (1900 date system)."""
    if not (EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1]):
        raise ParseError(f"{serial!r} is not a date (as an Excel day number it is out of range)")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _in_range(value: dt.date, raw: Any) -> dt.date:
    if DATE_MIN <= value <= DATE_MAX:
        return value
    raise ParseError(
        f"date {raw!s:.40} is outside the accepted range {DATE_MIN.isoformat()} to "
        f"{DATE_MAX.isoformat()}"
    )


def parse_date(value: Any, *, formats: Sequence[str] = ()) -> dt.date | None:
    """A date between :data:`DATE_MIN` and :data:`DATE_MAX`, or None when empty (see
    :func:`_parse_date` for the spellings accepted)."""
    parsed = _parse_date(value, formats=formats)
    return None if parsed is None else _in_range(parsed, value)


def _parse_date(value: Any, *, formats: Sequence[str] = ()) -> dt.date | None:
    """A date, or None when empty.

    Accepts date/datetime objects, Excel serial numbers, ISO text (also with a time), the
    ``formats`` given (strptime patterns, tried first) and common day-first UK spellings
    (``31/03/2025``, ``31 Mar 2025``, ``Mar-25``; month-only forms mean the 1st).
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise ParseError(f"expected a date, got {value!r}")
    if isinstance(value, int | float | Decimal):
        try:
            return excel_serial_to_date(float(value))
        except (OverflowError, ValueError) as exc:
            raise ParseError(f"expected a date, got {value!r}") from exc
    if not isinstance(value, str):
        raise ParseError(f"expected a date, got {type(value).__name__}")
    text = " ".join(value.split())
    for pattern in (*formats, *DEFAULT_DATE_FORMATS):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    if re.fullmatch(r"\d{4,6}(\.\d+)?", text):
        return excel_serial_to_date(float(text))
    hint = f" (expected {formats[0]})" if formats else " (use yyyy-mm-dd)"
    raise ParseError(f"expected a date, got {value!r}{hint}")


def enum_key(text: str) -> str:
    """Case, spacing and punctuation folded away: ``Amber/Green`` and ``AMBER GREEN`` agree."""
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def enum_lookup(enum_cls: type[enum.Enum]) -> dict[str, enum.Enum]:
    """Every accepted spelling key (of values and of member names) → member."""
    out: dict[str, enum.Enum] = {}
    for member in enum_cls:
        out.setdefault(enum_key(member.name), member)
        out[enum_key(str(member.value))] = member
    return out


def parse_enum(value: Any, lookup: dict[str, enum.Enum], choices: Sequence[str]) -> Any:
    """The enum member a text names (case/spacing variants accepted), or None when empty."""
    if isinstance(value, enum.Enum):
        value = value.value
    if is_empty(value):
        return None
    member = lookup.get(enum_key(str(value)))
    if member is None:
        raise ParseError(f"{value!r} is not one of: {', '.join(choices)}")
    return member


def parse_str(value: Any, *, max_length: int | None = None) -> str | None:
    """Text with surrounding blanks removed (numbers written without a trailing ``.0``)."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, enum.Enum):
        text = str(value.value)
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip()
    if text == "":
        return None
    if max_length is not None and len(text) > max_length:
        raise ParseError(f"text is {len(text)} characters long; at most {max_length} allowed")
    return text
