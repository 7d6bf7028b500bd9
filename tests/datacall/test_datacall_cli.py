"""The `bigov datacall` commands on the demo, calendars that parse with icalendar, cut-offs in
the governance design, and bad input (unknown owners and nodes, nodes with no cut-off, no SMTP
server, a return without a comment): a clear message and exit code, nothing changed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from icalendar import Calendar
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from bigov.cli import app
from bigov.datacall.calendar import sitting_date, working_days_before
from bigov.datacall.models import DataRequest, OutboxMessage
from bigov.errors import ValidationError
from bigov.governance.models import GovernanceNode
from bigov.org.models import OrgUnit
from bigov.workspace import Workspace
from tests.datacall.conftest import Sink, free_port

runner = CliRunner()


def _db(ws: Workspace) -> str:
    return ws.describe(hide_password=False)


def _run(ws: Workspace, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--db", _db(ws)])
    return result.exit_code, result.output


def test_working_days_and_sitting_dates() -> None:
    friday = dt.date(2026, 11, 6)
    assert working_days_before(friday, 0) == friday
    assert working_days_before(friday, 4) == dt.date(2026, 11, 2)
    assert working_days_before(dt.date(2026, 11, 9), 1) == friday  # Monday -> Friday
    assert working_days_before(dt.date(2026, 11, 9), 6) == dt.date(2026, 10, 30)
    october = dt.date(2026, 10, 1)
    assert sitting_date("monthly", 15, october) == dt.date(2026, 11, 15)
    assert sitting_date("monthly", 31, october) == dt.date(2026, 11, 30)  # clamped
    assert sitting_date("quarterly", None, october) == dt.date(2026, 11, 10)  # the default day
    assert sitting_date("weekly", 3, october) == dt.date(2026, 11, 4)  # first Wednesday
    assert sitting_date("fortnightly", 7, october).isoweekday() == 7


def test_open_status_json_and_a_second_open_changes_nothing(demo: Workspace) -> None:
    code, out = _run(demo, "datacall", "open", "--period", "2026-10", "--json")
    assert code == 0, out
    first = json.loads(out)
    assert first["created"] > 0 and first["nodes"]
    code, out = _run(demo, "datacall", "open", "--period", "2026-10", "--json")
    assert json.loads(out)["created"] == 0 and json.loads(out)["updated"] == 0
    code, out = _run(demo, "datacall", "status", "--json", "--today", "2026-11-03")
    rows = json.loads(out)
    assert len(rows) == first["created"]
    for r in rows:
        assert r["owner"] and r["due_on"] and r["state"] in ("requested", "submitted")
    owner = next(r["owner"] for r in rows if r["state"] == "requested")
    code, out = _run(demo, "datacall", "status", "--owner", owner.upper(), "--json")
    assert code == 0 and {r["owner"] for r in json.loads(out)} == {owner}
    code, out = _run(demo, "datacall", "status", "--node", "GOV-PPG")
    assert code == 0 and "request(s)" in out


def test_cli_remind_then_again_sends_nothing_new(demo: Workspace, smtp_sink: Sink) -> None:
    _run(demo, "datacall", "open", "--period", "2026-10")
    code, out = _run(demo, "datacall", "remind", "--dry-run", "--today", "2026-11-03")
    assert code == 0 and "Would send" in out
    args = ["datacall", "remind", "--smtp", smtp_sink.url, "--today", "2026-11-03", "--json"]
    code, out = _run(demo, *args)
    assert code == 0, out
    first = json.loads(out)
    assert first["sent"] == len(smtp_sink.messages) > 0
    assert len({m.message["To"] for m in smtp_sink.messages}) == first["sent"]  # one per owner
    code, out = _run(demo, *args)
    assert json.loads(out)["sent"] == 0 and len(smtp_sink.messages) == first["sent"]


def test_cli_remind_with_the_server_down_says_so_and_keeps_the_digests(demo: Workspace) -> None:
    _run(demo, "datacall", "open", "--period", "2026-10")
    port = free_port()
    code, out = _run(
        demo, "datacall", "remind", "--smtp", f"smtp://127.0.0.1:{port}", "--today", "2026-11-03"
    )
    assert code == 8
    assert f"127.0.0.1:{port}" in out and "kept in the outbox" in out
    assert "Traceback" not in out
    with demo.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage))


BAD_INPUT: list[tuple[list[str], int, str]] = [
    (["datacall", "status", "--owner", "nobody@example.org"], 4, "no person with email"),
    (["datacall", "status", "--node", "NO-SUCH"], 4, "no governance node"),
    (["datacall", "open", "--period", "2026-13"], 2, "period must be YYYY-MM"),
    (["datacall", "open", "--period", "2026-10", "--node", "NO-SUCH"], 4, "no governance"),
    (["datacall", "open", "--period", "2026-11", "--node", "GOV-BOARD"], 2, "does not sit"),
    (["datacall", "remind"], 2, "no SMTP server configured"),
    (["datacall", "remind", "--smtp", "smtp://u:p@127.0.0.1:25"], 2, "not in the URL"),
    (["datacall", "return", "2026-10:status:X", "--comment", "  "], 6, "needs a comment"),
    (["datacall", "accept", "2026-10:status:NOPE"], 4, "no data request"),
    (["datacall", "rates", "--by", "colour"], 2, "owner, unit or node"),
    (["datacall", "calendar", "--out", "x.ics"], 2, "exactly one of"),
]


def test_bad_input_is_a_clear_error_that_changes_nothing(demo: Workspace) -> None:
    for args, exit_code, message in BAD_INPUT:
        code, out = _run(demo, *args)
        assert code == exit_code, (args, out)
        assert message in " ".join(out.split()), (args, out)
        assert "Traceback" not in out
    with demo.session() as s:
        assert s.scalar(select(func.count()).select_from(DataRequest)) == 0


def test_a_node_without_cut_off_is_refused_by_name_and_skipped_in_a_whole_call(
    demo: Workspace,
) -> None:
    with demo.session() as s:
        s.execute(update(GovernanceNode).where(GovernanceNode.code == "GOV-PPG").values(rules=None))
    code, out = _run(demo, "datacall", "open", "--period", "2026-10", "--node", "GOV-PPG")
    assert code == 2 and "GOV-PPG has no data cut-off" in out and "data_cutoff_days" in out
    code, out = _run(demo, "datacall", "open", "--period", "2026-10", "--json")
    result = json.loads(out)
    assert "GOV-PPG" not in result["nodes"]
    assert {"node": "GOV-PPG", "definition": None, "subject": None} | {
        "reason": "no data cut-off in the design"
    } in result["skipped"]


def test_an_accepted_returned_or_unsubmitted_request_via_the_cli(demo: Workspace) -> None:
    _run(demo, "datacall", "open", "--period", "2026-10", "--node", "GOV-PG-CCM")
    rows = demo.datacall.requests(today=dt.date(2026, 11, 3))
    submitted = next(r for r in rows if r.state == "submitted")
    owed = next((r for r in rows if r.state == "requested"), None)
    code, out = _run(demo, "datacall", "return", submitted.code, "--comment", "wrong month")
    assert code == 0 and "returned" in out
    code, out = _run(demo, "datacall", "accept", submitted.code, "--by", "pmo@example.org")
    assert code == 0 and "assured" in out
    if owed is not None:
        code, out = _run(demo, "datacall", "accept", owed.code)
        assert code == 5 and "no data submitted" in out
    code, out = _run(demo, "datacall", "accept", "--all-submitted", "--node", "GOV-PG-CCM")
    assert code == 0 and "accepted" in out
    code, out = _run(demo, "datacall", "rates", "--by", "node", "--json", "--today", "2026-11-03")
    assert code == 0 and any(r["key"] == "GOV-PG-CCM" for r in json.loads(out))


def test_calendars_parse_with_icalendar(demo: Workspace, tmp_path: Path) -> None:
    _run(demo, "datacall", "open", "--period", "2026-10")
    node_ics = tmp_path / "node.ics"
    code, out = _run(
        demo,
        "datacall",
        "calendar",
        "--node",
        "GOV-PPG",
        "--from",
        "2026-10",
        "--out",
        str(node_ics),
    )
    assert code == 0, out
    cal = Calendar.from_ical(node_ics.read_bytes())
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    # GOV-PPG sits monthly on the 15th; its data is due 6 working days before
    sitting = events["sitting-GOV-PPG-2026-10@bigov"]
    assert sitting.decoded("dtstart") == dt.date(2026, 11, 15)
    cutoff = events["cutoff-GOV-PPG-2026-10@bigov"]
    assert cutoff.decoded("dtstart") == working_days_before(dt.date(2026, 11, 15), 6)
    assert len([u for u in events if u.startswith("sitting-")]) == 12

    owner = next(r for r in demo.datacall.requests() if r.state == "requested").owner
    person_ics = tmp_path / "me.ics"
    code, out = _run(
        demo,
        "datacall",
        "calendar",
        "--person",
        owner,
        "--from",
        "2026-10",
        "--out",
        str(person_ics),
    )
    assert code == 0, out
    mine = Calendar.from_ical(person_ics.read_bytes())
    due = [e for e in mine.walk("VEVENT") if str(e["uid"]).startswith("due-")]
    owed = demo.datacall.owed_by(owner)
    assert {str(e["uid"]) for e in due} == {f"due-{r.code}@bigov" for r in owed}
    for e in due:
        code_ = str(e["uid"])[4:-6]
        assert e.decoded("dtstart") == next(r.due_on for r in owed if r.code == code_)
        assert str(e["url"]).endswith(f"/datacalls/{code_}")


def test_design_sets_cut_offs_and_assurance_and_refuses_bad_values(
    demo: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "design.yaml"
    demo.governance.export_design(path)
    data = yaml.safe_load(path.read_text())
    node = next(n for n in data["nodes"] if n["code"] == "GOV-PPG")
    assert node["rules"]["data_cutoff_days"] == 6
    node["rules"]["data_cutoff_days"] = 2
    node["agenda"][0]["information"][0]["assured"] = True
    path.write_text(yaml.safe_dump(data))
    demo.governance.import_design(path)
    again = demo.governance.design()
    ppg = next(n for n in again["nodes"] if n["code"] == "GOV-PPG")
    assert ppg["rules"]["data_cutoff_days"] == 2
    assert ppg["agenda"][0]["information"][0]["assured"] is True
    # the same through the workbook: the Rules sheet and the Information sheet's column
    xlsx = tmp_path / "design.xlsx"
    demo.governance.export_design(xlsx)
    demo.governance.import_design(xlsx)
    ppg = next(n for n in demo.governance.design()["nodes"] if n["code"] == "GOV-PPG")
    assert ppg["rules"]["data_cutoff_days"] == 2
    assert ppg["agenda"][0]["information"][0]["assured"] is True

    node["rules"]["data_cutoff_days"] = 99
    node["agenda"][0]["information"][0]["assured"] = "perhaps"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationError) as err:
        demo.governance.import_design(path)
    reasons = " | ".join(p.reason for p in err.value.problems)
    assert "data_cutoff_days of node GOV-PPG is 99" in reasons
    assert "assured must be true or false" in reasons


def test_rates_become_measures_a_board_can_hold_targets_on(demo: Workspace, tmp_path: Path) -> None:
    if demo.path is None:  # PostgreSQL: raw observations need a folder of their own
        demo.set_setting("metrics_store_dir", str(tmp_path / "metrics"))
    demo.datacall.open("2026-10")
    demo.datacall.accept_submitted(by="pmo@example.org")
    code, out = _run(
        demo, "datacall", "measures", "--period", "2026-10", "--today", "2026-11-20", "--json"
    )
    assert code == 0, out
    assert json.loads(out)["observations"] > 0
    rates = demo.datacall.rates("unit", periods=["2026-10"], today=dt.date(2026, 11, 20))
    counted = [r for r in rates if r.key != "(no unit)"]
    expected = 100 * sum(r.on_time for r in counted) / sum(r.due for r in counted)
    (month,) = demo.metrics.values("DATACALL-TIMELINESS", grain="month")
    assert month.label == "2026-10" and month.value == pytest.approx(expected)
    # a unit with no units below it reads its own rate
    with demo.session() as s:
        parents = set(s.scalars(select(OrgUnit.parent_id)))
        leaves = {c for c, i in s.execute(select(OrgUnit.code, OrgUnit.id)) if i not in parents}
    unit = next(r for r in counted if r.key in leaves and r.due)
    (own,) = demo.metrics.values("DATACALL-TIMELINESS", grain="month", org=unit.key)
    assert own.value == pytest.approx(float(unit.timeliness or 0), abs=0.06)
    (ftr,) = demo.metrics.values("DATACALL-FTR", grain="month")
    assert ftr.value == pytest.approx(100.0)  # everything was accepted at its first verdict
