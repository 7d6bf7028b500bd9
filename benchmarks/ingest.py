"""Import throughput of a 100,000-row cost-line CSV, against pandas ``read_csv`` of the same file.

    python benchmarks/ingest.py [--rows 100000] [--repeat 3]

Generates the work items and the cost-line CSV in a temporary folder, then, ``--repeat`` times,
imports the CSV into a fresh SQLite workspace (work items loaded first, not timed) and reads it
with pandas. Prints the medians; the last line is machine-readable:

    ingest: rows=100000 bigov_rows_per_s=... bigov/pandas_read_csv=...

(the ratio is bigov's time over pandas' time: how many times slower a validated, atomic,
upserting import is than only parsing the file).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from bigov.ingest.service import import_file, resolve_options
from bigov.workspace import Workspace


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    """work_items.csv (one project per 36 months of lines) and cost_lines.csv."""
    items = max(1, -(-rows // 72))  # 36 months x capex/opex per project
    work = folder / "work_items.csv"
    with work.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "name", "kind", "parent"])
        w.writerow(["PF", "Portfolio", "portfolio", ""])
        for i in range(items):
            w.writerow([f"PRJ-{i:05d}", f"Project {i}", "project", "PF"])
    costs = folder / "cost_lines.csv"
    with costs.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["work_item", "period", "expenditure", "budget", "forecast", "actual", "currency"]
        )
        n = 0
        i = 0
        while n < rows:
            for month in range(36):
                for exp in ("capex", "opex"):
                    if n >= rows:
                        break
                    y, m = 2023 + month // 12, 1 + month % 12
                    w.writerow(
                        [
                            f"PRJ-{i % items:05d}",
                            f"{y}-{m:02d}-01",
                            exp,
                            f"{(n * 37) % 100000 + 0.25:.2f}",
                            f"{(n * 41) % 100000 + 0.5:.2f}",
                            f"{(n * 43) % 90000:.2f}" if month < 24 else "",
                            "GBP",
                        ]
                    )
                    n += 1
            i += 1
    return work, costs


def run(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        work, costs = generate(folder, rows)
        bigov_times, pandas_times = [], []
        for k in range(repeat):
            ws = Workspace.open(f"sqlite:///{folder / f'bench{k}.db'}")
            try:
                import_file(ws, work, options=resolve_options(kind="work_item"), user="bench")
                start = time.perf_counter()
                result = import_file(
                    ws, costs, options=resolve_options(kind="cost_line"), user="bench"
                )
                bigov_times.append(time.perf_counter() - start)
                assert result.counts["cost_line"]["inserted"] == rows
            finally:
                ws.close()
            start = time.perf_counter()
            frame = pd.read_csv(costs)
            pandas_times.append(time.perf_counter() - start)
            assert len(frame) == rows
        b, p = statistics.median(bigov_times), statistics.median(pandas_times)
        print(f"bigov import (validate + upsert, SQLite): median {b:.3f} s over {repeat} runs")
        print(f"pandas read_csv:                         median {p:.3f} s over {repeat} runs")
        print(
            f"ingest: rows={rows} bigov_rows_per_s={rows / b:,.0f} "
            f"bigov/pandas_read_csv={b / p:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.rows, args.repeat)


if __name__ == "__main__":
    main()
