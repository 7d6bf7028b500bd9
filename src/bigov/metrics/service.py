"""Metrics commands and queries: define measures, load observations, read harmonised values.

Reach it as ``MetricsService(workspace)`` (the workspace facade exposes it as ``ws.metrics``).
Loads are all-or-nothing per batch: validation problems raise
:class:`~bigov.errors.ValidationError` and store nothing but the rejected batch record.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no advisory file locks
    fcntl = None  # type: ignore[assignment]

import yaml
from sqlalchemy import ColumnElement, Connection, Table, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bigov import safeload
from bigov.db.base import utcnow
from bigov.db.batch import ImportBatch, current_user
from bigov.db.settings import Setting
from bigov.errors import ConfigError, NotFoundError, Problem, ValidationError
from bigov.metrics.calendar import (
    FiscalCalendar,
    Frequency,
    Grain,
    base_grain,
    grains_of,
    parse_grain,
)
from bigov.metrics.harmonise import (
    AGG_COLUMNS,
    RECORD_COLUMNS,
    Harmoniser,
    RowsRejectedError,
    StageStats,
    read_records,
)
from bigov.metrics.models import (
    MeasureDirection,
    MetricAggregate,
    MetricMeasure,
    MetricRawFile,
    MetricSeries,
    MetricTarget,
    OrgRollup,
    TimeAggregation,
)
from bigov.metrics.schemas import (
    AttainmentRow,
    CompletenessRow,
    DefinitionsFile,
    LoadResult,
    MeasureSpec,
    PeriodChange,
    PeriodValue,
    RecomputeResult,
)
from bigov.metrics.store import RawStore
from bigov.progress import SILENT, Reporter

if TYPE_CHECKING:
    from bigov.workspace import Workspace

AGG = cast(Table, MetricAggregate.__table__)
SERIES = cast(Table, MetricSeries.__table__)
RAW_FILES = cast(Table, MetricRawFile.__table__)
BATCHES = cast(Table, ImportBatch.__table__)


# How SQLAlchemy's SQLite dialect stores a DateTime (so raw inserts compare equal to its own).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; naive values read back from SQLite are UTC already."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _db_time(value: dt.datetime) -> dt.datetime:
    # SQLite stores the wall time without offset, so every instant is bound as naive UTC there;
    # PostgreSQL gets the same naive-UTC value into timestamptz with the session in UTC terms.
    return _utc(value).replace(tzinfo=None)


def _close_batch(conn: Connection, batch_id: int, now: dt.datetime, counts: dict[str, int]) -> None:
    """Mark an import batch committed, with its counts (in the caller's transaction)."""
    conn.execute(
        update(BATCHES)
        .where(BATCHES.c.id == batch_id)
        .values(status="committed", finished_at=now, counts=counts)
    )


_TOKEN = re.compile(r"[0-9a-f]{32}")


class _LoadLock:
    """An advisory lock file held for the whole of a load or recompute (taken before its batch
    row exists, so a batch marked ``running`` whose lock is free belongs to a dead process)."""

    def __init__(self, folder: Path) -> None:
        self.token = uuid.uuid4().hex
        self.path = folder / f"{self.token}.lock"
        self._fh: IO[str] | None = None

    def __enter__(self) -> _LoadLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="ascii")
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self.path.unlink(missing_ok=True)
            self._fh.close()  # closing releases the lock
            self._fh = None

    @staticmethod
    def held(path: Path) -> bool:
        """True when a live process holds the lock file at ``path``."""
        if fcntl is None:  # pragma: no cover - no advisory locks: never take a batch as dead
            return True
        try:
            fh = path.open("r", encoding="ascii")
        except OSError:
            return False
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False


