"""Calendars and periods: the one definition of "which period does this instant belong to".

Periods are computed in a workspace **time zone** on local wall-clock time, and quarters and years
follow a configurable **fiscal year start month** (default April). Every period is identified by its
grain and its local start (a naive ``datetime``); it ends where the next one starts.

Fiscal years are named by the calendar year in which they *end* (UK convention: with an April
start, FY2026 runs April 2025 – March 2026), so the first quarter of that year is ``FY2026-Q1``.
With a January start the fiscal year is the calendar year (``FY2025-Q1`` = January–March 2025).

The same rules exist twice, once here in Python (labels, boundaries, expected counts) and once as
DuckDB expressions for the vectorised engine (:func:`duckdb_period_start`); the tests check both
against each other.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bigov.errors import ConfigError


class Grain(enum.StrEnum):
    """A period length, finest first."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"  # ISO week, Monday to Sunday
    MONTH = "month"
    QUARTER = "quarter"  # fiscal quarter
    YEAR = "year"  # fiscal year


class Frequency(enum.StrEnum):
    """How often a series is naturally observed; sets the expected count per period."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"  # no expected count, completeness is not measured


GRAIN_ORDER: tuple[Grain, ...] = tuple(Grain)

# The grain whose periods a frequency's observation slots are.
FREQUENCY_GRAIN: dict[Frequency, Grain] = {
    Frequency.HOURLY: Grain.HOUR,
    Frequency.DAILY: Grain.DAY,
    Frequency.WEEKLY: Grain.WEEK,
    Frequency.MONTHLY: Grain.MONTH,
    Frequency.QUARTERLY: Grain.QUARTER,
    Frequency.YEARLY: Grain.YEAR,
}

# Which grains a period of the key grain always lies wholly inside. Weeks straddle months, so
# nothing above a week is built from weeks.
_NESTS_IN: dict[Grain, frozenset[Grain]] = {
    Grain.HOUR: frozenset(GRAIN_ORDER[1:]),
    Grain.DAY: frozenset({Grain.WEEK, Grain.MONTH, Grain.QUARTER, Grain.YEAR}),
    Grain.WEEK: frozenset(),
    Grain.MONTH: frozenset({Grain.QUARTER, Grain.YEAR}),
    Grain.QUARTER: frozenset({Grain.YEAR}),
    Grain.YEAR: frozenset(),
}

# A governance node's cadence → the grain of the periods it reviews. A fortnightly node reads
# weekly periods (two per sitting); there is no fortnight grain because fortnights have no
# agreed anchor across organisations.
CADENCE_GRAIN: dict[str, Grain] = {
    "hourly": Grain.HOUR,
    "daily": Grain.DAY,
    "weekly": Grain.WEEK,
    "fortnightly": Grain.WEEK,
    "monthly": Grain.MONTH,
    "quarterly": Grain.QUARTER,
    "annual": Grain.YEAR,
    "yearly": Grain.YEAR,
}


def cadence_grain(cadence: str) -> Grain:
    """The period grain a node with this cadence reviews (``"monthly"`` → month).

    Raises:
        ConfigError: unknown cadence.
    """
    try:
        return CADENCE_GRAIN[str(cadence).lower()]
    except KeyError:
        raise ConfigError(
            f"unknown cadence {cadence!r}", hint=f"use one of {', '.join(CADENCE_GRAIN)}"
        ) from None


def nests_in(fine: Grain, coarse: Grain) -> bool:
    """True when every ``fine`` period lies wholly inside one ``coarse`` period."""
    return coarse in _NESTS_IN[fine]


def grains_of(text: str | None) -> frozenset[Grain]:
    """The grains of a stored comma-separated list (``"day,month"``), as enum members."""
    return frozenset(Grain(g.strip()) for g in (text or "").split(",") if g.strip())


def base_grain(grains: set[Grain] | frozenset[Grain]) -> Grain:
    """The grain to compute from raw observations so that every grain in ``grains`` can be rolled
    up from it: the finest requested, or a day when weeks and months are both wanted."""
    if not grains:
        raise ConfigError("no period grains requested")
    finest = min(grains, key=GRAIN_ORDER.index)
    if all(g == finest or nests_in(finest, g) for g in grains):
        return finest
    return Grain.DAY


def parse_grain(value: str) -> Grain:
    """``"month"`` → :attr:`Grain.MONTH` (also accepts ``monthly``, ``fy``/``annual`` → year).

    Raises:
        ConfigError: unknown grain.
    """
    text = str(value).strip().lower()
    aliases = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
    aliases |= {"quarterly": "quarter", "annual": "year", "yearly": "year", "fy": "year"}
    try:
        return Grain(aliases.get(text, text))
    except ValueError:
        raise ConfigError(
            f"unknown grain {value!r}", hint=f"use one of {', '.join(g.value for g in Grain)}"
        ) from None


def _add_months(day: dt.datetime, months: int) -> dt.datetime:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


@dataclass(frozen=True)
class FiscalCalendar:
    """Period arithmetic in one time zone with one fiscal year start month.

    ``tz`` is an IANA name (``Europe/London``); ``fy_start_month`` is 1–12.
    """

    tz: str = "Europe/London"
    fy_start_month: int = 4

    def __post_init__(self) -> None:
        if not 1 <= int(self.fy_start_month) <= 12:
            raise ConfigError(f"fiscal year start month must be 1–12, not {self.fy_start_month}")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"unknown time zone {self.tz!r}", hint="use an IANA name such as Europe/London"
            ) from None

    @property
    def zone(self) -> ZoneInfo:
        """The time zone object."""
        return ZoneInfo(self.tz)

    # -- instants ----------------------------------------------------------------------------
    def to_local(self, instant: dt.datetime) -> dt.datetime:
        """Local wall-clock time (naive) of an instant; a naive ``instant`` is taken as UTC."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=dt.UTC)
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def to_utc(self, local: dt.datetime) -> dt.datetime:
        """The UTC instant of a local wall-clock time (first occurrence when ambiguous)."""
        return local.replace(tzinfo=self.zone, fold=0).astimezone(dt.UTC)

    # -- periods -----------------------------------------------------------------------------
    def period_start(self, grain: Grain, local: dt.datetime | dt.date) -> dt.datetime:
        """Local start of the ``grain`` period containing local time ``local``."""
        if not isinstance(local, dt.datetime):
            local = dt.datetime(local.year, local.month, local.day)
        local = local.replace(tzinfo=None)
        if grain is Grain.HOUR:
            return local.replace(minute=0, second=0, microsecond=0)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if grain is Grain.DAY:
            return day
        if grain is Grain.WEEK:
            return day - dt.timedelta(days=day.weekday())
        month = day.replace(day=1)
        if grain is Grain.MONTH:
            return month
        offset = (month.month - self.fy_start_month) % (3 if grain is Grain.QUARTER else 12)
        return _add_months(month, -offset)

    def period_end(self, grain: Grain, start: dt.datetime) -> dt.datetime:
        """Local start of the next period (exclusive end of the period starting at ``start``)."""
        if grain is Grain.HOUR:
            return start + dt.timedelta(hours=1)
        if grain is Grain.DAY:
            return start + dt.timedelta(days=1)
        if grain is Grain.WEEK:
            return start + dt.timedelta(days=7)
        return _add_months(start, {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain])

    def periods(self, grain: Grain, first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
        """Local starts of every ``grain`` period from the one holding ``first`` to the one
        holding ``last`` (both local), in order."""
        out: list[dt.datetime] = []
        current = self.period_start(grain, first)
        while current <= last:
            out.append(current)
            current = self.period_end(grain, current)
        return out

    def fiscal_year(self, local: dt.datetime | dt.date) -> int:
        """Fiscal year (named by the calendar year it ends in) of a local date."""
        if self.fy_start_month == 1:
            return local.year
        return local.year + 1 if local.month >= self.fy_start_month else local.year

    def label(self, grain: Grain, start: dt.datetime) -> str:
        """Human label of a period: ``2025-04-01T13:00``, ``2025-04-01``, ``2025-W14``,
        ``2025-04``, ``FY2026-Q1``, ``FY2026``."""
        if grain is Grain.HOUR:
            return start.strftime("%Y-%m-%dT%H:00")
        if grain is Grain.DAY:
            return start.strftime("%Y-%m-%d")
        if grain is Grain.WEEK:
            iso = start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if grain is Grain.MONTH:
            return start.strftime("%Y-%m")
        fy = self.fiscal_year(start)
        if grain is Grain.YEAR:
            return f"FY{fy}"
        quarter = (start.month - self.fy_start_month) % 12 // 3 + 1
        return f"FY{fy}-Q{quarter}"

    def parse_period(self, grain: Grain, text: str) -> dt.datetime:
        """Inverse of :meth:`label`; also accepts any ISO date inside the period.

        Raises:
            ConfigError: the text names no period of this grain.
        """
        value = text.strip()
        try:
            if grain in (Grain.QUARTER, Grain.YEAR) and value.upper().startswith("FY"):
                fy_text, _, q_text = value[2:].upper().partition("-Q")
                fy = int(fy_text)
                year_start = dt.datetime(fy - (1 if self.fy_start_month > 1 else 0), 1, 1)
                year_start = year_start.replace(month=self.fy_start_month)
                if grain is Grain.YEAR:
                    return year_start
                quarter = int(q_text)
                if not 1 <= quarter <= 4:
                    raise ValueError(value)
                return _add_months(year_start, 3 * (quarter - 1))
            if grain is Grain.WEEK and "-W" in value.upper():
                year_text, _, week_text = value.upper().partition("-W")
                return dt.datetime.fromisocalendar(int(year_text), int(week_text), 1)
            if grain is Grain.MONTH and len(value) == 7:
                value += "-01"
            return self.period_start(grain, dt.datetime.fromisoformat(value))
        except ValueError:
            raise ConfigError(
                f"{text!r} is not a {grain.value} period",
                hint="e.g. 2025-04-01, 2025-W14, 2025-04, FY2026-Q1, FY2026",
            ) from None

    def bounds_utc(self, grain: Grain, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The period as a half-open UTC interval ``[start, end)``."""
        return self.to_utc(start), self.to_utc(self.period_end(grain, start))

    def expected_count(self, frequency: Frequency, grain: Grain, start: dt.datetime) -> int | None:
        """How many observations a complete ``frequency`` series has in this period.

        It is the number of observation slots that *start* inside the period, counted on real
        time for hourly series (a spring-forward day has 23 hours, an autumn one 25). None when
        the series is irregular or observed less often than the period (a monthly series has no
        expected count per day).
        """
        if frequency is Frequency.IRREGULAR:
            return None
        slot = FREQUENCY_GRAIN[frequency]
        weeks_in_longer = slot is Grain.WEEK and grain in (Grain.MONTH, Grain.QUARTER, Grain.YEAR)
        if slot != grain and not nests_in(slot, grain) and not weeks_in_longer:
            return None
        if slot == grain:
            return 1
        end = self.period_end(grain, start)
        if slot is Grain.HOUR:
            first, last = self.bounds_utc(grain, start)
            return int((last - first).total_seconds() // 3600)
        if slot is Grain.DAY:
            return (end - start).days
        if slot is Grain.WEEK:
            # a weekly slot belongs to the period holding its Monday: count Mondays in [start, end)
            first_monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
            days = (end - first_monday).days
            return max(0, -(-days // 7))
        months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}
        return months[grain] // months[slot]


def duckdb_period_start(grain: Grain, local_expr: str, fy_start_month: int) -> str:
    """A DuckDB expression for the local period start of local timestamp expression
    ``local_expr`` — the vectorised twin of :meth:`FiscalCalendar.period_start`.

    ``local_expr`` must be trusted SQL (a column name); ``fy_start_month`` is checked to be 1–12.
    """
    fy = int(fy_start_month)
    if not 1 <= fy <= 12:
        raise ConfigError(f"fiscal year start month must be 1–12, not {fy_start_month}")
    if grain in (Grain.HOUR, Grain.DAY, Grain.WEEK, Grain.MONTH):
        return f"date_trunc('{grain.value}', {local_expr})::TIMESTAMP"
    span = 3 if grain is Grain.QUARTER else 12
    month = f"date_trunc('month', {local_expr})::TIMESTAMP"
    return f"({month} - to_months(((month({local_expr}) - {fy} + 12) % {span})::INTEGER))"


__all__ = [
    "CADENCE_GRAIN",
    "FREQUENCY_GRAIN",
    "GRAIN_ORDER",
    "FiscalCalendar",
    "Frequency",
    "Grain",
    "base_grain",
    "cadence_grain",
    "duckdb_period_start",
    "grains_of",
    "nests_in",
    "parse_grain",
]
