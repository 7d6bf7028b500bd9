"""Sittings and data cut-offs from each node's cadence, and their iCalendar export.

What callers may rely on:

* a node sits for the period named ``YYYY-MM`` (the last month its cycle covers, see
  :mod:`bigov.governance.periods`) in the *following* month: on ``sitting_day`` for monthly,
  quarterly and annual nodes (clamped to the month's length; day 1 when unset), on the first
  ``sitting_day`` weekday (ISO, 1 = Monday) of that month for weekly and fortnightly nodes;
* its data cut-off is the sitting date minus the node's ``data_cutoff_days`` *working* days
  (Monday to Friday; public holidays are not known to bigov), set per node in the governance
  design (``rules: {data_cutoff_days: N}``); a node without it has no cut-off;
* the ``.ics`` files are plain RFC 5545 all-day events with stable UIDs, so a calendar that
  subscribes to them updates events in place instead of duplicating them.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bigov.governance.models import Cadence
from bigov.governance.periods import add_months, is_due, period_label

CUTOFF_RULE = "data_cutoff_days"
PRODID = "-//bigov//data calls//EN"


@dataclass(frozen=True)
class Sitting:
    """One sitting of a node for a period, and the day its data is due."""

    node: str
    node_name: str
    period: str
    sitting_on: dt.date
    cutoff_on: dt.date | None


# a node whose design names no sitting day meets on the 10th of the month after its period
# (the schedule of jobs and the data calls read this one rule)
DEFAULT_SITTING_DAY = 10


def cutoff_days(rules: dict[str, object] | None) -> int | None:
    """The node's cut-off in working days (None: the design sets none)."""
    value = (rules or {}).get(CUTOFF_RULE)
    if value is None:
        return None
    return int(float(str(value)))


def working_days_before(day: dt.date, n: int) -> dt.date:
    """The date ``n`` working days (Mon–Fri) before ``day``; ``n == 0`` is ``day`` itself."""
    cur = day
    while n > 0:
        cur -= dt.timedelta(days=1)
        if cur.isoweekday() <= 5:
            n -= 1
    return cur


def sitting_date(cadence: str, sitting_day: int | None, month: dt.date) -> dt.date:
    """The day a node of ``cadence`` sits for the period ending in ``month``."""
    nxt = add_months(month, 1)
    if cadence in (Cadence.WEEKLY.value, Cadence.FORTNIGHTLY.value):
        weekday = sitting_day if sitting_day and 1 <= sitting_day <= 7 else 1
        offset = (weekday - nxt.isoweekday()) % 7
        return nxt + dt.timedelta(days=offset)
    last = _calendar.monthrange(nxt.year, nxt.month)[1]
    return nxt.replace(day=min(max(sitting_day or DEFAULT_SITTING_DAY, 1), last))


def sitting_for(
    code: str,
    name: str,
    cadence: str,
    sitting_day: int | None,
    rules: dict[str, object] | None,
    month: dt.date,
) -> Sitting:
    """The sitting of one node for the period ending in ``month`` (due or not)."""
    on = sitting_date(cadence, sitting_day, month)
    days = cutoff_days(rules)
    cutoff = working_days_before(on, days) if days is not None else None
    return Sitting(code, name, period_label(month), on, cutoff)


def sittings(
    code: str,
    name: str,
    cadence: str,
    sitting_day: int | None,
    rules: dict[str, object] | None,
    first: dt.date,
    months: int,
    fiscal_year_start_month: int,
) -> list[Sitting]:
    """Every sitting of a node for the periods from ``first`` for ``months`` months."""
    out: list[Sitting] = []
    for k in range(months):
        month = add_months(first, k)
        if is_due(Cadence(cadence), month, fiscal_year_start_month):
            out.append(sitting_for(code, name, cadence, sitting_day, rules, month))
    return out


@dataclass(frozen=True)
class DueItem:
    """A request's due date as a person's calendar shows it."""

    code: str
    title: str
    period: str
    due_on: dt.date
    link: str | None = None


def to_ics(name: str, sittings_: Iterable[Sitting], due: Iterable[DueItem] = ()) -> bytes:
    """An iCalendar file of sittings (each with its cut-off) and of a person's due dates."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def event(uid: str, summary: str, day: dt.date, description: str, url: str | None) -> None:
        ev = Event()
        ev.add("uid", f"{uid}@bigov")
        ev.add("dtstamp", stamp)
        ev.add("summary", summary)
        ev.add("dtstart", day)
        ev.add("dtend", day + dt.timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
        ev.add("description", description)
        if url:
            ev.add("url", url)
        cal.add_component(ev)

    for s in sittings_:
        event(
            f"sitting-{s.node}-{s.period}",
            f"{s.node_name} sits ({s.period})",
            s.sitting_on,
            f"{s.node} sits for period {s.period}.",
            None,
        )
        if s.cutoff_on is not None:
            event(
                f"cutoff-{s.node}-{s.period}",
                f"Data cut-off: {s.node_name} ({s.period})",
                s.cutoff_on,
                f"Data for {s.node}'s sitting of {s.sitting_on.isoformat()} is due today.",
                None,
            )
    for d in due:
        event(
            f"due-{d.code}",
            f"Data due: {d.title} ({d.period})",
            d.due_on,
            f"{d.title} for {d.period} is due ({d.code}).",
            d.link,
        )
    return bytes(cal.to_ical())


__all__ = [
    "CUTOFF_RULE",
    "DueItem",
    "Sitting",
    "cutoff_days",
    "sitting_date",
    "sitting_for",
    "sittings",
    "to_ics",
    "working_days_before",
]
