"""Benchmark: load-and-harmonise N hourly observations into month and quarter aggregates.

Generates N hourly observations (~1,150 series x one year at the default 10 million) as CSV and
Parquet, then measures in the same run, each in its own subprocess (so peak memory is per engine):

* bigov: ``MetricsService.load`` of the CSV into a fresh SQLite workspace — validation, raw
  Parquet store, month and quarter aggregates stored in SQL — end to end;
* pandas: ``read_csv`` + ``groupby`` per series and month/quarter (same aggregates, no storing);
* DuckDB: ``read_csv`` + ``GROUP BY`` (same aggregates, no storing).

It also loads the Parquet file with bigov, times the next day's data loaded after the CSV
(incremental: the touched month is recomputed, nothing else), and (``--growth K``, default 4)
runs bigov at K x N rows (``--repeat`` times, median) to check that cost grows linearly. Each
engine runs ``--repeat R`` times (default 3, interleaved, so a busy shared machine slows all of
them alike) and the figures are medians. The last line printed is exactly
``harmonise: rows=N bigov/pandas=R1 bigov/duckdb=R2`` (throughput ratios of the medians, two
decimals).

    python benchmarks/harmonise.py --rows 10000000
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_SERIES = 1150
TZ = "Europe/London"


def generate(rows: int, folder: Path) -> tuple[Path, Path]:
    import duckdb

    csv_path, pq_path = folder / f"obs_{rows}.csv", folder / f"obs_{rows}.parquet"
    if not csv_path.exists():
        con = duckdb.connect()
        con.execute("SET enable_progress_bar=false")
        query = (
            f"SELECT printf('S%05d', i % {N_SERIES}) AS series, "
            f"strftime(TIMESTAMP '2025-04-01' + to_hours((i // {N_SERIES})::BIGINT), "
            "'%Y-%m-%dT%H:%M:%SZ') AS ts, round(random() * 100, 3) AS value "
            f"FROM range({rows}) t(i)"
        )
        con.execute(f"COPY ({query}) TO '{csv_path}' (HEADER)")
        con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{pq_path}' (FORMAT parquet)")
        con.close()
    return csv_path, pq_path


def generate_next_day(rows: int, folder: Path) -> Path:
    """The 24 hours after the N-row file, for every series (an incremental load)."""
    import duckdb

    path = folder / f"obs_{rows}_next_day.csv"
    if not path.exists():
        first = -(-rows // N_SERIES)
        con = duckdb.connect()
        query = (
            f"SELECT printf('S%05d', s) AS series, strftime(TIMESTAMP '2025-04-01' + "
            f"to_hours(({first} + h)::BIGINT), '%Y-%m-%dT%H:%M:%SZ') AS ts, "
            f"round(random() * 100, 3) AS value FROM range({N_SERIES}) a(s), range(24) b(h)"
        )
        con.execute(f"COPY ({query}) TO '{path}' (HEADER)")
        con.close()
    return path


def run_bigov(path: Path, folder: Path, next_day: Path | None = None) -> dict[str, float]:
    from sqlalchemy.engine import make_url

    from bigov.metrics.calendar import Frequency, Grain
    from bigov.metrics.schemas import MeasureSpec, SeriesSpec
    from bigov.metrics.service import MetricsService
    from bigov.workspace import Workspace

    db = Path(tempfile.mkdtemp(dir=folder)) / "bench.db"
    url = make_url(f"sqlite:///{db}")
    ws = Workspace.open(str(url))
    svc = MetricsService(ws)
    svc.define(
        MeasureSpec(
            code="calls",
            name="Calls handled",
            frequency=Frequency.HOURLY,
            grains=[Grain.MONTH, Grain.QUARTER],
            series=[SeriesSpec(code=f"S{i:05d}", org=f"T{i:05d}") for i in range(N_SERIES)],
        )
    )
    start = time.perf_counter()
    svc.load(path)
    result = {"seconds": time.perf_counter() - start}
    if next_day is not None:
        # the next day's data: recomputes the touched month from its raw rows, not everything
        start = time.perf_counter()
        svc.load(next_day)
        result["next_day_seconds"] = time.perf_counter() - start
    ws.close()
    # each run's workspace and raw store go, so runs do not pile up files (and dirty pages the
    # kernel must write back while later runs are timed)
    shutil.rmtree(db.parent, ignore_errors=True)
    return result


def run_pandas(path: Path) -> float:
    import pandas as pd

    start = time.perf_counter()
    df = pd.read_csv(path, dtype={"series": "string", "ts": "string", "value": "float64"})
    local = pd.to_datetime(df["ts"], format="%Y-%m-%dT%H:%M:%SZ", utc=True).dt.tz_convert(TZ)
    df["ts"] = local
    df["month"] = local.dt.tz_localize(None).dt.to_period("M")
    df["quarter"] = local.dt.tz_localize(None).dt.to_period("Q-MAR")  # fiscal year from April
    df = df.sort_values("ts")
    for key in ("month", "quarter"):
        df.groupby(["series", key]).agg(
            n=("value", "size"),
            sum=("value", "sum"),
            min=("value", "min"),
            max=("value", "max"),
            last=("value", "last"),
            last_ts=("ts", "max"),
        )
    return time.perf_counter() - start


def run_duckdb(path: Path) -> float:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(
        "CREATE TEMP TABLE m AS SELECT series, "
        f"date_trunc('month', ts AT TIME ZONE '{TZ}') AS month, count(*) AS n, sum(value) AS s, "
        "min(value) AS mn, max(value) AS mx, arg_max(value, ts) AS last, max(ts) AS last_ts "
        f"FROM read_csv('{path}') GROUP BY ALL"
    )
    con.execute(
        "SELECT series, month - to_months(((month(month) - 4 + 12) % 3)::INTEGER) AS q, "
        "sum(n), sum(s), min(mn), max(mx), arg_max(last, last_ts), max(last_ts) "
        "FROM m GROUP BY ALL"
    ).fetchall()
    con.execute("SELECT * FROM m").fetchall()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def worker(kind: str, path: Path, folder: Path, next_day: Path | None) -> None:
    if kind == "bigov":
        result = run_bigov(path, folder, next_day)
    elif kind == "pandas":
        result = {"seconds": run_pandas(path)}
    else:
        result = {"seconds": run_duckdb(path)}
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, path: Path, folder: Path, next_day: Path | None = None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", kind, "--path", str(path), "--dir", str(folder)]
    if next_day is not None:
        cmd += ["--next-day", str(next_day)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--growth", type=int, default=4, help="also run bigov at K x rows (0: skip)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (medians)")
    parser.add_argument("--dir", type=Path, default=None, help="working folder (default: temp)")
    parser.add_argument("--worker", choices=["bigov", "pandas", "duckdb"], help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--next-day", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.path, args.dir, args.next_day)
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bigov-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    n = args.rows
    csv_path, pq_path = generate(n, folder)
    next_day = generate_next_day(n, folder)
    big_csv = generate(n * args.growth, folder)[0] if args.growth else None
    runs: dict[str, list[dict[str, float]]] = {}
    for _ in range(max(1, args.repeat)):
        for kind in ("duckdb", "pandas", "bigov"):
            extra = next_day if kind == "bigov" else None
            runs.setdefault(kind, []).append(measure(kind, csv_path, folder, extra))
        runs.setdefault("bigov-parquet", []).append(measure("bigov", pq_path, folder))
        if big_csv is not None:
            # interleaved with the N-row runs, so the growth ratio compares like conditions
            runs.setdefault("bigov-growth", []).append(measure("bigov", big_csv, folder))
    bigs = runs.pop("bigov-growth", [])
    results = {
        kind: {
            "seconds": statistics.median(r["seconds"] for r in rs),
            "peak_mb": max(r["peak_mb"] for r in rs),
        }
        for kind, rs in runs.items()
    }
    for kind, r in results.items():
        print(
            f"{kind:<14} {r['seconds']:8.2f} s  {n / r['seconds'] / 1e6:7.2f} M rows/s  "
            f"peak {r['peak_mb']:8.0f} MB  (median of {len(runs[kind])}: "
            + ", ".join(f"{x['seconds']:.2f}" for x in runs[kind])
            + ")"
        )
    day = statistics.median(r["next_day_seconds"] for r in runs["bigov"])
    print(
        f"incremental: the next day ({N_SERIES * 24:,} rows) after {n:,} rows took {day:.2f} s "
        f"= {day / results['bigov']['seconds']:.3f}x the full load (median of "
        f"{len(runs['bigov'])}; merged into the stored month, no raw file re-read)"
    )
    if bigs:
        big_n = n * args.growth
        big = {
            "seconds": statistics.median(b["seconds"] for b in bigs),
            "peak_mb": max(b["peak_mb"] for b in bigs),
        }
        ratio = big["seconds"] / results["bigov"]["seconds"]
        verdict = "ok" if ratio <= 1.1 * args.growth else "NOT LINEAR"
        print(
            f"growth: {big_n:,} rows {big['seconds']:.2f} s vs {n:,} rows "
            f"{results['bigov']['seconds']:.2f} s = {ratio:.2f}x for {args.growth}x rows "
            f"(limit {1.1 * args.growth:.1f}x, {verdict}; median of {len(bigs)}); "
            f"peak {big['peak_mb']:.0f} MB"
        )
    thr = {k: n / v["seconds"] for k, v in results.items()}
    print(
        f"harmonise: rows={n} bigov/pandas={thr['bigov'] / thr['pandas']:.2f} "
        f"bigov/duckdb={thr['bigov'] / thr['duckdb']:.2f}"
    )


if __name__ == "__main__":
    main()
