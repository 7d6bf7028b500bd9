"""``bigov worker``: processes that run queued jobs (PostgreSQL), on any machine that reaches
the database.

Each process is one procrastinate worker running one job at a time: the work is Python and
CPU-bound, so parallelism comes from processes, not threads (``--concurrency N`` starts N).
Beside the worker, each process runs a janitor that puts back work whose worker died:

* procrastinate's stalled jobs (``doing`` on a worker whose heartbeat stopped) are retried;
* jobs recorded as queued that the queue lost (a submitter killed between recording the job
  and deferring it) are deferred again.

Both are safe when several workers do them at once: a retry of a job that is not stalled any
more is refused by procrastinate, and a job queued twice runs once (the runner's lock and
state check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
from dataclasses import dataclass
from typing import Any

from bigov.errors import ConfigError

log = logging.getLogger("bigov.jobs")


@dataclass(frozen=True)
class WorkerOptions:
    url: str
    queues: tuple[str, ...] = ()
    # a worker silent for this long is taken for dead and its job retried; heartbeats are sent
    # at a third of it
    stalled_after: float = 30.0
    janitor_every: float = 5.0  # at most; never slower than stalled_after
    # tick the schedule from this worker (deduplicated across workers by the engine); off for
    # workers that must only run what they are given (tests, benchmarks)
    schedule: bool = True


def run(options: WorkerOptions, concurrency: int = 1) -> None:
    """Run ``concurrency`` worker processes until SIGINT/SIGTERM (this one when 1).

    Raises:
        ConfigError: the workspace is on SQLite (jobs run in-process there).
    """
    from bigov.workspace import Workspace

    with Workspace.open(options.url) as ws:  # migrate once, here, not racing in N children
        if ws.backend != "postgresql":
            raise ConfigError(
                "workers need PostgreSQL: on SQLite jobs run in the process that submits them",
                hint="bigov jobs submit … runs a job there and then; see docs/deploy.md",
            )
    if concurrency == 1:
        _serve(options, 0)
        return
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_serve, args=(options, i)) for i in range(concurrency)]
    for p in children:
        p.start()

    def forward(signum: int, _frame: object) -> None:
        for p in children:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for p in children:
        p.join()


def _serve(options: WorkerOptions, index: int) -> None:
    """One worker process: procrastinate's worker plus the janitor, until told to stop."""
    from bigov.jobs.engine import build_app
    from bigov.workspace import Workspace

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("bigov.jobs").setLevel(logging.INFO)
    name = f"{socket.gethostname()}:{os.getpid()}"
    ws = Workspace.open(options.url, migrate_schema=False)
    app = build_app(ws, worker=name, schedule=options.schedule)

    settings: dict[str, Any] = {
        "name": name,
        "concurrency": 1,
        "update_heartbeat_interval": max(options.stalled_after / 3, 0.5),
        "stalled_worker_timeout": options.stalled_after,
        "install_signal_handlers": True,
    }
    if options.queues:
        settings["queues"] = list(options.queues)

    async def main() -> None:
        async with app.open_async():
            janitor = asyncio.create_task(_janitor(app, ws, options))
            try:
                await app.run_worker_async(**settings)
            finally:
                janitor.cancel()

    try:
        asyncio.run(main())
    finally:
        ws.close()


async def _janitor(app: object, ws: object, options: WorkerOptions) -> None:
    import procrastinate
    from procrastinate.exceptions import ConnectorException
    from procrastinate.utils import sync_to_async

    from bigov.jobs.engine import QueueEngine, lost_jobs, requeue
    from bigov.workspace import Workspace

    assert isinstance(app, procrastinate.App) and isinstance(ws, Workspace)
    engine = QueueEngine(ws, app)
    while True:
        await asyncio.sleep(min(options.janitor_every, options.stalled_after))
        try:
            for job in await app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=options.stalled_after
            ):
                log.info("retrying job %s of a stalled worker", job.id)
                # another worker's janitor may have retried it first
                with contextlib.suppress(ConnectorException):
                    await app.job_manager.retry_job(job)
            # procrastinate's own bridge: a deferral from that thread reaches this loop's pool
            lost = await sync_to_async(lost_jobs, ws, options.stalled_after)
            if lost:
                await sync_to_async(requeue, ws, engine, lost)
        except asyncio.CancelledError:
            raise
        except Exception:  # the janitor must outlive a passing database error
            log.exception("janitor pass failed")


__all__ = ["WorkerOptions", "run"]
