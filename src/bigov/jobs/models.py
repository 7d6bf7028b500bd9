"""The record of every background job: what kind, who started it, its progress, result or
error, and its log. The queue itself belongs to the job engine (procrastinate's tables on
PostgreSQL, nothing on SQLite); this table is what the CLI, the API and the pages show."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base, enum_type, id_fk


class JobState(enum.StrEnum):
    """``waiting`` jobs are planned but held back until the stage before them is done (a month's
    higher nodes wait for the lower ones); ``queued`` jobs are handed to the engine."""

    WAITING = "waiting"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


class Job(AuditMixin, Base):
    """One job. ``dedupe_key`` makes a second submission of the same work (a cycle of one node
    and month, the same file imported twice) return the first job instead of doing it again;
    it is cleared when a job fails or is cancelled, so the work can be asked for afresh."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(64), index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    state: Mapped[JobState] = mapped_column(enum_type(JobState), index=True)
    started_by: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = id_fk("job.id", ondelete="CASCADE")
    # order within the parent: stage N+1 is queued when every job of stage N has finished
    stage: Mapped[int] = mapped_column(Integer, default=0)
    queue: Mapped[str] = mapped_column(String(64), default="default")
    progress_task: Mapped[str | None] = mapped_column(String(255), nullable=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    log: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # the engine's own id of the job (procrastinate_jobs.id), for cancelling and re-queueing
    engine_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


__all__ = ["FINISHED", "Job", "JobState"]
