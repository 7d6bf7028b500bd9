"""Reminders by email: one digest per person per day of everything they owe, through an outbox.

What callers may rely on:

* a person is reminded when something they owe (requested, or returned to them) falls due
  within ``datacall_remind_days`` days or is overdue; one digest lists all of it, with links;
* when anything in it is ``datacall_escalate_days`` days or more overdue, the digest copies
  their manager (the lead of the management team of their unit, or of the nearest unit above
  it that has one) or, failing that, the PMO address (``datacall_pmo_email``);
* the outbox holds one digest per person per day: a second run the same day composes nothing
  new and sends nothing already sent; a digest the SMTP server did not accept (server down,
  recipient refused) stays pending and the next run retries it; a pending digest of an
  earlier day is superseded by the day's new one, never sent late;
* SMTP settings (host, port, TLS, credentials) come from the command line, the environment or
  a settings file — never from the database — and no message or log line shows the password.
  A digest is marked sent only after the server accepted it; a run killed between the two
  may send that one digest again on the next run (at least once, never silently lost).
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr
from sqlalchemy import select, update

from bigov.datacall.models import OutboxMessage, OutboxStatus
from bigov.datacall.schemas import OPEN_STATES, Digest, RemindResult, RequestOut
from bigov.datacall.service import Filters, list_requests
from bigov.db.base import utcnow
from bigov.errors import BigovError, ConfigError
from bigov.org.models import ManagementTeam, OrgUnit, Person

if TYPE_CHECKING:
    from bigov.workspace import Workspace

# workspace settings (bigov datacall settings): the defaults live in bigov.db.settings.DEFAULTS
REMIND_DAYS = "datacall_remind_days"
ESCALATE_DAYS = "datacall_escalate_days"
PMO_EMAIL = "datacall_pmo_email"
BASE_URL = "public_url"

TLS = Literal["none", "starttls", "ssl"]


class DeliveryError(BigovError):
    """The SMTP server could not be reached or refused the session; the outbox keeps every
    digest not yet accepted, for the next run."""

    exit_code = 8


@dataclass(frozen=True)
class SmtpSettings:
    """Where reminders go. ``password`` is a SecretStr: it prints as ``**********``."""

    host: str
    port: int = 25
    tls: TLS = "none"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "bigov@localhost"
    timeout: float = 15.0

    def describe(self) -> str:
        """Where, for messages and logs: never the credentials."""
        return f"{self.host}:{self.port} ({self.tls})"


def smtp_settings(
    url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    settings_file: Path | None = None,
) -> SmtpSettings:
    """SMTP settings from, in order of precedence: ``url`` (``smtp://host:port``,
    ``smtp+starttls://…`` or ``smtps://…``), ``BIGOV_SMTP_URL``, the ``[smtp]`` table of a TOML
    settings file (``settings_file`` or ``BIGOV_SMTP_SETTINGS``); credentials from
    ``BIGOV_SMTP_USER`` / ``BIGOV_SMTP_PASSWORD`` or the file; the sender from
    ``BIGOV_SMTP_FROM`` or the file.

    Raises:
        ConfigError: nothing configured, a malformed URL, credentials in the URL (they would
            show in process lists and shell history), an unreadable settings file.
    """
    env = os.environ if env is None else env
    file_values: dict[str, object] = {}
    path = settings_file or (
        Path(env["BIGOV_SMTP_SETTINGS"]) if env.get("BIGOV_SMTP_SETTINGS") else None
    )
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read SMTP settings file {path.name}: {exc}") from None
        table = data.get("smtp", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path.name}: [smtp] must be a table")
        file_values = table
    chosen = url or env.get("BIGOV_SMTP_URL")
    host: str | None = None
    port: int | None = None
    tls = str(file_values.get("tls", "none"))
    if chosen:
        parts = urlsplit(chosen)
        schemes = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "ssl"}
        if parts.scheme not in schemes:
            raise ConfigError(
                "SMTP URL must be smtp://host:port, smtp+starttls://host:port or smtps://host:port"
            )
        if parts.username or parts.password:
            raise ConfigError(
                "put SMTP credentials in BIGOV_SMTP_USER / BIGOV_SMTP_PASSWORD or the settings "
                "file, not in the URL"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigError("SMTP URL has a bad port") from None
        host = unquote(parts.hostname or "")
        tls = schemes[parts.scheme]
    else:
        host = str(file_values["host"]) if file_values.get("host") else None
        if file_values.get("port") is not None:
            try:
                port = int(str(file_values["port"]))
            except ValueError:
                raise ConfigError("SMTP settings: port must be a number") from None
    if not host:
        raise ConfigError(
            "no SMTP server configured",
            hint="pass --smtp smtp://host:port, or set BIGOV_SMTP_URL or BIGOV_SMTP_SETTINGS",
        )
    mode: TLS
    if tls == "starttls":
        mode = "starttls"
    elif tls == "ssl":
        mode = "ssl"
    elif tls == "none":
        mode = "none"
    else:
        raise ConfigError("SMTP settings: tls must be none, starttls or ssl")
    user = env.get("BIGOV_SMTP_USER") or (
        str(file_values["username"]) if file_values.get("username") else None
    )
    secret = env.get("BIGOV_SMTP_PASSWORD") or (
        str(file_values["password"]) if file_values.get("password") else None
    )
    sender = env.get("BIGOV_SMTP_FROM") or str(file_values.get("sender") or "bigov@localhost")
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[mode]
    return SmtpSettings(
        host=host,
        port=port or default_port,
        tls=mode,
        username=user,
        password=SecretStr(secret) if secret else None,
        sender=sender,
    )


def valid_address(value: str | None) -> bool:
    # header injection and garbage: one plain address, no whitespace or control characters
    if not value or len(value) > 254 or value.count("@") != 1:
        return False
    return not any(c.isspace() or ord(c) < 32 or c in '<>,;"' for c in value)


def _managers(ws: Workspace) -> tuple[dict[str, str | None], dict[str, str]]:
    """(person email → manager email, person email → person code): the lead of the
    management team of the person's unit, or of the nearest unit above that has one."""
    with ws.session() as s:
        parent = dict(s.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
        lead_email = {
            unit: email
            for unit, email in s.execute(
                select(ManagementTeam.org_unit_id, Person.email).join(
                    Person, Person.id == ManagementTeam.lead_id
                )
            )
            if email
        }
        out: dict[str, str | None] = {}
        codes: dict[str, str] = {}
        for code, email, unit in s.execute(select(Person.code, Person.email, Person.org_unit_id)):
            if not email:
                continue
            codes[email.lower()] = code
            cur, found = unit, None
            seen: set[int] = set()
            while cur is not None and cur not in seen:
                seen.add(cur)
                lead = lead_email.get(cur)
                if lead and lead.lower() != email.lower():
                    found = lead
                    break
                cur = parent.get(cur)
            out[email.lower()] = found
    return out, codes


def compose(ws: Workspace, today: dt.date) -> tuple[list[Digest], list[str]]:
    """The digests due today (not yet stored) and the problems found (owners no email reaches)."""
    remind_days = int(ws.setting(REMIND_DAYS))
    escalate_days = int(ws.setting(ESCALATE_DAYS))
    pmo = ws.setting(PMO_EMAIL).strip() or None
    base = ws.setting(BASE_URL).rstrip("/")
    horizon = today + dt.timedelta(days=remind_days)
    owed = [
        r
        for r in list_requests(ws, Filters(), today=today)
        if r.state in OPEN_STATES and r.due_on <= horizon
    ]
    by_owner: dict[str, list[RequestOut]] = defaultdict(list)
    problems: list[str] = []
    for r in owed:
        if not valid_address(r.owner):
            problems.append(
                f"{r.owner_code} ({r.owner_name}) owes {r.code} but has no usable email address"
            )
            continue
        by_owner[r.owner.lower()].append(r)
    if not by_owner:
        return [], problems
    managers, _ = _managers(ws)
    digests: list[Digest] = []
    for email, rs in sorted(by_owner.items()):
        rs.sort(key=lambda r: (r.due_on, r.code))
        late = [r for r in rs if r.overdue_days > 0]
        escalate = [r for r in rs if r.overdue_days >= escalate_days]
        cc: list[str] = []
        if escalate:
            manager = managers.get(email)
            target = manager if valid_address(manager) else pmo
            if target and valid_address(target) and target.lower() != email:
                cc.append(target)
            elif not target:
                problems.append(
                    f"{email} is {escalate[0].overdue_days} days overdue but has no manager "
                    "and no PMO address is set (datacall_pmo_email)"
                )
        subject = f"Data owed: {len(rs)} item(s)" + (f", {len(late)} overdue" if late else "")
        if cc:
            subject += " (escalated)"
        digests.append(
            Digest(
                recipient=email,
                cc=cc,
                subject=subject,
                body=_body(rs[0].owner_name, rs, base, today, escalate_days, bool(cc)),
                requests=[r.code for r in rs],
                escalated=bool(cc),
                status="pending",
            )
        )
    return digests, problems


def _body(
    name: str,
    rs: list[RequestOut],
    base: str,
    today: dt.date,
    escalate_days: int,
    escalated: bool,
) -> str:
    lines = [f"Dear {name},", "", f"As at {today.isoformat()} you owe the following data:", ""]
    for r in rs:
        when = (
            f"OVERDUE by {r.overdue_days} day(s) (due {r.due_on.isoformat()})"
            if r.overdue_days
            else f"due {r.due_on.isoformat()}"
        )
        lines.append(f"* {r.title} — period {r.period} — {when}")
        if r.state == "returned":
            lines.append(f"  Returned to you: {r.returned_comment or ''}")
        lines.append(f"  {base}/datacalls/{r.code}")
    lines += ["", f"Everything you owe: {base}/datacalls/mine"]
    if escalated:
        lines += [
            "",
            f"Some of this is {escalate_days} or more days overdue, so your manager (or the "
            "PMO) is copied.",
        ]
    lines += ["", "— bigov data calls"]
    return "\n".join(lines) + "\n"


def remind(
    ws: Workspace,
    smtp: SmtpSettings | None,
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
) -> RemindResult:
    """Compose today's digests into the outbox and send every pending one of today.

    ``dry_run`` composes and returns the digests without storing or sending anything (no SMTP
    settings needed).

    Raises:
        ConfigError: not a dry run and no SMTP settings.
        DeliveryError: the SMTP server could not be reached; the digests stay pending.
    """
    today = today or dt.date.today()
    digests, problems = compose(ws, today)
    if dry_run:
        with ws.session() as s:
            done = {
                r
                for (r,) in s.execute(
                    select(OutboxMessage.recipient).where(
                        OutboxMessage.day == today, OutboxMessage.status == OutboxStatus.SENT
                    )
                )
            }
        fresh = [
            d.model_copy(update={"status": "dry-run"}) for d in digests if d.recipient not in done
        ]
        return RemindResult(
            day=today,
            composed=0,
            sent=0,
            already_sent=len(digests) - len(fresh),
            pending=0,
            superseded=0,
            digests=fresh,
            problems=problems,
        )
    if smtp is None:
        raise ConfigError(
            "no SMTP server configured",
            hint="pass --smtp smtp://host:port, or set BIGOV_SMTP_URL or BIGOV_SMTP_SETTINGS",
        )
    composed = superseded = 0
    with ws.session() as s:
        stored = {
            m.recipient: m
            for m in s.scalars(select(OutboxMessage).where(OutboxMessage.day == today))
        }
        for d in digests:
            if d.recipient in stored:
                continue  # today's digest exists: a second run adds nothing
            s.add(
                OutboxMessage(
                    recipient=d.recipient,
                    day=today,
                    cc=", ".join(d.cc) or None,
                    subject=d.subject,
                    body=d.body,
                    requests="\n".join(d.requests),
                    escalated=d.escalated,
                    status=OutboxStatus.PENDING,
                )
            )
            composed += 1
        superseded = s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.day < today)
            .values(status=OutboxStatus.SUPERSEDED)
        ).rowcount  # type: ignore[attr-defined]
    with ws.session() as s:
        pending = list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.day == today, OutboxMessage.status == OutboxStatus.PENDING)
                .order_by(OutboxMessage.recipient)
            )
        )
        already = len(
            list(
                s.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.day == today, OutboxMessage.status == OutboxStatus.SENT
                    )
                )
            )
        )
    sent, failure = _deliver(ws, smtp, pending)
    with ws.session() as s:
        rows = list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.day == today)
                .order_by(OutboxMessage.recipient)
            )
        )
        out = [
            Digest(
                recipient=m.recipient,
                cc=[c.strip() for c in (m.cc or "").split(",") if c.strip()],
                subject=m.subject,
                body=m.body,
                requests=m.requests.splitlines(),
                escalated=m.escalated,
                status=m.status.value,
            )
            for m in rows
        ]
    still = sum(1 for d in out if d.status == "pending")
    result = RemindResult(
        day=today,
        composed=composed,
        sent=sent,
        already_sent=already,
        pending=still,
        superseded=int(superseded or 0),
        digests=out,
        problems=problems,
    )
    if failure is not None:
        raise DeliveryError(
            f"SMTP server {smtp.describe()} unavailable ({failure}): {sent} digest(s) sent, "
            f"{still} kept in the outbox",
            hint="run `bigov datacall remind` again to retry; nothing is sent twice",
        )
    return result


