"""What a running job sees: the workspace, its arguments, a reporter that records progress on
the job's row (and notices a cancel request), and a log."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from bigov.jobs.models import Job, JobState
from bigov.progress import SILENT, Reporter

if TYPE_CHECKING:
    from bigov.workspace import Workspace

# a job's log keeps its last lines; a runaway loop must not grow a row without bound
LOG_LIMIT = 64_000
# progress is written at most this often (seconds): a cycle of 900 nodes advances 900 times
FLUSH_EVERY = 0.5


class JobCancelled(Exception):  # noqa: N818 - a signal, not an error: the user asked for it
    """Raised inside a job when its cancellation was asked for; the job's transaction in
    progress rolls back, and the job ends ``cancelled``."""


@dataclass
class Child:
    """A job a job plans (one node of a month): run in ``stage`` order, lowest stage first."""

    kind: str
    args: dict[str, Any]
    stage: int = 0
    dedupe_key: str | None = None


class JobReporter:
    """A :class:`~bigov.progress.Reporter` that stores progress and notes on the job's row."""

    def __init__(
        self, ws: Workspace, job_id: int, *, persist: bool = True, echo: Reporter = SILENT
    ) -> None:
        self.ws = ws
        self.job_id = job_id
        # on SQLite the job runs in the submitting process, whose own open transaction holds
        # the one write lock: progress then stays in memory (and on ``echo``, the CLI's bar)
        # and is stored when the job ends
        self.persist = persist
        self.echo = echo
        self.task: str | None = None
        self.done = 0
        self.total: int | None = None
        self.lines: list[str] = []
        self._written = 0.0

    def start(self, task: str, total: int | None = None) -> None:
        self.task, self.done, self.total = task, 0, total
        self.echo.start(task, total)
        self.lines.append(f"{_now()} {task}" + (f" (0/{total})" if total is not None else ""))
        self.flush()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        self.echo.advance(steps)
        if time.monotonic() - self._written >= FLUSH_EVERY:
            self.flush()

    def note(self, message: str) -> None:
        self.lines.append(f"{_now()} {message}")
        self.echo.note(message)
        self.flush()

    def finish(self) -> None:
        if self.task is not None:
            self.lines.append(
                f"{_now()} {self.task} done"
                + (f" ({self.done}/{self.total})" if self.total is not None else "")
            )
        self.echo.finish()
        self.flush()

    def log_text(self) -> str:
        text = "\n".join(self.lines)
        return text[-LOG_LIMIT:]

    def flush(self) -> None:
        """Write progress and log; raise :class:`JobCancelled` when a cancel was asked for."""
        self._written = time.monotonic()
        if not self.persist:
            return
        with self.ws.session() as s:
            s.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(
                    progress_task=(self.task or "")[:255] or None,
                    progress_done=self.done,
                    progress_total=self.total,
                    log=self.log_text(),
                )
            )
            cancel = s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        if cancel:
            raise JobCancelled(f"job {self.job_id} cancelled")


@dataclass
class JobContext:
    """Handed to a kind's function."""

    ws: Workspace
    job_id: int
    started_by: str
    reporter: JobReporter
    parent_id: int | None = None
    children: list[Child] = field(default_factory=list)

    def log(self, message: str) -> None:
        """A line in the job's log (kept with the job, shown by ``bigov jobs show``)."""
        self.reporter.note(message)

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if the job's cancellation was asked for."""
        self.reporter.flush()

    def plan(self, children: list[Child]) -> None:
        """Split the job into ``children``: this job ends when the last of them has, stage by
        stage (every job of stage N finishes before any of stage N+1 starts)."""
        self.children.extend(children)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["Child", "JobCancelled", "JobContext", "JobReporter", "JobState"]
