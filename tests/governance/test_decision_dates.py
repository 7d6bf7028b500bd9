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
