"""Workers against PostgreSQL, as separate processes: two workers run a month of cycles of the
small demo, every due node exactly once, with snapshots and packs byte-identical to a
single-process run; a worker killed with SIGKILL mid-month leaves the month to finish once a
worker is started again, no node run twice and none skipped."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bigov.governance.cycle import canonical_json
from bigov.governance.cycle_models import Cycle, CycleSnapshot, CycleStatus
from bigov.workspace import Workspace

pytestmark = pytest.mark.postgres

URL = os.environ.get("BIGOV_TEST_POSTGRES_URL")
SRC = Path(__file__).resolve().parents[2] / "src"
PERIOD = "2026-09"
AS_OF = dt.date(2026, 10, 20)


def _demo_workspace(schema: str) -> Workspace:
    from bigov.demo import generate

    assert URL
    ws = Workspace.open(URL, schema=schema)
    generate(ws, scale="small", seed=7, as_of=AS_OF)
    return ws


@pytest.fixture
def schemas() -> Iterator[list[str]]:
    if not URL:
        pytest.skip("BIGOV_TEST_POSTGRES_URL is not set")
    made: list[str] = []
    yield made
    ws = Workspace.open(URL, migrate_schema=False)
    try:
        with ws.engine.begin() as conn:
            for schema in made:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        ws.close()


def _new(schemas: list[str]) -> str:
    schemas.append(f"t_{secrets.token_hex(6)}")
    return schemas[-1]


def _worker(ws: Workspace, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bigov.cli", "worker", "--no-schedule", "--stalled-after", "3"]
    args += ["--db", ws.describe(hide_password=False)]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with log.open("ab") as err:  # the child keeps its own handle
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, env=env)


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _workers_ready(ws: Workspace, n: int) -> None:
    for _ in range(600):
        with ws.session() as s:
            if s.scalar(text("SELECT count(*) FROM procrastinate_workers")) >= n:
                return
        time.sleep(0.1)
    raise AssertionError(f"{n} workers did not start")


def _wait(ws: Workspace, job_id: int, *, until: int | None = None, timeout: float = 600) -> None:
    """Until the job has finished (or ``until`` of its parts have succeeded)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = ws.jobs.show(job_id)
        if until is not None and job.children.get("succeeded", 0) >= until:
            return
        if job.state in ("succeeded", "failed", "cancelled"):
            return
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} still {ws.jobs.show(job_id)}")


def _documents(ws: Workspace) -> dict[str, str]:
    with ws.session() as s:
        rows = s.execute(
            select(Cycle.code, CycleSnapshot.document).join(
                CycleSnapshot, CycleSnapshot.cycle_id == Cycle.id
            )
        ).all()
    return {code: canonical_json(doc) for code, doc in rows}


def _packs(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _check_month(ws: Workspace, month_id: int) -> list[str]:
    """The month succeeded, each due node ran exactly once; returns the nodes."""
    month = ws.jobs.show(month_id)
    parts = ws.jobs.list(parent=month_id, limit=1000)
    failed = [ws.jobs.show(p.id) for p in parts if p.state != "succeeded"]
    assert month.state == "succeeded", [(f.args, f.error, f.log[-2000:]) for f in failed]
    nodes = [ws.jobs.show(p.id).args["node"] for p in parts]
    assert len(nodes) == len(set(nodes)) == month.result["nodes"] if month.result else False
    assert {p.state for p in parts} == {"succeeded"}
    with ws.session() as s:
        cycles = s.execute(select(Cycle.code, Cycle.version, Cycle.status)).all()
    assert sorted(c.code.split("/")[0] for c in cycles) == sorted(nodes)
    assert {(c.version, c.status) for c in cycles} == {(1, CycleStatus.PUBLISHED)}
    # a job that ran its cycle says so; one redelivered after its worker died may have found
    # the work done — but no node's cycle was computed by two jobs' final runs
    ran = [p for p in parts if p.result and p.result.get("ran")]
    assert len({ws.jobs.show(p.id).args["node"] for p in ran}) == len(ran)
    return nodes


@pytest.mark.slow  # worker processes over a month of cycles: `make test-all`
def test_two_workers_run_a_month_once_and_as_one_process_would(
    schemas: list[str], tmp_path: Path
) -> None:
    ws = _demo_workspace(_new(schemas))
    single = _demo_workspace(_new(schemas))
    log = tmp_path / "workers.log"
    workers = [_worker(ws, log), _worker(ws, log)]
    try:
        _workers_ready(ws, 2)
        args = {"period": PERIOD, "out_dir": str(tmp_path / "two"), "formats": ["html"]}
        month = ws.jobs.submit("cycle.month", args, started_by="pmo@example.org")
        assert month.state == "queued"
        _wait(ws, month.id)
    finally:
        _stop(*workers)
    errors = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in errors, errors[-3000:]
    nodes = _check_month(ws, month.id)
    assert len(nodes) > 20
    parts = ws.jobs.list(parent=month.id, limit=1000)
    assert len({p.worker for p in parts}) == 2  # both workers took a share

    single.governance.run_all(PERIOD, out_dir=tmp_path / "one", formats=("html",))
    assert _documents(ws) == _documents(single)
    assert _packs(tmp_path / "two") == _packs(tmp_path / "one")
    # asking for the month again returns the same job and runs nothing
    assert ws.jobs.submit("cycle.month", args, started_by="someone").id == month.id
    ws.close()
    single.close()


@pytest.mark.slow  # worker processes over a month of cycles: `make test-all`
def test_a_worker_killed_mid_month_leaves_it_to_finish_once_restarted(
    schemas: list[str], tmp_path: Path
) -> None:
    ws = _demo_workspace(_new(schemas))
    log = tmp_path / "workers.log"
    first, second = _worker(ws, log), _worker(ws, log)
    third: subprocess.Popen[bytes] | None = None
    try:
        _workers_ready(ws, 2)
        args = {"period": PERIOD, "out_dir": str(tmp_path / "packs"), "formats": ["html"]}
        month = ws.jobs.submit("cycle.month", args, started_by="pmo@example.org")
        _wait(ws, month.id, until=6)
        first.send_signal(signal.SIGKILL)
        first.wait()
        # the killed worker's node is taken over once a live worker notices (3 s without a
        # heartbeat); start a replacement as an operator would
        third = _worker(ws, log)
        _wait(ws, month.id)
    finally:
        _stop(*(p for p in (first, second, third) if p is not None))
    nodes = _check_month(ws, month.id)
    packs = sorted(p.name for p in (tmp_path / "packs").iterdir())
    assert packs == sorted(f"{n}_{PERIOD}_v1.html" for n in nodes)
    ws.close()
