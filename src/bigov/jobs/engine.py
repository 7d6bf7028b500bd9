"""The job engines behind one interface: :class:`InProcessEngine` on SQLite (jobs run in the
process that submits them, no extra service) and :class:`QueueEngine` on PostgreSQL
(procrastinate: a queue in the database itself, workers anywhere that reach it).

Both run a job through :func:`bigov.jobs.runner.execute`; the engine only decides where and when.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select, text, update

from bigov.jobs.models import Job, JobState
from bigov.jobs.runner import execute
from bigov.progress import SILENT, Reporter

if TYPE_CHECKING:
    import procrastinate

    from bigov.workspace import Workspace

log = logging.getLogger("bigov.jobs")

RUN_JOB = "bigov.run_job"
TICK = "bigov.tick"
# the schedule is looked at every quarter of an hour; what it finds due is submitted once
TICK_CRON = "*/15 * * * *"


class JobEngine(Protocol):
    """Where queued jobs go."""

    def enqueue(self, job_ids: Sequence[int]) -> None:
        """Hand queued jobs over to be run."""

    def forget(self, engine_ids: Sequence[int]) -> None:
        """Withdraw jobs not yet started (cancelled)."""


class InProcessEngine:
    """Runs jobs in this process, now, one after the other (the embedded SQLite default: one
    writer, no server). A split job's stages run in order as the previous one finishes."""

    def __init__(self, ws: Workspace, echo: Reporter = SILENT) -> None:
        self.ws = ws
        self.echo = echo
        self._pending: deque[int] = deque()
        self._draining = False

    def enqueue(self, job_ids: Sequence[int]) -> None:
        self._pending.extend(job_ids)
        if self._draining:
            return  # the outer call drains them: no recursion however many stages
        self._draining = True
        try:
            while self._pending:
                execute(self.ws, self._pending.popleft(), self, echo=self.echo)
        finally:
            self._draining = False

    def forget(self, engine_ids: Sequence[int]) -> None:
        return None  # nothing waits anywhere: a queued in-process job is already running


class QueueEngine:
    """procrastinate on the workspace's PostgreSQL database: ``enqueue`` defers a
    ``bigov.run_job`` task per job (one queueing lock per job, so a job is never queued twice),
    and ``bigov worker`` processes run them."""

    def __init__(self, ws: Workspace, app: procrastinate.App | None = None) -> None:
        self.ws = ws
        self._app = app
        self._own = app is None

    @property
    def app(self) -> procrastinate.App:
        if self._app is None:
            self._app = build_app(self.ws)
        return self._app

    def enqueue(self, job_ids: Sequence[int]) -> None:
        from procrastinate.exceptions import AlreadyEnqueued

        if not job_ids:
            return
        with self.ws.session() as s:
            queues = dict(s.execute(select(Job.id, Job.queue).where(Job.id.in_(job_ids))).all())
        opened = self._open()
        try:
            for job_id in job_ids:
                task = self.app.configure_task(
                    RUN_JOB, queue=queues.get(job_id, "default"), queueing_lock=f"job-{job_id}"
                )
                try:
                    engine_id = task.defer(job_id=job_id)
                except AlreadyEnqueued:
                    continue  # queued and not started yet: once is enough
                with self.ws.session() as s:
                    s.execute(update(Job).where(Job.id == job_id).values(engine_id=engine_id))
        finally:
            if opened:
                self.app.close()

    def forget(self, engine_ids: Sequence[int]) -> None:
        opened = self._open()
        try:
            for engine_id in engine_ids:
                self.app.job_manager.cancel_job_by_id(engine_id, abort=False)
        finally:
            if opened:
                self.app.close()

    def _open(self) -> bool:
        """Open the app for a synchronous caller (CLI, server); in a worker it is open."""
        if not self._own:
            return False
        self.app.open()
        return True


def connector_args(ws: Workspace) -> dict[str, Any]:
    """psycopg connection arguments for the workspace's database (its schema on the path)."""
    url = ws.url.set(drivername="postgresql")
    args: dict[str, Any] = {"conninfo": url.render_as_string(hide_password=False)}
    if ws.schema:
        args["kwargs"] = {"options": f"-csearch_path={ws.schema}"}
    return args


def build_app(
    ws: Workspace, *, worker: str | None = None, schedule: bool = True
) -> procrastinate.App:
    """The procrastinate app of a workspace with bigov's two tasks: ``bigov.run_job`` (run one
    job; a lost database connection has it delivered again) and ``bigov.tick`` (look at the
    schedule, every quarter of an hour, deferred once per tick whatever the number of workers:
    procrastinate records each periodic defer under a unique key)."""
    import procrastinate
    from procrastinate.retry import RetryStrategy

    from bigov.jobs.runner import TransientError

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(**connector_args(ws), min_size=1, max_size=4)
    )

    def run_job(job_id: int) -> None:
        execute(ws, job_id, QueueEngine(ws, app), worker=worker)

    app.task(
        name=RUN_JOB,
        retry=RetryStrategy(max_attempts=5, wait=2, retry_exceptions={TransientError}),
    )(run_job)

    def tick(timestamp: int) -> None:
        import datetime as dt

        from bigov.jobs.schedule import tick as schedule_tick

        schedule_tick(ws, dt.datetime.fromtimestamp(timestamp, dt.UTC))

    task = app.task(name=TICK, queueing_lock=TICK)(tick)
    if schedule:
        app.periodic(cron=TICK_CRON, periodic_id="schedule")(task)
    return app


def lost_jobs(ws: Workspace, older_than_s: float) -> list[int]:
    """Jobs the queue no longer holds although they are not finished: queued (or running on a
    worker that died) with no ``todo``/``doing`` task — a submitter killed between recording
    the job and deferring it, or a task the engine gave up on. A split job waiting on its
    children is not lost."""
    lost = text(
        """
        SELECT j.id FROM job j
        LEFT JOIN procrastinate_jobs p
          ON p.id = j.engine_id AND p.status IN ('todo', 'doing')
        WHERE j.state IN ('queued', 'running')
          AND p.id IS NULL
          AND j.updated_at < now() - make_interval(secs => :age)
          AND NOT EXISTS (SELECT 1 FROM job c WHERE c.parent_id = j.id)
        ORDER BY j.id
        """
    )
    from bigov.jobs.runner import lock_is_free

    with ws.session() as s:
        ids = [int(i) for i in s.scalars(lost, {"age": older_than_s})]
    return [i for i in ids if lock_is_free(ws, i)]


def requeue(ws: Workspace, engine: JobEngine, job_ids: Sequence[int]) -> None:
    """Queue lost jobs again (their kinds are safe to run twice)."""
    if not job_ids:
        return
    with ws.session() as s:
        s.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
            .values(state=JobState.QUEUED, engine_id=None)
        )
    log.info("re-queued lost jobs %s", ", ".join(map(str, job_ids)))
    engine.enqueue(job_ids)


def engine_for(ws: Workspace, echo: Reporter = SILENT) -> JobEngine:
    """The engine of a workspace's backend."""
    if ws.backend == "postgresql":
        return QueueEngine(ws)
    return InProcessEngine(ws, echo)


__all__ = [
    "RUN_JOB",
    "TICK",
    "InProcessEngine",
    "JobEngine",
    "QueueEngine",
    "build_app",
    "engine_for",
    "lost_jobs",
    "requeue",
]
