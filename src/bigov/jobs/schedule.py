"""The schedule that the governance design's cadences make, and the tick that submits what is
due.

For each month M, the nodes due in M by their cadence sit in month M+1 on their ``sitting_day``
(day of the month; for weekly and fortnightly nodes an ISO weekday: the first such day). Then:

* ``cutoff_days`` before each node's sitting: its readiness check (``cycle.readiness``), and the
  data-call reminders when the data-call context has registered ``datacall.reminders``;
* ``pack_lead_days`` before the month's first sitting: the month's cycles and packs
  (``cycle.month``, every due node in escalation order), so that every pack is ready for its
  board and a higher board sees what the lower ones escalated.

:func:`tick` submits what falls due over the last few days (a tick missed while no worker ran
is caught up). Each submission carries its kind's dedupe key, so however many ticks or
schedulers there are, each piece of work is submitted once. On PostgreSQL the engine's periodic
task ticks (one defer per tick across all workers); on SQLite, run ``bigov jobs tick`` from cron.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigov.governance.models import Cadence
from bigov.governance.periods import add_months, is_due, months_between

if TYPE_CHECKING:
    from bigov.jobs.schemas import JobDetail
    from bigov.workspace import Workspace

# a tick also submits what fell due over the days before it: a long weekend without ticks (cron
# on working days, a stopped worker) loses nothing
CATCH_UP_DAYS = 5
SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Due:
    """One piece of scheduled work."""

    on: dt.date
    kind: str
    args: dict[str, Any] = field(hash=False)
    why: str


def packs_dir(ws: Workspace) -> Path | None:
    """Where scheduled cycles write packs: the ``packs_dir`` setting, else beside the SQLite
    file; None on PostgreSQL until set (workers need one place they all reach)."""
    configured = ws.setting("packs_dir").strip()
    if configured:
        return Path(configured)
    if ws.path is not None:
        return ws.path.with_name(ws.path.name + ".packs")
    return None


def plan(ws: Workspace, start: dt.date, end: dt.date) -> list[Due]:
    """Every piece of scheduled work falling due from ``start`` to ``end`` (inclusive), in date
    order."""
    from bigov.datacall.calendar import cutoff_days, sitting_date, working_days_before
    from bigov.governance.topology import Topology
    from bigov.jobs.registry import load_kinds

    # one cut-off for the schedule and the data calls: the node's own (working days, set in
    # the design) or else the workspace's default, counted the same way
    default_cutoff = int(ws.setting("cutoff_days"))
    lead = dt.timedelta(days=int(ws.setting("pack_lead_days")))
    formats = [f.strip() for f in ws.setting("pack_formats").split(",") if f.strip()]
    out_dir = packs_dir(ws)
    fy_start = ws.fiscal_year_start_month
    reminders = "datacall.reminders" in load_kinds()
    with ws.session() as s:
        nodes = list(Topology(s).nodes.values())
    out: list[Due] = []
    # periods whose sittings (next month) may fall in the range, with the lead time before
    first = add_months(dt.date(start.year, start.month, 1), -1)
    for month in months_between(first, end):
        period = f"{month:%Y-%m}"
        due = [n for n in nodes if is_due(Cadence(n.cadence), month, fy_start)]
        if not due:
            continue
        sittings = {n.code: (sitting_date(n.cadence, n.sitting_day, month), n) for n in due}
        for code, (day, node) in sorted(sittings.items()):
            days = cutoff_days(node.rules)
            cut = working_days_before(day, default_cutoff if days is None else days)
            args = {"node": code, "period": period, "on": cut.isoformat()}
            out.append(Due(cut, "cycle.readiness", args, f"cut-off of {code}'s {day}"))
            if reminders and days is not None:  # a data call skips nodes with no cut-off
                out.append(Due(cut, "datacall.reminders", args, f"cut-off of {code}"))
        month_args: dict[str, Any] = {"period": period, "formats": formats}
        if out_dir is not None:
            month_args["out_dir"] = str(out_dir)
        first_sitting = min(day for day, _ in sittings.values())
        out.append(
            Due(
                first_sitting - lead,
                "cycle.month",
                month_args,
                f"packs for the first sitting of {period} on {first_sitting}",
            )
        )
    return sorted(
        (d for d in out if start <= d.on <= end), key=lambda d: (d.on, d.kind, str(d.args))
    )


def tick(ws: Workspace, now: dt.datetime | None = None) -> list[JobDetail]:
    """Submit what falls due up to ``now`` (and over the few days before it); returns the jobs
    (existing ones for work already submitted)."""
    today = (now or dt.datetime.now(dt.UTC)).date()
    return [
        ws.jobs.submit(d.kind, d.args, started_by=SCHEDULER)
        for d in plan(ws, today - dt.timedelta(days=CATCH_UP_DAYS), today)
    ]


__all__ = ["Due", "packs_dir", "plan", "tick"]
