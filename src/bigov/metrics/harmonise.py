"""The vectorised harmonisation engine (DuckDB): validate observations, aggregate them into periods.

Everything here runs as set-based DuckDB SQL over columnar data, never a Python loop per row. The
engine knows nothing of the bigov database: :mod:`bigov.metrics.service` hands it the series
catalogue and the prior raw files, and stores what it returns.

Flow of one load (one :class:`Harmoniser`, one DuckDB connection):

1. :meth:`Harmoniser.stage` reads the source (CSV, Parquet, Arrow IPC, Arrow/Polars/pandas frame)
   once, straight into the batch's raw Parquet file, then makes one grouped pass over that file:
   aggregates per series and finest period (``partials``), the count of every kind of problem and
   a bitmap of time slots per group that rules duplicates out. Any problem re-reads the source
   as text and raises :class:`~bigov.errors.ValidationError` with counts and the first rows of
   each kind. ``staged(series_id, ts, value, weight)`` is a view over the raw file.
2. :meth:`Harmoniser.aggregate` turns ``partials`` into the base grain — merged into the stored
   aggregates when the batch appends to periods earlier files hold, or recomputed from all their
   raw rows (newest batch winning per series and timestamp) when it corrects them — then rolls
   each coarser grain up from the next finer one.

Periods are computed on local time by integer arithmetic and balanced CASE trees over the zone's
changes and the period starts inside a window guessed before the read (much cheaper than a zone
conversion per row); rows outside it, or before 1970, take DuckDB's conversion through
:func:`~bigov.metrics.calendar.duckdb_period_start`.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    grains_of,
    nests_in,
)

# Example rows shown per kind of problem; the counts are always complete.
EXAMPLES_PER_KIND = 5
_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")
# Observation times accepted (as in data imports): a year such as 9999 is a slip or a "never"
# marker, and its periods end beyond what the calendar (Python dates) can represent.
TS_MIN, TS_END = "1900-01-01 00:00:00+00", "2201-01-01 00:00:00+00"
_TS_MIN_US = int(dt.datetime(1900, 1, 1, tzinfo=dt.UTC).timestamp() * 1_000_000)
_TS_END_US = int(dt.datetime(2201, 1, 1, tzinfo=dt.UTC).timestamp() * 1_000_000)
# What DuckDB may hold in memory during a load before it spills to disk. With the Python side
# streaming its results, a 5M-row load at every grain peaks well under 1 GB (docs/metrics.md).
DEFAULT_MEMORY_LIMIT = "512MB"
MEMORY_ENV = "BIGOV_METRICS_MEMORY_LIMIT"

# An explicit offset or Z at the end of a timestamp text; a bare date or local time has none.
_TZ_SQL = (
    "(suffix(r.ts, 'Z') OR suffix(r.ts, 'z') OR contains(right(r.ts, 6), '+') "
    "OR (length(r.ts) > 19 AND contains(right(r.ts, 6), '-')))"
)
# Snappy: the cheapest codec to write that still shrinks the raw file well (a load writes once
# and rarely reads back). DuckDB's default row groups (122,880 rows) are kept: the writer works
# on row groups in parallel, so 1M-row groups made a 10M-row write ~25% slower.
_PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION snappy"


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

# The columns of :meth:`Harmoniser.records`, in order: the aggregate's, with its grain, the
# batches as text and the expected count.
RECORD_COLUMNS: tuple[str, ...] = (
    "series_id",
    "grain",
    *AGG_COLUMNS[1:-1],
    "batch_ids",
    "expected",
)

# A fetcher of stored current aggregates: (grain, series ids, local start, local end) → rows of
# AGG_COLUMNS, ``batches`` as a comma-separated string, ``last_ts`` UTC (naive or aware). Plain
# rows, not Arrow: registering an Arrow table with DuckDB imports pandas, half a second of a
# small incremental load.
StoredFetcher = Callable[[Grain, Sequence[int], dt.datetime, dt.datetime], list[Any]]


@dataclass(frozen=True)
class StageStats:
    """What a validated source holds: row count, UTC time range and series id range."""

    rows: int
    min_ts: dt.datetime
    max_ts: dt.datetime
    min_series_id: int
    max_series_id: int


class RowsRejectedError(ValidationError):
    """Observations refused: ``rows`` is the count the message gives (``problems`` name only
    the first rows of each kind), ``kinds`` the count of each kind of problem."""

    def __init__(
        self,
        message: str,
        problems: Sequence[Problem],
        *,
        hint: str | None = None,
        rows: int,
        kinds: dict[str, int],
    ) -> None:
        super().__init__(message, problems, hint=hint)
        self.rows = rows
        self.kinds = kinds


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


def _csv_last_ts(path: Path, delim: str, columns: Sequence[str]) -> str | None:
    """The ``ts`` text of the last complete line (None when it does not read), from the file's
    last 64 KiB."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_536))
        tail = fh.read().decode("utf-8", errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    fields = next(csv.reader([lines[-1]], delimiter=delim), [])
    index = list(columns).index("ts")
    return fields[index] if len(fields) > index and fields[index] else None


@dataclass(frozen=True)
class _Opened:
    """A source opened for reading: its relation SQL, columns, and CSV particulars."""

    rel: str
    columns: list[str]
    truncated: bool
    csv_opts: str
    first_ts: str | None
    path: Path | None
    delim: str


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
_DAY_US = 86_400 * _US
# Instants outside this window take DuckDB's (slow, per-row) zone conversion instead.
_TREE_LO = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TREE_HI = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# The duplicate bitmaps have one bit per 15-minute slot: no frequency bigov knows is finer than
# hourly, and every time zone offset in use is a multiple of 15 minutes. Two rows in one slot of
# one (series, period) group are a duplicate or finer-grained timestamps, decided exactly then.
_BIT_SLOT_US = 900 * _US
# Bits per group: more slots than the longest period of the grain holds (a DST day has 25 hours).
_SLOT_BITS = {
    Grain.HOUR: 4 + 1,
    Grain.DAY: 25 * 4 + 1,
    Grain.WEEK: (7 * 24 + 1) * 4 + 1,
    Grain.MONTH: (31 * 24 + 1) * 4 + 1,
    Grain.QUARTER: (92 * 24 + 1) * 4 + 1,
    Grain.YEAR: (366 * 24 + 1) * 4 + 1,
}


def _epoch_us(instant: dt.datetime) -> int:
    return (instant - _EPOCH) // dt.timedelta(microseconds=1)


def _from_us(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


def _instant_us(value: Any) -> int | None:
    """Epoch µs of a timestamp (text or datetime; naive read as UTC), None if it does not read.
    Only used to guess a window, so a naive time's zone does not matter."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return _epoch_us(value)


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


def _narrowed(
    first: int, changes: Sequence[tuple[int, int]], lo: int | None, hi: int | None
) -> tuple[int, list[tuple[int, int]]]:
    """The offset in force at ``lo`` and the changes inside ``[lo, hi)``: a tree over only these
    is exact for instants in that window (two levels for a year of London time, not eight)."""
    if lo is None or hi is None:
        return first, list(changes)
    at_lo = first
    inside: list[tuple[int, int]] = []
    for instant, offset in changes:
        if instant <= lo:
            at_lo = offset
        elif instant < hi:
            inside.append((instant, offset))
    return at_lo, inside


def _utc_to_local_us(tz: str, u: str, lo: int | None = None, hi: int | None = None) -> str:
    """SQL: local wall-clock epoch microseconds of UTC epoch microseconds ``u`` (exact for every
    ``u`` when ``lo``/``hi`` are None, else only for ``lo <= u < hi``)."""
    first, changes = _narrowed(*_transitions(tz), lo, hi)
    offsets = [str(first), *(str(o) for _, o in changes)]
    return f"({u} + {_case_tree(u, [t for t, _ in changes], offsets)})"


def _local_to_utc_us(tz: str, w: str, lo: int | None = None, hi: int | None = None) -> str:
    """SQL: UTC epoch microseconds of local wall-clock epoch microseconds ``w`` (exact for every
    ``w`` when ``lo``/``hi`` are None, else only for ``lo <= w < hi``); NULL for a wall time that
    does not exist (the clocks go forward over it).

    A wall time that occurs twice (clocks going back) is the first occurrence, as
    :meth:`FiscalCalendar.to_utc` reads it (``fold=0``). A skipped one is NULL rather than read
    with the offset before the change: that silently moved a row into the next hour, summed
    with the row really there (the load names such rows instead). Except a skipped midnight
    (zones such as America/Santiago change at 00:00): that is how a date reads, and it stands
    for the start of its day, the instant of the change (as the calendar starts that day).
    """
    first, changes = _transitions(tz)
    bounds: list[int] = []
    values: list[str] = [str(first)]
    before = first
    for instant, after in changes:
        if after > before:  # walls [instant + before, instant + after) are skipped
            start = instant + before
            if start % _DAY_US == 0:
                start += 1  # midnight itself: the offset before, so the instant of the change
            bounds += [start, instant + after]
            values += ["NULL", str(after)]
        else:  # walls before instant + before are still the first occurrence
            bounds.append(instant + before)
            values.append(str(after))
        before = after
    if lo is not None and hi is not None:
        # only the bounds inside [lo, hi), and the value in force at lo
        keep = [i for i, b in enumerate(bounds) if lo < b < hi]
        at_lo = sum(1 for b in bounds if b <= lo)
        values = [values[at_lo], *(values[i + 1] for i in keep)]
        bounds = [bounds[i] for i in keep]
    return f"({w} - {_case_tree(w, bounds, values)})"


def _ambiguous_wall_sql(tz: str, w: str) -> str:
    """SQL: whether local wall-clock epoch µs ``w`` occurs twice in ``tz`` (clocks going back;
    1970 to 2100, the span of :func:`_transitions`). Only the error path uses it, so the tree
    over every change is affordable."""
    bounds: list[int] = []
    for start, end, _ in _wall_ranges(tz, gaps=False):
        bounds += [start, end]
    values = ["false", "true"] * (len(bounds) // 2) + ["false"]
    return _case_tree(w, bounds, values)


@lru_cache(maxsize=32)
def _wall_ranges(tz: str, *, gaps: bool) -> tuple[tuple[int, int, int], ...]:
    """Local wall-clock ranges ``[start, end)`` (epoch µs) that do not exist (``gaps``: clocks
    going forward) or occur twice (clocks going back) in ``tz``, with the change's instant."""
    first, changes = _transitions(tz)
    out: list[tuple[int, int, int]] = []
    before = first
    for instant, after in changes:
        if (after > before) == gaps and after != before:
            lo, hi = sorted((instant + before, instant + after))
            out.append((lo, hi, instant))
        before = after
    return tuple(out)


def describe_wall_time(tz: str, wall: dt.datetime, shown: str = "this time") -> str | None:
    """Why a naive local time cannot be read in ``tz``: it does not exist (clocks going forward)
    or it occurs twice (clocks going back); None when it is an ordinary time. ``shown`` is how
    the message names the time (e.g. the text of the file)."""
    w = _epoch_us(wall.replace(tzinfo=dt.UTC))
    for gaps in (True, False):
        for lo, hi, instant in _wall_ranges(tz, gaps=gaps):
            if lo <= w < hi:
                start = _from_us(lo).replace(tzinfo=None)
                end = _from_us(hi).replace(tzinfo=None)
                day = _from_us(instant).astimezone(ZoneInfo(tz)).date()
                if gaps:
                    return (
                        f"{shown} does not exist in {tz}: the clocks go forward from "
                        f"{start:%H:%M} to {end:%H:%M} on {day:%d %b %Y}"
                    )
                first = (_from_us(instant) - dt.timedelta(seconds=1)).astimezone(ZoneInfo(tz))
                offset = f"{first:%z}"[:3] + ":" + f"{first:%z}"[3:]
                return (
                    f"{shown} occurs twice in {tz}: the clocks go back from {end:%H:%M} to "
                    f"{start:%H:%M} on {day:%d %b %Y}; give its UTC offset (e.g. "
                    f"{wall:%Y-%m-%dT%H:%M}{offset} for the first)"
                )
    return None


def uniform_newlines(path: Path, folder: Path) -> Path | None:
    """A copy of CSV ``path`` with every line ending made LF, in ``folder``, when the file mixes
    CRLF and bare LF endings (the CSV reader refuses such a file); None when it does not.

    Streams the file in blocks (only a refused file is read this way, never a good one)."""
    folder.mkdir(parents=True, exist_ok=True)
    fixed = folder / f"newlines-{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}"
    crlf = lf = 0
    carry = b""  # a CR at the end of a block belongs with the next block's first byte
    with path.open("rb") as src, fixed.open("wb") as dst:
        while block := src.read(1 << 22):
            block = carry + block
            carry = b""
            if block.endswith(b"\r"):
                block, carry = block[:-1], b"\r"
            pairs = block.count(b"\r\n")
            crlf += pairs
            lf += block.count(b"\n") - pairs
            dst.write(block.replace(b"\r\n", b"\n"))
        dst.write(carry)
    if not crlf or not lf:
        fixed.unlink(missing_ok=True)
        return None
    return fixed


def memory_limit_setting(configured: str | None = None) -> str:
    """The engine's memory limit: ``configured``, else ``$BIGOV_METRICS_MEMORY_LIMIT``, else
    :data:`DEFAULT_MEMORY_LIMIT`. DuckDB spills beyond it to its temp directory, so a load of
    any size runs in bounded memory (measured in docs/metrics.md)."""
    return configured or os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT


def read_records(path: Path, chunk: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a :meth:`Harmoniser.spill_records` file, ``chunk`` at a time, as tuples in
    :data:`RECORD_COLUMNS` order (the values :meth:`Harmoniser.records` would give)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as file:
        for batch in file.iter_batches(batch_size=chunk):
            yield list(zip(*(col.to_pylist() for col in batch.columns), strict=True))


class Harmoniser:
    """One load's DuckDB workspace. Use as a context manager; not thread-safe.

    ``memory_limit`` (e.g. ``"4GB"``; default :func:`memory_limit_setting`) and ``temp_dir``
    bound memory: DuckDB spills the staged table and large aggregations to ``temp_dir`` beyond
    the limit.
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
        config: dict[str, Any] = {"memory_limit": memory_limit_setting(memory_limit)}
        if threads:
            config["threads"] = threads
        if temp_dir is not None:
            temp_dir.mkdir(parents=True, exist_ok=True)
            config["temp_directory"] = str(temp_dir)
        try:
            self.con = duckdb.connect(config=config)
        except duckdb.Error as exc:  # e.g. an unreadable memory limit in the environment
            raise ConfigError(
                f"cannot start the metrics engine: {str(exc).splitlines()[0]}",
                hint=f"check ${MEMORY_ENV} (e.g. 512MB)",
            ) from None
        # Parse in UTC (cheap); naive local timestamps are re-interpreted afterwards.
        self.con.execute("SET TimeZone='UTC'")
        self._stats: StageStats | None = None
        self._raw_written: Path | None = None
        self._partials_grain: Grain | None = None
        self._has_weight = False
        self._from_raw = False  # staged by stage_raw: rows carry their batch
        # whether the last aggregate() re-read earlier raw files (a correction)
        self.recomputed = False
        self._series_sql: tuple[str, str] | None = None
        self._file_label = "<frame>"
        self._row_offset = 0
        self._temp_dir = temp_dir
        # rows named per kind of problem (an --errors report asks for them all, up to a bound)
        self.examples_per_kind = EXAMPLES_PER_KIND
        self._scratch: list[Path] = []  # copies made to read a source (removed on close)

    def __enter__(self) -> Harmoniser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the DuckDB connection and its temporary storage."""
        self.con.close()
        for path in self._scratch:
            path.unlink(missing_ok=True)

    # -- staging -----------------------------------------------------------------------------
    def stage(
        self,
        source: Any,
        series: pa.Table | Mapping[str, Sequence[Any]],
        *,
        label: str | None = None,
        grain: Grain | None = None,
        raw_path: Path | None = None,
        batch_id: int = 0,
    ) -> StageStats:
        """Read and validate ``source``; on the good path, aggregate it to ``grain`` periods in
        the same pass.

        ``series`` maps observation codes to ids: columns ``code``, ``series_id``, ``frequency``,
        ``grains`` (an Arrow table or a mapping of column name to list). ``grain`` is the finest
        period the caller will ask :meth:`aggregate` for (default: the base grain of every
        series' grains).
        Required source columns: ``series``, ``ts``, ``value``; optional ``weight`` (default 1).
        Timestamps with an offset (``Z``, ``+01:00``) are instants; naive ones are local time in
        the calendar's time zone; a source mixing both is rejected.

        Afterwards ``staged(series_id, ts, value, weight)`` holds the rows. With ``raw_path``
        they (plus ``batch_id``) are written there as the batch's raw Parquet file while the
        source is read, and ``staged`` reads that file; on a problem the file is removed.

        The good path reads the source **once**: a typed parallel scan (series codes through an
        ENUM, timestamps through the core parser and integer zone arithmetic) written straight
        to the raw Parquet file. One grouped pass over that file (columnar, ~10× faster to read
        than the CSV) then aggregates it by series and ``grain`` period, counts every kind of
        problem and keeps a bitmap of the time slots seen per group — a group with fewer slots
        than rows may hold a duplicate, and only then is a ``GROUP BY series, ts`` run. Any
        problem at all switches to the exact pass, which re-reads the source as text to name
        the rows (the error path may be slow, the good path may not).

        Raises:
            ValidationError: every problem found, counted by kind, first rows of each kind shown.
        """
        kind = _source_kind(source)
        self._file_label = label or (Path(source).name if kind != "frame" else "<frame>")
        self._register_series(series)
        if grain is None:
            grain = self._series_base_grain()
        try:
            return self._stage(source, kind, grain, raw_path, batch_id)
        except duckdb.InvalidInputException as exc:
            failure: Exception = exc
            self._drop_staged(raw_path)
            if kind == "csv" and Path(source).is_file():
                # DuckDB's reader stops on a file mixing CRLF and LF line endings (one line
                # edited in another tool): read an LF-only copy instead
                fixed = uniform_newlines(
                    Path(source), self._temp_dir or Path(tempfile.gettempdir()) / "bigov"
                )
                if fixed is not None:
                    self._scratch.append(fixed)
                    self._reset()
                    try:
                        return self._stage(fixed, kind, grain, raw_path, batch_id)
                    except duckdb.InvalidInputException as again:
                        self._drop_staged(raw_path)
                        failure = again
            # a CSV the reader cannot parse at all: the user's file, so a message, not a trace
            text = str(failure).strip()
            first = text.splitlines()[0] if text else type(failure).__name__
            raise ValidationError(
                f"{self._file_label}: the file cannot be read as CSV ({first}); nothing stored",
                [Problem(f"unreadable CSV: {first}", file=self._file_label)],
                hint="save it as UTF-8 CSV with one header line (series, ts, value[, weight])",
            ) from None

    def _reset(self) -> None:
        """Drop what a failed read left in the connection (views, staging and reject tables),
        keeping the series map, so the source can be read again."""
        leftovers = self.con.execute(
            "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal "
            "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary "
            "AND table_name <> 'series_map'"
        ).fetchall()
        for what, name in leftovers:
            quoted = '"' + str(name).replace('"', '""') + '"'
            self.con.execute(f"DROP {what} IF EXISTS {quoted}")
        self._partials_grain = None
        self._raw_written = None

    def _stage(
        self, source: Any, kind: str, grain: Grain, raw_path: Path | None, batch_id: int
    ) -> StageStats:
        opened = self._open(source, kind, "src", rejects="fast")
        rel, columns, truncated = opened.rel, opened.columns, opened.truncated
        self._require_columns(columns)
        stats = None
        if not truncated:
            first_ts = opened.first_ts
            window = self._guess_window(opened)
            stats = self._stage_fast(rel, kind, first_ts, window, grain, raw_path, batch_id)
        if stats is None:
            self._drop_staged(raw_path)
            if kind == "csv":
                cols = ", ".join(f"{_q(c)}: 'VARCHAR'" for c in columns)
                rel = f"read_csv({opened.csv_opts}, columns={{{cols}}}, store_rejects=true)"
                self._row_offset = 1  # the header is line 1, so data row k is line k + 1
            else:
                self._row_offset = 0
            self.con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM {rel}")
            stats = self._stage_checked(kind, truncated)
            if raw_path is not None:
                self.write_raw(raw_path, batch_id)
        self._stats = stats
        return stats

    def stage_raw(
        self,
        files: Sequence[Path],
        series: pa.Table | Mapping[str, Sequence[Any]],
        series_ids: Sequence[int],
        *,
        batch_id: int | None = None,
    ) -> StageStats | None:
        """Stage every raw row of ``series_ids`` in ``files`` (the store), the newest batch
        winning per (series, ts) as in a load — for rebuilding their aggregates from scratch
        (after a change of grains, time zone or fiscal year start). None when there is none.

        ``series`` is the series map as for :meth:`stage`. :meth:`aggregate` then lists in each
        period the batches its rows came from. ``batch_id`` names the batch of rows whose file
        does not (the file a load is still writing)."""
        self._register_series(series)
        self._drop_staged(None)
        self.con.execute("SET preserve_insertion_order=false")
        if not files or not series_ids:
            return None
        self.con.execute(
            "CREATE TEMP TABLE staged AS SELECT series_id, ts, arg_max(value, batch_id) AS value, "
            "arg_max(weight, batch_id) AS weight, max(batch_id) AS batch_id FROM ("
            f"SELECT * REPLACE (coalesce(batch_id, {int(batch_id or 0)}) AS batch_id) FROM ("
            f"{self.raw_rows_sql(files)})) WHERE series_id IN (SELECT unnest(?::BIGINT[])) "
            "GROUP BY series_id, ts",
            [list(series_ids)],
        )
        row = self.con.execute(
            "SELECT count(*), min(ts), max(ts), min(series_id), max(series_id) FROM staged"
        ).fetchall()[0]
        if not row or not row[0]:
            return None
        self._from_raw = True
        self._stats = StageStats(int(row[0]), row[1], row[2], int(row[3]), int(row[4]))
        return self._stats

    def _register_series(self, series: pa.Table | Mapping[str, Sequence[Any]]) -> None:
        """The series map as ``series_map(code, series_id, frequency, grains)``."""
        if isinstance(series, pa.Table):
            self.con.register("series_map", series)
            return
        self._columns_table(
            "series_map",
            {
                "code": ("VARCHAR", series["code"]),
                "series_id": ("BIGINT", series["series_id"]),
                "frequency": ("VARCHAR", series["frequency"]),
                "grains": ("VARCHAR", series["grains"]),
            },
        )

    def _columns_table(self, name: str, columns: Mapping[str, tuple[str, Sequence[Any]]]) -> None:
        """Temporary table ``name`` from Python lists, column name → (DuckDB type, values).

        Lists go through DuckDB parameters, not Arrow arrays: registering Arrow with DuckDB
        imports pandas, half a second of a small load."""
        select = ", ".join(f"unnest(?::{t}[]) AS {c}" for c, (t, _) in columns.items())
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}",
            [list(values) for _, values in columns.values()],
        )

    def _series_base_grain(self) -> Grain:
        rows = self.con.execute("SELECT DISTINCT grains FROM series_map").fetchall()
        grains = frozenset().union(*(grains_of(text) for (text,) in rows))
        return base_grain(grains) if grains else Grain.DAY

    def present_groups(self) -> dict[str, list[int]]:
        """The series present in the staged source, by their stored grains list (also kept as
        ``staged_series``)."""
        table = "partials" if self._partials_grain is not None else "staged"
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE staged_series AS "
            f"SELECT DISTINCT series_id FROM {table} WHERE series_id IS NOT NULL"
        )
        rows = self.con.execute(
            "SELECT m.grains, list(m.series_id ORDER BY m.series_id) FROM series_map m "
            "SEMI JOIN staged_series t ON t.series_id = m.series_id GROUP BY m.grains"
        ).fetchall()
        return {str(g or ""): [int(i) for i in ids] for g, ids in rows}

    def _open(self, source: Any, kind: str, tag: str, *, rejects: str | None) -> _Opened:
        """A typed relation over ``source`` (CSV values as DOUBLE, everything else as stored);
        ``rejects`` names the table CSV lines that do not parse go to (None: fail on them)."""
        if kind == "csv":
            path = Path(source)
            if not path.exists():
                raise ConfigError(f"no such file: {path}")
            columns, delim = _csv_header(path)
            csv_opts = (
                f"{_q(str(path))}, header=true, delim={_q(delim)}, quote='\"', escape='\"', "
                "auto_detect=false"
            )
            typed = ", ".join(
                f"{_q(c)}: '{'DOUBLE' if c in ('value', 'weight') else 'VARCHAR'}'" for c in columns
            )
            keep = (
                f", store_rejects=true, rejects_table='{rejects}_rejects', "
                f"rejects_scan='{rejects}_scans'"
                if rejects
                else ""
            )
            first = _csv_first_ts(path, delim, columns) if "ts" in columns else None
            return _Opened(
                f"read_csv({csv_opts}, columns={{{typed}}}{keep})",
                columns,
                _ends_mid_line(path),
                csv_opts,
                first,
                path,
                delim,
            )
        if kind == "parquet":
            rel = f"read_parquet({_q(str(source))})"
        else:
            table = pa.ipc.open_file(str(source)).read_all() if kind == "ipc" else None
            name = f"{tag}_arrow"
            self.con.register(name, table if table is not None else _to_arrow(source))
            rel = name
        columns = [r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
        return _Opened(rel, columns, False, "", None, None, ",")

    def _guess_window(self, opened: _Opened) -> tuple[int, int] | None:
        """A UTC window (µs) that probably holds every timestamp — from the first and last line
        of a CSV file (read in Python, no scan), else from min/max of the column. Rows outside
        it are still right, through DuckDB's slower zone conversion."""
        texts: list[Any] = []
        if opened.path is not None:
            texts = [opened.first_ts, _csv_last_ts(opened.path, opened.delim, opened.columns)]
        elif "ts" in opened.columns:
            row = self.con.execute(f"SELECT min(ts), max(ts) FROM {opened.rel}").fetchall()
            texts = list(row[0]) if row else []
        instants = [u for u in (_instant_us(t) for t in texts) if u is not None]
        if not instants:
            return None
        margin = 2 * 86_400 * _US  # wider than any zone offset, so naive times fit too
        lo, hi = min(instants) - margin, max(instants) + margin
        if lo < _epoch_us(_TREE_LO) or hi >= _epoch_us(_TREE_HI):
            return None
        return lo, hi

    def _drop_staged(self, raw_path: Path | None) -> None:
        kinds = self.con.execute(
            "SELECT 'VIEW', view_name FROM duckdb_views() WHERE view_name = 'staged' "
            "AND temporary UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() "
            "WHERE table_name IN ('staged', 'partials') AND temporary"
        ).fetchall()
        for kind, name in kinds:
            self.con.execute(f"DROP {kind} {name}")
        self._partials_grain = None
        self._raw_written = None
        if raw_path is not None:
            raw_path.unlink(missing_ok=True)

    def _series_id_sql(self) -> tuple[str, str]:
        """(join clause, id expression) mapping ``r.series`` to its series id, NULL if unknown.

        The codes become a DuckDB ENUM so the lookup is a vectorised cast, not a string hash
        join (which costs more than parsing the file); ids that are not one contiguous range
        (in code order) fall back to the join. Made once per engine (views refer to the type).
        """
        if self._series_sql is not None:
            return self._series_sql
        ids = [
            int(r[0])
            for r in self.con.execute(
                "SELECT series_id FROM series_map ORDER BY series_id"
            ).fetchall()
        ]
        if ids and ids == list(range(ids[0], ids[0] + len(ids))):
            self.con.execute(
                "CREATE TYPE series_code AS ENUM "
                "(SELECT code FROM series_map WHERE code IS NOT NULL ORDER BY series_id)"
            )
            sid = f"(enum_code(TRY_CAST(r.series::VARCHAR AS series_code))::BIGINT + {ids[0]})"
            self._series_sql = ("", sid)
        else:
            self._series_sql = (
                "LEFT JOIN series_map m ON r.series = m.code",
                "m.series_id::BIGINT",
            )
        return self._series_sql

    def _wall_to_utc_sql(self, w: str, window: tuple[int, int] | None = None) -> str:
        """SQL: UTC epoch µs of local wall-clock epoch µs ``w`` (a column name), NULL where the
        wall time does not exist; a tree over only the zone changes in ``window`` (widened by
        two days) for walls inside it."""
        tz = _q(self.calendar.tz)
        lo, hi = _epoch_us(_TREE_LO), _epoch_us(_TREE_HI)
        icu = f"timezone({tz}, make_timestamp({w}))"
        # DuckDB moves a skipped wall time silently; one that does not come back the same
        # through the zone did not exist (NULL, as the tree gives it; a midnight is a date)
        exact = (
            f"CASE WHEN {w} < {lo} OR {w} >= {hi} "
            f"THEN CASE WHEN epoch_us(timezone({tz}, {icu})) = {w} OR {w} % {_DAY_US} = 0 "
            f"THEN epoch_us({icu}) END "
            f"ELSE {_local_to_utc_us(self.calendar.tz, w)} END"
        )
        if window is None:
            return exact
        margin = 2 * 86_400 * _US
        wlo, whi = window[0] - margin, window[1] + margin
        if wlo < lo or whi >= hi:
            return exact
        narrow = _local_to_utc_us(self.calendar.tz, w, wlo, whi)
        return f"(CASE WHEN {w} >= {wlo} AND {w} < {whi} THEN {narrow} ELSE {exact} END)"

    def _normalised_sql(
        self, rel: str, kind: str, first_ts: str | None, window: tuple[int, int] | None
    ) -> tuple[str, bool] | None:
        """``SELECT series_id, u, value, weight`` over ``rel`` (``u``: UTC epoch µs; NULL where
        the code, timestamp or number does not read), and whether a weight column exists; None
        for a source of a shape only the exact pass handles."""
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
                inner = (
                    "CASE WHEN suffix(r.ts, 'Z') THEN epoch_us(TRY_CAST(r.ts AS TIMESTAMP)) "
                    f"WHEN {_TZ_SQL} THEN epoch_us(TRY_CAST(r.ts AS TIMESTAMPTZ)) END AS u"
                )
                outer = "r.u"
            else:
                inner = (
                    f"CASE WHEN NOT {_TZ_SQL} THEN epoch_us(TRY_CAST(r.ts AS TIMESTAMP)) END AS w"
                )
                outer = self._wall_to_utc_sql("r.w", window)
        elif ts_type.startswith("TIMESTAMP WITH TIME ZONE"):
            inner, outer = "epoch_us(r.ts) AS u", "r.u"
        elif ts_type.startswith(("TIMESTAMP", "DATE")):
            inner = "epoch_us(r.ts::TIMESTAMP) AS w"
            outer = self._wall_to_utc_sql("r.w", window)
        else:
            return None
        join, sid = self._series_id_sql()
        value = "r.value" if kind == "csv" else "TRY_CAST(r.value AS DOUBLE)"
        has_weight = "weight" in types
        weight = "TRY_CAST(r.weight AS DOUBLE)" if has_weight else "1.0::DOUBLE"
        sql = (
            f"SELECT {sid} AS series_id, {outer} AS u, {value} AS value, {weight} AS weight "
            f"FROM (SELECT *, {inner} FROM {rel} r) r {join}"
        )
        return sql, has_weight

    def _stage_fast(
        self,
        rel: str,
        kind: str,
        first_ts: str | None,
        window: tuple[int, int] | None,
        grain: Grain,
        raw_path: Path | None,
        batch_id: int,
    ) -> StageStats | None:
        """The good path: the source read once into the raw file (or a temporary table), then
        ``partials`` (aggregates per series and ``grain`` period) and the checks from one grouped
        pass over it. None when anything at all is wrong (or the source is of a shape this pass
        does not handle), so the exact pass can report it."""
        norm = self._normalised_sql(rel, kind, first_ts, window)
        if norm is None:
            return None
        normalised, has_weight = norm
        self._has_weight = has_weight
        self.con.execute("SET preserve_insertion_order=false")
        if raw_path is not None:
            # the lean raw schema (see bigov.metrics.store): a weight column only when the
            # source has one, the batch in the file name — constant columns cost ~15% of the
            # write
            raw_path.parent.mkdir(parents=True, exist_ok=True)
            weight = ", weight" if has_weight else ""
            self.con.execute(
                f"COPY (SELECT series_id::{self._raw_id_type()} AS series_id, "
                f"make_timestamptz(u) AS ts, value{weight} FROM ({normalised})) "
                f"TO {_q(str(raw_path))} ({_PARQUET_OPTIONS})"
            )
            self._raw_written = raw_path
            weight = "weight" if has_weight else "1.0::DOUBLE AS weight"
            self.con.execute(
                "CREATE TEMP VIEW staged AS SELECT series_id::BIGINT AS series_id, ts, value, "
                f"{weight} FROM read_parquet({_q(str(raw_path))})"
            )
        else:
            self.con.execute(
                "CREATE TEMP TABLE staged AS SELECT series_id, make_timestamptz(u) AS ts, value, "
                f"weight FROM ({normalised})"
            )
        rows_sql = "SELECT series_id, epoch_us(ts) AS u, value, weight FROM staged"
        if has_weight:
            weights = (
                "sum(r.weight) AS weight_sum, sum(r.value * r.weight) AS weighted_sum, "
                "count(*) FILTER (r.weight IS NULL OR NOT isfinite(r.weight) OR r.weight < 0) "
                "AS bad_weight"
            )
        else:  # weight 1 throughout: the weight sums are the count and the sum
            weights = (
                "count(*)::DOUBLE AS weight_sum, sum(r.value) AS weighted_sum, 0 AS bad_weight"
            )
        bits = _SLOT_BITS[grain]
        # a slot number modulo more slots than a period has is unique within the period
        slot = f"((r.u // {_BIT_SLOT_US}) % {bits} + {bits}) % {bits}"
        pkey = self._period_us_sql(grain, "r.u", window)
        self.con.execute(
            f"CREATE TEMP TABLE partials AS SELECT r.series_id, {pkey} AS p, "
            "count(*)::BIGINT AS n, sum(r.value) AS sum, min(r.value) AS min, "
            "max(r.value) AS max, arg_max(r.value, r.u) AS last_value, max(r.u) AS last_u, "
            f"min(r.u) AS first_u, {weights}, "
            "count(*) FILTER (r.value IS NULL OR NOT isfinite(r.value)) AS bad_value, "
            f"bitstring_agg({slot}, 0, {bits - 1}) AS slots "
            f"FROM ({rows_sql}) r GROUP BY 1, 2"
        )
        self._partials_grain = grain
        if kind == "csv":
            rejected = self.con.execute("SELECT count(*) FROM fast_rejects").fetchall()
            if rejected and rejected[0][0]:
                return None
        row = self.con.execute(
            "SELECT sum(n), coalesce(sum(n) FILTER (series_id IS NULL OR p IS NULL), 0) "
            "+ sum(bad_value) + sum(bad_weight), min(first_u), max(last_u), min(series_id), "
            "max(series_id), coalesce(sum(n - bit_count(slots)) "
            "FILTER (series_id IS NOT NULL AND p IS NOT NULL), 0) FROM partials"
        ).fetchall()[0]
        rows, bad, first_u, last_u, min_sid, max_sid, collisions = row
        if not rows or bad:
            return None
        if first_u < _TS_MIN_US or last_u >= _TS_END_US:  # the exact pass names the rows
            return None
        if collisions:
            # rows sharing a slot: a duplicate, or timestamps finer than the slot — decide
            # exactly (a second read, only for such files)
            dup = self.con.execute(
                "SELECT count(*) FROM (SELECT 1 FROM staged GROUP BY series_id, ts "
                "HAVING count(*) > 1)"
            ).fetchall()
            if dup and dup[0][0]:
                return None
        return StageStats(
            int(rows), _from_us(int(first_u)), _from_us(int(last_u)), int(min_sid), int(max_sid)
        )

    def _stage_checked(self, kind: str, truncated: bool) -> StageStats:
        """The exact pass over ``src`` (all text for CSV): counts every problem by kind and names
        the first rows of each; raises unless the source is clean."""
        types = {r[0]: str(r[1]).upper() for r in self.con.execute("DESCRIBE src").fetchall()}
        has_weight = "weight" in types
        self._has_weight = has_weight
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
        # line numbers follow the source's order (the fast pass turns preserving it off)
        self.con.execute("SET preserve_insertion_order=true")
        # per row: its number, the typed columns, whether its time carries an offset, whether
        # it is outside the accepted range, and the wall clock µs of a naive time
        self.con.execute(
            "CREATE TEMP TABLE staged AS SELECT r._row, m.series_id::BIGINT AS series_id, "
            f"{ts_expr} AS ts, TRY_CAST(r.value AS DOUBLE) AS value, {weight_expr} AS weight, "
            f"{tz_expr} AS has_tz, coalesce({ts_expr} < TIMESTAMPTZ '{TS_MIN}' "
            f"OR {ts_expr} >= TIMESTAMPTZ '{TS_END}', false) AS oor, "
            f"CASE WHEN NOT {tz_expr} THEN epoch_us(timezone('UTC', {ts_expr})) END AS w, "
            "false AS gap, false AS amb "
            f"FROM ({self._numbered()}) r LEFT JOIN series_map m ON r.series = m.code"
        )
        bad_value = "(value IS NULL OR NOT isfinite(value))"
        bad_weight = "(weight IS NULL OR NOT isfinite(weight) OR weight < 0)"
        row = self.con.execute(
            "SELECT count(*), count(*) FILTER (series_id IS NULL), count(*) FILTER (ts IS NULL), "
            f"count(*) FILTER {bad_value}, count(*) FILTER {bad_weight}, "
            "count(*) FILTER (has_tz AND ts IS NOT NULL), "
            "count(*) FILTER (NOT has_tz AND ts IS NOT NULL), count(*) FILTER (oor) FROM staged"
        ).fetchall()[0]
        assert row is not None
        rows, bad_series, bad_ts, bad_value_n, bad_weight_n, n_tz, n_naive, out_of_range = (
            int(v or 0) for v in row
        )
        tz = self.calendar.tz
        n_gap = 0
        if n_naive:
            # naive local times, read in the workspace zone by the fast pass's arithmetic (so
            # both read a wall time alike); one the clocks skip is named, never moved into the
            # next hour, and one that occurs twice is marked for the duplicate check
            utc = self._wall_to_utc_sql("w")
            self.con.execute(
                f"UPDATE staged SET gap = ({utc}) IS NULL, amb = {_ambiguous_wall_sql(tz, 'w')}, "
                f"ts = coalesce(make_timestamptz({utc}), ts) WHERE w IS NOT NULL"
            )
            gap_row = self.con.execute("SELECT count(*) FILTER (gap) FROM staged").fetchall()[0]
            n_gap = int(gap_row[0]) if gap_row else 0
        # the rows a mixed file is refused for: the fewer kind (offset or not)
        odd = "false"
        if n_tz and n_naive:
            odd = f"({'' if n_tz <= n_naive else 'NOT '}s.has_tz AND s.ts IS NOT NULL)"
        # a later row repeating an earlier row's series and instant; rows whose code or time
        # already fails (unknown, skipped, of the fewer zone kind) are left out: what instant
        # they were meant to be is unknown
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE dup_rows AS SELECT _row, first_row, amb, w FROM "
            "(SELECT _row, amb, w, min(_row) OVER (PARTITION BY series_id, ts) AS first_row "
            "FROM staged s WHERE series_id IS NOT NULL AND ts IS NOT NULL AND NOT gap "
            f"AND NOT {odd}) WHERE _row > first_row"
        )
        dup_row = self.con.execute(
            "SELECT count(*) FILTER (NOT amb), count(*) FILTER (amb) FROM dup_rows"
        ).fetchall()[0]
        n_dup, n_amb = (int(v or 0) for v in dup_row) if dup_row else (0, 0)
        rejects = 0
        if kind == "csv":
            rejects_row = self.con.execute("SELECT count(*) FROM reject_errors").fetchall()[0]
            rejects = int(rejects_row[0]) if rejects_row else 0

        findings: list[_Finding] = []
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
        if out_of_range:
            findings.append(
                self._examples(
                    "timestamp outside the accepted range 1900-01-01 to 2200-12-31",
                    out_of_range,
                    f"{ts_expr} < TIMESTAMPTZ '{TS_MIN}' OR {ts_expr} >= TIMESTAMPTZ '{TS_END}'",
                    "ts",
                    "r.ts::VARCHAR",
                )
            )
        if n_gap:
            findings.append(self._skipped_times(n_gap))
        if bad_value_n:
            findings.append(
                self._examples(
                    "value is missing or not a finite number",
                    bad_value_n,
                    "TRY_CAST(r.value AS DOUBLE) IS NULL "
                    "OR NOT isfinite(TRY_CAST(r.value AS DOUBLE))",
                    "value",
                    "r.value::VARCHAR",
                )
            )
        if bad_weight_n:
            findings.append(
                self._examples(
                    "weight is missing, negative or not a number",
                    bad_weight_n,
                    f"{weight_expr} IS NULL OR NOT isfinite({weight_expr}) OR {weight_expr} < 0",
                    "weight",
                    "r.weight::VARCHAR",
                )
            )
        if n_tz and n_naive:
            findings.append(self._mixed_tz(odd, n_tz, n_naive))
        if n_amb:
            findings.append(self._duplicates(n_amb, ambiguous=True))
        if n_dup:
            findings.append(self._duplicates(n_dup, ambiguous=False))
        if findings:
            # every bad row counted once, whatever number of problems it has: lines the CSV
            # reader refused (never in staged) plus the rows of staged with any problem
            bad_rows = self.con.execute(
                "SELECT count(*) FROM staged s WHERE series_id IS NULL OR ts IS NULL OR oor "
                f"OR gap OR {bad_value} OR {bad_weight} OR {odd} "
                "OR _row IN (SELECT _row FROM dup_rows)"
            ).fetchall()[0]
            total = rejects + (int(bad_rows[0]) if bad_rows else 0)
            summary = "; ".join(f"{f.count} × {f.reason}" for f in findings)
            problems = [p for f in findings for p in f.examples]
            raise RowsRejectedError(
                f"{self._file_label}: {total} bad row(s), nothing stored ({summary})",
                problems,
                hint="fix the rows listed (first rows of each kind shown) and load the file again",
                rows=total,
                kinds={f.reason: int(f.count) for f in findings},
            )
        if not rows:
            raise ValidationError(
                f"{self._file_label}: no observations",
                [Problem("no data rows", file=self._file_label)],
            )
        self.con.execute("DROP TABLE dup_rows")
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE staged AS SELECT series_id, ts, value, weight FROM staged"
        )
        stats_row = self.con.execute(
            "SELECT min(ts), max(ts), min(series_id), max(series_id) FROM staged"
        ).fetchall()[0]
        assert stats_row is not None
        min_ts, max_ts, min_sid, max_sid = stats_row
        return StageStats(rows, min_ts, max_ts, int(min_sid), int(max_sid))

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
            f"ORDER BY r._row LIMIT {self.examples_per_kind}"
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
            f"ORDER BY line LIMIT {self.examples_per_kind}"
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

    def _staged_rows(self, condition: str, extra: str = "") -> list[tuple[Any, ...]]:
        """``_row``, the row's series and ts text, and ``extra`` columns of ``staged s`` (or
        ``dup_rows d``) for the first rows meeting ``condition``, in file order."""
        return self.con.execute(
            f"SELECT s._row, r.series::VARCHAR, r.ts::VARCHAR{extra} FROM staged s "
            f"JOIN ({self._numbered()}) r ON r._row = s._row "
            f"LEFT JOIN dup_rows d ON d._row = s._row WHERE {condition} "
            f"ORDER BY s._row LIMIT {self.examples_per_kind}"
        ).fetchall()

    def _skipped_times(self, count: int) -> _Finding:
        tz = self.calendar.tz
        examples = []
        for n, _series, text, w in self._staged_rows("s.gap", ", s.w"):
            wall = _from_us(int(w)).replace(tzinfo=None)
            why = describe_wall_time(tz, wall, shown=text)
            examples.append(
                Problem(
                    why or f"{text} does not exist in {tz} (the clocks go forward over it)",
                    file=self._file_label,
                    row=self._line(int(n)),
                    column="ts",
                    value=text,
                )
            )
        reason = (
            f"local times that do not exist in {tz} (skipped when the clocks go forward): is "
            "the file in UTC or another time zone? give UTC offsets or set the workspace time zone"
        )
        return _Finding(reason, count, examples)

    def _mixed_tz(self, odd: str, n_tz: int, n_naive: int) -> _Finding:
        # the rows of the fewer kind are the bad ones (their count is the finding's)
        what = (
            f"timestamp with a time zone offset where {n_naive} other(s) have none"
            if n_tz <= n_naive
            else f"timestamp without a time zone where {n_tz} other(s) have an offset"
        )
        examples = [
            Problem(what, file=self._file_label, row=self._line(int(n)), column="ts", value=text)
            for n, _series, text in self._staged_rows(odd)
        ]
        reason = f"time zones mixed: {n_tz} timestamp(s) with an offset, {n_naive} without"
        return _Finding(reason, min(n_tz, n_naive), examples)

    def _duplicates(self, count: int, *, ambiguous: bool) -> _Finding:
        """Rows repeating an earlier row's series and instant (the earlier row is not counted,
        as for data imports); ``ambiguous``: those whose naive time occurs twice in the zone."""
        # (the error path: the good path has already ruled duplicates out by its slot bitmaps)
        tz = self.calendar.tz
        examples = []
        for n, series, text, first, w in self._staged_rows(
            f"{'' if ambiguous else 'NOT '}d.amb", ", d.first_row, d.w"
        ):
            at = f"first at line {self._line(int(first))}"
            why = None
            if ambiguous:
                why = describe_wall_time(tz, _from_us(int(w)).replace(tzinfo=None), shown=text)
            examples.append(
                Problem(
                    f"{why}; {at}" if why else f"duplicate series and timestamp ({at})",
                    file=self._file_label,
                    row=self._line(int(n)),
                    column="ts",
                    value=f"{series} {text}",
                )
            )
        if not ambiguous:
            return _Finding("duplicate series and timestamp within the file", count, examples)
        # a naive time in the hour that repeats is read as its first occurrence, so two rows
        # for both occurrences land on one instant: not a true duplicate
        reason = (
            f"local times that occur twice in {tz} (when the clocks go back), read as the same "
            "instant as an earlier row: is the file in another time zone? give UTC offsets or "
            "set the workspace time zone"
        )
        return _Finding(reason, count, examples)

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
        weight = ", weight" if self._has_weight else ""
        self.con.execute(
            f"COPY (SELECT series_id::{self._raw_id_type()} AS series_id, ts, value{weight} "
            f"FROM staged) TO {_q(str(path))} ({_PARQUET_OPTIONS})"
        )
        self._raw_written = path

    def _raw_id_type(self) -> str:
        """32-bit series ids in raw files while every id fits (half the bytes to encode)."""
        row = self.con.execute("SELECT max(series_id) FROM series_map").fetchall()
        top = row[0][0] if row and row[0][0] is not None else 0
        return "INTEGER" if int(top) < 2**31 else "BIGINT"

    def raw_rows_sql(self, files: Sequence[Path]) -> str:
        """SQL over raw files: ``series_id, ts, value, weight, batch_id`` — whichever schema each
        file was written with (a ``weight`` column only when the load had one, and the batch in
        the file name; files of earlier versions carry both as columns)."""
        listed = ", ".join(_q(str(p)) for p in files)
        rel = f"read_parquet([{listed}], union_by_name=true, filename=true)"
        cols = {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
        weight = "coalesce(weight, 1.0)" if "weight" in cols else "1.0::DOUBLE"
        # (NULL for a file not yet published under its batch name: the caller names its batch)
        named = r"TRY_CAST(regexp_extract(filename, 'batch-(\d+)\.parquet$', 1) AS BIGINT)"
        batch = f"coalesce(batch_id, {named})" if "batch_id" in cols else named
        return (
            f"SELECT series_id::BIGINT AS series_id, ts, value, {weight} AS weight, "
            f"{batch} AS batch_id FROM {rel}"
        )

    # -- aggregation -------------------------------------------------------------------------
    def _period_us_sql(self, grain: Grain, u: str, window: tuple[int, int] | None) -> str:
        """SQL for the local ``grain`` period start, as epoch µs of the wall time, of UTC epoch
        µs expression ``u``.

        Integer arithmetic instead of a zone conversion and ``date_trunc`` per row (each costs
        more than parsing the file): local µs = UTC µs + the zone offset, picked by a balanced
        CASE over the zone's changes in ``window``; hours, days and ISO weeks are then divisions,
        and months, quarters and years a balanced CASE over the UTC starts of the periods in
        ``window``. Instants outside the window (or with no window) take the zone's full tree
        of changes, or DuckDB's conversion before 1970 and from 2100.
        """
        fy = self.calendar.fy_start_month
        tz = self.calendar.tz
        # Outside the window: the full tree of the zone's changes (Python's zoneinfo, as
        # everything else here — DuckDB's ICU data differs for some zones), DuckDB's conversion
        # only before 1970 or from 2100.
        icu = duckdb_period_start(grain, f"timezone({_q(tz)}, make_timestamptz({u}))", fy)
        tree = duckdb_period_start(grain, f"make_timestamp({_utc_to_local_us(tz, u)})", fy)
        exact = (
            f"epoch_us(CASE WHEN {u} >= {_epoch_us(_TREE_LO)} AND {u} < {_epoch_us(_TREE_HI)} "
            f"THEN {tree} ELSE {icu} END)"
        )
        if window is None:
            return exact
        lo, hi = window
        if lo < _epoch_us(_TREE_LO) or hi >= _epoch_us(_TREE_HI):
            return exact
        day = 86_400 * _US
        if grain in (Grain.HOUR, Grain.DAY, Grain.WEEK):
            local = _utc_to_local_us(tz, u, lo, hi)
            if grain is Grain.HOUR:
                key = f"({local} // {3_600 * _US} * {3_600 * _US})"
            elif grain is Grain.DAY:
                key = f"({local} // {day} * {day})"
            else:  # 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier
                key = f"((({local} // {day} + 3) // 7 * 7 - 3) * {day})"
        else:
            cal = self.calendar
            starts = cal.periods(grain, cal.to_local(_from_us(lo)), cal.to_local(_from_us(hi)))
            key = _case_tree(
                u,
                [_epoch_us(cal.to_utc(s)) for s in starts[1:]],
                [str(_epoch_us(s.replace(tzinfo=dt.UTC))) for s in starts],
            )
        return f"(CASE WHEN {u} >= {lo} AND {u} < {hi} THEN {key} ELSE {exact} END)"

    def _period_sql(
        self, grain: Grain, ts: str, lo: dt.datetime | None, hi: dt.datetime | None
    ) -> str:
        """SQL for the local ``grain`` period start (TIMESTAMP) of TIMESTAMPTZ column ``ts`` whose
        values lie in ``[lo, hi]`` (see :meth:`_period_us_sql`)."""
        window = None if lo is None or hi is None else (_epoch_us(lo), _epoch_us(hi) + 1)
        return f"make_timestamp({self._period_us_sql(grain, f'epoch_us({ts})', window)})"

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
        prior_end: dt.datetime | None = None,
    ) -> pa.Table:
        """The aggregates :meth:`build` computes, as one Arrow table (held in memory: loads use
        :meth:`build` and :meth:`spill_records` instead)."""
        self.build(
            grains,
            batch_id=batch_id,
            prior_files=prior_files,
            fetch_stored=fetch_stored,
            prior_end=prior_end,
        )
        return self.con.sql("SELECT * FROM agg_out").to_arrow_table()

    def build(
        self,
        grains: set[Grain] | frozenset[Grain],
        *,
        batch_id: int,
        prior_files: Sequence[Path] = (),
        fetch_stored: StoredFetcher | None = None,
        prior_end: dt.datetime | None = None,
    ) -> int:
        """Aggregates of every grain in ``grains`` (plus the base grain) for the periods the staged
        rows touch.

        ``prior_files`` are earlier raw files that may hold rows of the same series and periods;
        when given, each touched base period is recomputed from all its raw rows, the newest batch
        winning per (series, ts). ``fetch_stored`` returns stored current aggregates, used to
        complete coarser periods only partly touched (incremental load); None means nothing is
        stored yet for these series.

        When the staged rows replace no raw row of ``prior_files`` (an append, checked over the
        staged time range only) and every touched period that ``prior_files`` can reach (those
        starting before ``prior_end``, the instant their latest row) has a stored aggregate, the
        period is the stored aggregate merged with the new rows' — every aggregate here merges
        exactly (sums, counts, min, max, the last value by time) — so appending a day costs a
        day's work, not a re-read of the month. :attr:`recomputed` tells which way was taken.

        The result stays in the engine (table ``agg_out``: ``grain``, :data:`AGG_COLUMNS` but
        ``batches`` as ``batch_ids``, comma-separated ascending, and ``expected``, observations
        expected in the period); returns its number of rows.
        """
        base = base_grain(grains)
        wanted = sorted(set(grains) | {base}, key=GRAIN_ORDER.index)
        self.con.execute("SET preserve_insertion_order=false")
        merge = False
        if prior_files and fetch_stored is not None and not self.replaces_raw(prior_files):
            merge = self._mergeable(base, fetch_stored, prior_files, prior_end)
            if merge:
                prior_files = ()
        self.recomputed = bool(prior_files)
        first = self._partials_grain
        if not prior_files and first is not None and (first == base or nests_in(first, base)):
            # the good path: stage() already aggregated the source to `first` periods, and no
            # earlier file holds rows of them
            self.con.execute(
                f"CREATE TEMP TABLE agg_{first.value} AS SELECT series_id, "
                "make_timestamp(p) AS period_start, n, sum, min, max, last_value, "
                "make_timestamptz(last_u) AS last_ts, weight_sum, weighted_sum, "
                f"[{int(batch_id)}]::BIGINT[] AS batches FROM partials"
            )
            if first != base:
                # whole base periods (no earlier file touches them): nothing stored to add
                self._rollup(first, base, None)
        else:
            if prior_files:
                self._recompute_source(base, batch_id, prior_files)
                batches = "list_sort(list(DISTINCT batch_id))"
                rows = "rows_p"
            else:
                span = (
                    self._stats
                    or self.con.execute("SELECT min(ts), max(ts) FROM staged").fetchall()[0]
                )
                lo, hi = (span.min_ts, span.max_ts) if isinstance(span, StageStats) else span
                pexpr = self._period_sql(base, "r.ts", lo, hi)
                rows = f"(SELECT r.*, {pexpr} AS p FROM staged r)"
                batches = (
                    "list_sort(list(DISTINCT batch_id))"
                    if self._from_raw
                    else f"[{int(batch_id)}]::BIGINT[]"
                )
            self.con.execute(
                f"CREATE TEMP TABLE agg_{base.value} AS SELECT series_id, p AS period_start, "
                "count(*)::BIGINT AS n, sum(value) AS sum, min(value) AS min, max(value) AS max, "
                "arg_max(value, ts) AS last_value, max(ts) AS last_ts, "
                "sum(weight) AS weight_sum, sum(value * weight) AS weighted_sum, "
                f"{batches} AS batches FROM {rows} GROUP BY series_id, p"
            )
        if merge:
            self._merge_stored(base)
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
        expected = [self.calendar.expected_count(Frequency(f), Grain(g), p) for f, g, p in keys]
        self._columns_table(
            "expected_map",
            {
                "frequency": ("VARCHAR", [k[0] for k in keys]),
                "grain": ("VARCHAR", [k[1] for k in keys]),
                "period_start": ("TIMESTAMP", [k[2] for k in keys]),
                "expected": ("BIGINT", expected),
            },
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE agg_out AS "
            "SELECT a.* EXCLUDE (batches), array_to_string(a.batches, ',') AS batch_ids, "
            "e.expected FROM agg_all a JOIN series_map m ON m.series_id = a.series_id "
            "LEFT JOIN expected_map e ON e.frequency = m.frequency AND e.grain = a.grain "
            "AND e.period_start = a.period_start"
        )
        # fetchall: DuckDB refuses other work while a result is only partly fetched
        return int(self.con.execute("SELECT count(*) FROM agg_out").fetchall()[0][0])

    def _record_sql(self, text_times: bool) -> str:
        cols = list(RECORD_COLUMNS)
        if text_times:
            fmt = "'%Y-%m-%d %H:%M:%S.%f'"
            cols[cols.index("period_start")] = f"strftime(period_start, {fmt})"
            cols[cols.index("last_ts")] = f"strftime(last_ts, {fmt})"
        return f"SELECT {', '.join(cols)} FROM agg_out"

    def records(self, *, text_times: bool = False) -> list[tuple[Any, ...]]:
        """The rows :meth:`build` computed, as tuples in :data:`RECORD_COLUMNS` order (without
        going through Arrow). ``text_times`` gives the times as the text SQLite stores
        (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC for ``last_ts``), so no Python datetime is built."""
        return self.con.execute(self._record_sql(text_times)).fetchall()

    def spill_records(self, path: Path, *, text_times: bool = False) -> int:
        """Write the rows :meth:`build` computed to a Parquet file (as :meth:`records` gives
        them); returns their number. A load of millions of aggregates then reaches the database
        in chunks (:func:`read_records`) instead of as one list of Python tuples, which held
        several GB for a 5M-row load at every grain."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(
            f"COPY ({self._record_sql(text_times)}) TO {_q(str(path))} (FORMAT parquet)"
        )
        # fetchall: DuckDB refuses other work while a result is only partly fetched
        return int(self.con.execute("SELECT count(*) FROM agg_out").fetchall()[0][0])

    def _recompute_source(self, base: Grain, batch_id: int, prior_files: Sequence[Path]) -> None:
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
            f"FROM ({self.raw_rows_sql(prior_files)}) WHERE ts >= ?::TIMESTAMPTZ "
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

    def replaces_raw(self, prior_files: Sequence[Path]) -> bool:
        """Whether any staged (series, ts) is already in ``prior_files`` — a correction, which
        needs the touched periods recomputed from raw rows. Only the staged time range of the
        files is read (Parquet row groups outside it are skipped by their statistics)."""
        if not prior_files or self._stats is None:
            return bool(prior_files)
        listed = ", ".join(_q(str(p)) for p in prior_files)
        stats = self._stats
        row = self.con.execute(
            "SELECT count(*) FROM (SELECT series_id, ts FROM read_parquet("
            f"[{listed}], union_by_name=true) WHERE ts BETWEEN ?::TIMESTAMPTZ AND ?::TIMESTAMPTZ "
            "AND series_id BETWEEN ? AND ?) p SEMI JOIN staged s "
            "ON p.series_id = s.series_id AND p.ts = s.ts",
            [stats.min_ts, stats.max_ts, stats.min_series_id, stats.max_series_id],
        ).fetchall()
        return bool(row and row[0][0])

    def _mergeable(
        self,
        grain: Grain,
        fetch_stored: StoredFetcher,
        prior_files: Sequence[Path],
        prior_end: dt.datetime | None,
    ) -> bool:
        """Whether the append can be merged into the touched periods' stored ``grain``
        aggregates (fetched into ``stored_merge``). A touched period with no stored aggregate is
        new — unless earlier raw rows fall in it (the grain was added later, say), which only
        the raw rows of that period can tell; those are read for such periods alone, and only
        when they start before ``prior_end`` (the earlier files' latest row)."""
        span = self._stats
        if prior_end is None or span is None:
            return False
        # A series keeps current aggregates only at its own grains: one loaded beside series of
        # finer grains gets rows at their grain too, but later loads of it alone do not update
        # them, so they cannot be merged into.
        foreign = self.con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT series_id FROM staged) t "
            "JOIN series_map m ON m.series_id = t.series_id "
            "WHERE NOT list_contains(string_split(coalesce(m.grains, ''), ','), ?)",
            [grain.value],
        ).fetchall()
        if foreign and foreign[0][0]:
            return False
        cal = self.calendar
        pexpr = self._period_sql(grain, "ts", span.min_ts, span.max_ts)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE touched_keys AS SELECT DISTINCT series_id, {pexpr} "
            "AS period_start FROM staged"
        )
        keys = self.con.execute(
            "SELECT list(DISTINCT series_id), min(period_start), max(period_start) "
            "FROM touched_keys"
        ).fetchall()[0]
        if not keys or not keys[0]:
            return False
        series_ids = [int(x) for x in keys[0]]
        stored = fetch_stored(grain, series_ids, keys[1], cal.period_end(grain, keys[2]))
        self._stored_table("stored_merge", stored)
        reach = cal.to_local(prior_end).replace(tzinfo=None)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE unstored_keys AS SELECT t.* FROM touched_keys t "
            "ANTI JOIN stored_merge st ON st.series_id = t.series_id "
            "AND st.period_start = t.period_start WHERE t.period_start <= ?",
            [reach],
        )
        bounds = self.con.execute(
            "SELECT min(period_start), max(period_start) FROM unstored_keys"
        ).fetchall()[0]
        if not bounds or bounds[0] is None:
            return True
        lo = cal.to_utc(bounds[0])
        hi = cal.to_utc(cal.period_end(grain, bounds[1]))
        listed = ", ".join(_q(str(p)) for p in prior_files)
        period = self._period_sql(grain, "r.ts", lo, hi)
        found = self.con.execute(
            f"SELECT count(*) FROM (SELECT r.series_id, {period} AS period_start FROM "
            f"read_parquet([{listed}], union_by_name=true) r "
            "WHERE r.ts >= ?::TIMESTAMPTZ AND r.ts < ?::TIMESTAMPTZ) "
            "p SEMI JOIN unstored_keys u ON u.series_id = p.series_id "
            "AND u.period_start = p.period_start",
            [lo, hi],
        ).fetchall()
        return not (found and found[0][0])

    def _stored_table(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Temporary table ``name`` of stored aggregate rows (see :data:`StoredFetcher`)."""
        values = list(zip(*rows, strict=True)) if rows else [()] * len(AGG_COLUMNS)
        types = (
            "BIGINT TIMESTAMP BIGINT DOUBLE DOUBLE DOUBLE DOUBLE TIMESTAMPTZ DOUBLE DOUBLE VARCHAR"
        )
        self._columns_table(
            name,
            {c: (t, v) for c, t, v in zip(AGG_COLUMNS, types.split(), values, strict=True)},
        )

    def _merge_stored(self, grain: Grain) -> None:
        """Merge the stored current ``grain`` aggregates of the touched periods (fetched by
        :meth:`_mergeable`) into ``agg_<grain>`` (the new rows' aggregates)."""
        table = f"agg_{grain.value}"
        self.con.execute(f"ALTER TABLE {table} RENAME TO {table}_new")
        self.con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT series_id, period_start, "
            "sum(n)::BIGINT AS n, sum(sum) AS sum, min(min) AS min, max(max) AS max, "
            "arg_max(last_value, last_ts) AS last_value, max(last_ts) AS last_ts, "
            "sum(weight_sum) AS weight_sum, sum(weighted_sum) AS weighted_sum, "
            "list_sort(list_distinct(flatten(list(batches)))) AS batches FROM ("
            f"SELECT * FROM {table}_new UNION ALL "
            "SELECT st.series_id, st.period_start, st.n, st.sum, st.min, st.max, "
            "st.last_value, st.last_ts, st.weight_sum, st.weighted_sum, "
            "string_split(st.batches, ',')::BIGINT[] FROM stored_merge st "
            f"SEMI JOIN {table}_new a ON a.series_id = st.series_id "
            "AND a.period_start = st.period_start) GROUP BY series_id, period_start"
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
                self._stored_table("stored_rows", stored)
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
        self.con.execute(
            f"CREATE TEMP TABLE agg_{grain.value} AS SELECT series_id, {pexpr} AS period_start, "
            "sum(n)::BIGINT AS n, sum(sum) AS sum, min(min) AS min, max(max) AS max, "
            "arg_max(last_value, last_ts) AS last_value, max(last_ts) AS last_ts, "
            "sum(weight_sum) AS weight_sum, sum(weighted_sum) AS weighted_sum, "
            "list_sort(list_distinct(flatten(list(batches)))) AS batches "
            f"FROM {src} GROUP BY ALL"
        )


__all__ = ["AGG_COLUMNS", "RECORD_COLUMNS", "Harmoniser", "StageStats", "StoredFetcher"]
