"""Jobs through the public service on real databases: a month split into one job per node in
escalation order, done once however often it is asked for, failures that leave nothing
half-written, cancelling, scope, the kind registry and the schedule from cadences."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from bigov.cli import app
from bigov.errors import ConfigError, ConflictError, NotFoundError
from bigov.governance.cycle import canonical_json
from bigov.governance.cycle_models import Cycle, CycleSnapshot, CycleStatus
from bigov.jobs.context import JobContext
from bigov.jobs.engine import InProcessEngine
from bigov.jobs.models import Job, JobState
from bigov.jobs.registry import register
from bigov.jobs.schedule import plan, tick
from bigov.workspace import Workspace
from tests.governance.conftest import build_scenario

PERIOD = "2026-03"
SRC = Path(__file__).resolve().parents[2] / "src"


def _documents(ws: Workspace) -> dict[str, str]:
    with ws.session() as s:
        rows = s.execute(
            select(Cycle.code, CycleSnapshot.document).join(
                CycleSnapshot, CycleSnapshot.cycle_id == Cycle.id
            )
        ).all()
    return {code: canonical_json(doc) for code, doc in rows}


def test_a_month_runs_one_job_per_node_lowest_first_as_run_all_does(tmp_path: Path) -> None:
    jobs_ws = Workspace.open(f"sqlite:///{tmp_path / 'jobs.db'}")
    plain_ws = Workspace.open(f"sqlite:///{tmp_path / 'plain.db'}")
    try:
        for ws in (jobs_ws, plain_ws):
            build_scenario(ws)
        month = jobs_ws.jobs.submit(
            "cycle.month",
            {"period": PERIOD, "out_dir": str(tmp_path / "packs")},
            started_by="pmo@example.org",
        )
        plain_ws.governance.run_all(PERIOD)

        assert month.state == "succeeded", month.error
        assert month.result is not None and month.result["stages"] == 4
        nodes = jobs_ws.jobs.list(parent=month.id, limit=100)
        # MB sits quarterly: March closes the fiscal quarter (April start), so all six are due
        assert sorted(n.state for n in nodes) == ["succeeded"] * 6
        by_node = {jobs_ws.jobs.show(n.id).args["node"]: n for n in nodes}
        assert {c: n.stage for c, n in by_node.items()} == {
            "PB1": 0,
            "PB2": 0,
            "PB3": 0,
            "PG": 1,
            "PF": 2,
            "MB": 3,
        }
        # every job of a stage finished before any job of the next one started
        for lower in nodes:
            for higher in nodes:
                if higher.stage > lower.stage:
                    assert lower.finished_at is not None and higher.started_at is not None
                    assert lower.finished_at <= higher.started_at
        assert _documents(jobs_ws) == _documents(plain_ws)
        assert (tmp_path / "packs" / "MB_2026-03_v1.html").is_file()
        assert month.started_by == "pmo@example.org"
    finally:
        jobs_ws.close()
        plain_ws.close()


def test_the_same_work_asked_for_twice_is_done_once(workspace: Workspace) -> None:
    build_scenario(workspace)
    first = workspace.jobs.submit("cycle.run", {"node": "PB1", "period": PERIOD}, started_by="a")
    InProcessEngine(workspace).enqueue([first.id])  # on PostgreSQL no worker runs in this test
    second = workspace.jobs.submit("cycle.run", {"node": "PB1", "period": PERIOD}, started_by="b")
    InProcessEngine(workspace).enqueue([second.id])
    assert second.id == first.id
    assert workspace.jobs.show(first.id).state == "succeeded"
    with workspace.session() as s:
        assert s.scalar(select(func.count()).select_from(Cycle)) == 1
        assert s.scalar(select(func.count()).select_from(Job)) == 1


def test_a_job_run_again_after_its_work_was_done_does_not_repeat_it(workspace: Workspace) -> None:
    # what a worker killed after the cycle was published, before the job was marked done, leaves
    build_scenario(workspace)
    workspace.governance.run_cycle("PB2", PERIOD)
    job = workspace.jobs.submit("cycle.run", {"node": "PB2", "period": PERIOD}, started_by="a")
    InProcessEngine(workspace).enqueue([job.id])
    done = workspace.jobs.show(job.id)
    assert done.state == "succeeded" and done.result == {"cycle": "PB2/2026-03/v1", "ran": False}
    assert "nothing to do" in done.log
    assert [c["version"] for c in workspace.governance.list_cycles(node="PB2")] == [1]


def test_a_job_failing_part_way_leaves_no_published_cycle(tmp_path: Path) -> None:
    with Workspace.open(f"sqlite:///{tmp_path / 'f.db'}") as ws:
        build_scenario(ws)
        args = {"node": "PB1", "period": PERIOD, "out_dir": str(tmp_path / "p")}
        failed = ws.jobs.submit("cycle.run", {**args, "formats": ["html", "docx"]}, started_by="a")
        assert failed.state == "failed"
        assert failed.error is not None and "'docx'" in failed.error
        assert [c["status"] for c in ws.governance.list_cycles(node="PB1")] in ([], ["draft"])
        # the key of the failed job is let go: the work can be asked for again, and is done
        again = ws.jobs.submit("cycle.run", args, started_by="a")
        assert again.id != failed.id and again.state == "succeeded"
        cycles = ws.governance.list_cycles(node="PB1")
        assert [(c["version"], c["status"]) for c in cycles] == [(1, "published")]


def test_bad_arguments_are_a_failed_job_with_the_reason(tmp_path: Path) -> None:
    with Workspace.open(f"sqlite:///{tmp_path / 'b.db'}") as ws:
        build_scenario(ws)
        job = ws.jobs.submit("cycle.run", {"node": "NOPE", "period": PERIOD}, started_by="a")
        assert job.state == "failed" and job.error == "no governance node with code 'NOPE'"
        job = ws.jobs.submit("cycle.month", {}, started_by="a")
        assert job.state == "failed" and job.error == "job argument(s) missing: period"
        with pytest.raises(ConfigError, match=r"unknown job kind 'cycle\.nope'"):
            ws.jobs.submit("cycle.nope", {}, started_by="a")
        with pytest.raises(ConfigError, match="must be JSON"):
            ws.jobs.submit("cycle.run", {"node": object()}, started_by="a")


@register("test.boom", title="Fails with a bug")
def _boom(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.reporter.start("exploding", total=3)
    ctx.reporter.advance()
    logging.getLogger("bigov.test").warning("about to fail")
    raise RuntimeError("a bug, not bad input")


def test_a_bug_is_recorded_with_its_trace_and_progress(tmp_path: Path) -> None:
    with Workspace.open(f"sqlite:///{tmp_path / 'e.db'}") as ws:
        job = ws.jobs.show(ws.jobs.submit("test.boom", {"x": 1}, started_by="me").id)
        assert job.state == "failed"
        assert job.error == "RuntimeError: a bug, not bad input"
        assert "Traceback" in job.log and "exploding" in job.log
        assert "warning bigov.test: about to fail" in job.log
        assert (job.progress.task, job.progress.done, job.progress.total) == ("exploding", 1, 3)
        assert job.attempts == 1 and job.finished_at is not None


def test_a_kind_name_cannot_be_taken_twice() -> None:
    def other(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
        return {}

    with pytest.raises(ConfigError, match="registered twice"):
        register("test.boom", title="again")(other)
    assert register("test.boom", title="Fails with a bug")(_boom) is _boom


def _queued(ws: Workspace, started_by: str, **kw: Any) -> int:
    with ws.session() as s:
        job = Job(kind="cycle.run", args={}, state=JobState.QUEUED, started_by=started_by, log="")
        for k, v in kw.items():
            setattr(job, k, v)
        s.add(job)
        s.flush()
        return job.id


def test_cancelling_what_has_not_started_and_what_is_split(workspace: Workspace) -> None:
    lone = _queued(workspace, "a")
    parent = _queued(workspace, "a", kind="cycle.month", state=JobState.RUNNING)
    kids = [
        _queued(workspace, "a", parent_id=parent, stage=i, state=state)
        for i, state in enumerate([JobState.SUCCEEDED, JobState.QUEUED, JobState.WAITING])
    ]
    assert workspace.jobs.cancel(lone).state == "cancelled"
    with pytest.raises(ConflictError, match="already cancelled"):
        workspace.jobs.cancel(lone)
    # the parent stays running while its running part may still finish; nothing new starts
    workspace.jobs.cancel(parent)
    states = [workspace.jobs.show(k).state for k in kids]
    assert states == ["succeeded", "cancelled", "cancelled"]
    assert workspace.jobs.show(parent).state == "cancelled"
    with pytest.raises(NotFoundError):
        workspace.jobs.cancel(10_000)


def test_a_caller_sees_only_the_jobs_they_started(workspace: Workspace) -> None:
    mine = _queued(workspace, "me@example.org")
    theirs = _queued(workspace, "them@example.org")
    assert [j.id for j in workspace.jobs.list(visible_to="me@example.org")] == [mine]
    assert [j.id for j in workspace.jobs.list()] == [theirs, mine]
    with pytest.raises(NotFoundError):
        workspace.jobs.show(theirs, visible_to="me@example.org")
    with pytest.raises(NotFoundError):
        workspace.jobs.cancel(theirs, visible_to="me@example.org")
    assert workspace.jobs.show(theirs).state == "queued"
    with pytest.raises(ConfigError, match="unknown job state"):
        workspace.jobs.list(state="sleeping")


@register("test.wait", title="Waits until cancelled")
def _wait(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.reporter.start("waiting")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ctx.reporter.flush()
        time.sleep(0.05)
    return {"waited": True}


@pytest.mark.postgres
def test_a_running_job_stops_at_its_next_progress_report(workspace: Workspace) -> None:
    if workspace.backend != "postgresql":
        pytest.skip("progress is stored while a job runs on PostgreSQL only")
    job = workspace.jobs.submit("test.wait", {}, started_by="a")
    runner = threading.Thread(target=InProcessEngine(workspace).enqueue, args=([job.id],))
    runner.start()
    for _ in range(200):
        if workspace.jobs.show(job.id).state == "running":
            break
        time.sleep(0.05)
    # a second delivery while it runs finds it taken and does nothing
    InProcessEngine(workspace).enqueue([job.id])
    assert workspace.jobs.cancel(job.id).cancel_requested
    runner.join(timeout=30)
    done = workspace.jobs.show(job.id)
    assert done.state == "cancelled" and done.attempts == 1 and done.result is None
    with workspace.session() as s:
        status = s.scalar(
            text("SELECT status FROM procrastinate_jobs WHERE id = :i"), {"i": done.id}
        )
    assert status is None or status in ("todo", "cancelled")


@pytest.mark.postgres
def test_a_job_the_queue_lost_is_queued_again(workspace: Workspace) -> None:
    from bigov.jobs.engine import QueueEngine, lost_jobs, requeue

    if workspace.backend != "postgresql":
        pytest.skip("the queue is procrastinate's, on PostgreSQL")
    job = workspace.jobs.submit("cycle.run", {"node": "X", "period": PERIOD}, started_by="a")
    first = workspace.jobs.show(job.id)
    assert first.state == "queued"
    assert lost_jobs(workspace, 0) == []  # deferred: the queue holds it
    # a submitter killed between recording the job and deferring it leaves this
    with workspace.session() as s:
        s.execute(text("DELETE FROM procrastinate_jobs"))
    time.sleep(0.05)
    assert lost_jobs(workspace, 0) == [job.id]
    assert lost_jobs(workspace, 3600) == []  # not before it has had time to be deferred
    requeue(workspace, QueueEngine(workspace), [job.id])
    with workspace.session() as s:
        todo = s.execute(
            text("SELECT id, args FROM procrastinate_jobs WHERE status = 'todo'")
        ).all()
    assert [row.args for row in todo] == [{"job_id": job.id}]
    assert lost_jobs(workspace, 0) == []


def test_the_schedule_follows_the_cadences_and_a_tick_submits_each_thing_once(
    tmp_path: Path,
) -> None:
    import datetime as dt

    with Workspace.open(f"sqlite:///{tmp_path / 's.db'}") as ws:
        build_scenario(ws)  # every node sits on the 10th
        ws.set_setting("packs_dir", str(tmp_path / "packs"))
        due = plan(ws, dt.date(2026, 4, 1), dt.date(2026, 4, 30))
        readiness = [d for d in due if d.kind == "cycle.readiness"]
        assert {d.args["node"] for d in readiness} == {"MB", "PF", "PG", "PB1", "PB2", "PB3"}
        # Friday 10 April less the default cut-off of 5 working days (as the data calls count)
        assert {(d.on, d.args["period"]) for d in readiness} == {(dt.date(2026, 4, 3), PERIOD)}
        months = [d for d in due if d.kind == "cycle.month"]
        assert [(m.on, m.args["period"]) for m in months] == [(dt.date(2026, 4, 7), PERIOD)]
        assert months[0].args["out_dir"] == str(tmp_path / "packs")
        # May: the quarterly main board does not sit for April
        may = {
            d.args["node"]
            for d in plan(ws, dt.date(2026, 5, 1), dt.date(2026, 5, 31))
            if d.kind == "cycle.readiness"
        }
        assert "MB" not in may and "PB1" in may

        noon = dt.datetime(2026, 4, 7, 12, tzinfo=dt.UTC)
        first = tick(ws, noon)
        assert {j.kind for j in first} == {"cycle.readiness", "cycle.month"}
        assert all(j.state == "succeeded" for j in first), [j.error for j in first]
        again = tick(ws, noon + dt.timedelta(hours=1))
        assert sorted(j.id for j in again) == sorted(j.id for j in first)
        with ws.session() as s:
            assert (
                s.scalar(select(func.count()).select_from(Job).where(Job.parent_id.is_(None))) == 7
            )
            published = s.scalar(
                select(func.count()).select_from(Cycle).where(Cycle.status == CycleStatus.PUBLISHED)
            )
        assert published == 6
        assert (tmp_path / "packs" / "MB_2026-03_v1.pdf").is_file()


def test_the_cli_submits_lists_and_shows_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with Workspace.open(url) as ws:
        build_scenario(ws)
    runner = CliRunner()
    done = runner.invoke(
        app, ["jobs", "submit", "cycle.month", "--arg", f"period={PERIOD}", "--db", url]
    )
    assert done.exit_code == 0, done.output
    assert "job 1: cycle.month succeeded" in done.output
    listed = runner.invoke(app, ["jobs", "list", "--db", url, "--json"])
    assert listed.exit_code == 0
    assert '"kind": "cycle.month"' in listed.output and '"state": "succeeded"' in listed.output
    shown = runner.invoke(app, ["jobs", "show", "1", "--db", url])
    assert shown.exit_code == 0 and "6 succeeded" in shown.output
    kinds = runner.invoke(app, ["jobs", "kinds", "--db", url])
    assert "cycle.month" in kinds.output and "portfolio.frontier" in kinds.output
    bad = runner.invoke(app, ["jobs", "submit", "cycle.run", "--arg", "node", "--db", url])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output
    worker = runner.invoke(app, ["worker", "--db", url])
    assert worker.exit_code == 2 and "workers need PostgreSQL" in worker.output
    missing = runner.invoke(app, ["jobs", "show", "99", "--db", url])
    assert missing.exit_code == 4


def test_the_jobs_cli_imports_no_heavy_library_at_start_up() -> None:
    heavy = [
        "duckdb",
        "pyarrow",
        "polars",
        "numpy",
        "matplotlib",
        "weasyprint",
        "highspy",
        "jpype",
        "procrastinate",
    ]
    code = (
        "import sys, bigov.jobs.cli, bigov.jobs.service, bigov.api.jobs;"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
