"""Bad input: a counted error report with the first rows of each kind, and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bigov.db.batch import ImportBatch
from bigov.errors import ValidationError
from bigov.metrics.calendar import Grain
from bigov.metrics.models import MetricAggregate, MetricRawFile
from bigov.metrics.schemas import MeasureSpec, SeriesSpec
from bigov.metrics.service import MetricsService

HEADER = "series,ts,value\n"
GOOD = "s-A,2025-04-01T12:00:00Z,1\n"


@pytest.fixture
def loaded(svc: MetricsService) -> MetricsService:
    svc.define(
        MeasureSpec(
            code="m", name="m", grains=[Grain.MONTH], series=[SeriesSpec(code="s-A", org="A")]
        )
    )
    return svc


def reject(svc: MetricsService, path: Path, body: str) -> ValidationError:
    path.write_text(body)
    with pytest.raises(ValidationError) as info:
        svc.load(path)
    with svc.ws.session() as s:
        assert s.scalar(select(func.count()).select_from(MetricAggregate)) == 0
        assert s.scalar(select(func.count()).select_from(MetricRawFile)) == 0
        assert s.scalars(select(ImportBatch.status)).all()[-1] == "rejected"
    assert not list((svc.store.root / "raw").glob("*.parquet*"))
    return info.value


def test_unknown_series_codes(loaded: MetricsService, tmp_path: Path) -> None:
    err = reject(
        loaded,
        tmp_path / "x.csv",
        HEADER + GOOD + "nope,2025-04-01T13:00:00Z,1\nnope,2025-04-01T14:00:00Z,1\n",
    )
    assert "2 × unknown series code" in err.message
    assert [(p.row, p.value) for p in err.problems] == [(3, "nope"), (4, "nope")]


def test_unparsable_timestamps_and_wrong_type_values(
    loaded: MetricsService, tmp_path: Path
) -> None:
    err = reject(
        loaded,
        tmp_path / "x.csv",
        HEADER + GOOD + "s-A,yesterday,1\ns-A,2025-04-01T15:00:00Z,lots\n",
    )
    assert "1 × timestamp does not parse" in err.message
    assert "1 × value is missing or not a finite number" in err.message
    assert {(p.row, p.column, p.value) for p in err.problems} == {
        (3, "ts", "yesterday"),
        (4, "value", "lots"),
    }


def test_duplicate_rows_in_one_file(loaded: MetricsService, tmp_path: Path) -> None:
    err = reject(loaded, tmp_path / "x.csv", HEADER + GOOD + "s-A,2025-04-01T13:00:00Z,1\n" + GOOD)
    assert "1 bad row(s)" in err.message
    assert "1 × duplicate series and timestamp within the file" in err.message
    # the later row is the bad one, naming the first (as for data imports)
    assert [(p.row, p.reason) for p in err.problems] == [
        (4, "duplicate series and timestamp (first at line 2)")
    ]


def test_file_cut_off_mid_line(loaded: MetricsService, tmp_path: Path) -> None:
    err = reject(loaded, tmp_path / "x.csv", HEADER + GOOD + "s-A,2025-04-01T1")
    assert "file ends mid-line" in err.message
    assert err.problems[0].row == 3 and "cut off" in err.problems[0].reason


def test_mixed_time_zones(loaded: MetricsService, tmp_path: Path) -> None:
    err = reject(
        loaded,
        tmp_path / "x.csv",
        HEADER + GOOD + "s-A,2025-04-01 13:00:00,1\ns-A,2025-04-01T14:00:00+01:00,1\n",
    )
    assert "1 bad row(s)" in err.message
    assert "time zones mixed: 2 timestamp(s) with an offset, 1 without" in err.message
    # the rows of the fewer kind are the bad ones
    assert [(p.row, p.reason) for p in err.problems] == [
        (3, "timestamp without a time zone where 2 other(s) have an offset")
    ]


def test_missing_column(loaded: MetricsService, tmp_path: Path) -> None:
    err = reject(loaded, tmp_path / "x.csv", "series,when,value\n" + GOOD)
    assert err.problems[0].column == "ts"