def _message(smtp: SmtpSettings, m: OutboxMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = m.recipient
    if m.cc:
        msg["Cc"] = m.cc
    msg["Subject"] = m.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = m.message_id or make_msgid(domain="bigov")
    msg["X-Bigov-Digest"] = f"{m.day.isoformat()}/{m.id}"
    msg.set_content(m.body)
    return msg


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    if smtp.tls == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
        )
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.tls == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if smtp.username and smtp.password is not None:
        conn.login(smtp.username, smtp.password.get_secret_value())
    return conn


def _reason(exc: BaseException) -> str:
    # the exception text never holds the password (smtplib does not echo AUTH), but keep it
    # to one short line
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _deliver(
    ws: Workspace, smtp: SmtpSettings, pending: list[OutboxMessage]
) -> tuple[int, str | None]:
    """Send the pending digests over one connection; each one the server accepts is marked
    sent at once (its own transaction). Returns (sent, why the server failed or None)."""
    if not pending:
        return 0, None
    try:
        conn = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        _note_failure(ws, [m.id for m in pending], _reason(exc))
        return 0, _reason(exc)
    sent = 0
    failure: str | None = None
    try:
        for m in pending:
            if m.message_id is None:
                m.message_id = make_msgid(domain="bigov")
            msg = _message(smtp, m)
            try:
                conn.send_message(msg)
            except smtplib.SMTPRecipientsRefused as exc:
                _note_failure(ws, [m.id], _reason(exc))
                continue
            except (OSError, smtplib.SMTPException) as exc:
                failure = _reason(exc)
                _note_failure(ws, [x.id for x in pending[pending.index(m) :]], failure)
                break
            with ws.session() as s:
                s.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == m.id)
                    .values(
                        status=OutboxStatus.SENT,
                        sent_at=utcnow(),
                        attempts=OutboxMessage.attempts + 1,
                        message_id=m.message_id,
                        last_error=None,
                    )
                )
            sent += 1
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
    return sent, failure


def _note_failure(ws: Workspace, ids: list[int], reason: str) -> None:
    with ws.session() as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
            .values(attempts=OutboxMessage.attempts + 1, last_error=reason)
        )


__all__ = [
    "DeliveryError",
    "SmtpSettings",
    "compose",
    "remind",
    "smtp_settings",
    "valid_address",
]
