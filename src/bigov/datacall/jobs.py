"""The data-call job kind the schedule submits at every node's cut-off.

``bigov.jobs.registry`` imports this module when it loads the kinds; the schedule then submits
``datacall.reminders`` (with ``node``, ``period`` and ``on``) on the day of each node's data
cut-off. The job opens the node's call for the period (opening is idempotent) and runs the day's
reminders; the outbox keeps one digest per person per day, so the same day's reminders from
several nodes' jobs, or a retried job, send nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bigov.errors import ConfigError
from bigov.jobs.registry import register

if TYPE_CHECKING:
    from bigov.jobs.context import JobContext


@register(
    "datacall.reminders",
    title="Open a node's data call and remind owners of what is due",
    dedupe=lambda a: f"datacall.reminders:{a.get('node')}:{a.get('period')}:{a.get('on')}",
)
def reminders(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    """Open the call of ``node`` for ``period``, then send the digests of day ``on``. SMTP comes
    from the environment or the settings file (``BIGOV_SMTP_URL`` …), never from the job."""
    from bigov.datacall.remind import remind, smtp_settings

    missing = [n for n in ("node", "period", "on") if not args.get(n)]
    if missing:
        raise ConfigError(f"job argument(s) missing: {', '.join(missing)}")
    try:
        day = dt.date.fromisoformat(str(args["on"]))
    except ValueError as exc:
        raise ConfigError(f"'on' must be a day YYYY-MM-DD, not {args['on']!r}") from exc
    opened = ctx.ws.datacall.open(str(args["period"]), str(args["node"]), by=ctx.started_by)
    ctx.log(
        f"call {opened.period} for {', '.join(opened.nodes) or 'no node'}: "
        f"{opened.created} new request(s), {opened.unchanged} unchanged"
    )
    result = remind(ctx.ws, smtp_settings(), today=day)
    ctx.log(f"{result.sent} digest(s) sent, {result.pending} pending")
    return {
        "created": opened.created,
        "sent": result.sent,
        "already_sent": result.already_sent,
        "pending": result.pending,
    }
