"""What an import reports, shared by ``bigov import --json`` and ``POST /api/v1/imports``: the
batch's counts on success, every problem (file, sheet, row, column, value, reason) when the
file is refused."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from bigov.errors import Problem

if TYPE_CHECKING:  # the service pulls in the readers (Polars): the server imports this early
    from bigov.ingest.service import ImportResult


class ImportReport(BaseModel):
    """An import's outcome: ``status`` is committed, rejected or dry-run; ``counts`` by kind
    (inserted / updated / unchanged / rejected) and their ``totals``."""

    batch_id: int | None
    status: str
    source: str
    file_name: str | None
    file_hash: str | None
    user: str | None
    counts: dict[str, dict[str, int]]
    problems: int = 0
    totals: dict[str, int]
    # what the import noticed but did not refuse (a schedule's stated currency, contradicting
    # figures, a resource-only file)
    warnings: list[str] = Field(default_factory=list)
    # workspace settings applied from the NAME.settings.yaml beside the file (CLI imports only)
    settings: dict[str, Any] | None = None

    @classmethod
    def of(cls, result: ImportResult) -> ImportReport:
        return cls(**result.model_dump(), totals=result.totals)


class ImportProblem(BaseModel):
    """One finding of a refused import, located as precisely as the source allows."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    reason: str

    @classmethod
    def of(cls, problem: Problem) -> ImportProblem:
        return cls(
            file=problem.file,
            sheet=problem.sheet,
            row=problem.row,
            column=problem.column,
            value=problem.value,
            reason=problem.reason,
        )


class BatchInfo(BaseModel):
    """One import batch (``bigov batches --json``, ``GET /api/v1/imports``)."""

    id: int
    source: str
    kind: str | None
    file_name: str | None
    file_hash: str | None
    user: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    counts: dict[str, Any]
    message: str | None


__all__ = ["BatchInfo", "ImportProblem", "ImportReport"]
