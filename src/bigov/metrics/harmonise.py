"""The vectorised harmonisation engine (DuckDB): validate observations, aggregate them into periods.

Everything here runs as set-based DuckDB SQL over columnar data, never a Python loop per row. The
engine knows nothing of the bigov database: :mod:`bigov.metrics.service` hands it the series
catalogue and the prior raw files, and stores what it returns.

Flow of one load (one :class:`Harmoniser`, one DuckDB connection):

1. :meth:`Harmoniser.stage` reads the source (CSV, Parquet, Arrow IPC, Arrow/Polars/pandas frame)
   into a temporary table ``staged(series_id, ts, value, weight)`` with timestamps as UTC instants,
   and checks it; any problem raises :class:`~bigov.errors.ValidationError` with counts and the
   first rows of each kind.
2. :meth:`Harmoniser.write_raw` writes the staged rows as one Parquet file (the raw store).
3. :meth:`Harmoniser.aggregate` computes the base grain from raw rows (only the affected
   (series, period) keys when earlier files overlap, newest batch winning per series and
   timestamp), then rolls each coarser grain up from the next finer one.

Periods are computed on local time through a lookup table of 15-minute UTC slots (every time zone
offset in use is a multiple of 15 minutes), which is much cheaper than converting each row's time
zone; rows before 1970 or very sparse data fall back to the direct conversion. Both use
:func:`~bigov.metrics.calendar.duckdb_period_start`.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from bigov.errors import ConfigError, Problem, ValidationError
from bigov.metrics.calendar import (
    GRAIN_ORDER,
    FiscalCalendar,
    Frequency,
    Grain,
    base_grain,
    duckdb_period_start,
    nests_in,
)

# Example rows shown per kind of problem; the counts are always complete.
EXAMPLES_PER_KIND = 5
_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")

# An explicit offset or Z at the end of a timestamp text; a bare date or local time has none.
_TZ_SQL = (
    "(suffix(r.ts, 'Z') OR suffix(r.ts, 'z') OR contains(right(r.ts, 6), '+') "
    "OR (length(r.ts) > 19 AND contains(right(r.ts, 6), '-')))"
)
# Snappy: the cheapest codec to write that still shrinks the raw file well (a load writes once
# and rarely reads back); row groups of 1M rows keep min/max statistics useful for pruning.
_PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1000000"


def _has_offset(text: str) -> bool:
    """Python twin of ``_TZ_SQL``."""
    text = text.strip()
    tail = text[-6:]
    return text.endswith(("Z", "z")) or "+" in tail or (len(text) > 19 and "-" in tail)


AGG_COLUMNS: tuple[str, ...] = (
    "series_id",
    "period_start",
    "n",
    "sum",
    "min",
    "max",
    "last_value",
    "last_ts",
    "weight_sum",
    "weighted_sum",
    "batches",
)

# A fetcher of stored current aggregates: (grain, series ids, local start, local end) → Arrow
# table with AGG_COLUMNS, ``batches`` as a comma-separated string.
StoredFetcher = Callable[[Grain, Sequence[int], dt.datetime, dt.datetime], pa.Table]


@dataclass(frozen=True)
class StageStats:
    """What a validated source holds: row count, UTC time range and series id range."""

    rows: int
    min_ts: dt.datetime
    max_ts: dt.datetime
    min_series_id: int
    max_series_id: int


@dataclass
class _Finding:
    reason: str
    count: int
    examples: list[Problem] = field(default_factory=list)


def _source_kind(source: Any) -> str:
    if isinstance(source, str | Path):
        name = str(source).lower()
        if name.endswith((".parquet", ".pq")):
            return "parquet"
        if name.endswith((".arrow", ".feather", ".ipc")):
            return "ipc"
        return "csv"
    return "frame"


def _to_arrow(source: Any) -> pa.Table:
    """An Arrow table from a pyarrow Table/RecordBatch, Polars or pandas frame."""
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    to_arrow = getattr(source, "to_arrow", None)  # Polars DataFrame
    if callable(to_arrow):
        table = to_arrow()
        if isinstance(table, pa.Table):
            return table
    collect = getattr(source, "collect", None)  # Polars LazyFrame
    if callable(collect):
        return _to_arrow(collect())
    if type(source).__module__.startswith("pandas"):
        return pa.Table.from_pandas(source, preserve_index=False)
    raise ConfigError(
        f"cannot load observations from a {type(source).__name__}",
        hint="pass a CSV/Parquet/Arrow file path, or an Arrow, Polars or pandas frame",
    )


def _csv_first_ts(path: Path, delim: str, columns: Sequence[str]) -> str | None:
    """The ``ts`` text of the first data line (None when there is none), read in Python: a
    DuckDB ``LIMIT 1`` over a parallel CSV scan can read far more of the file."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        fh.readline()
        line = fh.readline()
    fields = next(csv.reader([line], delimiter=delim), [])
    index = list(columns).index("ts")
    return fields[index] if len(fields) > index and fields[index] else None


