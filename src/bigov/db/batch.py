"""Import batches: the provenance every written row points back to."""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import AuditMixin, Base, utcnow


def current_user() -> str:
    """The operating-system user, for a batch's provenance when no ``--user`` is given."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return "unknown"


class ImportBatch(AuditMixin, Base):
    """One load from one master source: who, when, which file (and its hash), and row counts.

    ``status`` is ``running`` while the batch is open, then ``committed`` or ``rejected``; a
    rejected batch keeps its record (and error summary) but wrote nothing else.
    """

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    source: Mapped[str] = mapped_column(String(64))  # importer name, e.g. "tabular", "mpxj", "demo"
    kind: Mapped[str | None] = mapped_column(String(64), nullable=True)  # entity kind(s) loaded
    file_name: Mapped[str | None] = mapped_column(String(512), nullable=True)
    file_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    # {"inserted": n, "updated": n, "unchanged": n, "rejected": n} and any importer specifics
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class BatchChange(Base):
    """What an import batch replaced: the stored row as it was before the batch updated it (one
    row per updated row, ``before`` holding every column but ``id``, as JSON). Rows a batch
    inserted are not listed: they carry the batch's id. ``bigov batches revert`` restores these
    and deletes the inserted rows when nothing later depends on them.

    ``prior_batch_id`` is the batch that had written the row before (so a revert of that batch
    sees that a later one changed its row)."""

    __tablename__ = "batch_change"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    batch_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("import_batch.id", ondelete="CASCADE"),
        index=True,
    )
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    prior_batch_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True, index=True
    )
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
