"""Reminders delivered to a real SMTP server on loopback: one digest per person with links, no
duplicates, escalation after the delay, and a server that is down (nothing lost, nothing sent
twice)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bigov.datacall.models import OutboxMessage, OutboxStatus
from bigov.datacall.remind import DeliveryError, remind, smtp_settings
from bigov.errors import ConfigError
from bigov.workspace import Workspace
from tests.datacall.conftest import Sink, free_port

DAY = dt.date(2026, 11, 3)  # a few days after the first cut-offs of the 2026-10 call


def _setup(ws: Workspace) -> None:
    ws.datacall.open("2026-10", by="pmo@example.org")
    ws.set_setting("public_url", "https://bigov.example.org")
    ws.set_setting("datacall_pmo_email", "pmo@northwind-utilities.example")


def _expected(ws: Workspace, day: dt.date) -> dict[str, list[str]]:
    """Per owner email, the requests still owed and due within the reminder window."""
    horizon = day + dt.timedelta(days=int(ws.setting("datacall_remind_days")))
    out: dict[str, list[str]] = {}
    for r in ws.datacall.requests(today=day):
        if r.state in ("requested", "returned") and r.due_on <= horizon:
            out.setdefault(r.owner.lower(), []).append(r.code)
    return out


def test_one_digest_per_person_no_duplicates_and_escalation(
    demo: Workspace, smtp_sink: Sink
) -> None:
    _setup(demo)
    expected = _expected(demo, DAY)
    assert expected, "the demo's 2026-10 call owes something on 3 November"

    dry = remind(demo, None, today=DAY, dry_run=True)
    assert {d.recipient for d in dry.digests} == set(expected)
    with demo.session() as s:
        assert not list(s.scalars(select(OutboxMessage)))  # a dry run stores nothing

    settings = smtp_settings(smtp_sink.url, env={})
    first = remind(demo, settings, today=DAY)
    assert first.sent == len(expected) == first.composed
    assert smtp_sink.recipients() == sorted(expected)  # exactly one digest each
    for got in smtp_sink.messages:
        to = got.message["To"]
        body = got.message.get_payload(decode=True).decode()
        assert got.sender == "bigov@localhost"
        for code in expected[to]:
            assert f"https://bigov.example.org/datacalls/{code}" in body
        assert "https://bigov.example.org/datacalls/mine" in body
        # escalation: copied when anything listed is at least 3 days overdue
        owed = {r.code: r for r in demo.datacall.owed_by(to, today=DAY)}
        late = max(owed[c].overdue_days for c in expected[to])
        assert (got.message["Cc"] is not None) == (late >= 3), (to, late)
        if got.message["Cc"]:
            assert got.message["Cc"] in got.to  # the copy is delivered too
            assert "(escalated)" in got.message["Subject"]
    assert any(m.message["Cc"] for m in smtp_sink.messages)
    assert any(not m.message["Cc"] for m in smtp_sink.messages)

    # a second run the same day sends nothing new
    again = remind(demo, settings, today=DAY)
    assert (again.sent, again.composed, again.already_sent) == (0, 0, len(expected))
    assert len(smtp_sink.messages) == len(expected)

    # the next day, those still owing get the day's digest (once)
    nxt = remind(demo, settings, today=DAY + dt.timedelta(days=1))
    assert nxt.sent == len(_expected(demo, DAY + dt.timedelta(days=1)))
    per_day = Counter((m.message["To"], m.message["Date"][:16]) for m in smtp_sink.messages)
    assert max(per_day.values()) <= 2  # at most one a day (two runs may share a minute)


def test_escalation_waits_for_the_delay(demo: Workspace, smtp_sink: Sink) -> None:
    _setup(demo)
    demo.set_setting("datacall_escalate_days", "30")
    result = remind(demo, smtp_settings(smtp_sink.url, env={}), today=DAY)
    assert result.sent and not any(m.message["Cc"] for m in smtp_sink.messages)
    demo.set_setting("datacall_escalate_days", "0")  # copied as soon as anything is late
    later = remind(demo, smtp_settings(smtp_sink.url, env={}), today=DAY + dt.timedelta(days=1))
    assert later.sent
    assert all(m.message["Cc"] for m in smtp_sink.messages[result.sent :])


def test_smtp_down_keeps_digests_and_retries_without_duplicates(
    demo: Workspace, smtp_sink: Sink
) -> None:
    _setup(demo)
    expected = _expected(demo, DAY)
    closed = smtp_settings(f"smtp://127.0.0.1:{free_port()}", env={})
    with pytest.raises(DeliveryError) as err:
        remind(demo, closed, today=DAY)
    assert "kept in the outbox" in str(err.value) and "run `bigov datacall remind`" in str(
        err.value
    )
    with demo.session() as s:
        rows = list(s.scalars(select(OutboxMessage)))
    assert len(rows) == len(expected)
    assert all(r.status is OutboxStatus.PENDING and r.attempts == 1 and r.last_error for r in rows)

    # the server is back: everything pending goes, once
    ok = remind(demo, smtp_settings(smtp_sink.url, env={}), today=DAY)
    assert (ok.sent, ok.composed, ok.pending) == (len(expected), 0, 0)
    assert smtp_sink.recipients() == sorted(expected)
    assert remind(demo, smtp_settings(smtp_sink.url, env={}), today=DAY).sent == 0
    assert len(smtp_sink.messages) == len(expected)


def test_pending_digests_of_an_earlier_day_are_superseded(demo: Workspace, smtp_sink: Sink) -> None:
    _setup(demo)
    closed = smtp_settings(f"smtp://127.0.0.1:{free_port()}", env={})
    with pytest.raises(DeliveryError):
        remind(demo, closed, today=DAY)
    nxt = remind(demo, smtp_settings(smtp_sink.url, env={}), today=DAY + dt.timedelta(days=1))
    assert nxt.superseded > 0
    assert all(m.message["X-Bigov-Digest"].startswith("2026-11-04") for m in smtp_sink.messages)


def test_smtp_settings_keep_credentials_out_of_urls_logs_and_the_database(
    demo: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="not in the URL"):
        smtp_settings("smtp://user:secret@127.0.0.1:25", env={})
    with pytest.raises(ConfigError, match="no SMTP server"):
        smtp_settings(None, env={})
    with pytest.raises(ConfigError, match="must be smtp://"):
        smtp_settings("http://127.0.0.1:25", env={})
    file = tmp_path / "smtp.toml"
    file.write_text(
        '[smtp]\nhost = "127.0.0.1"\nport = 2525\ntls = "starttls"\nusername = "bigov"\n'
        'password = "file-secret"\nsender = "pmo@example.org"\n'
    )
    s = smtp_settings(None, env={"BIGOV_SMTP_SETTINGS": str(file)})
    assert (s.host, s.port, s.tls, s.username, s.sender) == (
        "127.0.0.1",
        2525,
        "starttls",
        "bigov",
        "pmo@example.org",
    )
    assert s.password is not None and s.password.get_secret_value() == "file-secret"
    assert "file-secret" not in repr(s) and "file-secret" not in s.describe()
    env = {"BIGOV_SMTP_URL": "smtps://mail.example.org", "BIGOV_SMTP_PASSWORD": "env-secret"}
    e = smtp_settings(None, env=env, settings_file=file)
    assert (e.host, e.port, e.tls) == ("mail.example.org", 465, "ssl")
    assert e.password is not None and e.password.get_secret_value() == "env-secret"
    # a failed run leaves no trace of the password anywhere in the outbox
    _setup(demo)
    down = smtp_settings(f"smtp://127.0.0.1:{free_port()}", env={"BIGOV_SMTP_PASSWORD": "pw-xyz"})
    with pytest.raises(DeliveryError) as err:
        remind(demo, down, today=DAY)
    assert "pw-xyz" not in str(err.value)
    with demo.session() as ses:
        for m in ses.scalars(select(OutboxMessage)):
            assert "pw-xyz" not in " ".join(str(v) for v in vars(m).values())


def test_owner_without_email_is_reported_not_lost(demo: Workspace) -> None:
    _setup(demo)
    owed = [r for r in demo.datacall.requests(today=DAY) if r.state == "requested"]
    target = owed[0]
    from bigov.org.models import Person

    with demo.session() as s:
        p = s.scalar(select(Person).where(Person.code == target.owner_code))
        assert p is not None
        p.email = None
    result = remind(demo, None, today=DAY, dry_run=True)
    assert any(target.owner_code in p and "no usable email" in p for p in result.problems)
    # still owed: the request is not dropped because nobody can be emailed
    assert demo.datacall.request(target.code, today=DAY).state == "requested"


def test_the_schedule_submits_reminders_at_each_cut_off_and_the_job_sends_once(
    demo: Workspace, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bigov.datacall.calendar import cutoff_days, sitting_for
    from bigov.governance.models import GovernanceNode
    from bigov.jobs.schedule import plan

    demo.set_setting("public_url", "https://bigov.example.org")
    # the schedule's cut-off of a node is the data call's own (its design's working days)
    due = list(plan(demo, dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    reminders = [d for d in due if d.kind == "datacall.reminders" and d.args["period"] == "2026-10"]
    assert reminders
    with demo.session() as s:
        nodes = {n.code: n for n in s.scalars(select(GovernanceNode))}
    for d in reminders:
        n = nodes[d.args["node"]]
        assert cutoff_days(n.rules) is not None
        sitting = sitting_for(
            n.code, n.name, n.cadence.value, n.sitting_day, n.rules, dt.date(2026, 10, 1)
        )
        assert d.on == sitting.cutoff_on

    if demo.backend == "postgresql":
        return  # there the job waits in the queue for a worker (tests/jobs/test_workers.py)
    # the job (in the submitting process on SQLite) opens the node's call and sends the digests
    monkeypatch.setenv("BIGOV_SMTP_URL", smtp_sink.url)
    first = reminders[0]
    job = demo.jobs.submit("datacall.reminders", first.args, started_by="schedule")
    assert job.state == "succeeded", job.error
    assert job.result is not None and job.result["created"] > 0
    sent = len(smtp_sink.messages)
    assert sent == job.result["sent"]
    # submitted again: the same work, the same job; a new job the same day sends nothing new
    assert demo.jobs.submit("datacall.reminders", first.args, started_by="schedule").id == job.id
    other = next((d for d in reminders if d.on == first.on and d is not first), None)
    if other is not None:
        again = demo.jobs.submit("datacall.reminders", other.args, started_by="schedule")
        assert again.state == "succeeded", again.error
        assert len(smtp_sink.messages) == sent + (again.result or {}).get("sent", 0)
        assert smtp_sink.recipients() == sorted(set(smtp_sink.recipients()))