def _csv_header(path: Path) -> tuple[list[str], str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        first = fh.readline()
    if not first.strip():
        raise ValidationError(
            f"{path.name}: empty file", [Problem("no header line", file=path.name, row=1)]
        )
    delim = max([",", ";", "\t", "|"], key=first.count)
    header = next(csv.reader([first], delimiter=delim))
    return [h.strip() for h in header], delim


def _ends_mid_line(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) not in (b"\n", b"\r")


def _q(text: str) -> str:
    """A SQL string literal (for file paths and names bigov itself validated or created)."""
    return "'" + text.replace("'", "''") + "'"


# -- time zone arithmetic without per-row zone conversion -------------------------------------
_US = 1_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Instants outside this window take DuckDB's (slow, per-row) zone conversion instead.
_TREE_LO = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TREE_HI = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# Alignments tried for the duplicate bitmaps, coarsest first (microseconds).
_SLOTS_US = (86_400 * _US, 3_600 * _US, 900 * _US, 60 * _US, _US, 1_000, 1)


def _epoch_us(instant: dt.datetime) -> int:
    return (instant - _EPOCH) // dt.timedelta(microseconds=1)


@lru_cache(maxsize=16)
def _transitions(tz: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """UTC offset (µs) of ``tz`` at 1970 and every change up to 2100: ``(instant_us, offset_us)``.

    Found by weekly steps and bisection to the second (no zone changes twice within a week).
    """
    zone = ZoneInfo(tz)

    def offset(us: int) -> int:
        moment = _EPOCH + dt.timedelta(microseconds=us)
        delta = moment.astimezone(zone).utcoffset()
        return delta // dt.timedelta(microseconds=1) if delta is not None else 0

    step = 7 * 86_400 * _US
    lo, hi = _epoch_us(_TREE_LO), _epoch_us(_TREE_HI)
    first = offset(lo)
    changes: list[tuple[int, int]] = []
    current, at = first, lo
    while at < hi:
        nxt = min(at + step, hi)
        if offset(nxt) != current:
            a, b = at, nxt  # offset(a) == current != offset(b)
            while b - a > _US:
                mid = (a + b) // 2 // _US * _US
                if mid <= a:
                    mid = a + _US
                if offset(mid) == current:
                    a = mid
                else:
                    b = mid
            current = offset(b)
            changes.append((b, current))
        at = nxt
    return first, tuple(changes)


def _case_tree(expr: str, bounds: Sequence[int], values: Sequence[str]) -> str:
    """SQL choosing ``values[i]`` when ``bounds[i-1] <= expr < bounds[i]`` (``values`` has one
    more entry than the ascending ``bounds``): a balanced CASE tree, so a row costs
    log2(len(bounds)) integer comparisons however many periods or zone changes there are."""
    if not bounds:
        return values[0]
    mid = len(bounds) // 2
    low = _case_tree(expr, bounds[:mid], values[: mid + 1])
    high = _case_tree(expr, bounds[mid + 1 :], values[mid + 1 :])
    return f"(CASE WHEN {expr} < {bounds[mid]} THEN {low} ELSE {high} END)"


def _utc_to_local_us(tz: str, u: str) -> str:
    """SQL: local wall-clock epoch microseconds of UTC epoch microseconds ``u``."""
    first, changes = _transitions(tz)
    offsets = [str(first), *(str(o) for _, o in changes)]
    return f"({u} + {_case_tree(u, [t for t, _ in changes], offsets)})"


def _local_to_utc_us(tz: str, w: str) -> str:
    """SQL: UTC epoch microseconds of local wall-clock epoch microseconds ``w``.

    A wall time that occurs twice (clocks going back) is the first occurrence and one that does
    not exist (clocks going forward) uses the offset before the change — as
    :meth:`FiscalCalendar.to_utc` does (``fold=0``).
    """
    first, changes = _transitions(tz)
    bounds: list[int] = []
    offsets = [first]
    before = first
    for instant, after in changes:
        bounds.append(instant + max(before, after))
        offsets.append(after)
        before = after
    return f"({w} - {_case_tree(w, bounds, [str(o) for o in offsets])})"


class Harmoniser:
    """One load's DuckDB workspace. Use as a context manager; not thread-safe.

    ``memory_limit`` (e.g. ``"4GB"``) and ``temp_dir`` bound memory: DuckDB spills the staged
    table and large aggregations to ``temp_dir`` beyond the limit.
    """

    def __init__(
        self,
        calendar: FiscalCalendar,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_dir: Path | None = None,
    ) -> None:
        self.calendar = calendar
        if not _TZ_NAME.match(calendar.tz):
            raise ConfigError(f"unusable time zone name {calendar.tz!r}")
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_dir is not None:
            temp_dir.mkdir(parents=True, exist_ok=True)
            config["temp_directory"] = str(temp_dir)
        self.con = duckdb.connect(config=config)
        # Parse in UTC (cheap); naive local timestamps are re-interpreted afterwards.
        self.con.execute("SET TimeZone='UTC'")
        self._stats: StageStats | None = None
        self._raw_written: Path | None = None
        self._file_label = "<frame>"
        self._row_offset = 0

    def __enter__(self) -> Harmoniser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the DuckDB connection and its temporary storage."""
        self.con.close()

    # -- staging -----------------------------------------------------------------------------
    def stage(
        self,
        source: Any,
        series: pa.Table | Mapping[str, Sequence[Any]],
        *,
        label: str | None = None,
        raw_path: Path | None = None,
        batch_id: int = 0,
    ) -> StageStats:
        """Read and validate ``source`` into ``staged(series_id, ts, value, weight)``.

        ``series`` maps observation codes to ids: columns ``code``, ``series_id``, ``frequency``,
        ``grains`` (an Arrow table or a mapping of column name to list).
        Required source columns: ``series``, ``ts``, ``value``; optional ``weight`` (default 1).
        Timestamps with an offset (``Z``, ``+01:00``) are instants; naive ones are local time in
        the calendar's time zone; a source mixing both is rejected.

        With ``raw_path`` the rows (plus ``batch_id``) are written there as the batch's raw
        Parquet file in the same pass that reads the source, and ``staged`` reads that file;
        on a problem the file is removed.

        Two passes at most: a fast one (typed parallel read, series codes through an ENUM,
        timestamps through the core parser and integer zone arithmetic) that only *counts*
        problems; when it finds any, the exact checked pass below re-reads the source as text
        to name the rows (the error path may be slow, the good path may not).

        Raises:
            ValidationError: every problem found, counted by kind, first rows of each kind shown.
        """
        kind = _source_kind(source)
        self._file_label = label or (Path(source).name if kind != "frame" else "<frame>")
        if isinstance(series, pa.Table):
            self.con.register("series_map", series)
        else:
            # plain lists (see aggregate: no Arrow arrays on the load path)
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE series_map AS SELECT unnest(?::VARCHAR[]) AS code, "
                "unnest(?::BIGINT[]) AS series_id, unnest(?::VARCHAR[]) AS frequency, "
                "unnest(?::VARCHAR[]) AS grains",
                [list(series[c]) for c in ("code", "series_id", "frequency", "grains")],
            )
        columns: list[str]
        if kind == "csv":
            path = Path(source)
            if not path.exists():
                raise ConfigError(f"no such file: {path}")
            columns, delim = _csv_header(path)
            self._require_columns(columns)
            truncated = _ends_mid_line(path)
            csv_opts = (
                f"{_q(str(path))}, header=true, delim={_q(delim)}, quote='\"', escape='\"', "
                "auto_detect=false"
            )
            typed = ", ".join(
                f"{_q(c)}: '{'DOUBLE' if c in ('value', 'weight') else 'VARCHAR'}'" for c in columns
            )
            rel = (
                f"read_csv({csv_opts}, columns={{{typed}}}, store_rejects=true, "
                "rejects_table='fast_rejects', rejects_scan='fast_scans')"
            )
        else:
            truncated = False
            if kind == "parquet":
                rel = f"read_parquet({_q(str(source))})"
            else:
                table = pa.ipc.open_file(str(source)).read_all() if kind == "ipc" else None
                self.con.register("src_arrow", table if table is not None else _to_arrow(source))
                rel = "src_arrow"
            columns = [r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
            self._require_columns(columns)
        stats = None
        if not truncated:
            first_ts = _csv_first_ts(path, delim, columns) if kind == "csv" else None
            stats = self._stage_fast(rel, kind, raw_path, batch_id, first_ts)
        if stats is None:
            self._drop_staged(raw_path)
            if kind == "csv":
                cols = ", ".join(f"{_q(c)}: 'VARCHAR'" for c in columns)
                rel = f"read_csv({csv_opts}, columns={{{cols}}}, store_rejects=true)"
                self._row_offset = 1  # the header is line 1, so data row k is line k + 1
            else:
                self._row_offset = 0
            self.con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM {rel}")
            stats = self._stage_checked(kind, truncated)
            if raw_path is not None:
                self.write_raw(raw_path, batch_id)
        self._stats = stats
        return stats

    def _drop_staged(self, raw_path: Path | None) -> None:
        kinds = self.con.execute(
            "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = 'staged' AND temporary "
            "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = 'staged' "
            "AND temporary"
        ).fetchall()
        for (kind,) in kinds:
            self.con.execute(f"DROP {kind} staged")
        self._raw_written = None
        if raw_path is not None:
            raw_path.unlink(missing_ok=True)

    def _series_id_sql(self) -> tuple[str, str]:
        """(join clause, id expression) mapping ``r.series`` to its series id, NULL if unknown.

        The codes become a DuckDB ENUM so the lookup is a vectorised cast, not a string hash
        join (which costs more than parsing the file); ids that are not one contiguous range
        (in code order) fall back to the join.
        """
        ids = [
            int(r[0])
            for r in self.con.execute(
                "SELECT series_id FROM series_map ORDER BY series_id"
            ).fetchall()
        ]
        if ids and ids == list(range(ids[0], ids[0] + len(ids))):
            self.con.execute("DROP TYPE IF EXISTS series_code")
            self.con.execute(
                "CREATE TYPE series_code AS ENUM "
                "(SELECT code FROM series_map WHERE code IS NOT NULL ORDER BY series_id)"
            )
            return "", f"(enum_code(TRY_CAST(r.series::VARCHAR AS series_code))::BIGINT + {ids[0]})"
        return "LEFT JOIN series_map m ON r.series = m.code", "m.series_id::BIGINT"

    def _wall_to_utc_sql(self, w: str) -> str:
        """SQL: UTC epoch µs of local wall-clock epoch µs ``w`` (a column name)."""
        tz = _q(self.calendar.tz)
        lo, hi = _epoch_us(_TREE_LO), _epoch_us(_TREE_HI)
        tree = _local_to_utc_us(self.calendar.tz, w)
        return (
            f"CASE WHEN {w} < {lo} OR {w} >= {hi} "
            f"THEN epoch_us(timezone({tz}, make_timestamp({w}))) ELSE {tree} END"
        )

    def _stage_fast(
        self, rel: str, kind: str, raw_path: Path | None, batch_id: int, first_ts: str | None
    ) -> StageStats | None:
        """Stage without naming bad rows: None when anything at all is wrong (or the source is
        of a shape this pass does not handle), so the checked pass can report it."""
        types = {
            r[0]: str(r[1]).upper()
            for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        }
        ts_type = types["ts"]
        if ts_type in ("VARCHAR", "TEXT"):
            if first_ts is None and kind != "csv":
                first = self.con.execute(f"SELECT ts FROM {rel} LIMIT 1").fetchall()
                first_ts = str(first[0][0]) if first and first[0][0] is not None else None
            if first_ts is None:
                return None
            if _has_offset(first_ts):
                # a file of instants: 'Z' through the fast core parser, other offsets through
                # ICU; a naive timestamp among them is NULL here (mixed zones, reported later)
                u_sql = (
                    "CASE WHEN suffix(r.ts, 'Z') THEN epoch_us(TRY_CAST(r.ts AS TIMESTAMP)) "
                    f"WHEN {_TZ_SQL} THEN epoch_us(TRY_CAST(r.ts AS TIMESTAMPTZ)) END"
                )
                inner = f"{u_sql} AS u"
                outer = "r.u"
            else:
                inner = (
                    f"CASE WHEN NOT {_TZ_SQL} THEN epoch_us(TRY_CAST(r.ts AS TIMESTAMP)) END AS w"
                )
                outer = self._wall_to_utc_sql("r.w")
        elif ts_type.startswith("TIMESTAMP WITH TIME ZONE"):
            inner, outer = "epoch_us(r.ts) AS u", "r.u"
        elif ts_type.startswith(("TIMESTAMP", "DATE")):
            inner = "epoch_us(r.ts::TIMESTAMP) AS w"
            outer = self._wall_to_utc_sql("r.w")
        else:
            return None
        join, sid = self._series_id_sql()
        value = "r.value" if kind == "csv" else "TRY_CAST(r.value AS DOUBLE)"
        weight = "TRY_CAST(r.weight AS DOUBLE)" if "weight" in types else "1.0::DOUBLE"
        rows_sql = (
            f"SELECT {sid} AS series_id, make_timestamptz({outer}) AS ts, {value} AS value, "
            f"{weight} AS weight FROM (SELECT *, {inner} FROM {rel} r) r {join}"
        )
        self.con.execute("SET preserve_insertion_order=false")
        if raw_path is not None:
            raw_path.parent.mkdir(parents=True, exist_ok=True)
            self.con.execute(
                f"COPY (SELECT *, {int(batch_id)}::BIGINT AS batch_id FROM ({rows_sql})) "
                f"TO {_q(str(raw_path))} ({_PARQUET_OPTIONS})"
            )
            self._raw_written = raw_path
            self.con.execute(
                "CREATE TEMP VIEW staged AS SELECT series_id, ts, value, weight "
                f"FROM read_parquet({_q(str(raw_path))})"
            )
        else:
            self.con.execute(f"CREATE TEMP TABLE staged AS {rows_sql}")
        if kind == "csv":
            rejected = self.con.execute("SELECT count(*) FROM fast_rejects").fetchall()
            if rejected and rejected[0][0]:
                return None
        misaligned = ", ".join(f"count(*) FILTER (epoch_us(ts) % {s} <> 0)" for s in _SLOTS_US[:-1])
        row = self.con.execute(
            "SELECT count(*), count(*) FILTER (series_id IS NULL) "
            "+ count(*) FILTER (ts IS NULL) "
            "+ count(*) FILTER (value IS NULL OR NOT isfinite(value)) "
            "+ count(*) FILTER (weight IS NULL OR NOT isfinite(weight) OR weight < 0), "
            f"min(ts), max(ts), min(series_id), max(series_id), {misaligned} FROM staged"
        ).fetchall()[0]
        rows, bad, min_ts, max_ts, min_sid, max_sid = row[:6]
        if not rows or bad:
            return None
        slot = next((s for s, n in zip(_SLOTS_US, row[6:], strict=False) if not n), 1)
        if self._duplicate_copies(slot, min_ts):
            return None
        return StageStats(int(rows), min_ts, max_ts, int(min_sid), int(max_sid))

    def _duplicate_copies(self, slot: int, min_ts: dt.datetime) -> int:
        """Rows repeating an earlier row's (series, ts) — exact, without a hash table of every
        key: with every ts a multiple of ``slot`` µs, rows are grouped by series and run of 64
        slots, and a group holds a duplicate exactly when it has more rows than distinct slots
        (bits set in the OR of one bit per row). ~64× fewer groups than keys for hourly data."""
        base = _epoch_us(min_ts) // slot * slot
        row = self.con.execute(
            "SELECT coalesce(sum(n - bit_count(b)), 0) FROM (SELECT count(*) AS n, "
            f"bit_or(1::UBIGINT << ((k % 64)::INTEGER)) AS b FROM (SELECT series_id, "
            f"(epoch_us(ts) - {base}) // {slot} AS k FROM staged) GROUP BY series_id, k // 64)"
        ).fetchall()[0]
        return int(row[0]) if row and row[0] else 0

    def _stage_checked(self, kind: str, truncated: bool) -> StageStats:
        """The exact pass over ``src`` (all text for CSV): counts every problem by kind and names
        the first rows of each; raises unless the source is clean."""
        findings: list[_Finding] = []
        types = {r[0]: str(r[1]).upper() for r in self.con.execute("DESCRIBE src").fetchall()}
        has_weight = "weight" in types
        ts_type = types["ts"]
        if ts_type in ("VARCHAR", "TEXT"):
            ts_expr = "TRY_CAST(r.ts AS TIMESTAMPTZ)"
            tz_expr = _TZ_SQL
        elif ts_type.startswith("TIMESTAMP WITH TIME ZONE"):
            ts_expr, tz_expr = "r.ts::TIMESTAMPTZ", "true"
        elif ts_type.startswith(("TIMESTAMP", "DATE")):
            ts_expr, tz_expr = "r.ts::TIMESTAMP::TIMESTAMPTZ", "false"
        else:
            raise ValidationError(
                f"{self._file_label}: column ts has type {ts_type}, not a timestamp",
                [Problem(f"ts column type {ts_type}", file=self._file_label, column="ts")],
            )
        weight_expr = "TRY_CAST(r.weight AS DOUBLE)" if has_weight else "1.0::DOUBLE"
        self.con.execute(
            "CREATE TEMP TABLE staged AS SELECT m.series_id::BIGINT AS series_id, "
            f"{ts_expr} AS ts, TRY_CAST(r.value AS DOUBLE) AS value, {weight_expr} AS weight, "
            f"{tz_expr} AS has_tz FROM src r LEFT JOIN series_map m ON r.series = m.code"
        )
        row = self.con.execute(
            "SELECT count(*), count(*) FILTER (series_id IS NULL), count(*) FILTER (ts IS NULL), "
            "count(*) FILTER (value IS NULL OR NOT isfinite(value)), "
            "count(*) FILTER (weight IS NULL OR NOT isfinite(weight) OR weight < 0), "
            "count(*) FILTER (has_tz AND ts IS NOT NULL), "
            "count(*) FILTER (NOT has_tz AND ts IS NOT NULL), "
            "min(ts), max(ts), min(series_id), max(series_id) FROM staged"
        ).fetchall()[0]
        assert row is not None
        rows, bad_series, bad_ts, bad_value, bad_weight, n_tz, n_naive = row[:7]
        rejects = 0
        if kind == "csv":
            rejects_row = self.con.execute("SELECT count(*) FROM reject_errors").fetchall()[0]
            rejects = int(rejects_row[0]) if rejects_row else 0
        if rejects:
            findings.append(self._csv_rejects(rejects, truncated))
        if bad_series:
            findings.append(
                self._examples(
                    "unknown series code", bad_series, "m.series_id IS NULL", "series", "r.series"
                )
            )
        if bad_ts:
            findings.append(
                self._examples(
                    "timestamp does not parse",
                    bad_ts,
                    f"{ts_expr} IS NULL",
                    "ts",
                    "r.ts::VARCHAR",
                )
            )
        if bad_value:
            findings.append(
                self._examples(
                    "value is missing or not a finite number",
                    bad_value,
                    "TRY_CAST(r.value AS DOUBLE) IS NULL "
                    "OR NOT isfinite(TRY_CAST(r.value AS DOUBLE))",
                    "value",
                    "r.value::VARCHAR",
                )
            )
        if bad_weight:
            findings.append(
                self._examples(
                    "weight is missing, negative or not a number",
                    bad_weight,
                    f"{weight_expr} IS NULL OR NOT isfinite({weight_expr}) OR {weight_expr} < 0",
                    "weight",
                    "r.weight::VARCHAR",
                )
            )
        if n_tz and n_naive:
            findings.append(self._mixed_tz(tz_expr, ts_expr, n_tz, n_naive))
        if not findings and rows and not n_tz:
            # naive local wall-clock times: re-read them in the workspace time zone
            # the same zone arithmetic as the fast pass, so both read a wall time alike
            utc = self._wall_to_utc_sql("epoch_us(timezone('UTC', ts))")
            self.con.execute(f"UPDATE staged SET ts = make_timestamptz({utc})")
            stats_row = self.con.execute(
                "SELECT min(ts), max(ts), min(series_id), max(series_id) FROM staged"
            ).fetchall()[0]
            assert stats_row is not None
            min_ts, max_ts, min_sid, max_sid = stats_row
        else:
            min_ts, max_ts, min_sid, max_sid = row[7:]
        if not findings:
            dup = self._duplicates()
            if dup is not None:
                findings.append(dup)
        if findings:
            total = sum(f.count for f in findings)
            summary = "; ".join(f"{f.count} × {f.reason}" for f in findings)
            problems = [p for f in findings for p in f.examples]
            raise ValidationError(
                f"{self._file_label}: {total} bad row(s), nothing stored ({summary})",
                problems,
                hint="fix the rows listed (first rows of each kind shown) and load the file again",
            )
        if not rows:
            raise ValidationError(
                f"{self._file_label}: no observations",
                [Problem("no data rows", file=self._file_label)],
            )
        self.con.execute("ALTER TABLE staged DROP COLUMN has_tz")
        return StageStats(int(rows), min_ts, max_ts, int(min_sid), int(max_sid))

    def _require_columns(self, columns: Sequence[str]) -> None:
        missing = [c for c in ("series", "ts", "value") if c not in columns]
        if missing:
            raise ValidationError(
                f"{self._file_label}: missing column(s) {', '.join(missing)}",
                [Problem(f"missing column {c}", file=self._file_label, column=c) for c in missing],
                hint="observations need columns series, ts, value (and optionally weight)",
            )

    def _numbered(self) -> str:
        return f"SELECT *, row_number() OVER () + {self._row_offset} AS _row FROM src"

    def _examples(
        self, reason: str, count: int, condition: str, column: str, value_expr: str
    ) -> _Finding:
        rows = self.con.execute(
            f"SELECT r._row, {value_expr} FROM ({self._numbered()}) r "
            f"LEFT JOIN series_map m ON r.series = m.code WHERE {condition} "
            f"ORDER BY r._row LIMIT {EXAMPLES_PER_KIND}"
        ).fetchall()
        examples = [
            Problem(reason, file=self._file_label, row=self._line(int(n)), column=column, value=v)
            for n, v in rows
        ]
        return _Finding(reason, int(count), examples)

    def _line(self, row_number: int) -> int:
        """Line of the ``row_number``-th accepted row, counting lines the CSV reader rejected."""
        if not self._row_offset:
            return row_number
        line = row_number
        for (rejected,) in self.con.execute(
            "SELECT line FROM reject_errors ORDER BY line"
        ).fetchall():
            if rejected <= line:
                line += 1
        return line

    def _csv_rejects(self, count: int, truncated: bool) -> _Finding:
        rows = self.con.execute(
            "SELECT line, error_type, csv_line, error_message FROM reject_errors "
            f"ORDER BY line LIMIT {EXAMPLES_PER_KIND}"
        ).fetchall()
        last_line = self.con.execute("SELECT max(line) FROM reject_errors").fetchall()[0]
        last = int(last_line[0]) if last_line and last_line[0] is not None else -1
        examples = []
        for line, _etype, text, message in rows:
            reason = f"malformed line: {message}"
            if truncated and int(line) == last:
                reason = "file cut off mid-line (last line incomplete)"
            examples.append(Problem(reason, file=self._file_label, row=int(line), value=text))
        reason = "malformed line (wrong number of columns or bad quoting)"
        if truncated:
            reason += "; the file ends mid-line, was it cut off?"
        return _Finding(reason, count, examples)

    def _mixed_tz(self, tz_expr: str, ts_expr: str, n_tz: int, n_naive: int) -> _Finding:
        examples: list[Problem] = []
        for flag, what in (("", "with a time zone offset"), ("NOT ", "without a time zone")):
            rows = self.con.execute(
                f"SELECT r._row, r.ts::VARCHAR FROM ({self._numbered()}) r "
                f"WHERE {flag}{tz_expr} AND {ts_expr} IS NOT NULL "
                f"ORDER BY r._row LIMIT {EXAMPLES_PER_KIND}"
            ).fetchall()
            examples += [
                Problem(
                    f"timestamp {what}",
                    file=self._file_label,
                    row=self._line(n),
                    column="ts",
                    value=v,
                )
                for n, v in rows
            ]
        reason = f"time zones mixed: {n_tz} timestamp(s) with an offset, {n_naive} without"
        return _Finding(reason, min(n_tz, n_naive), examples)

    def _duplicates(self) -> _Finding | None:
        # the cheap exact check (bitmaps per run of slots); the naming query only when it fires
        row = self.con.execute("SELECT min(ts) FROM staged").fetchall()[0]
        if not row or row[0] is None or not self._duplicate_copies(1, row[0]):
            return None
        row = self.con.execute(
            "SELECT count(*), coalesce(sum(c), 0) FROM (SELECT count(*) c FROM staged "
            "GROUP BY series_id, ts HAVING count(*) > 1)"
        ).fetchall()[0]
        if not row or not row[0]:
            return None
        keys, copies = int(row[0]), int(row[1])
        rows = self.con.execute(
            f"SELECT _row, series, ts_text FROM (SELECT r._row, r.series, r.ts::VARCHAR ts_text, "
            f"count(*) OVER (PARTITION BY s.series_id, s.ts) c FROM ({self._numbered()}) r "
            "POSITIONAL JOIN staged s) WHERE c > 1 "
            f"ORDER BY series, ts_text, _row LIMIT {EXAMPLES_PER_KIND}"
        ).fetchall()
        reason = f"duplicate series and timestamp within the file ({keys} key(s))"
        examples = [
            Problem(
                "duplicate series and timestamp",
                file=self._file_label,
                row=self._line(int(n)),
                column="ts",
                value=f"{s} {t}",
            )
            for n, s, t in rows
        ]
        return _Finding(reason, copies, examples)

    # -- raw store ---------------------------------------------------------------------------
    def write_raw(self, path: Path, batch_id: int) -> None:
        """Write the staged rows (plus ``batch_id``) as one Parquet file at ``path`` (nothing to do
        when :meth:`stage` already wrote it while reading the source)."""
        if self._raw_written == path:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Insertion order does not matter for the raw file; dropping it lets DuckDB write in
        # parallel with less memory.
        self.con.execute("SET preserve_insertion_order=false")
        self.con.execute(
            f"COPY (SELECT series_id, ts, value, weight, {int(batch_id)}::BIGINT AS batch_id "
            f"FROM staged) TO {_q(str(path))} ({_PARQUET_OPTIONS})"
        )
        self._raw_written = path

    # -- aggregation -------------------------------------------------------------------------
    def _period_sql(
        self, grain: Grain, ts: str, lo: dt.datetime | None, hi: dt.datetime | None
    ) -> str:
        """SQL for the local ``grain`` period start (TIMESTAMP) of TIMESTAMPTZ column ``ts`` whose
        values lie in ``[lo, hi]``.

        Integer arithmetic instead of a zone conversion and ``date_trunc`` per row (each costs
        more than parsing the file): local µs = UTC µs + the zone offset, picked by a balanced
        CASE over the zone's changes; hours, days and ISO weeks are then divisions, and months,
        quarters and years a balanced CASE over the UTC starts of the periods in range. Rows
        before 1970 or from 2100 take DuckDB's zone conversion.
        """
        fy = self.calendar.fy_start_month
        tz = self.calendar.tz
        if lo is None or hi is None or lo < _TREE_LO or hi >= _TREE_HI:
            return duckdb_period_start(grain, f"timezone({_q(tz)}, {ts})", fy)
        u = f"epoch_us({ts})"
        day = 86_400 * _US
        if grain in (Grain.HOUR, Grain.DAY, Grain.WEEK):
            local = _utc_to_local_us(tz, u)
            if grain is Grain.HOUR:
                key = f"({local} // {3_600 * _US} * {3_600 * _US})"
            elif grain is Grain.DAY:
                key = f"({local} // {day} * {day})"
            else:  # 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier
                key = f"((({local} // {day} + 3) // 7 * 7 - 3) * {day})"
        else:
            cal = self.calendar
            starts = cal.periods(grain, cal.to_local(lo), cal.to_local(hi))
            key = _case_tree(
                u,
                [_epoch_us(cal.to_utc(s)) for s in starts[1:]],
                [str(_epoch_us(s.replace(tzinfo=dt.UTC))) for s in starts],
            )
        return f"make_timestamp({key})"

    def _period_table(self, relation: str, grain: Grain, target: str) -> None:
        """CREATE TEMP TABLE ``target`` AS ``relation`` plus column ``p``: the local ``grain``
        period start of each row's ``ts``."""
        stats = self.con.execute(f"SELECT min(ts), max(ts) FROM {relation}").fetchall()[0]
        pexpr = self._period_sql(grain, "r.ts", stats[0], stats[1])
        self.con.execute(
            f"CREATE TEMP TABLE {target} AS SELECT r.*, {pexpr} AS p FROM {relation} r"
        )

    def aggregate(
        self,
        grains: set[Grain] | frozenset[Grain],
        *,
        batch_id: int,
        prior_files: Sequence[Path] = (),
        fetch_stored: StoredFetcher | None = None,
    ) -> pa.Table:
        """Aggregates of every grain in ``grains`` (plus the base grain) for the periods the staged
        rows touch.

        ``prior_files`` are earlier raw files that may hold rows of the same series and periods;
        when given, each touched base period is recomputed from all its raw rows, the newest batch
        winning per (series, ts). ``fetch_stored`` returns stored current aggregates, used to
        complete coarser periods only partly touched (incremental load); None means nothing is
        stored yet for these series.

        Returns an Arrow table: ``grain``, :data:`AGG_COLUMNS` but ``batches`` as ``batch_ids``
        (comma-separated ascending), and ``expected`` (observations expected in the period).
        """
        base = base_grain(grains)
        wanted = sorted(set(grains) | {base}, key=GRAIN_ORDER.index)
        self.con.execute("SET preserve_insertion_order=false")
        if prior_files:
            self._recompute_source(base, batch_id, prior_files)
            batches = "list_sort(list(DISTINCT batch_id))"
            rows = "rows_p"
        else:
            # straight from the staged rows (the raw file): one streaming pass, nothing
            # materialised per row
            span = (
                self._stats or self.con.execute("SELECT min(ts), max(ts) FROM staged").fetchall()[0]
            )
            lo, hi = (span.min_ts, span.max_ts) if isinstance(span, StageStats) else span
            pexpr = self._period_sql(base, "r.ts", lo, hi)
            rows = f"(SELECT r.*, {pexpr} AS p FROM staged r)"
            batches = f"[{int(batch_id)}]::BIGINT[]"
        self.con.execute(
            f"CREATE TEMP TABLE agg_{base.value} AS SELECT series_id, p AS period_start, "
            "count(*)::BIGINT AS n, sum(value) AS sum, min(value) AS min, max(value) AS max, "
            "arg_max(value, ts) AS last_value, max(ts) AS last_ts, "
            "sum(weight) AS weight_sum, sum(value * weight) AS weighted_sum, "
            f"{batches} AS batches FROM {rows} GROUP BY series_id, p"
        )
        done = [base]
        for grain in wanted[1:]:
            source = next(g for g in done if nests_in(g, grain))
            self._rollup(source, grain, fetch_stored)
            done.append(grain)
        union = " UNION ALL ".join(
            f"SELECT '{g.value}' AS grain, {', '.join(AGG_COLUMNS)} FROM agg_{g.value}"
            for g in wanted
        )
        self.con.execute(f"CREATE TEMP TABLE agg_all AS {union}")
        # Expected counts come from the Python calendar (one definition), computed once per
        # distinct (frequency, grain, period) — a few hundred — and joined back.
        keys = self.con.execute(
            "SELECT DISTINCT m.frequency, a.grain, a.period_start FROM agg_all a "
            "JOIN series_map m ON m.series_id = a.series_id"
        ).fetchall()
        # (lists through DuckDB parameters, not Arrow arrays: building those imports pandas,
        # a second of a short load's time)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE expected_map AS "
            "SELECT unnest(?::VARCHAR[]) AS frequency, "
            "unnest(?::VARCHAR[]) AS grain, unnest(?::TIMESTAMP[]) AS period_start, "
            "unnest(?::BIGINT[]) AS expected",
            [
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [self.calendar.expected_count(Frequency(f), Grain(g), p) for f, g, p in keys],
            ],
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE agg_out AS "
            "SELECT a.* EXCLUDE (batches), array_to_string(a.batches, ',') AS batch_ids, "
            "e.expected FROM agg_all a JOIN series_map m ON m.series_id = a.series_id "
            "LEFT JOIN expected_map e ON e.frequency = m.frequency AND e.grain = a.grain "
            "AND e.period_start = a.period_start"
        )
        return self.con.sql("SELECT * FROM agg_out").to_arrow_table()

    def records(self) -> list[dict[str, Any]]:
        """The rows :meth:`aggregate` returned, as dicts (without going through Arrow)."""
        cur = self.con.execute("SELECT * FROM agg_out")
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _recompute_source(self, base: Grain, batch_id: int, prior_files: Sequence[Path]) -> None:
        files = "[" + ", ".join(_q(str(p)) for p in prior_files) + "]"
        lo_hi = self.con.execute("SELECT min(ts), max(ts) FROM staged").fetchall()[0]
        assert lo_hi is not None
        self._period_table("staged", base, "staged_p")
        self.con.execute("CREATE TEMP TABLE touched AS SELECT DISTINCT series_id, p FROM staged_p")
        # Bounds of the touched periods in UTC, widened by a day for zone offsets; exact
        # membership is decided by the join on (series, period) below.
        bounds = self.con.execute(
            "SELECT min(p) - INTERVAL 1 DAY, max(p) + INTERVAL 400 DAY FROM touched"
        ).fetchall()[0]
        assert bounds is not None
        lo = bounds[0].replace(tzinfo=dt.UTC)
        self.con.execute(
            "CREATE TEMP TABLE prior_rows AS SELECT series_id, ts, value, weight, batch_id "
            f"FROM read_parquet({files}) WHERE ts >= ?::TIMESTAMPTZ "
            "AND series_id IN (SELECT DISTINCT series_id FROM touched)",
            [lo],
        )
        self._period_table("prior_rows", base, "prior_p")
        self.con.execute(
            "CREATE TEMP TABLE rows_all AS "
            f"SELECT series_id, ts, value, weight, {int(batch_id)}::BIGINT AS batch_id, p "
            "FROM staged_p UNION ALL "
            "SELECT pr.series_id, pr.ts, pr.value, pr.weight, pr.batch_id, pr.p FROM prior_p pr "
            "SEMI JOIN touched t ON pr.series_id = t.series_id AND pr.p = t.p"
        )
        # the newest batch wins per (series, ts): a late correction replaces, never adds
        self.con.execute(
            "CREATE TEMP TABLE rows_p AS SELECT series_id, ts, p, "
            "arg_max(value, batch_id) AS value, arg_max(weight, batch_id) AS weight, "
            "max(batch_id) AS batch_id FROM rows_all GROUP BY series_id, ts, p"
        )

    def _rollup(self, source: Grain, grain: Grain, fetch_stored: StoredFetcher | None) -> None:
        fy = self.calendar.fy_start_month
        src = f"agg_{source.value}"
        pexpr = duckdb_period_start(grain, "period_start", fy)
        if fetch_stored is not None:
            # complete partly touched coarse periods with the stored (untouched) finer periods
            span = self.con.execute(
                f"SELECT list(DISTINCT series_id), min({pexpr}), max({pexpr}) FROM {src}"
            ).fetchall()[0]
            assert span is not None
            if span[0]:
                series_ids = [int(s) for s in span[0]]
                cal = self.calendar
                stored = fetch_stored(source, series_ids, span[1], cal.period_end(grain, span[2]))
                self.con.register("stored_rows", stored)
                st_pexpr = duckdb_period_start(grain, "st.period_start", fy)
                self.con.execute(
                    f"INSERT INTO {src} SELECT st.series_id, st.period_start, st.n, st.sum, "
                    "st.min, st.max, st.last_value, st.last_ts, st.weight_sum, st.weighted_sum, "
                    "string_split(st.batches, ',')::BIGINT[] FROM stored_rows st "
                    f"ANTI JOIN {src} a ON a.series_id = st.series_id "
                    "AND a.period_start = st.period_start "
                    f"SEMI JOIN (SELECT DISTINCT series_id, {pexpr} AS p FROM {src}) t "
                    f"ON t.series_id = st.series_id AND t.p = {st_pexpr}"
                )
                self.con.unregister("stored_rows")
        self.con.execute(
            f"CREATE TEMP TABLE agg_{grain.value} AS SELECT series_id, {pexpr} AS period_start, "
            "sum(n)::BIGINT AS n, sum(sum) AS sum, min(min) AS min, max(max) AS max, "
            "arg_max(last_value, last_ts) AS last_value, max(last_ts) AS last_ts, "
            "sum(weight_sum) AS weight_sum, sum(weighted_sum) AS weighted_sum, "
            "list_sort(list_distinct(flatten(list(batches)))) AS batches "
            f"FROM {src} GROUP BY ALL"
        )


__all__ = ["AGG_COLUMNS", "Harmoniser", "StageStats", "StoredFetcher"]
