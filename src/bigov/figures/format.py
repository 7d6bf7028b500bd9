"""How figures read to a person: money in the reporting currency with k / m, percentages with one
decimal, counts whole. One formatter for the pack, the spreadsheet's captions, the CLI and the
messages exceptions carry, so the same figure reads the same everywhere."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from bigov.figures.catalog import CATALOG, COUNT, FTE, MONEY, PCT

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
DASH = "—"


def to_decimal(value: Any) -> Decimal | None:
    """A document value as Decimal (None for missing or non-numeric)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(value: Any, currency: str = "GBP") -> str:
    """``£886.13m``, ``£412k``, ``£9,950`` (``—`` when missing)."""
    d = to_decimal(value)
    if d is None:
        return DASH
    sign = "-" if d < 0 else ""
    d = abs(d)
    symbol = SYMBOLS.get(currency, currency + " ")
    if d >= 1_000_000:
        return f"{sign}{symbol}{d / 1_000_000:,.2f}m"
    if d >= 10_000:
        return f"{sign}{symbol}{d / 1_000:,.0f}k"
    return f"{sign}{symbol}{d:,.0f}"


def pct(value: Any, places: int = 1) -> str:
    """``52.2%`` (``—`` when missing)."""
    d = to_decimal(value)
    return DASH if d is None else f"{d:,.{places}f}%"


def signed_pct(value: Any, places: int = 1) -> str:
    """``+2.3%`` / ``-4.0%``: a variance."""
    d = to_decimal(value)
    return DASH if d is None else f"{d:+.{places}f}%"


def number(value: Any, places: int = 1) -> str:
    d = to_decimal(value)
    return DASH if d is None else f"{d:,.{places}f}"


def figure(key: str, value: Any, currency: str = "GBP") -> str:
    """A governed figure's value as a person reads it, by its catalogue unit."""
    unit = CATALOG[key].unit if key in CATALOG else None
    if value is None:
        return DASH
    if unit == COUNT:
        return f"{int(value):,}"
    if unit == MONEY:
        return money(value, currency)
    if unit == PCT:
        return signed_pct(value) if key.endswith("variance_pct") else pct(value)
    if unit == FTE:
        return number(value)
    return str(value)


__all__ = ["figure", "money", "number", "pct", "signed_pct", "to_decimal"]
