"""Interrupted and concurrent work: a metrics load killed with SIGKILL leaves nothing stuck once
the next metrics command has run; two imports of the same codes at once give the loser a clear
conflict (exit 5); a measure with two series on one org unit is a clear error (exit 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import bigov.ingest.service as ingest_service
from bigov.cli import app
from bigov.db.batch import ImportBatch
from bigov.ingest.service import import_file
from bigov.metrics.calendar import Frequency, Grain
from bigov.metrics.models import MetricSeries
from bigov.metrics.schemas import MeasureSpec, SeriesSpec
from bigov.metrics.service import MetricsService, _LoadLock
from bigov.work.models import WorkItem
from bigov.workspace import Workspace

runner = CliRunner()
SERIES = 50


def _batches(ws: Workspace) -> list[tuple[int, str, str | None]]:
    with ws.session() as s:
        rows = s.execute(
            select(ImportBatch.id, ImportBatch.status, ImportBatch.message).order_by(ImportBatch.id)
        )
        return [(int(i), str(st), m) for i, st, m in rows]


def _define(ws: Workspace, store: Path) -> MetricsService:
    svc = MetricsService(ws, store_dir=store)
    svc.define(
        MeasureSpec(
            code="calls",
            name="Calls",
            frequency=Frequency.HOURLY,
            grains=[Grain.DAY, Grain.MONTH],
            series=[SeriesSpec(code=f"S{i:03d}", org=f"T{i:03d}") for i in range(SERIES)],
        )
    )
    return svc


def _observations(path: Path, rows: int) -> Path:
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT printf('S%03d', i % {SERIES}) AS series, "
        f"strftime(TIMESTAMP '2025-04-01' + to_hours((i // {SERIES})::BIGINT), "
        "'%Y-%m-%dT%H:%M:%SZ') AS ts, (i % 97)::DOUBLE AS value "
        f"FROM range({rows}) t(i)) TO '{path}' (HEADER)"
    )
    con.close()
    return path


def test_a_killed_metrics_load_is_cleaned_up_by_the_next_load(
    tmp_path: Path, sqlite_template: Path
) -> None:
    db = tmp_path / "bigov.db"
    db.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{db}"
    store = Path(f"{db}.metrics")
    ws = Workspace.open(url)
    _define(ws, store)
    big = _observations(tmp_path / "big.csv", 3_000_000)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bigov.cli", "metrics", "load", str(big), "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    raw = store / "raw"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any(raw.glob(".batch-*.parquet.part")):
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the load finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    killed = [b for b in _batches(ws) if b[1] == "running"]
    assert len(killed) == 1, _batches(ws)  # what a kill leaves, before any clean-up
    small = _observations(tmp_path / "small.csv", SERIES * 24)
    result = runner.invoke(app, ["metrics", "load", str(small), "--db", url])
    assert result.exit_code == 0, result.output
    statuses = {i: (st, m) for i, st, m in _batches(ws)}
    status, message = statuses[killed[0][0]]
    assert status == "rejected" and message and "interrupted" in message
    assert "running" not in {st for st, _ in statuses.values()}
    assert not list(raw.glob("*.part")) and not list(raw.glob(".*.part"))
    assert not (raw / f"batch-{killed[0][0]:08d}.parquet").exists()
    assert not list((store / "locks").glob("*.lock"))
    assert not list((store / "tmp").glob("agg-*.parquet"))
    ws.close()


def test_recovery_leaves_a_live_load_alone(workspace: Workspace, tmp_path: Path) -> None:
    store = tmp_path / "store"
    svc = _define(workspace, store)
    (store / "raw").mkdir(parents=True)
    live = _LoadLock(store / "locks").__enter__()
    ids = {}
    with workspace.session() as s:
        for name, token in (("dead", uuid.uuid4().hex), ("live", live.token), ("old", None)):
            batch = ImportBatch(source="metrics", kind="metric_observation", file_name=name)
            batch.counts = {"lock": token} if token else {}
            s.add(batch)
            s.flush()
            ids[name] = batch.id
    for batch_id in ids.values():
        (store / "raw" / f".batch-{batch_id:08d}.parquet.part").write_bytes(b"partial")
    (store / "raw" / ".batch-99999999.parquet.part").write_bytes(b"orphan")
    try:
        assert sorted(svc.recover_interrupted()) == sorted([ids["dead"], ids["old"]])
        statuses = {i: st for i, st, _ in _batches(workspace)}
        assert statuses[ids["live"]] == "running"
        assert statuses[ids["dead"]] == statuses[ids["old"]] == "rejected"
        left = sorted(p.name for p in (store / "raw").iterdir())
        assert left == [f".batch-{ids['live']:08d}.parquet.part"]
    finally:
        live.__exit__(None, None, None)
    assert svc.recover_interrupted() == [ids["live"]]
    assert not list((store / "raw").iterdir())


def test_two_series_on_one_org_unit_is_a_clear_error(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIGOV_METRICS_STORE", str(tmp_path / "store"))
    url = workspace.describe(hide_password=False)
    define = ["metrics", "define", "m1", "--name", "M", "--db", url]
    result = runner.invoke(app, [*define, "--series", "A=ORG1", "--series", "B=ORG1"])
    assert result.exit_code == 6, result.output
    assert result.stderr.startswith("error: measure m1: series A and B are both for org unit ORG1")
    assert len(result.stderr.strip().splitlines()) == 1
    assert runner.invoke(app, [*define, "--series", "A=ORG1"]).exit_code == 0
    result = runner.invoke(app, [*define, "--series", "B=ORG1"])  # A is stored for ORG1
    assert result.exit_code == 6, result.output
    assert "one series per org unit" in result.stderr and "Traceback" not in result.stderr
    with workspace.session() as s:
        assert list(s.scalars(select(MetricSeries.code))) == ["A"]


def test_the_loser_of_two_identical_imports_gets_a_conflict(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second import validated against the data before the first committed: its rows are
    new by then, so the database refuses its codes. It says so (exit 5), nothing half-written."""
    data = tmp_path / "w.csv"
    data.write_text("code,name,kind\nW1,Alpha,project\nW2,Beta,project\n", encoding="utf-8")
    url = workspace.describe(hide_password=False)
    real_plan = ingest_service.plan_import
    raced = []

    def plan_then_lose_the_race(session: Any, recordsets: Any) -> Any:
        plan = real_plan(session, recordsets)
        if not raced:  # another process imports the same file between validation and writing
            raced.append(True)
            other = Workspace.open(url)
            try:
                result = import_file(
                    other, data, options=ingest_service.resolve_options(kind="work_item")
                )
                assert result.status == "committed"
            finally:
                other.close()
        return plan

    monkeypatch.setattr(ingest_service, "plan_import", plan_then_lose_the_race)
    result = runner.invoke(app, ["import", str(data), "--kind", "work_item", "--db", url])
    assert result.exit_code == 5, result.output
    assert result.stderr.startswith(
        "error: another import of the same codes is in progress or committed first"
    )
    assert "UNIQUE" not in result.stderr and "Traceback" not in result.stderr
    with workspace.session() as s:
        assert sorted(s.scalars(select(WorkItem.code))) == ["W1", "W2"]
    assert [st for _, st, _ in _batches(workspace)] == ["committed", "rejected"]
