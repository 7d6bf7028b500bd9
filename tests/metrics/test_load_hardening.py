"""`metrics load` on awkward real files: mixed line endings, local times the zone skips or
repeats, the rejected count the batch records, --json and --errors, unknown references."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db.batch import ImportBatch
from bigov.errors import ValidationError
from bigov.metrics.calendar import Grain
from bigov.metrics.schemas import MeasureSpec, SeriesSpec
from bigov.metrics.service import MetricsService

runner = CliRunner()
SERIES = "calls-A"


@pytest.fixture
def calls(svc: MetricsService) -> MetricsService:
    svc.define(
        MeasureSpec(
            code="calls",
            name="Calls handled",
            grains=[Grain.HOUR, Grain.DAY],
            series=[SeriesSpec(code=SERIES, org="A")],
        )
    )
    return svc


def test_one_lf_line_in_a_crlf_file_loads(calls: MetricsService, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"series,ts,value\r\n"
        b"calls-A,2026-11-20 10:00:00,1\r\n"
        b"calls-A,2026-11-20 11:00:00,2\n"  # edited in another tool
        b"calls-A,2026-11-20 12:00:00,4\r\n"
    )
    result = calls.load(path)
    assert result.rows == 3
    assert [v.value for v in calls.values("calls", grain=Grain.DAY)] == [7.0]
    # the LF-only copy read in its place is gone
    assert not list(calls.store.temp_dir.glob("newlines-*"))


def test_hour_the_clocks_skip_is_named(calls: MetricsService, tmp_path: Path) -> None:
    # an hourly extract in UTC, loaded as Europe/London local time (the default zone)
    path = tmp_path / "utc.csv"
    path.write_text(
        "series,ts,value\n" + "".join(f"{SERIES},2026-03-29 {h:02d}:00:00,1\n" for h in range(0, 4))
    )
    with pytest.raises(ValidationError) as info:
        calls.load(path)
    err = info.value
    assert "duplicate" not in err.message.split("(", 1)[1].split(":")[0]
    assert "local times that do not exist in Europe/London" in err.message
    reasons = {p.row: p.reason for p in err.problems}
    assert reasons[3] == (
        "this time does not exist in Europe/London: the clocks go forward from 01:00 to 02:00 "
        "on 29 Mar 2026"
    )
    assert reasons[4] == "duplicate series and timestamp"  # the 02:00 row it lands on


def test_hour_that_repeats_is_named(calls: MetricsService, tmp_path: Path) -> None:
    path = tmp_path / "october.csv"
    path.write_text(
        "series,ts,value\n"
        f"{SERIES},2026-10-25 00:00:00,1\n"
        f"{SERIES},2026-10-25 01:00:00,1\n"
        f"{SERIES},2026-10-25 01:00:00,2\n"
    )
    with pytest.raises(ValidationError) as info:
        calls.load(path)
    assert "occur twice in Europe/London" in info.value.message
    assert {p.reason for p in info.value.problems} == {
        "this time occurs twice in Europe/London: the clocks go back from 02:00 to 01:00 on "
        "25 Oct 2026; give its UTC offset (e.g. 2026-10-25T01:00+01:00 for the first)"
    }
    # with offsets the same hours load
    path.write_text(
        "series,ts,value\n"
        f"{SERIES},2026-10-25T00:00:00+01:00,1\n"
        f"{SERIES},2026-10-25T01:00:00+01:00,1\n"
        f"{SERIES},2026-10-25T01:00:00+00:00,2\n"
    )
    assert calls.load(path).rows == 3


def test_rejected_batch_records_the_count_its_message_gives(
    calls: MetricsService, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    # six rows of one kind: the message lists five, the batch must record six
    path.write_text(
        "series,ts,value\n"
        + "".join(f"{SERIES},2026-04-01 {h:02d}:00:00,lots\n" for h in range(6))
        + f"{SERIES},2026-04-01 08:00:00,1\n"
    )
    with pytest.raises(ValidationError) as info:
        calls.load(path)
    assert "6 bad row(s)" in info.value.message
    assert len(info.value.problems) == 5
    with calls.ws.session() as s:
        counts = s.scalars(select(ImportBatch.counts).order_by(ImportBatch.id.desc())).first()
    assert counts is not None and counts["rejected"] == 6
    assert counts["problems"] == {"value is missing or not a finite number": 6}


def _define_cli(db: str) -> None:
    out = runner.invoke(
        app,
        [
            "metrics",
            "define",
            "calls",
            "--name",
            "Calls",
            "--frequency",
            "hourly",
            "--grains",
            "hour,day",
            "--series",
            f"{SERIES}=A",
            "--db",
            db,
        ],
    )
    assert out.exit_code == 0, out.output


def test_cli_json_errors_report_and_exit_codes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    _define_cli(db)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "series,ts,value\n"
        + "".join(f"{SERIES},2026-04-01 {h:02d}:00:00,x{h}\n" for h in range(7))
        + "nope,2026-04-01 09:00:00,1\n"
    )
    report = tmp_path / "errors.csv"
    out = runner.invoke(
        app, ["metrics", "load", str(bad), "--json", "--errors", str(report), "--db", db]
    )
    assert out.exit_code == 6
    refusal = json.loads(out.stdout)
    assert refusal["status"] == "rejected"
    assert refusal["rejected_rows"] == 8
    assert refusal["problems_by_kind"] == {
        "unknown series code": 1,
        "value is missing or not a finite number": 7,
    }
    with report.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    # every bad row, not only the first five of each kind
    assert sorted(int(r["row"]) for r in rows) == list(range(2, 10))
    assert f"every bad row written to {report}" in out.stderr

    good = tmp_path / "good.csv"
    good.write_text(f"series,ts,value\n{SERIES},2026-04-01T09:00:00Z,3\n")
    out = runner.invoke(app, ["metrics", "load", str(good), "--json", "--db", db])
    assert out.exit_code == 0, out.output
    loaded = json.loads(out.stdout)
    assert loaded["rows"] == 1 and loaded["batch_id"] >= 1

    for command in (
        ["metrics", "show", "calls", "--org", "NOPE"],
        ["metrics", "completeness", "calls", "--org", "NOPE"],
        ["metrics", "changes", "calls", "--since", "2026-01-01", "--org", "NOPE"],
        ["metrics", "show", "nope"],
        ["metrics", "recompute", "nope"],
    ):
        out = runner.invoke(app, [*command, "--db", db])
        assert out.exit_code == 4, (command, out.output)
