"""What the job service hands out (CLI, API and pages show these)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class JobProgress(BaseModel):
    task: str | None = None
    done: int = 0
    total: int | None = None


class JobView(BaseModel):
    """One job as listed: no arguments or log (they can be large)."""

    id: int
    kind: str
    title: str
    state: str
    started_by: str
    parent_id: int | None = None
    stage: int = 0
    queue: str = "default"
    progress: JobProgress = Field(default_factory=JobProgress)
    result: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    worker: str | None = None
    cancel_requested: bool = False
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    # state -> number of the jobs it was split into (a month's nodes)
    children: dict[str, int] = Field(default_factory=dict)


class JobDetail(JobView):
    """One job in full."""

    args: dict[str, Any] = Field(default_factory=dict)
    log: str = ""


__all__ = ["JobDetail", "JobProgress", "JobView"]
