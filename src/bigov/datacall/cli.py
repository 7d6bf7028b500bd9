"""``bigov datacall …``: open a period's data call, see who owes what, assure, remind, export
calendars, and read timeliness and first-time-right. Thin over
:class:`~bigov.datacall.service.DataCallService`; mount with :func:`register`."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table
from rich.text import Text

from bigov.cli_support import (
    DbOption,
    ErrorHandlingGroup,
    JsonOption,
    console,
    open_workspace,
    print_json,
)
from bigov.errors import ConfigError

datacall_app = typer.Typer(
    name="datacall",
    cls=ErrorHandlingGroup,
    no_args_is_help=True,
    help="Data calls: who owes what for each sitting — requests, assurance, reminders.",
)

PeriodOpt = Annotated[str, typer.Option("--period", help="Period as YYYY-MM.")]
TodayOpt = Annotated[
    str | None,
    typer.Option("--today", help="Act as if today were this date (YYYY-MM-DD); default: today."),
]
ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who you are (an email), recorded with the verdict."),
]


def _today(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--today must be a date YYYY-MM-DD, not {text!r}") from None


def _who(by: str | None) -> str:
    return by or f"cli:{getpass.getuser()}"


@datacall_app.command("open")
def open_(
    period: PeriodOpt,
    node: Annotated[str | None, typer.Option("--node", help="Only this node's sitting.")] = None,
    by: ByOpt = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Open the data call of a period: one request per information definition and owner
    (each item's status report, each benefit's actual), due at the earliest cut-off."""
    with open_workspace(db) as ws:
        result = ws.datacall.open(period, node, by=_who(by))
    if json_out:
        print_json(result)
        return
    console.print(
        Text(
            f"Data call {result.period}: {result.created} request(s) made, {result.updated} "
            f"updated, {result.unchanged} unchanged, for {len(result.nodes)} node(s)."
        )
    )
    for sk in result.skipped:
        where = " ".join(x for x in (sk.node, sk.definition, sk.subject) if x)
        console.print(Text(f"  skipped {where}: {sk.reason}", style="yellow"))


@datacall_app.command("status")
def status(
    period: Annotated[str | None, typer.Option("--period", help="Period as YYYY-MM.")] = None,
    node: Annotated[str | None, typer.Option("--node", help="Requests this node needs.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Requests owed by this email (or person code).")
    ] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="requested, submitted, returned or assured.")
    ] = None,
    today: TodayOpt = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Each request: owner, due date and state (derived from the data itself)."""
    from bigov.datacall.service import Filters

    if state is not None and state not in ("requested", "submitted", "returned", "assured"):
        raise ConfigError("--state must be requested, submitted, returned or assured")
    with open_workspace(db) as ws:
        rows = ws.datacall.requests(
            Filters(period=period, node=node, owner=owner, state=state), today=_today(today)
        )
    if json_out:
        print_json(rows)
        return
    table = Table(
        Column("request", overflow="fold"),
        Column("owner", overflow="fold"),
        "due",
        "state",
        "late",
        title=f"{len(rows)} request(s)",
    )
    for r in rows:
        table.add_row(
            Text(r.code),
            Text(r.owner),
            r.due_on.isoformat(),
            Text(r.state, style={"assured": "green", "returned": "red"}.get(r.state, "")),
            f"{r.overdue_days}d" if r.overdue_days else "",
        )
    console.print(table)


def _judge(
    code: str, accept: bool, comment: str | None, by: str | None, db: str | None, as_json: bool
) -> None:
    with open_workspace(db) as ws:
        if accept:
            d = ws.datacall.accept(code, by=_who(by), comment=comment)
        else:
            d = ws.datacall.return_(code, by=_who(by), comment=comment or "")
    if as_json:
        print_json(d)
        return
    console.print(Text(f"{d.code}: {d.state}"))


@datacall_app.command("accept")
def accept(
    code: Annotated[
        str | None, typer.Argument(help="The request's code (or --all-submitted).")
    ] = None,
    all_submitted: Annotated[
        bool,
        typer.Option("--all-submitted", help="Accept every submitted request (with filters)."),
    ] = False,
    period: Annotated[str | None, typer.Option("--period", help="With --all-submitted.")] = None,
    node: Annotated[str | None, typer.Option("--node", help="With --all-submitted.")] = None,
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    by: ByOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assure a submission: accept the data as it now stands."""
    if (code is None) == (not all_submitted):
        raise ConfigError("give a request code or --all-submitted, not both")
    if code is not None:
        _judge(code, True, comment, by, db, as_json)
        return
    from bigov.datacall.service import Filters

    with open_workspace(db) as ws:
        done = ws.datacall.accept_submitted(
            Filters(period=period, node=node), by=_who(by), comment=comment
        )
    if as_json:
        print_json(done)
        return
    console.print(Text(f"{len(done)} submission(s) accepted."))


