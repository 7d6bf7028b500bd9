"""A decision has a date (the cycle's as-at date unless given) and the OTCs it answers, each at
a version (the one named, or else the one in force on the day); `decision list` shows them in a
table that fits 100 columns with its codes whole."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.cli_support import console
from bigov.errors import ValidationError
from bigov.governance import sitting
from bigov.governance.cycle_models import Cycle
from bigov.strategy.models import OtcKind
from bigov.workspace import Workspace

runner = CliRunner()


def test_decision_dates_and_otcs(gov_ws: Workspace) -> None:
    gov = gov_ws.governance
    march = gov.run_cycle("PB3", "2026-03")
    with gov_ws.session() as s:
        as_at = s.scalars(select(Cycle.as_at).where(Cycle.code == march.code)).one()
    gov_ws.strategy.add_otc(
        "OBJ-9",
        OtcKind.OBJECTIVE,
        "Open the new depot",
        effective_from=dt.date(2026, 1, 1),
        target_date=dt.date(2026, 9, 30),
    )
    gov_ws.strategy.revise_otc(
        "OBJ-9",
        effective_from=dt.date(2026, 3, 20),
        reason="contractor failed: deadline moved",
        target_date=dt.date(2026, 12, 31),
    )
    default = gov.add_decision(march.code, "Accept the revised plan", items=["PRJ-3"])
    dated = gov.add_decision(
        march.code,
        "Move the depot deadline",
        otc_version="OBJ-9@v2",
        owner="P-SRO",
        decided_on=dt.date(2026, 3, 24),
    )
    rows = {r["code"]: r for r in gov.decisions(node="PB3")}
    assert rows[default]["decided_on"] == as_at.isoformat()  # documented default: as-at date
    assert rows[dated]["decided_on"] == "2026-03-24"
    assert rows[dated]["otc_versions"] == ["OBJ-9@v2"]
    assert rows[dated]["otcs"] == ["OBJ-9"]  # the version's OTC is concerned too
    assert rows[dated]["owner"] == "P-SRO"
    history = gov_ws.strategy.history("OBJ-9")
    assert [(v.target_date, v.change_reason) for v in history] == [
        (dt.date(2026, 9, 30), "created"),
        (dt.date(2026, 12, 31), "contractor failed: deadline moved"),
    ]
    with pytest.raises(ValidationError) as bad:
        gov.add_decision(march.code, "x", otc_version="OBJ-9@v7", items=["NOPE"])
    assert {(p.column, p.value) for p in bad.value.problems} == {
        ("otcs", "OBJ-9@v7"),
        ("items", "NOPE"),
    }  # every bad field at once, and nothing written
    assert {r["code"] for r in gov.decisions(node="PB3")} == {default, dated}


def test_decision_cli_date_and_list(gov_ws: Workspace) -> None:
    db = gov_ws.describe(hide_password=False)
    code = gov_ws.governance.run_cycle("PB3", "2026-03").code
    gov_ws.strategy.add_otc("OBJ-8", OtcKind.OBJECTIVE, "Depot", effective_from=dt.date(2026, 1, 1))
    added = runner.invoke(
        app,
        [
            "decision", "add", "--cycle", code, "--title", "Fund phase 2", "--date", "2026-03-25",
            "--otc", "OBJ-8", "--item", "PRJ-3", "--db", str(db),
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(
        app, ["decision", "list", "--node", "PB3", "--db", str(db)], env={"COLUMNS": "200"}
    )
    assert listed.exit_code == 0 and "2026-03-25" in listed.output
    data = json.loads(runner.invoke(app, ["decision", "list", "--json", "--db", str(db)]).stdout)
    assert data[0]["decided_on"] == "2026-03-25" and data[0]["otcs"] == ["OBJ-8"]
    bad = runner.invoke(
        app,
        [
            "decision",
            "add",
            "--cycle",
            code,
            "--title",
            "x",
            "--date",
            "25/03/2026",
            "--db",
            str(db),
        ],
    )
    assert bad.exit_code == 2 and "--date must be a date YYYY-MM-DD" in bad.output
    # codes that name nothing exit 4, like every unknown code, each one listed; a bad title with
    # them is a validation error (6)
    base = ["decision", "add", "--cycle", code, "--db", str(db)]
    unknown = runner.invoke(
        app, [*base, "--title", "x", "--otc", "NOPE", "--item", "NOPE-2", "--owner", "P-NOPE"]
    )
    assert unknown.exit_code == 4, unknown.output
    assert all(c in unknown.output for c in ("NOPE", "NOPE-2", "P-NOPE"))
    assert runner.invoke(app, [*base, "--title", " ", "--otc", "NOPE"]).exit_code == 6
    assert runner.invoke(app, [*base, "--title", "x", "--otc", "OBJ-8@v9"]).exit_code == 4
    malformed = runner.invoke(app, [*base, "--title", "x", "--otc", "OBJ-8@vX"])
    assert malformed.exit_code == 6 and "write a version as OBJ-8@v2" in malformed.output
    assert [r["title"] for r in gov_ws.governance.decisions(node="PB3")] == ["Fund phase 2"]


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_decision_list_keeps_codes_whole_at_any_width(gov_ws: Workspace, columns: int) -> None:
    from bigov.cli_support import console

    db = gov_ws.describe(hide_password=False)
    code = gov_ws.governance.run_cycle("PB3", "2026-03").code
    long_otc = "OBJ-CUSTOMER-CHANNEL-SHIFT-2027"
    gov_ws.strategy.add_otc(
        long_otc, OtcKind.OBJECTIVE, "Shift", effective_from=dt.date(2026, 1, 1)
    )
    added = runner.invoke(
        app,
        [
            "decision", "add", "--cycle", code, "--title", "Move the channel shift to phase two "
            "after the supplier review", "--otc", long_otc, "--item", "PRJ-3", "--db", str(db),
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    before = console._width
    console.width = columns
    try:
        out = runner.invoke(app, ["decision", "list", "--db", str(db)]).stdout
    finally:
        console._width = before
    lines = out.splitlines()
    assert all(len(line) <= columns for line in lines), out
    assert f"{long_otc}@v1" in out and "PRJ-3" in out and "…" not in out
    assert not any(line.strip().startswith(",") for line in lines), out
    assert "open" in out  # the status is never dropped


def test_cli_and_sitting_form_record_the_same_decision(gov_ws: Workspace) -> None:
    """The web sitting form and `bigov decision add` write through one function into one
    store: each one's decision reads the same in `decision list`, on the live pack (the
    sitting's list) and in the next cycle's decisions log."""
    gov = gov_ws.governance
    march = gov.run_cycle("PB3", "2026-03").code
    gov_ws.strategy.add_otc("OBJ-7", OtcKind.OBJECTIVE, "Depot", effective_from=dt.date(2026, 1, 1))
    gov_ws.strategy.revise_otc("OBJ-7", effective_from=dt.date(2026, 3, 20), reason="later")
    # no version named: the one in force on the day it was decided
    early = gov.add_decision(march, "Keep going", otcs=["OBJ-7"], decided_on=dt.date(2026, 3, 5))
    form = sitting.record(
        gov_ws,
        march,
        sitting.SittingRecord(
            title="Fund phase 2",
            decided_on="2026-04-02",
            items=["PRJ-3"],
            otcs=["OBJ-7"],
            owner="P-SRO",
        ),
        written_by="board@example.org",
    )
    assert form.otcs == ["OBJ-7@v2"]
    listed = {r["code"]: r for r in gov.decisions(cycle=march)}
    assert listed[early]["otc_versions"] == ["OBJ-7@v1"]
    assert listed[form.code]["otc_versions"] == ["OBJ-7@v2"]
    assert listed[form.code]["decided_on"] == "2026-04-02"
    live = {e.code: e for e in sitting.recorded_at(gov_ws, march)}
    for code, row in listed.items():
        assert (str(live[code].decided_on), live[code].otcs, live[code].items) == (
            row["decided_on"],
            row["otc_versions"],
            row["items"],
        )
    april = gov.cycle_document(gov.run_cycle("PB3", "2026-04").code)
    log = {d["code"]: d for d in april["decisions_log"]}
    assert (log[form.code]["decided_on"], log[form.code]["otcs"]) == (
        "2026-04-02",
        ["OBJ-7@v2"],
    )
    earlier = {d["code"]: d["decided_on"] for d in april["decisions"]}
    assert earlier == {early: "2026-03-05", form.code: "2026-04-02"}


def test_sitting_form_reports_every_bad_field_and_writes_nothing(gov_ws: Workspace) -> None:
    march = gov_ws.governance.run_cycle("PB3", "2026-03").code
    with pytest.raises(ValidationError) as bad:
        sitting.record(
            gov_ws,
            march,
            sitting.SittingRecord(
                title="x", decided_on="31/03/2026", items=["NOPE"], otcs=["OBJ-404"]
            ),
            written_by="board@example.org",
        )
    assert {p.column for p in bad.value.problems} == {"decided_on", "items", "otcs", "owner"}
    assert gov_ws.governance.decisions() == []


@pytest.mark.parametrize("width", [100, 80])
def test_decision_list_fits_with_codes_whole(gov_ws: Workspace, width: int) -> None:
    db = gov_ws.describe(hide_password=False)
    code = gov_ws.governance.run_cycle("PB3", "2026-03").code
    gov_ws.strategy.add_otc(
        "OBJ-LONG-CODE-01", OtcKind.OBJECTIVE, "Depot", effective_from=dt.date(2026, 1, 1)
    )
    gov_ws.governance.add_decision(
        code,
        "Fund phase 2 of the depot programme, on the condition that the contractor is replaced",
        items=["PRJ-3"],
        otcs=["OBJ-LONG-CODE-01"],
        owner="P-SRO",
    )
    # the width as configured (None: follow the terminal), not as measured now: restoring a
    # measured width would pin it for every later test in this worker
    before = console._width
    console.width = width
    try:
        out = runner.invoke(app, ["decision", "list", "--db", str(db)]).stdout
    finally:
        console._width = before
    assert max(len(line) for line in out.splitlines()) <= width
    for whole in ("PB3-D001", code, "OBJ-LONG-CODE-01@v1", "PRJ-3", "2026-03-31"):
        assert whole in out, whole
    assert "…" not in out


def test_doctor_finds_a_decision_answering_a_version_that_is_gone(gov_ws: Workspace) -> None:
    # decision_otc names a version by number, which no foreign key guards: doctor must see it
    from sqlalchemy import delete

    from bigov.ops.doctor import diagnose
    from bigov.strategy.models import OtcVersion

    code = gov_ws.governance.run_cycle("PB3", "2026-03").code
    gov_ws.strategy.add_otc("OBJ-8", OtcKind.OBJECTIVE, "Depot", effective_from=dt.date(2026, 1, 1))
    gov_ws.governance.add_decision(code, "Fund the depot", otc_version="OBJ-8@v1")
    assert [f for f in diagnose(gov_ws).findings if f.check == "links"] == []
    with gov_ws.session() as s:
        s.execute(delete(OtcVersion))
    [finding] = [f for f in diagnose(gov_ws).findings if f.check == "links"]
    assert finding.severity == "error" and "OBJ-8@v1, which no longer exists" in finding.problem