class _Spill:
    """Aggregates of one load or recompute, waiting in Parquet files (in the store's tmp folder)
    for the single write transaction. Millions of aggregates never exist as one Python list:
    they reach the database a chunk at a time."""

    def __init__(self, folder: Path, batch_id: int) -> None:
        self.folder = folder
        self.batch_id = batch_id
        self.files: list[Path] = []
        self.rows = 0

    def take(self, engine: Harmoniser, *, text_times: bool) -> None:
        """Add what ``engine`` last built."""
        path = self.folder / f"agg-{self.batch_id:08d}-{len(self.files):04d}.parquet"
        self.rows += engine.spill_records(path, text_times=text_times)
        self.files.append(path)

    def chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        """Every record, a chunk at a time, in :data:`RECORD_COLUMNS` order."""
        for path in self.files:
            yield from read_records(path)

    def discard(self) -> None:
        for path in self.files:
            path.unlink(missing_ok=True)
        self.files = []

    def __len__(self) -> int:
        return self.rows


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a load: its bulk rows are acyclic tuples, and a
    full collection over the heap of an application with its libraries imported took 0.1 s in
    the middle of a one-second load, finding nothing. Reference counting still frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class MetricsService:
    """Measures, observations and harmonised period values of one workspace.

    ``store_dir`` overrides where raw observations live (see :mod:`bigov.metrics.store`);
    ``memory_limit`` / ``threads`` bound the engine (DuckDB spills to the store's tmp folder;
    the default limit is :func:`bigov.metrics.harmonise.memory_limit_setting`).
    """

    def __init__(
        self,
        ws: Workspace,
        *,
        store_dir: Path | str | None = None,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.ws = ws
        self._store_dir = str(store_dir) if store_dir is not None else None
        self.memory_limit = memory_limit
        self.threads = threads

    # -- configuration -----------------------------------------------------------------------
    def _setting(self, key: str) -> str | None:
        with self.ws.session() as s:
            row = s.get(Setting, key)
            return row.value if row is not None else None

    def calendar(self) -> FiscalCalendar:
        """The workspace calendar (time zone and fiscal year start settings).

        Aggregates are computed in this calendar; after changing either setting, rebuild them
        with :meth:`recompute` (``bigov metrics recompute``).
        """
        tz = self._setting("timezone") or "Europe/London"
        start = self._setting("fiscal_year_start_month") or "4"
        return FiscalCalendar(tz=tz, fy_start_month=int(start))

    @property
    def store(self) -> RawStore:
        """The raw observation store of this workspace."""
        configured = self._store_dir or self._setting("metrics_store_dir")
        return RawStore.for_database(self.ws.path, configured)

    # -- definitions -------------------------------------------------------------------------
    def define(self, spec: MeasureSpec) -> None:
        """Create or update a measure with its series and targets (matched by code; series by
        measure and org unit; targets by grain, org and period).

        Raises:
            ValidationError: two series of the measure for one org unit (a measure has one
                series per org unit), or a series code that belongs to another measure.
        """
        cal = self.calendar()
        by_org: dict[str, str] = {}
        for ser in spec.series:
            first = by_org.setdefault(ser.org, ser.code)
            if first != ser.code:
                raise ValidationError(
                    f"measure {spec.code}: series {first} and {ser.code} are both for org unit "
                    f"{ser.org} (a measure has one series per org unit)"
                )
        try:
            self._define(spec, cal)
        except IntegrityError as exc:
            # a series stored earlier already measures one of these org units
            raise ValidationError(
                f"measure {spec.code}: an org unit would have two series (a measure has one "
                "series per org unit; give the stored series' code to update it)"
            ) from exc

    def _define(self, spec: MeasureSpec, cal: FiscalCalendar) -> None:
        with self.ws.session() as s:
            measure = s.scalar(select(MetricMeasure).where(MetricMeasure.code == spec.code))
            if measure is None:
                measure = MetricMeasure(code=spec.code)
                s.add(measure)
            measure.name = spec.name
            measure.unit = spec.unit
            measure.owner = spec.owner
            measure.entity_kind = spec.entity_kind
            measure.entity_code = spec.entity_code
            measure.frequency = spec.frequency
            measure.time_aggregation = spec.time_aggregation
            measure.org_rollup = spec.org_rollup
            measure.direction = spec.direction
            measure.grains = ",".join(
                g.value for g in sorted(set(spec.grains), key=list(Grain).index)
            )
            measure.description = spec.description
            s.flush()
            for ser in spec.series:
                row = s.scalar(select(MetricSeries).where(MetricSeries.code == ser.code))
                if row is None:
                    row = MetricSeries(code=ser.code, measure_id=measure.id, org_unit_code=ser.org)
                    s.add(row)
                elif row.measure_id != measure.id:
                    raise ValidationError(
                        f"series {ser.code} already belongs to another measure",
                        [Problem("series code in use", column="series", value=ser.code)],
                    )
                row.org_unit_code = ser.org
                row.name = ser.name
            for tgt in spec.targets:
                period = cal.parse_period(tgt.grain, tgt.period) if tgt.period else None
                cond = [
                    MetricTarget.measure_id == measure.id,
                    MetricTarget.grain == tgt.grain,
                    MetricTarget.org_unit_code.is_(None)
                    if tgt.org is None
                    else MetricTarget.org_unit_code == tgt.org,
                    MetricTarget.period_start.is_(None)
                    if period is None
                    else MetricTarget.period_start == period,
                ]
                target = s.scalar(select(MetricTarget).where(*cond))
                if target is None:
                    target = MetricTarget(
                        measure_id=measure.id,
                        grain=tgt.grain,
                        org_unit_code=tgt.org,
                        period_start=period,
                        target=tgt.value,
                    )
                    s.add(target)
                target.target = tgt.value
                target.green_at = tgt.green_at
                target.red_at = tgt.red_at

    def import_definitions(self, path: Path | str) -> list[str]:
        """Define every measure of a YAML file (``measures: [...]``, see docs/metrics.md);
        returns their codes. All or nothing: a bad file defines nothing.

        Raises:
            ValidationError: the file does not match the definitions schema.
        """
        from pydantic import ValidationError as PydanticError

        file = Path(path)
        try:
            data = safeload.load_yaml(safeload.read_text(file), file.name)
            spec = DefinitionsFile.model_validate(data)
        except (yaml.YAMLError, OSError) as exc:
            raise ValidationError(f"{file.name}: cannot read definitions: {exc}") from exc
        except PydanticError as exc:
            problems = [
                Problem(err["msg"], file=file.name, column=".".join(str(x) for x in err["loc"]))
                for err in exc.errors()
            ]
            raise ValidationError(f"{file.name}: invalid definitions", problems) from exc
        for measure in spec.measures:
            self.define(measure)
        return [m.code for m in spec.measures]

    def _measure(self, s: Session, code: str) -> MetricMeasure:
        measure = s.scalar(select(MetricMeasure).where(MetricMeasure.code == code))
        if measure is None:
            raise NotFoundError(f"no measure {code!r}", hint="see bigov metrics define")
        return measure

    # -- loading -----------------------------------------------------------------------------
    def recover_interrupted(self) -> list[int]:
        """Close what a killed load or recompute left behind; returns the batches closed.

        A running load holds an advisory lock file (``<store>/locks/<token>.lock``) whose
        token its batch records. A ``running`` batch whose lock nobody holds belongs to a process
        that died (``kill -9``, power cut): it is marked ``rejected`` and its staging, raw and
        scratch files are removed (its aggregates were never committed, so nothing else is to
        undo). Staging files of no live batch go too. Loads and recomputes call this first.
        """
        store = self.store
        locks = store.root / "locks"
        stale: list[tuple[int, str | None]] = []
        alive: set[int] = set()
        now = utcnow()
        with self.ws.session() as s:
            running = s.execute(
                select(ImportBatch.id, ImportBatch.counts).where(
                    ImportBatch.source == "metrics", ImportBatch.status == "running"
                )
            ).all()
            for batch_id, counts in running:
                token = (counts or {}).get("lock") if isinstance(counts, dict) else None
                token = token if isinstance(token, str) and _TOKEN.fullmatch(token) else None
                if token is not None and _LoadLock.held(locks / f"{token}.lock"):
                    alive.add(int(batch_id))
                else:
                    stale.append((int(batch_id), token))
            for batch_id, _ in stale:
                s.execute(
                    update(BATCHES)
                    .where(BATCHES.c.id == batch_id, BATCHES.c.status == "running")
                    .values(
                        status="rejected",
                        finished_at=now,
                        counts={"rejected": 0},
                        message="interrupted: the process stopped before the load finished; "
                        "nothing of it was stored (cleaned up by the next metrics command)",
                    )
                )
        for batch_id, token in stale:
            store.discard(batch_id)
            for path in store.temp_dir.glob(f"agg-{batch_id:08d}-*.parquet"):
                path.unlink(missing_ok=True)
            if token is not None:
                (locks / f"{token}.lock").unlink(missing_ok=True)
        raw = store.root / "raw"
        if raw.is_dir():
            for part in raw.glob(".batch-*.parquet.part"):
                number = part.name.removeprefix(".batch-").split(".", 1)[0]
                if not number.isdigit() or int(number) not in alive:
                    part.unlink(missing_ok=True)
        return [batch_id for batch_id, _ in stale]

    def load(
        self,
        source: Any,
        *,
        label: str | None = None,
        grains: Sequence[Grain] | None = None,
        reporter: Reporter = SILENT,
        user: str | None = None,
        report_rows: int | None = None,
    ) -> LoadResult:
        """Load observations (CSV/Parquet/Arrow IPC path, or an Arrow/Polars/pandas frame with
        columns ``series, ts, value[, weight]``) and harmonise them into period aggregates.
        ``report_rows``: on refusal, name up to this many rows of each kind of problem (default:
        the first few), e.g. for an ``--errors`` report.

        Touched periods are recomputed from every raw row of the period, the newest batch
        winning for a repeated (series, ts) — late and corrected data replace, never add. Only
        touched periods are recomputed. ``grains`` overrides the measures' stored grains.
        What an interrupted earlier load left is cleaned up first (:meth:`recover_interrupted`).

        Raises:
            ValidationError: bad rows (counted by kind, first rows shown); nothing is stored.
        """
        if isinstance(source, str | Path):
            safeload.check_size(Path(source), "metrics")
        self.recover_interrupted()
        with _LoadLock(self.store.root / "locks") as lock:
            return self._load(
                source,
                label=label,
                grains=grains,
                reporter=reporter,
                user=user,
                token=lock.token,
                report_rows=report_rows,
            )

    def _load(
        self,
        source: Any,
        *,
        label: str | None,
        grains: Sequence[Grain] | None,
        reporter: Reporter,
        user: str | None,
        token: str,
        report_rows: int | None = None,
    ) -> LoadResult:
        store = self.store
        name = label or (Path(source).name if isinstance(source, str | Path) else "<frame>")
        with self.ws.session() as s:
            batch = ImportBatch(source="metrics", kind="metric_observation", file_name=name)
            # who loaded it, as for data imports: the login name when no user is given
            batch.user = user or current_user()
            batch.counts = {"lock": token}
            s.add(batch)
            s.flush()
            batch_id = batch.id
            _, series_map = self._series_catalogue(s)
        reporter.start(f"load {name}", total=3)
        spill = _Spill(store.temp_dir, batch_id)
        try:
            with _gc_paused(), self._engine() as engine:
                if report_rows is not None:
                    engine.examples_per_kind = max(1, report_rows)
                # one read of the source writes the raw file; one pass over that validates it and
                # aggregates it to the finest grain asked for
                stats = engine.stage(
                    source,
                    series_map,
                    label=name,
                    grain=base_grain(set(grains)) if grains is not None else None,
                    raw_path=store.staging_path(batch_id),
                    batch_id=batch_id,
                )
                reporter.advance()
                groups = engine.present_groups()
                n_series = sum(len(ids) for ids in groups.values())
                present = frozenset().union(*(grains_of(text) for text in groups))
                reporter.advance()
                if grains is not None or len(groups) <= 1:
                    wanted = set(grains) if grains is not None else set(present)
                    recomputed, existing = self._aggregate(
                        engine, wanted, stats, batch_id, merge=grains is None, spill=spill
                    )
                else:
                    # Series of different grains in one file: each set of grains is aggregated
                    # on its own, so every series keeps current aggregates at exactly its own
                    # grains (one computed at another's finer grain would go stale when loaded
                    # alone). Each set re-reads its rows from the raw file just written.
                    wanted = set(present)
                    recomputed, existing = False, False
                    for grains_text, ids in groups.items():
                        with self._engine() as part:
                            part_stats = part.stage_raw(
                                [store.staging_path(batch_id)], series_map, ids, batch_id=batch_id
                            )
                            if part_stats is None:
                                continue
                            again, stored = self._aggregate(
                                part,
                                set(grains_of(grains_text)),
                                part_stats,
                                batch_id,
                                merge=True,
                                spill=spill,
                            )
                        recomputed, existing = recomputed or again, existing or stored
                base = base_grain(wanted)
            reporter.advance()
            computed_at = utcnow()
            with _gc_paused():
                superseded = self._write(spill, batch_id, computed_at, stats, store, existing)
        except ValidationError as exc:
            self._reject(batch_id, exc)
            store.discard(batch_id)
            raise
        except BaseException:
            self._reject(batch_id, None)
            store.discard(batch_id)
            raise
        finally:
            spill.discard()
            reporter.finish()
        return LoadResult(
            batch_id=batch_id,
            rows=stats.rows,
            series=n_series,
            min_ts=stats.min_ts,
            max_ts=stats.max_ts,
            grains=sorted(set(wanted) | {base}, key=list(Grain).index),
            aggregates_written=len(spill),
            superseded=superseded,
            recomputed_from_prior=recomputed,
            computed_at=computed_at,
            raw_file=store.relative_path(batch_id),
        )

    @staticmethod
    def _series_catalogue(s: Session) -> tuple[list[Any], dict[str, list[Any]]]:
        """Every series as rows ``(code, id, frequency, grains, measure code)``, and as the
        engine's series map (columns ``code, series_id, frequency, grains``)."""
        rows = s.execute(
            select(
                MetricSeries.code,
                MetricSeries.id,
                MetricMeasure.frequency,
                MetricMeasure.grains,
                MetricMeasure.code,
            ).join(MetricMeasure, MetricMeasure.id == MetricSeries.measure_id)
        ).all()
        series_map: dict[str, list[Any]] = {
            "code": [r[0] for r in rows],
            "series_id": [int(r[1]) for r in rows],
            "frequency": [Frequency(r[2]).value for r in rows],
            "grains": [r[3] for r in rows],
        }
        return list(rows), series_map

    def _aggregate(
        self,
        engine: Harmoniser,
        wanted: set[Grain],
        stats: StageStats,
        batch_id: int,
        *,
        merge: bool,
        spill: _Spill,
    ) -> tuple[bool, bool]:
        """Aggregate the staged rows of one load to ``wanted`` grains into ``spill``; returns
        whether earlier raw files were re-read (a correction), and whether any current aggregate
        of these series was stored before (so the records may supersede some).

        An append (no (series, ts) seen before) merges into the stored periods when ``merge``
        allows; a correction re-reads the touched periods' raw rows."""
        cal = self.calendar()
        store = self.store
        base = base_grain(wanted)
        # files that may hold rows of the touched base periods (a late day touches the whole
        # month when months are the base grain)
        lo_local = cal.period_start(base, cal.to_local(stats.min_ts))
        hi_local = cal.period_end(base, cal.period_start(base, cal.to_local(stats.max_ts)))
        with self.ws.engine.connect() as conn:
            prior = store.overlapping(
                conn,
                min_ts=_db_time(cal.to_utc(lo_local)),
                max_ts=_db_time(cal.to_utc(hi_local)),
                min_series_id=stats.min_series_id,
                max_series_id=stats.max_series_id,
            )
            existing = conn.execute(
                select(AGG.c.id)
                .where(
                    AGG.c.series_id.between(stats.min_series_id, stats.max_series_id),
                    AGG.c.superseded_at.is_(None),
                )
                .limit(1)
            ).first()
        engine.build(
            wanted,
            batch_id=batch_id,
            prior_files=[path for path, _ in prior],
            fetch_stored=self._fetch_stored if existing is not None else None,
            # (no merge under a grains override: the stored grains may be others)
            prior_end=max((_utc(end) for _, end in prior), default=None) if merge else None,
        )
        spill.take(engine, text_times=self._sqlite())
        return engine.recomputed, existing is not None

    def _engine(self) -> Harmoniser:
        """A harmonisation engine in the workspace calendar, bounded as configured (it spills to
        the store's tmp folder)."""
        return Harmoniser(
            self.calendar(),
            threads=self.threads,
            memory_limit=self.memory_limit,
            temp_dir=self.store.temp_dir,
        )

    def _sqlite(self) -> bool:
        return self.ws.engine.dialect.name == "sqlite"

    def _reject(self, batch_id: int, exc: ValidationError | None) -> None:
        with self.ws.session() as s:
            batch = s.get(ImportBatch, batch_id)
            if batch is not None:
                batch.status = "rejected"
                batch.finished_at = utcnow()
                batch.message = (str(exc) if exc else "load failed")[:2000]
                # the rows the message counts, not the example rows it lists
                if isinstance(exc, RowsRejectedError):
                    batch.counts = {"rejected": exc.rows, "problems": exc.kinds}
                else:
                    batch.counts = {"rejected": len(exc.problems) if exc else 0}

    def _fetch_stored(
        self, grain: Grain, series_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime
    ) -> list[Any]:
        cols = [AGG.c[c] for c in AGG_COLUMNS[:-1]] + [AGG.c.batch_ids]
        with self.ws.engine.connect() as conn:
            rows = conn.execute(
                select(*cols).where(
                    AGG.c.grain == grain.value,
                    AGG.c.series_id.in_(list(series_ids)),
                    AGG.c.period_start >= lo,
                    AGG.c.period_start < hi,
                    AGG.c.superseded_at.is_(None),
                )
            ).all()
        return [tuple(row) for row in rows]

    def _write(
        self,
        records: _Spill,
        batch_id: int,
        computed_at: dt.datetime,
        stats: Any,
        store: RawStore,
        existing: bool,
    ) -> int:
        """Supersede the current versions of the recomputed periods and insert the new ones,
        register the raw file and close the batch — one transaction.

        ``records`` hold :data:`RECORD_COLUMNS` tuples as :meth:`Harmoniser.records` gives them
        (times as text on SQLite). They go to the driver's ``executemany`` as they are, a chunk
        at a time: tens of thousands of rows per load, where SQLAlchemy's per-row parameter
        processing cost more than the database's own work.
        """
        now, stamp = self._stamp(computed_at)
        mark = self._mark()
        superseded = 0
        with self.ws.engine.begin() as conn:
            if existing and len(records):
                # every supersede before any insert: the new rows must not match the UPDATE
                for chunk in records.chunks():
                    result = conn.exec_driver_sql(
                        f"UPDATE {AGG.name} SET superseded_at = {mark} WHERE series_id = {mark} "
                        f"AND grain = {mark} AND period_start = {mark} AND superseded_at IS NULL",
                        [(stamp, r[0], r[1], r[2]) for r in chunk],
                    )
                    superseded += max(result.rowcount or 0, 0)
            for chunk in records.chunks():
                self._insert_aggregates(conn, chunk, batch_id, stamp)
            conn.execute(
                insert(RAW_FILES).values(
                    batch_id=batch_id,
                    path=store.relative_path(batch_id),
                    rows=stats.rows,
                    min_ts=_db_time(stats.min_ts),
                    max_ts=_db_time(stats.max_ts),
                    min_series_id=stats.min_series_id,
                    max_series_id=stats.max_series_id,
                    created_at=now,
                )
            )
            _close_batch(conn, batch_id, now, {"inserted": stats.rows, "aggregates": len(records)})
            # the file becomes visible under its final name just before the catalogue commits;
            # if the commit fails the caller discards it
            store.publish(batch_id)
        return superseded

    def _stamp(self, computed_at: dt.datetime) -> tuple[dt.datetime, Any]:
        """``computed_at`` as the database takes it (naive UTC), and as bound to raw SQL (the
        text SQLite stores; the datetime for PostgreSQL)."""
        now = _db_time(computed_at)
        return now, now.strftime(_SQLITE_TIME) if self._sqlite() else now

    def _mark(self) -> str:
        """The driver's positional parameter marker."""
        return "?" if self.ws.engine.dialect.paramstyle == "qmark" else "%s"

    def _insert_aggregates(
        self, conn: Connection, records: list[tuple[Any, ...]], batch_id: int, stamp: Any
    ) -> None:
        """Insert aggregate records (:data:`RECORD_COLUMNS` tuples) computed by ``batch_id`` at
        ``stamp`` through the driver's ``executemany``."""
        if not records:
            return
        cols = (*RECORD_COLUMNS, "load_batch_id", "computed_at")
        conn.exec_driver_sql(
            f"INSERT INTO {AGG.name} ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in cols)}) "
            f"VALUES ({', '.join([self._mark()] * len(cols))})",
            [(*r, batch_id, stamp) for r in records],
        )

    # -- recompute ---------------------------------------------------------------------------
    def recompute(
        self,
        measure: str | None = None,
        *,
        reporter: Reporter = SILENT,
        user: str | None = None,
    ) -> RecomputeResult:
        """Rebuild the aggregates of ``measure`` (None: every measure) from the raw store, in the
        workspace calendar as it is now and with each measure's grains as they are now — after
        a change of time zone, fiscal year start or grains.

        The previous versions are superseded, not deleted, in one transaction: as-at queries
        and ``changes_since`` show what moved. Every raw row counts once, the newest batch
        winning per (series, ts), exactly as loads do.

        Raises:
            NotFoundError: unknown measure.
        """
        self.recover_interrupted()
        with _LoadLock(self.store.root / "locks") as lock:
            return self._recompute(measure, reporter=reporter, user=user, token=lock.token)

    def _recompute(
        self, measure: str | None, *, reporter: Reporter, user: str | None, token: str
    ) -> RecomputeResult:
        store = self.store
        with self.ws.session() as s:
            if measure is not None:
                self._measure(s, measure)
            rows, series_map = self._series_catalogue(s)
            batch = ImportBatch(
                source="metrics", kind="metric_recompute", file_name=measure or "every measure"
            )
            batch.user = user or current_user()
            batch.counts = {"lock": token}
            s.add(batch)
            s.flush()
            batch_id = batch.id
        chosen = [r for r in rows if measure is None or r[4] == measure]
        # one engine pass per set of grains (aggregate() gives every staged series the same)
        groups: dict[str, list[int]] = {}
        for r in chosen:
            groups.setdefault(r[3], []).append(int(r[1]))
        computed_at = utcnow()
        now, stamp = self._stamp(computed_at)
        records = _Spill(store.temp_dir, batch_id)
        raw_rows = 0
        reporter.start(f"recompute {measure or 'every measure'}", total=len(groups))
        try:
            with self.ws.engine.connect() as conn:
                files = store.all_files(conn)
            with _gc_paused():
                for grains_text, ids in groups.items():
                    grains = set(grains_of(grains_text))
                    with self._engine() as engine:
                        stats = engine.stage_raw(files, series_map, ids)
                        if stats is not None and grains:
                            raw_rows += stats.rows
                            engine.build(grains, batch_id=batch_id)
                            records.take(engine, text_times=self._sqlite())
                    reporter.advance()
                ids_all = [int(r[1]) for r in chosen]
                with self.ws.engine.begin() as conn:
                    superseded = 0
                    if ids_all:
                        result = conn.execute(
                            update(AGG)
                            .where(AGG.c.series_id.in_(ids_all), AGG.c.superseded_at.is_(None))
                            .values(superseded_at=now)
                        )
                        superseded = max(result.rowcount or 0, 0)
                    for chunk in records.chunks():
                        self._insert_aggregates(conn, chunk, batch_id, stamp)
                    counts = {"raw_rows": raw_rows, "aggregates": len(records)}
                    _close_batch(conn, batch_id, now, counts)
        except BaseException:
            self._reject(batch_id, None)
            raise
        finally:
            records.discard()
            reporter.finish()
        return RecomputeResult(
            batch_id=batch_id,
            measures=sorted({str(r[4]) for r in chosen}),
            series=len(chosen),
            raw_rows=raw_rows,
            aggregates_written=len(records),
            superseded=superseded,
            computed_at=computed_at,
        )

    # -- queries -----------------------------------------------------------------------------
    def _org_codes(self, s: Session, org: str) -> list[str]:
        """``org`` and every unit below it (by the organisation hierarchy, when it is loaded)."""
        from bigov.org.models import OrgUnit

        ou = OrgUnit.__table__
        top = select(ou.c.id, ou.c.code).where(ou.c.code == org).cte("tree", recursive=True)
        tree = top.union_all(select(ou.c.id, ou.c.code).where(ou.c.parent_id == top.c.id))
        codes = set(s.scalars(select(tree.c.code)).all())
        return sorted(codes | {org})

    @staticmethod
    def _version_filter(as_at: dt.datetime | None) -> ColumnElement[bool]:
        if as_at is None:
            return AGG.c.superseded_at.is_(None)
        t = _db_time(as_at)
        return and_(
            AGG.c.computed_at <= t, or_(AGG.c.superseded_at.is_(None), AGG.c.superseded_at > t)
        )

    def _as_at(self, as_at: dt.datetime | dt.date | None) -> dt.datetime | None:
        """A date means the end of that local day (everything computed on it)."""
        if as_at is None or isinstance(as_at, dt.datetime):
            return as_at if as_at is None or as_at.tzinfo else self.calendar().to_utc(as_at)
        cal = self.calendar()
        return cal.to_utc(dt.datetime(as_at.year, as_at.month, as_at.day) + dt.timedelta(days=1))

    def values(
        self,
        measure: str,
        *,
        grain: Grain | str = Grain.MONTH,
        org: str | None = None,
        as_at: dt.datetime | dt.date | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[PeriodValue]:
        """The measure per period at ``grain`` for ``org`` and every unit below it (None = the
        whole organisation), as known at ``as_at`` (None = now), with target, variance and RAG.

        Periods are in order; ``start``/``end`` (local) bound the period starts, end exclusive.

        Raises:
            NotFoundError: unknown measure.
            ConfigError: the measure does not roll up across units and several series match.
        """
        grain = parse_grain(grain) if isinstance(grain, str) else grain
        cal = self.calendar()
        at = self._as_at(as_at)
        with self.ws.session() as s:
            m = self._measure(s, measure)
            series_filter: list[ColumnElement[bool]] = [SERIES.c.measure_id == m.id]
            if org is not None:
                if m.org_rollup is OrgRollup.NONE:
                    series_filter.append(SERIES.c.org_unit_code == org)
                else:
                    series_filter.append(SERIES.c.org_unit_code.in_(self._org_codes(s, org)))
            n_series = s.scalar(select(func.count()).select_from(SERIES).where(*series_filter))
            if m.org_rollup is OrgRollup.NONE and (n_series or 0) > 1:
                raise ConfigError(
                    f"measure {m.code} does not roll up across organisation units",
                    hint="pass --org with the unit whose series you want",
                )
            per_series = {
                TimeAggregation.SUM: AGG.c.sum,
                TimeAggregation.LAST: AGG.c.last_value,
                TimeAggregation.MAX: AGG.c.max,
                TimeAggregation.MIN: AGG.c.min,
                TimeAggregation.WEIGHTED_MEAN: AGG.c.weighted_sum
                / func.nullif(AGG.c.weight_sum, 0),
            }[m.time_aggregation]
            weights = func.sum(AGG.c.weight_sum)
            if m.org_rollup is OrgRollup.WEIGHTED_MEAN:
                if m.time_aggregation is TimeAggregation.WEIGHTED_MEAN:
                    value = func.sum(AGG.c.weighted_sum) / func.nullif(weights, 0)
                else:
                    value = func.sum(per_series * AGG.c.weight_sum) / func.nullif(weights, 0)
            elif m.org_rollup is OrgRollup.MAX:
                value = func.max(per_series)
            elif m.org_rollup is OrgRollup.MIN:
                value = func.min(per_series)
            else:
                value = func.sum(per_series)
            conds = [*series_filter, AGG.c.grain == grain.value, self._version_filter(at)]
            if start is not None:
                conds.append(AGG.c.period_start >= start)
            if end is not None:
                conds.append(AGG.c.period_start < end)
            joined = AGG.join(SERIES, SERIES.c.id == AGG.c.series_id)
            rows = s.execute(
                select(
                    AGG.c.period_start,
                    value.label("value"),
                    func.sum(AGG.c.n).label("n"),
                    func.sum(AGG.c.expected).label("expected"),
                    func.count(AGG.c.expected).label("with_expected"),
                    func.count().label("series_count"),
                    func.max(AGG.c.computed_at).label("computed_at"),
                    func.aggregate_strings(AGG.c.batch_ids, ",").label("batches"),
                )
                .select_from(joined)
                .where(*conds)
                .group_by(AGG.c.period_start)
                .order_by(AGG.c.period_start)
            ).all()
            # versions per period: the most any one series' period was computed up to as-at
            per_key = (
                select(AGG.c.period_start, func.count().label("v"))
                .select_from(joined)
                .where(
                    *series_filter,
                    AGG.c.grain == grain.value,
                    *([AGG.c.computed_at <= _db_time(at)] if at is not None else []),
                    *([AGG.c.period_start >= start] if start is not None else []),
                    *([AGG.c.period_start < end] if end is not None else []),
                )
                .group_by(AGG.c.period_start, AGG.c.series_id)
                .subquery()
            )
            versions = dict(
                s.execute(
                    select(per_key.c.period_start, func.max(per_key.c.v)).group_by(
                        per_key.c.period_start
                    )
                ).all()
            )
            targets = s.execute(
                select(
                    MetricTarget.period_start,
                    MetricTarget.org_unit_code,
                    MetricTarget.target,
                    MetricTarget.green_at,
                    MetricTarget.red_at,
                ).where(
                    MetricTarget.measure_id == m.id,
                    MetricTarget.grain == grain,
                    or_(MetricTarget.org_unit_code.is_(None), MetricTarget.org_unit_code == org),
                )
            ).all()
            direction = m.direction
        now_local = cal.to_local(utcnow())
        out: list[PeriodValue] = []
        for r in rows:
            pstart = r.period_start
            expected = int(r.expected) if r.expected is not None and r.with_expected else None
            n = int(r.n or 0)
            over = cal.period_end(grain, pstart) <= now_local
            coverage = None if not expected else min(1.0, n / expected)
            val = None if r.value is None or math.isnan(float(r.value)) else float(r.value)
            pv = PeriodValue(
                grain=grain,
                period_start=pstart,
                label=cal.label(grain, pstart),
                value=val,
                n=n,
                expected=expected,
                coverage=coverage,
                partial=(expected is not None and n < expected) or not over,
                series_count=int(r.series_count),
                versions=int(versions.get(pstart, 1)),
                batch_ids=sorted({int(b) for b in str(r.batches or "").split(",") if b}),
                computed_at=_utc(r.computed_at) if r.computed_at else None,
            )
            _apply_target(pv, targets, org, direction)
            out.append(pv)
        return out

    def changes_since(
        self,
        measure: str,
        since: dt.datetime | dt.date,
        *,
        grain: Grain | str = Grain.MONTH,
        org: str | None = None,
    ) -> list[PeriodChange]:
        """Periods whose figure now differs from what was known at ``since`` (restatements and
        periods that did not exist then)."""
        before = {
            v.period_start: v for v in self.values(measure, grain=grain, org=org, as_at=since)
        }
        out: list[PeriodChange] = []
        for now in self.values(measure, grain=grain, org=org):
            old = before.get(now.period_start)
            if old is None or old.value != now.value:
                out.append(
                    PeriodChange(
                        label=now.label,
                        period_start=now.period_start,
                        before=old.value if old else None,
                        after=now.value,
                    )
                )
        return out

    def completeness(
        self,
        measure: str,
        *,
        grain: Grain | str = Grain.MONTH,
        org: str | None = None,
        as_at: dt.datetime | dt.date | None = None,
    ) -> list[CompletenessRow]:
        """Observations received against expected, per series and period."""
        grain = parse_grain(grain) if isinstance(grain, str) else grain
        cal = self.calendar()
        with self.ws.session() as s:
            m = self._measure(s, measure)
            conds: list[ColumnElement[bool]] = [
                SERIES.c.measure_id == m.id,
                AGG.c.grain == grain.value,
                self._version_filter(self._as_at(as_at)),
            ]
            if org is not None:
                conds.append(SERIES.c.org_unit_code.in_(self._org_codes(s, org)))
            rows = s.execute(
                select(
                    SERIES.c.code,
                    SERIES.c.org_unit_code,
                    AGG.c.period_start,
                    AGG.c.n,
                    AGG.c.expected,
                )
                .select_from(AGG.join(SERIES, SERIES.c.id == AGG.c.series_id))
                .where(*conds)
                .order_by(SERIES.c.code, AGG.c.period_start)
            ).all()
        return [
            CompletenessRow(
                series=r.code,
                org=r.org_unit_code,
                grain=grain,
                period_start=r.period_start,
                label=cal.label(grain, r.period_start),
                n=int(r.n),
                expected=r.expected,
                coverage=None if not r.expected else min(1.0, r.n / r.expected),
                partial=r.expected is not None and r.n < r.expected,
            )
            for r in rows
        ]

    def attainment(
        self,
        measure: str,
        *,
        grain: Grain | str = Grain.MONTH,
        org: str | None = None,
        baseline: float | None = None,
        baseline_date: dt.date | None = None,
        target: float | None = None,
        target_date: dt.date | None = None,
        trajectory: str | None = None,
        as_at: dt.datetime | dt.date | None = None,
    ) -> list[AttainmentRow]:
        """A KPI's actual per period against its trajectory from baseline to target.

        The trajectory comes from the key result that names this measure (``key_result.
        measure_code``, or the measure's entity when it is a key result); explicit arguments
        override it. Trajectories: linear, front_loaded, back_loaded, step.

        Raises:
            ConfigError: no baseline/target known for the measure.
        """
        grain = parse_grain(grain) if isinstance(grain, str) else grain
        kr = self._key_result(measure)
        baseline = baseline if baseline is not None else kr.get("baseline")
        baseline_date = baseline_date or kr.get("baseline_date")
        target = target if target is not None else kr.get("target")
        target_date = target_date or kr.get("target_date")
        trajectory = trajectory or kr.get("trajectory") or "linear"
        higher = kr.get("direction", "higher") == "higher"
        if baseline is None or target is None or baseline_date is None or target_date is None:
            raise ConfigError(
                f"measure {measure} has no baseline and target to attain",
                hint="link it from a key result (measure_code) or pass baseline/target and dates",
            )
        cal = self.calendar()
        out: list[AttainmentRow] = []
        span = (target_date - baseline_date).days or 1
        for pv in self.values(measure, grain=grain, org=org, as_at=as_at):
            end = cal.period_end(grain, pv.period_start).date()
            frac = min(1.0, max(0.0, (end - baseline_date).days / span))
            shape = {
                "linear": frac,
                "front_loaded": 1 - (1 - frac) ** 2,
                "back_loaded": frac**2,
                "step": 1.0 if frac >= 1 else 0.0,
            }.get(str(trajectory), frac)
            planned = baseline + (target - baseline) * shape
            actual = pv.value
            attain = progress = None
            on_track = None
            if actual is not None:
                if planned != baseline:
                    attain = (actual - baseline) / (planned - baseline)
                if target != baseline:
                    progress = (actual - baseline) / (target - baseline)
                on_track = actual >= planned if higher else actual <= planned
            out.append(
                AttainmentRow(
                    period_start=pv.period_start,
                    label=pv.label,
                    actual=actual,
                    planned=planned,
                    target=target,
                    attainment=attain,
                    progress=progress,
                    on_track=on_track,
                )
            )
        return out

    def _key_result(self, measure: str) -> dict[str, Any]:
        try:
            from bigov.strategy.models import KeyResult
        except ImportError:  # pragma: no cover - strategy context always ships with bigov
            return {}
        with self.ws.session() as s:
            m = self._measure(s, measure)
            cond = KeyResult.measure_code == m.code
            if m.entity_kind == "key_result" and m.entity_code:
                cond = or_(cond, KeyResult.code == m.entity_code)
            kr = s.scalars(select(KeyResult).where(cond).limit(1)).first()
            if kr is None:
                return {"direction": m.direction.value}
            return {
                "baseline": float(kr.baseline) if kr.baseline is not None else None,
                "baseline_date": kr.baseline_date,
                "target": float(kr.target) if kr.target is not None else None,
                "target_date": kr.target_date,
                "trajectory": str(kr.trajectory.value),
                "direction": str(kr.direction.value),
            }


def _apply_target(
    pv: PeriodValue,
    targets: Sequence[Any],
    org: str | None,
    direction: MeasureDirection,
) -> None:
    """Pick the most specific target (this period before standing, this org before any) and
    set target, variance and RAG on ``pv``."""

    def rank(t: Any) -> tuple[int, int]:
        return (0 if t.period_start == pv.period_start else 1, 0 if t.org_unit_code == org else 1)

    usable = [t for t in targets if t.period_start in (None, pv.period_start)]
    if not usable:
        return
    best = min(usable, key=rank)
    pv.target = float(best.target)
    if pv.value is None:
        return
    pv.variance = pv.value - pv.target
    pv.variance_pct = pv.variance / abs(pv.target) if pv.target else None
    green = float(best.green_at) if best.green_at is not None else pv.target
    red = float(best.red_at) if best.red_at is not None else green
    if direction is MeasureDirection.HIGHER_IS_BETTER:
        pv.rag = "green" if pv.value >= green else "red" if pv.value < red else "amber"
    else:
        pv.rag = "green" if pv.value <= green else "red" if pv.value > red else "amber"


__all__ = ["MetricsService"]
