"""The raw observation store: append-only Parquet files, one per import batch.

Why files and not a SQL table: a year of hourly data from a thousand teams is ten million rows per
load; writing them as compressed columnar Parquet costs a fraction of a second, while inserting them
into SQLite or PostgreSQL row by row would dominate the load. Parquet is also what a distributed SQL
engine (DuckDB, Trino, Spark) reads directly, so the store can be taken over without conversion.

Layout: ``<root>/raw/batch-<id>.parquet`` with columns ``series_id, ts (UTC), value`` and
``weight`` when the load had weights (1 otherwise); the batch is the number in the file name
(files of earlier versions also carry it, and the weight, as columns — readers take both).
Constant columns cost ~15% of writing ten million rows.

The root is ``<sqlite file>.metrics/`` beside an SQLite workspace; for PostgreSQL it is the
``metrics_store_dir`` setting or ``$BIGOV_METRICS_STORE`` (a shared folder every app process can
read). Files are written under a temporary name and renamed once complete; the
``metric_raw_file`` catalogue row, committed with the aggregates, is what makes a file part of
the store, so an interrupted load leaves at most an orphan file that nothing reads.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import Connection, and_, select

from bigov.errors import ConfigError
from bigov.metrics.models import MetricRawFile

STORE_ENV = "BIGOV_METRICS_STORE"


class RawStore:
    """The folder of raw observation files for one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_database(cls, sqlite_path: Path | None, configured: str | None = None) -> RawStore:
        """The store of a workspace: explicit setting, else environment, else beside SQLite.

        Raises:
            ConfigError: PostgreSQL (or in-memory SQLite) with no store folder configured.
        """
        chosen = configured or os.environ.get(STORE_ENV)
        if chosen:
            return cls(Path(chosen).expanduser().resolve())
        if sqlite_path is None:
            raise ConfigError(
                "no folder for raw metric observations",
                hint=f"set the workspace setting metrics_store_dir or ${STORE_ENV}",
            )
        return cls(sqlite_path.with_name(sqlite_path.name + ".metrics"))

    @property
    def temp_dir(self) -> Path:
        """Scratch space for the engine (DuckDB spills here beyond its memory limit)."""
        return self.root / "tmp"

    def relative_path(self, batch_id: int) -> str:
        """Where batch ``batch_id``'s rows live, relative to the root."""
        return f"raw/batch-{int(batch_id):08d}.parquet"

    def staging_path(self, batch_id: int) -> Path:
        """Temporary name while the batch's file is being written."""
        return self.root / f"raw/.batch-{int(batch_id):08d}.parquet.part"

    def publish(self, batch_id: int) -> Path:
        """Rename the finished staging file to its final name (atomic on one filesystem)."""
        final = self.root / self.relative_path(batch_id)
        os.replace(self.staging_path(batch_id), final)
        return final

    def discard(self, batch_id: int) -> None:
        """Remove the staging and final files of a batch that did not commit."""
        for path in (self.staging_path(batch_id), self.root / self.relative_path(batch_id)):
            path.unlink(missing_ok=True)

    def overlapping(
        self,
        conn: Connection,
        *,
        min_ts: dt.datetime,
        max_ts: dt.datetime,
        min_series_id: int,
        max_series_id: int,
    ) -> list[tuple[Path, dt.datetime]]:
        """Catalogued files whose time and series ranges can overlap the given ranges (by
        the catalogue's min/max; the engine filters rows exactly), each with its latest row's
        time."""
        t = MetricRawFile.__table__
        rows = conn.execute(
            select(t.c.path, t.c.max_ts).where(
                and_(
                    t.c.min_ts <= max_ts,
                    t.c.max_ts >= min_ts,
                    t.c.min_series_id <= max_series_id,
                    t.c.max_series_id >= min_series_id,
                )
            )
        ).all()
        return [(self.root / p, end) for p, end in rows]

    def all_files(self, conn: Connection) -> list[Path]:
        """Every catalogued raw file."""
        t = MetricRawFile.__table__
        return [self.root / p for p in conn.execute(select(t.c.path)).scalars()]


__all__ = ["STORE_ENV", "RawStore"]
