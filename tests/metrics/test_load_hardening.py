"""`metrics load` on awkward real files: mixed line endings, local times the zone skips or
repeats, the rejected count the batch records, --json and --errors, unknown references."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db.batch import ImportBatch
from bigov.errors import Problem, ValidationError
from bigov.metrics.calendar import Grain
from bigov.metrics.models import MetricAggregate, MetricRawFile
from bigov.metrics.schemas import MeasureSpec, SeriesSpec
from bigov.metrics.service import MetricsService
from bigov.workspace import Workspace

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
    assert err.message == f"utc.csv: 1 bad row(s), nothing stored (1 × {SKIPPED})"
    # only the 01:00 row: the 02:00 row it used to be moved onto is a real time
    assert [(p.row, p.reason) for p in err.problems] == [
        (
            3,
            "2026-03-29 01:00:00 does not exist in Europe/London: the clocks go forward from "
            "01:00 to 02:00 on 29 Mar 2026",
        )
    ]
    _assert_nothing_stored(calls, rejected=1)


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
    assert info.value.message == (
        "october.csv: 1 bad row(s), nothing stored (1 × local times that occur twice in "
        "Europe/London (when the clocks go back), read as the same instant as an earlier row: "
        "is the file in another time zone? give UTC offsets or set the workspace time zone)"
    )
    # the later row is the bad one; the first reads as the first occurrence
    assert [(p.row, p.reason) for p in info.value.problems] == [
        (
            4,
            "2026-10-25 01:00:00 occurs twice in Europe/London: the clocks go back from 02:00 to "
            "01:00 on 25 Oct 2026; give its UTC offset (e.g. 2026-10-25T01:00+01:00 for the "
            "first); first at line 3",
        )
    ]
    _assert_nothing_stored(calls, rejected=1)
    # with offsets the same hours load
    path.write_text(
        "series,ts,value\n"
        f"{SERIES},2026-10-25T00:00:00+01:00,1\n"
        f"{SERIES},2026-10-25T01:00:00+01:00,1\n"
        f"{SERIES},2026-10-25T01:00:00+00:00,2\n"
    )
    assert calls.load(path).rows == 3


SKIPPED = (
    "local times that do not exist in Europe/London (skipped when the clocks go forward): is the "
    "file in UTC or another time zone? give UTC offsets or set the workspace time zone"
)


def _assert_nothing_stored(svc: MetricsService, *, rejected: int) -> None:
    """No aggregate, no raw file, and the last batch rejected with ``rejected`` bad rows."""
    with svc.ws.session() as s:
        assert s.scalar(select(func.count()).select_from(MetricAggregate)) == 0
        assert s.scalar(select(func.count()).select_from(MetricRawFile)) == 0
        batch = s.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
        assert batch is not None and batch.status == "rejected"
        assert batch.counts["rejected"] == rejected
    assert not list((svc.store.root / "raw").glob("*.parquet*"))


def test_time_the_clocks_skip_is_refused_not_moved(calls: MetricsService, tmp_path: Path) -> None:
    path = tmp_path / "spring.csv"
    path.write_text(
        "series,ts,value\n"
        f"{SERIES},2026-03-29T00:00,1\n"
        f"{SERIES},2026-03-29T01:30,7\n"  # 01:00-01:59 do not exist: clocks go to 02:00
        f"{SERIES},2026-03-29T02:00,5\n"
    )
    with pytest.raises(ValidationError) as info:
        calls.load(path)
    assert info.value.message == f"spring.csv: 1 bad row(s), nothing stored (1 × {SKIPPED})"
    assert info.value.problems == [
        Problem(
            "2026-03-29T01:30 does not exist in Europe/London: the clocks go forward from 01:00 "
            "to 02:00 on 29 Mar 2026",
            file="spring.csv",
            row=3,
            column="ts",
            value="2026-03-29T01:30",
        )
    ]
    _assert_nothing_stored(calls, rejected=1)
    # without it the 02:00 hour holds its own row only (it used to be 12.0 from two rows)
    path.write_text(f"series,ts,value\n{SERIES},2026-03-29T00:00,1\n{SERIES},2026-03-29T02:00,5\n")
    assert calls.load(path).rows == 2
    hours = {v.label: (v.value, v.n) for v in calls.values("calls", grain=Grain.HOUR)}
    assert hours == {"2026-03-29T00:00": (1.0, 1), "2026-03-29T02:00": (5.0, 1)}


def test_real_time_beside_skipped_ones_is_not_called_skipped(
    calls: MetricsService, tmp_path: Path
) -> None:
    path = tmp_path / "dst.csv"
    path.write_text(
        "series,ts,value\n"
        f"{SERIES},2026-03-29T01:00,4\n"
        f"{SERIES},2026-03-29T02:00,4\n"
        f"{SERIES},2026-03-29T01:30,7\n"
    )
    with pytest.raises(ValidationError) as info:
        calls.load(path)
    assert info.value.message == f"dst.csv: 2 bad row(s), nothing stored (2 × {SKIPPED})"
    # both skipped rows say so; the 02:00 row is not named at all (neither skipped nor a
    # duplicate of the 01:00 row that used to be moved onto it)
    assert [(p.row, p.reason) for p in info.value.problems] == [
        (
            row,
            f"2026-03-29T{hm} does not exist in Europe/London: the clocks go forward from 01:00 "
            "to 02:00 on 29 Mar 2026",
        )
        for row, hm in ((2, "01:00"), (4, "01:30"))
    ]
    _assert_nothing_stored(calls, rejected=2)


def test_lone_time_in_the_hour_that_repeats_is_its_first_occurrence(
    calls: MetricsService, tmp_path: Path
) -> None:
    # as documented (docs/metrics.md): read as the calendar reads it, BST, 00:30 UTC
    path = tmp_path / "autumn.csv"
    path.write_text(f"series,ts,value\n{SERIES},2026-10-25T01:30,3\n")
    result = calls.load(path)
    assert (result.rows, result.min_ts) == (1, dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC))
    # the second occurrence, given with its offset, is another instant
    path.write_text(f"series,ts,value\n{SERIES},2026-10-25T01:30+00:00,4\n")
    assert calls.load(path).min_ts == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    [day] = calls.values("calls", grain=Grain.DAY)
    assert (day.label, day.value, day.n) == ("2026-10-25", 7.0, 2)


def test_a_row_with_two_problems_is_one_bad_row(calls: MetricsService, tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(f"series,ts,value\nnope,2026-04-01 10:00,abc\n{SERIES},2026-04-01 11:00,1\n")
    with pytest.raises(ValidationError) as info:
        calls.load(path)
    assert info.value.message == (
        "two.csv: 1 bad row(s), nothing stored (1 × unknown series code; "
        "1 × value is missing or not a finite number)"
    )
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "series"), (2, "value")]
    _assert_nothing_stored(calls, rejected=1)


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


def test_cli_reports_every_bad_row_of_every_kind_in_one_pass(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    out = runner.invoke(
        app,
        [
            *("metrics", "define", "calls", "--name", "Calls", "--frequency", "hourly"),
            *("--grains", "hour,day", "--series", "calls-HSG=HSG", "--series", "calls-DIG=DIG"),
            *("--db", db),
        ],
    )
    assert out.exit_code == 0, out.output
    good = "".join(f"calls-HSG,2026-04-01T{h:02d}:00,10\n" for h in range(24))
    bad = tmp_path / "load2.csv"
    bad.write_text(
        "series,ts,value\n"
        + good  # lines 2-25
        + "calls-HSG,2026-03-29T01:30,7\n"  # 26: does not exist
        + "calls-XXX,2026-04-01T05:00,1\ncalls-XXX,2026-04-01T06:00,1\n"  # 27-28: unknown
        + "calls-DIG,2026-04-01T05:00,abc\ncalls-DIG,2026-04-01T06:00,n/a\n"  # 29-30
        + "calls-DIG,2026-04-01T07:00,12..5\n"  # 31: not a number
        + "calls-HSG,2026-04-01T03:00,11\n"  # 32: repeats line 5
        + "calls-DIG,2026-04-01T09:00\n"  # 33: cut short
    )
    report = tmp_path / "errors.csv"
    out = runner.invoke(
        app, ["metrics", "load", str(bad), "--json", "--errors", str(report), "--db", db]
    )
    assert out.exit_code == 6, out.output
    refusal = json.loads(out.stdout)
    assert refusal["rejected_rows"] == 8
    assert refusal["problems_by_kind"] == {
        "malformed line (wrong number of columns or bad quoting)": 1,
        "unknown series code": 2,
        SKIPPED: 1,
        "value is missing or not a finite number": 3,
        "duplicate series and timestamp within the file": 1,
    }
    assert refusal["error"]["message"].startswith("load2.csv: 8 bad row(s), nothing stored (")
    with report.open(encoding="utf-8-sig") as fh:
        rows = sorted((int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(fh))
    assert rows == [
        (
            26,
            "ts",
            "2026-03-29T01:30 does not exist in Europe/London: the clocks go forward from 01:00 "
            "to 02:00 on 29 Mar 2026",
        ),
        (27, "series", "unknown series code"),
        (28, "series", "unknown series code"),
        (29, "value", "value is missing or not a finite number"),
        (30, "value", "value is missing or not a finite number"),
        (31, "value", "value is missing or not a finite number"),
        (32, "ts", "duplicate series and timestamp (first at line 5)"),
        (33, "", "malformed line: Expected Number of Columns: 3 Found: 2"),
    ]
    # the count the refusal gives is the one recorded, and nothing was stored
    with Workspace.open(db) as ws, ws.session() as s:
        batch = s.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
        assert batch is not None and batch.status == "rejected"
        assert batch.counts["rejected"] == 8
        assert s.scalar(select(func.count()).select_from(MetricAggregate)) == 0
        assert s.scalar(select(func.count()).select_from(MetricRawFile)) == 0
