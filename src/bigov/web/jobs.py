"""Long jobs started from a page (a month of cycles, an optimisation) run in the background with
their progress shown. The interface is two calls — :meth:`Jobs.submit` and :meth:`Jobs.get` — so
the job engine of :mod:`bigov.jobs` can replace :class:`ThreadJobs` (a thread in the server
process, enough for one process on SQLite) without touching the pages."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bigov.progress import Reporter

JobFn = Callable[[Reporter], str]


@dataclass
class JobState:
    """What the progress fragment shows."""

    id: str
    title: str
    owner: str
    status: str = "queued"  # queued | running | done | failed
    task: str = ""
    done: int = 0
    total: int | None = None
    notes: list[str] = field(default_factory=list)
    result: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def percent(self) -> int | None:
        if self.status == "done":
            return 100
        if not self.total:
            return None
        return min(100, int(100 * self.done / self.total))


class Jobs(Protocol):
    def submit(self, title: str, fn: JobFn, *, owner: str) -> str: ...

    def get(self, job_id: str) -> JobState | None: ...


class _StateReporter:
    def __init__(self, state: JobState) -> None:
        self.state = state

    def start(self, task: str, total: int | None = None) -> None:
        self.state.task, self.state.total, self.state.done = task, total, 0

    def advance(self, steps: int = 1) -> None:
        self.state.done += steps

    def note(self, message: str) -> None:
        self.state.notes = [*self.state.notes[-19:], message]

    def finish(self) -> None:
        if self.state.total:
            self.state.done = self.state.total


class ThreadJobs:
    """One worker thread per job, the last ``keep`` jobs remembered."""

    def __init__(self, keep: int = 50) -> None:
        self._jobs: OrderedDict[str, JobState] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def submit(self, title: str, fn: JobFn, *, owner: str) -> str:
        job = JobState(id=secrets.token_urlsafe(8), title=title, owner=owner)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)

        def run() -> None:
            job.status = "running"
            try:
                job.result = fn(_StateReporter(job))
                job.status = "done"
            except Exception as exc:  # reported on the page; the server carries on
                job.result = str(exc) or type(exc).__name__
                job.status = "failed"
            finally:
                job.finished = time.time()

        threading.Thread(target=run, name=f"bigov-job-{job.id}", daemon=True).start()
        return job.id

    def get(self, job_id: str) -> JobState | None:
        with self._lock:
            return self._jobs.get(job_id)

    def wait(self, job_id: str, timeout: float = 60.0) -> JobState | None:
        """For tests and scripts: block until the job ends (or the timeout passes)."""
        end = time.time() + timeout
        while time.time() < end:
            job = self.get(job_id)
            if job is None or job.status in ("done", "failed"):
                return job
            time.sleep(0.05)
        return self.get(job_id)


__all__ = ["JobFn", "JobState", "Jobs", "ThreadJobs"]
