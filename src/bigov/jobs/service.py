"""The jobs facade: submit, list, show, cancel. Every method takes its own unit of work.

Scope: ``visible_to`` (an email) limits what a caller sees to the jobs that person started, in
the query itself; admin and PMO callers pass None and see every job."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bigov.errors import ConfigError, ConflictError, NotFoundError
from bigov.jobs.models import FINISHED, Job, JobState
from bigov.jobs.registry import get_kind, load_kinds
from bigov.jobs.schemas import JobDetail, JobProgress, JobView
from bigov.progress import SILENT, Reporter

if TYPE_CHECKING:
    from bigov.jobs.engine import JobEngine
    from bigov.workspace import Workspace

ARGS_LIMIT = 16_000  # bytes of JSON: arguments name work (paths, codes), they never carry data


class JobService:
    """Background jobs of a workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def engine(self, echo: Reporter = SILENT) -> JobEngine:
        from bigov.jobs.engine import engine_for

        return engine_for(self.ws, echo)

    # -- commands ----------------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        args: dict[str, Any] | None = None,
        *,
        started_by: str,
        echo: Reporter = SILENT,
    ) -> JobDetail:
        """Submit a job of ``kind``. The same work asked for while an earlier job for it is
        queued, running or done (its kind's dedupe key) returns that job instead of a new one.
        On SQLite the job runs now, in this process, and has finished when this returns.

        Raises:
            ConfigError: unknown kind, or arguments that are not a small JSON object.
        """
        spec = get_kind(kind)
        args = dict(args or {})
        try:
            encoded = json.dumps(args, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"job arguments must be JSON: {exc}") from exc
        if len(encoded) > ARGS_LIMIT:
            raise ConfigError(f"job arguments are {len(encoded)} bytes; at most {ARGS_LIMIT}")
        key = spec.dedupe(args) if spec.dedupe else None
        job_id: int | None = None
        try:
            with self.ws.session() as s:
                job = Job(
                    kind=kind,
                    args=args,
                    dedupe_key=key,
                    state=JobState.QUEUED,
                    started_by=started_by[:255],
                    queue=spec.queue,
                    log="",
                )
                s.add(job)
                s.flush()
                job_id = job.id
        except IntegrityError:
            if key is None:
                raise
            with self.ws.session() as s:
                existing = s.scalar(select(Job.id).where(Job.dedupe_key == key))
            if existing is None:  # the other job failed meanwhile and let the key go
                return self.submit(kind, args, started_by=started_by, echo=echo)
            return self.show(existing)
        self.engine(echo).enqueue([job_id])
        return self.show(job_id)

    def cancel(
        self,
        job_id: int,
        *,
        visible_to: str | None = None,
        on_write: Callable[[Session, dict[str, Any], dict[str, Any]], None] | None = None,
    ) -> JobView:
        """Cancel a job: one not started ends at once; a running one stops at its next progress
        report, its transaction in progress rolled back; a split job cancels what it has not
        started yet. Returns the job as it now stands. ``on_write`` is called in the same
        transaction with the job's state before and after (the server's audit trail).

        Raises:
            NotFoundError: no such job (or not the caller's).
            ConflictError: the job has finished.
        """
        forget: list[int] = []
        with self.ws.session() as s:
            job = s.scalar(
                _scoped(select(Job).where(Job.id == job_id), visible_to).with_for_update()
            )
            if job is None:
                raise NotFoundError(f"no job {job_id}")
            if job.state in FINISHED:
                raise ConflictError(f"job {job_id} has already {job.state.value}")
            before = {"state": job.state.value, "cancel_requested": job.cancel_requested}
            job.cancel_requested = True
            ids = [job.id]
            if job.state in (JobState.QUEUED, JobState.WAITING):
                job.state = JobState.CANCELLED
                job.finished_at = dt.datetime.now(dt.UTC)
                job.dedupe_key = None
                if job.engine_id is not None:
                    forget.append(job.engine_id)
            children = s.execute(
                select(Job.id, Job.engine_id).where(
                    Job.parent_id == job_id,
                    Job.state.in_([JobState.QUEUED, JobState.WAITING]),
                )
            ).all()
            ids += [c.id for c in children]
            forget += [c.engine_id for c in children if c.engine_id is not None]
            s.execute(
                update(Job)
                .where(Job.parent_id == job_id, Job.state.not_in(list(FINISHED)))
                .values(cancel_requested=True)
            )
            s.execute(
                update(Job)
                .where(
                    Job.id.in_([c.id for c in children]),
                    Job.state.in_([JobState.QUEUED, JobState.WAITING]),
                )
                .values(state=JobState.CANCELLED, dedupe_key=None)
            )
            if on_write is not None:
                on_write(s, before, {"state": job.state.value, "cancel_requested": True})
        if forget:
            self.engine().forget(forget)
        from bigov.jobs.runner import advance

        follow = advance(self.ws, job_id)
        if follow:
            self.engine().enqueue(follow)
        return self.show(job_id, visible_to=visible_to)

    # -- queries -----------------------------------------------------------------------------
    def list(
        self,
        *,
        state: str | None = None,
        kind: str | None = None,
        parent: int | None = None,
        top_level: bool = False,
        visible_to: str | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> list[JobView]:
        """Jobs, newest first, optionally filtered; ``before`` pages by id."""
        q = select(Job).order_by(Job.id.desc()).limit(limit)
        if state:
            try:
                q = q.where(Job.state == JobState(state))
            except ValueError as exc:
                raise ConfigError(
                    f"unknown job state {state!r}; choose from "
                    + ", ".join(s.value for s in JobState)
                ) from exc
        if kind:
            q = q.where(Job.kind == kind)
        if parent is not None:
            q = q.where(Job.parent_id == parent)
        elif top_level:
            q = q.where(Job.parent_id.is_(None))
        if before is not None:
            q = q.where(Job.id < before)
        with self.ws.session() as s:
            jobs = list(s.scalars(_scoped(q, visible_to)))
            counts = _child_counts(s, [j.id for j in jobs])
            return [_view(j, counts.get(j.id, {})) for j in jobs]

    def show(self, job_id: int, *, visible_to: str | None = None) -> JobDetail:
        """One job with its arguments and log.

        Raises:
            NotFoundError: no such job (or not the caller's).
        """
        with self.ws.session() as s:
            job = s.scalar(_scoped(select(Job).where(Job.id == job_id), visible_to))
            if job is None:
                raise NotFoundError(f"no job {job_id}", hint="see bigov jobs list")
            counts = _child_counts(s, [job.id]).get(job.id, {})
            return JobDetail(
                **_view(job, counts).model_dump(), args=dict(job.args or {}), log=job.log or ""
            )

    def kinds(self) -> dict[str, str]:
        """Every registered kind and its title."""
        return {name: k.title for name, k in sorted(load_kinds().items())}


def _scoped(q: Select[Any], visible_to: str | None) -> Select[Any]:
    return q if visible_to is None else q.where(Job.started_by == visible_to)


def _child_counts(s: Any, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    if not ids:
        return out
    for parent, state, n in s.execute(
        select(Job.parent_id, Job.state, func.count())
        .where(Job.parent_id.in_(list(ids)))
        .group_by(Job.parent_id, Job.state)
    ):
        out.setdefault(parent, {})[state.value] = int(n)
    return out


def _view(job: Job, children: dict[str, int]) -> JobView:
    try:
        title = get_kind(job.kind).title
    except ConfigError:
        title = job.kind  # a kind of a context this install lacks: still listed
    return JobView(
        id=job.id,
        kind=job.kind,
        title=title,
        state=job.state.value,
        started_by=job.started_by,
        parent_id=job.parent_id,
        stage=job.stage,
        queue=job.queue,
        progress=JobProgress(
            task=job.progress_task, done=job.progress_done, total=job.progress_total
        ),
        result=job.result,
        error=job.error,
        attempts=job.attempts,
        worker=job.worker,
        cancel_requested=job.cancel_requested,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        children=children,
    )


__all__ = ["JobService"]
