"""Cycle periods: parsing ``YYYY-MM``, the window a cadence covers, and whether a node is due.

A cycle is named by the *last month* it covers. A monthly node's 2026-03 cycle covers March 2026; a
quarterly node's covers the fiscal quarter ending in March (January–March with an April fiscal
year); an annual node's covers the fiscal year ending in that month. Weekly and fortnightly nodes
are reported at month grain: their packs are monthly roll-ups.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from bigov.errors import ConfigError
from bigov.governance.models import Cadence

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(text: str) -> dt.date:
    """First day of the month named ``YYYY-MM``.

    Raises:
        ConfigError: not of the form YYYY-MM or not a real month.
    """
    m = _PERIOD.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise ConfigError(f"period must be YYYY-MM (e.g. 2026-03), not {text!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def period_label(day: dt.date) -> str:
    """``YYYY-MM`` of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day: dt.date, months: int) -> dt.date:
    """First day of the month ``months`` after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    """Last day of the month of ``day``."""
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Month starts from the month of ``start`` to that of ``end`` inclusive."""
    out: list[dt.date] = []
    cur = dt.date(start.year, start.month, 1)
    while cur <= end:
        out.append(cur)
        cur = add_months(cur, 1)
    return out


def window_months(cadence: Cadence) -> int:
    """How many months one cycle of ``cadence`` covers."""
    return {Cadence.QUARTERLY: 3, Cadence.ANNUAL: 12}.get(cadence, 1)


@dataclass(frozen=True)
class CyclePeriod:
    """The window of one cycle: ``start`` (first month) to ``month`` (last month), as at a date."""

    month: dt.date
    start: dt.date
    as_at: dt.date

    @property
    def label(self) -> str:
        return period_label(self.month)

    @property
    def end(self) -> dt.date:
        return month_end(self.month)


def cycle_period(cadence: Cadence, month: dt.date, as_at: dt.date | None = None) -> CyclePeriod:
    """The window a cycle of ``cadence`` named by ``month`` covers; ``as_at`` defaults to the last
    day of ``month``."""
    start = add_months(month, -(window_months(cadence) - 1))
    return CyclePeriod(month=month, start=start, as_at=as_at or month_end(month))


def is_due(cadence: Cadence, month: dt.date, fiscal_year_start_month: int) -> bool:
    """Whether a node of ``cadence`` sits for the period ending in ``month``.

    Quarterly nodes sit at the end of each fiscal quarter, annual ones at the end of the fiscal
    year; all others every month.
    """
    # months since the fiscal year started, 0..11; a quarter ends when (offset + 1) % 3 == 0
    offset = (month.month - fiscal_year_start_month) % 12
    if cadence == Cadence.QUARTERLY:
        return (offset + 1) % 3 == 0
    if cadence == Cadence.ANNUAL:
        return offset == 11
    return True


def quarter_months(month: dt.date, fiscal_year_start_month: int) -> list[dt.date]:
    """The three months of the fiscal quarter containing ``month``."""
    offset = (month.month - fiscal_year_start_month) % 12
    first = add_months(month, -(offset % 3))
    return [first, add_months(first, 1), add_months(first, 2)]


__all__ = [
    "CyclePeriod",
    "add_months",
    "cycle_period",
    "is_due",
    "month_end",
    "months_between",
    "parse_period",
    "period_label",
    "quarter_months",
    "window_months",
]
