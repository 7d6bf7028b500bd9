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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
_SLOT_US = 900_000_000  # 15 minutes in microseconds
_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")

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
    def stage(self, source: Any, series: pa.Table, *, label: str | None = None) -> StageStats:
        """Read and validate ``source`` into the ``staged`` table.

        ``series`` maps observation codes to ids: columns ``code``, ``series_id``, ``frequency``.
        Required source columns: ``series``, ``ts``, ``value``; optional ``weight`` (default 1).
        Timestamps with an offset (``Z``, ``+01:00``) are instants; naive ones are local time in
        the calendar's time zone; a source mixing both is rejected.

        Raises:
            ValidationError: every problem found, counted by kind, first rows of each kind shown.
        """
        kind = _source_kind(source)
        self._file_label = label or (Path(source).name if kind != "frame" else "<frame>")
        self.con.register("series_map", series)
        findings: list[_Finding] = []
        if kind == "csv":
            path = Path(source)
            if not path.exists():
                raise ConfigError(f"no such file: {path}")
            columns, delim = _csv_header(path)
            self._require_columns(columns)
            cols = ", ".join(f"{_q(c)}: 'VARCHAR'" for c in columns)
            self.con.execute(
                f"CREATE TEMP VIEW src AS SELECT * FROM read_csv({_q(str(path))}, header=true, "
                f"delim={_q(delim)}, quote='\"', escape='\"', auto_detect=false, "
                f"columns={{{cols}}}, store_rejects=true)"
            )
            self._row_offset = 1  # the header is line 1, so data row k is line k + 1
            truncated = _ends_mid_line(path)
        else:
            if kind == "parquet":
                rel = f"read_parquet({_q(str(source))})"
            else:
                table = pa.ipc.open_file(str(source)).read_all() if kind == "ipc" else None
                self.con.register("src_arrow", table if table is not None else _to_arrow(source))
                rel = "src_arrow"
            self.con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM {rel}")
            self._require_columns([r[0] for r in self.con.execute("DESCRIBE src").fetchall()])
            self._row_offset = 0
            truncated = False
        types = {r[0]: str(r[1]).upper() for r in self.con.execute("DESCRIBE src").fetchall()}
        has_weight = "weight" in types
        ts_type = types["ts"]
        if ts_type in ("VARCHAR", "TEXT"):
            ts_expr = "TRY_CAST(r.ts AS TIMESTAMPTZ)"
            # an explicit offset or Z at the end; a bare date or local time has none
            tz_expr = "(suffix(r.ts, 'Z') OR suffix(r.ts, 'z') OR contains(right(r.ts, 6), '+')"
            tz_expr += " OR (length(r.ts) > 19 AND contains(right(r.ts, 6), '-')))"
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
            tz = _q(self.calendar.tz)
            self.con.execute(f"UPDATE staged SET ts = timezone({tz}, timezone('UTC', ts))")
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
        self._stats = StageStats(int(rows), min_ts, max_ts, int(min_sid), int(max_sid))
        return self._stats

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
        # A distinct count of 64-bit hashes is cheap and can only *under*-count keys, so no
        # duplicate is ever missed; the exact query runs only when the cheap one finds something.
        row = self.con.execute(
            "SELECT count(*) - count(DISTINCT hash(series_id, ts)) FROM staged"
        ).fetchall()[0]
        if not row or not row[0]:
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
        """Write the staged rows (plus ``batch_id``) as one Parquet file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # Insertion order does not matter for the raw file; dropping it lets DuckDB write in
        # parallel with less memory.
        self.con.execute("SET preserve_insertion_order=false")
        self.con.execute(
            f"COPY (SELECT series_id, ts, value, weight, {int(batch_id)}::BIGINT AS batch_id "
            f"FROM staged) TO {_q(str(path))} (FORMAT parquet, COMPRESSION zstd, "
            "COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 1000000)"
        )

    # -- aggregation -------------------------------------------------------------------------
    def _period_table(self, relation: str, grain: Grain, target: str) -> None:
        """CREATE TEMP TABLE ``target`` AS ``relation`` plus column ``p``: the local ``grain``
        period start of each row's ``ts``."""
        stats = self.con.execute(f"SELECT min(ts), max(ts), count(*) FROM {relation}").fetchall()[0]
        assert stats is not None
        lo, hi, count = stats
        fy = self.calendar.fy_start_month
        tz = _q(self.calendar.tz)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        if lo is None:
            self.con.execute(
                f"CREATE TEMP TABLE {target} AS SELECT *, NULL::TIMESTAMP AS p FROM {relation}"
            )
            return
        slots = int((hi - lo).total_seconds() // 900) + 2
        if lo >= epoch and slots <= max(4 * int(count), 100_000):
            first = int((lo - epoch).total_seconds() * 1_000_000) // _SLOT_US
            pexpr = duckdb_period_start(grain, "timezone(" + tz + ", to_timestamp(k * 900))", fy)
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE slots AS SELECT k, {pexpr} AS p "
                f"FROM range({first}, {first + slots}) t(k)"
            )
            self.con.execute(
                f"CREATE TEMP TABLE {target} AS SELECT r.*, s.p FROM {relation} r "
                f"JOIN slots s ON s.k = epoch_us(r.ts) // {_SLOT_US}"
            )
        else:
            pexpr = duckdb_period_start(grain, f"timezone({tz}, r.ts)", fy)
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
        else:
            self._period_table("staged", base, "rows_p")
            batches = f"[{int(batch_id)}]::BIGINT[]"
        self.con.execute(
            f"CREATE TEMP TABLE agg_{base.value} AS SELECT series_id, p AS period_start, "
            "count(*)::BIGINT AS n, sum(value) AS sum, min(value) AS min, max(value) AS max, "
            "arg_max(value, ts) AS last_value, max(ts) AS last_ts, "
            "sum(weight) AS weight_sum, sum(value * weight) AS weighted_sum, "
            f"{batches} AS batches FROM rows_p GROUP BY series_id, p"
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
        expected = pa.table(
            {
                "frequency": [k[0] for k in keys],
                "grain": [k[1] for k in keys],
                "period_start": pa.array([k[2] for k in keys], pa.timestamp("us")),
                "expected": pa.array(
                    [self.calendar.expected_count(Frequency(f), Grain(g), p) for f, g, p in keys],
                    pa.int64(),
                ),
            }
        )
        self.con.register("expected_map", expected)
        return self.con.sql(
            "SELECT a.* EXCLUDE (batches), array_to_string(a.batches, ',') AS batch_ids, "
            "e.expected FROM agg_all a JOIN series_map m ON m.series_id = a.series_id "
            "LEFT JOIN expected_map e ON e.frequency = m.frequency AND e.grain = a.grain "
            "AND e.period_start = a.period_start"
        ).to_arrow_table()

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