@datacall_app.command("return")
def return_(
    code: Annotated[str, typer.Argument(help="The request's code.")],
    comment: Annotated[str, typer.Option("--comment", help="What the owner must fix.")],
    by: ByOpt = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Return a submission to its owner with a comment; it is owed again until resubmitted."""
    _judge(code, False, comment, by, db, as_json)


@datacall_app.command("remind")
def remind(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the digests; store and send nothing.")
    ] = False,
    smtp: Annotated[
        str | None,
        typer.Option(
            "--smtp",
            help="smtp://host:port (or smtp+starttls://, smtps://); default BIGOV_SMTP_URL. "
            "Credentials only from BIGOV_SMTP_USER / BIGOV_SMTP_PASSWORD or the settings file.",
        ),
    ] = None,
    smtp_settings: Annotated[
        Path | None,
        typer.Option("--smtp-settings", help="TOML file with an [smtp] table (see docs)."),
    ] = None,
    today: TodayOpt = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Email each person one digest of what they owe (due soon or overdue), copying their
    manager or the PMO when long overdue. Run daily from cron or the job runner: a second run
    the same day sends nothing new, and digests the server did not accept are retried."""
    from bigov.datacall.remind import remind as run_remind
    from bigov.datacall.remind import smtp_settings as load_smtp

    settings = None if dry_run else load_smtp(smtp, settings_file=smtp_settings)
    with open_workspace(db) as ws:
        result = run_remind(ws, settings, today=_today(today), dry_run=dry_run)
    if json_out:
        print_json(result)
        return
    if dry_run:
        console.print(Text(f"Would send {len(result.digests)} digest(s) for {result.day}:"))
        for d in result.digests:
            cc = f" (cc {', '.join(d.cc)})" if d.cc else ""
            console.print(Text(f"  {d.recipient}{cc}: {d.subject}"))
    else:
        console.print(
            Text(
                f"{result.day}: {result.sent} digest(s) sent, {result.already_sent} already sent "
                f"today, {result.pending} pending, {result.composed} new."
            )
        )
    for p in result.problems:
        console.print(Text(f"  warning: {p}", style="yellow"))


@datacall_app.command("calendar")
def calendar(
    out: Annotated[Path, typer.Option("--out", help="The .ics file to write.")],
    node: Annotated[str | None, typer.Option("--node", help="A node's sittings.")] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="A person's due dates and sittings (email).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First period (YYYY-MM); default this month.")
    ] = None,
    months: Annotated[int, typer.Option("--months", min=1, max=60)] = 12,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export sittings, data cut-offs and due dates as iCalendar (.ics) for Outlook or Google."""
    if (node is None) == (person is None):
        raise ConfigError("give exactly one of --node or --person")
    first = start or dt.date.today().strftime("%Y-%m")
    with open_workspace(db) as ws:
        if node is not None:
            data = ws.datacall.node_calendar(node, first, months)
        else:
            assert person is not None
            data = ws.datacall.person_calendar(
                person, first, months, base_url=ws.setting("public_url")
            )
    out.write_bytes(data)
    if as_json:
        print_json({"file": str(out), "bytes": len(data)})
        return
    console.print(Text(f"Wrote {out} ({len(data)} bytes)."))


@datacall_app.command("rates")
def rates(
    by: Annotated[str, typer.Option("--by", help="owner, unit or node.")] = "owner",
    period: Annotated[
        list[str] | None, typer.Option("--period", help="Period YYYY-MM (repeatable).")
    ] = None,
    node: Annotated[str | None, typer.Option("--node")] = None,
    today: TodayOpt = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Timeliness and first-time-right per owner, unit or node, by period."""
    with open_workspace(db) as ws:
        rows = ws.datacall.rates(by, periods=period, node=node, today=_today(today))
    if json_out:
        print_json(rows)
        return
    table = Table("period", by, "requests", "on time", "timeliness %", "first time right %")
    for r in rows:
        table.add_row(
            r.period,
            Text(r.key),
            str(r.requests),
            f"{r.on_time}/{r.due}",
            "" if r.timeliness is None else str(r.timeliness),
            "" if r.first_time_right_pct is None else str(r.first_time_right_pct),
        )
    console.print(table)


@datacall_app.command("measures")
def measures(
    period: Annotated[list[str], typer.Option("--period", help="Period YYYY-MM (repeatable).")],
    today: TodayOpt = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Publish timeliness and first-time-right per org unit as the measures
    DATACALL-TIMELINESS and DATACALL-FTR, so boards can hold targets on them."""
    from bigov.datacall.measures import publish_measures

    with open_workspace(db) as ws:
        result = publish_measures(ws, period, today=_today(today))
    if json_out:
        print_json(result)
        return
    console.print(
        Text(
            f"{', '.join(result.measures)}: {result.observations} observation(s) in "
            f"{result.series} series."
        )
    )


@datacall_app.command("settings")
def settings(
    remind_days: Annotated[
        int | None, typer.Option("--remind-days", min=0, max=60, help="Remind N days ahead.")
    ] = None,
    escalate_days: Annotated[
        int | None,
        typer.Option("--escalate-days", min=0, max=365, help="Copy the manager when N days late."),
    ] = None,
    pmo_email: Annotated[
        str | None, typer.Option("--pmo-email", help="Copied when a person has no manager.")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option("--public-url", help="Base of the links in emails.")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show or set the reminder settings (SMTP settings are never stored here)."""
    from bigov.datacall.remind import BASE_URL, ESCALATE_DAYS, PMO_EMAIL, REMIND_DAYS, valid_address

    if pmo_email and not valid_address(pmo_email):
        raise ConfigError(f"--pmo-email {pmo_email!r} is not an email address")
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise ConfigError("--public-url must start with http:// or https://")
    with open_workspace(db) as ws:
        for key, value in (
            (REMIND_DAYS, remind_days),
            (ESCALATE_DAYS, escalate_days),
            (PMO_EMAIL, pmo_email),
            (BASE_URL, public_url),
        ):
            if value is not None:
                ws.set_setting(key, str(value))
        current = {k: ws.setting(k) for k in (REMIND_DAYS, ESCALATE_DAYS, PMO_EMAIL, BASE_URL)}
    if json_out:
        print_json(current)
        return
    for k, v in current.items():
        console.print(Text(f"{k} = {v}"))


def register(app: typer.Typer) -> None:
    """Mount ``bigov datacall`` on the root app."""
    app.add_typer(datacall_app)


__all__ = ["datacall_app", "register"]
