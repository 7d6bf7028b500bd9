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


@dataclass(frozen=True)
class NumberFormat:
    """How numbers are written: ``decimal`` and ``thousands`` separators (a mapping setting)."""

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
_SPACES = re.compile(r"[\s\u00a0\u202f']+")


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
    s = _CURRENCY.sub("", s).replace("\u2212", "-")
    if s.endswith("%"):
        s = s[:-1]
    s = _SPACES.sub("", s)
    if fmt.thousands and fmt.thousands not in (" ",):
        s = s.replace(fmt.thousands, "")
    if fmt.decimal != ".":
        s = s.replace(fmt.decimal, ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?", s):
        raise ParseError(f"expected a number, got {raw!r}")
    try:
        number = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - the regex already filters
        raise ParseError(f"expected a number, got {raw!r}") from exc
    return -number if negative else number


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


def parse_date(value: Any, *, formats: Sequence[str] = ()) -> dt.date | None:
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
