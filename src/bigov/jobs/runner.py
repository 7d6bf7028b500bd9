"""Running one job, whichever engine delivered it, and moving a split job on to its next stage.

What callers may rely on:

* A job runs at most once at a time: on PostgreSQL the runner holds an advisory lock keyed by
  the job for as long as it runs (released by the server when a killed worker's connection
  drops), so a duplicate delivery finds it taken and returns at once.
* A delivery of a finished job does nothing; a delivery of a ``running`` job whose lock is free
  (its worker died) runs it again: kinds are written to be safe to run twice.
* Stages: the jobs a job is split into run stage by stage; the next stage is queued, by exactly
  one of the workers finishing the last job of a stage, under a row lock on the parent.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from bigov.errors import BigovError
from bigov.jobs.context import Child, JobCancelled, JobContext, JobReporter
from bigov.jobs.models import FINISHED, Job, JobState
from bigov.jobs.registry import get_kind
from bigov.progress import SILENT, Reporter

if TYPE_CHECKING:
    from bigov.workspace import Workspace

# advisory lock class of bigov jobs ('bgov'), so the lock space is shared with nobody else
LOCK_CLASS = 0x62676F76


class Enqueuer(Protocol):
    """What the runner needs of an engine: hand queued jobs to it."""

    def enqueue(self, job_ids: Sequence[int]) -> None: ...


class TransientError(Exception):
    """The database went away mid-job: the engine should deliver the job again."""


def execute(
    ws: Workspace,
    job_id: int,
    engine: Enqueuer,
    *,
    worker: str | None = None,
    echo: Reporter = SILENT,
) -> str | None:
    """Run job ``job_id`` if it is queued (or its previous runner died); returns the state it
    ended in, or None when there was nothing to do (finished, waiting, or running elsewhere).

    Raises:
        TransientError: the database connection failed; nothing was recorded, deliver again.
    """
    with _exclusive(ws, job_id) as mine:
        if not mine:
            return None
        claimed = _claim(ws, job_id, worker)
        if claimed is None:
            return None
        kind_name, args, started_by, cancel, parent_id = claimed
        reporter = JobReporter(ws, job_id, persist=ws.backend == "postgresql", echo=echo)
        ctx = JobContext(
            ws=ws, job_id=job_id, started_by=started_by, reporter=reporter, parent_id=parent_id
        )
        result: dict[str, Any] | None = None
        error: str | None = None
        state = JobState.SUCCEEDED
        capture = _JobLog(reporter)
        logging.getLogger("bigov").addHandler(capture)
        try:
            if cancel:
                raise JobCancelled(f"job {job_id} cancelled before it started")
            kind = get_kind(kind_name)
            result = kind.run(ctx, dict(args))
        except JobCancelled:
            state = JobState.CANCELLED
            reporter.lines.append("cancelled")
        except BigovError as exc:
            state, error = JobState.FAILED, str(exc)
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise TransientError(str(exc).splitlines()[0]) from exc
            state, error = JobState.FAILED, _bug(exc, reporter)
        except Exception as exc:  # a bug: recorded with its trace, the worker goes on
            state, error = JobState.FAILED, _bug(exc, reporter)
        finally:
            logging.getLogger("bigov").removeHandler(capture)
        split = state == JobState.SUCCEEDED and bool(ctx.children)
        _record(ws, job_id, state, result, error, reporter, ctx.children if split else [])
    follow = advance(ws, job_id) if split else []
    if parent_id is not None:
        follow += advance(ws, parent_id)
    if follow:
        engine.enqueue(follow)
    return _state_of(ws, job_id)


class _JobLog(logging.Handler):
    """Lines that bigov's loggers write while a job runs, in this thread, go to the job's log."""

    def __init__(self, reporter: JobReporter) -> None:
        super().__init__(logging.INFO)
        self.reporter = reporter
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.reporter.lines.append(
                f"{record.levelname.lower()} {record.name}: {record.getMessage()}"
            )


def _bug(exc: BaseException, reporter: JobReporter) -> str:
    reporter.lines.append("".join(traceback.format_exception(exc)).rstrip())
    return f"{type(exc).__name__}: {exc}"


@contextmanager
def _exclusive(ws: Workspace, job_id: int) -> Iterator[bool]:
    """True while this process alone runs the job (always true on SQLite: in-process)."""
    if ws.backend != "postgresql":
        yield True
        return
    # autocommit: the lock is a session lock held by an idle connection, not an open transaction
    with ws.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        got = bool(conn.scalar(select(func.pg_try_advisory_lock(LOCK_CLASS, job_id & 0x7FFFFFFF))))
        try:
            yield got
        finally:
            if got:
                conn.scalar(select(func.pg_advisory_unlock(LOCK_CLASS, job_id & 0x7FFFFFFF)))


def lock_is_free(ws: Workspace, job_id: int) -> bool:
    """Whether no live process is running the job (PostgreSQL)."""
    with _exclusive(ws, job_id) as got:
        return got


def _claim(
    ws: Workspace, job_id: int, worker: str | None
) -> tuple[str, dict[str, Any], str, bool, int | None] | None:
    with ws.session() as s:
        row = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
            .values(
                state=JobState.RUNNING,
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, dt.datetime.now(dt.UTC)),
                worker=(worker or "in-process")[:255],
            )
            .returning(Job.kind, Job.args, Job.started_by, Job.cancel_requested, Job.parent_id)
        ).first()
    if row is None:
        return None
    return row[0], dict(row[1] or {}), row[2], bool(row[3]), row[4]


def _record(
    ws: Workspace,
    job_id: int,
    state: JobState,
    result: dict[str, Any] | None,
    error: str | None,
    reporter: JobReporter,
    children: list[Child],
) -> None:
    """Store how the job ended; a split job stays ``running`` with its children planned (once:
    a job run again after its worker died finds them and adds none)."""
    with ws.session() as s:
        values: dict[str, Any] = {
            "result": result,
            "error": error,
            "log": reporter.log_text(),
            "progress_task": (reporter.task or "")[:255] or None,
            "progress_done": reporter.done,
            "progress_total": reporter.total,
        }
        if children:
            job = s.scalar(select(Job).where(Job.id == job_id).with_for_update())
            assert job is not None
            if s.scalar(select(func.count()).where(Job.parent_id == job_id)) == 0:
                s.execute(
                    insert(Job),
                    [
                        {
                            "kind": c.kind,
                            "args": c.args,
                            "dedupe_key": c.dedupe_key,
                            "state": JobState.WAITING,
                            "started_by": job.started_by,
                            "parent_id": job_id,
                            "stage": c.stage,
                            "queue": get_kind(c.kind).queue,
                            "log": "",
                        }
                        for c in children
                    ],
                )
        else:
            values["state"] = state
            values["finished_at"] = dt.datetime.now(dt.UTC)
            if state != JobState.SUCCEEDED:
                values["dedupe_key"] = None  # the work may be asked for afresh
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def advance(ws: Workspace, parent_id: int) -> list[int]:
    """Move a split job on: queue its next stage once every job of the current one has
    finished, or close it when none is left. Returns the ids to hand to the engine."""
    with ws.session() as s:
        parent = s.scalar(select(Job).where(Job.id == parent_id).with_for_update())
        if parent is None or parent.state in FINISHED:
            return []
        counts = s.execute(
            select(Job.stage, Job.state, func.count())
            .where(Job.parent_id == parent_id)
            .group_by(Job.stage, Job.state)
        ).all()
        if any(state in (JobState.QUEUED, JobState.RUNNING) for _, state, _ in counts):
            return []
        waiting = sorted(stage for stage, state, _ in counts if state == JobState.WAITING)
        if waiting and not parent.cancel_requested:
            return list(
                s.scalars(
                    update(Job)
                    .where(
                        Job.parent_id == parent_id,
                        Job.stage == waiting[0],
                        Job.state == JobState.WAITING,
                    )
                    .values(state=JobState.QUEUED)
                    .returning(Job.id)
                )
            )
        if waiting:  # cancelled: what never started is cancelled too
            s.execute(
                update(Job)
                .where(Job.parent_id == parent_id, Job.state == JobState.WAITING)
                .values(state=JobState.CANCELLED, finished_at=dt.datetime.now(dt.UTC))
            )
        totals: dict[str, int] = {}
        for _, state, n in s.execute(
            select(Job.stage, Job.state, func.count())
            .where(Job.parent_id == parent_id)
            .group_by(Job.stage, Job.state)
        ).all():
            totals[str(state)] = totals.get(str(state), 0) + int(n)
        failed = totals.get(JobState.FAILED.value, 0)
        cancelled = totals.get(JobState.CANCELLED.value, 0)
        if parent.cancel_requested:
            parent.state = JobState.CANCELLED
        elif failed or cancelled:
            parent.state = JobState.FAILED
            parent.error = f"{failed} failed and {cancelled} cancelled of {sum(totals.values())}"
            parent.dedupe_key = None
        else:
            parent.state = JobState.SUCCEEDED
        parent.result = {**(parent.result or {}), "children": totals}
        parent.finished_at = dt.datetime.now(dt.UTC)
        grand = parent.parent_id
    return advance(ws, grand) if grand is not None else []


def _state_of(ws: Workspace, job_id: int) -> str | None:
    with ws.session() as s:
        state = s.scalar(select(Job.state).where(Job.id == job_id))
    return state.value if state is not None else None


__all__ = ["LOCK_CLASS", "Enqueuer", "TransientError", "advance", "execute", "lock_is_free"]
