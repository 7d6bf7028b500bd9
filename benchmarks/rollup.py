"""Roll-up cost against data size: the demo enterprise at ``--scale large`` against ``small``.

Prints, for each scale, the number of work items, the median of three timed roll-ups of the
whole organisation, and the number of SQL statements one roll-up issued; then the ratios. The
statement count must be the same at both scales (a roll-up does not loop over items).

    python benchmarks/rollup.py            # SQLite files in a temporary folder
    python benchmarks/rollup.py --db-url postgresql+psycopg://...   # one schema per scale
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text

from bigov.analysis.rollups import rollup
from bigov.work.models import WorkItem
from bigov.workspace import Workspace


def measure(ws: Workspace, as_at: dt.date, repeats: int = 3) -> tuple[int, float, int]:
    """(work items, median seconds of a whole-organisation roll-up, statements per roll-up)."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with ws.session() as s:
        items = int(s.scalar(select(func.count()).select_from(WorkItem)) or 0)
    times = []
    for i in range(repeats):
        if i == 0:
            event.listen(ws.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        with ws.session() as s:
            rollup(s, as_at=as_at)
        times.append(time.perf_counter() - started)
        if i == 0:
            event.remove(ws.engine, "before_cursor_execute", count)
    return items, statistics.median(times), len(statements)


def main() -> None:
    from bigov.demo import generate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", help="PostgreSQL URL (default: SQLite files)")
    args = parser.parse_args()
    results: dict[str, tuple[int, float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scale in ("small", "large"):
            schema = None
            if args.db_url:
                schema = f"bench_{secrets.token_hex(4)}"
                ws = Workspace.open(args.db_url, schema=schema)
            else:
                ws = Workspace.open(f"sqlite:///{Path(tmp) / scale}.db")
            try:
                report = generate(ws, scale=scale, seed=42)
                # fresh bulk-loaded tables have no planner statistics yet; without them the
                # first roll-ups measure autovacuum's timing rather than the queries
                with ws.engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
                results[scale] = measure(ws, report.as_of)
            finally:
                if schema:
                    with ws.engine.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                ws.close()
            items, seconds, queries = results[scale]
            print(
                f"{scale:>5}: {items:>6} work items  roll-up median {seconds * 1000:8.1f} ms  "
                f"{queries} statements"
            )
    (n_s, t_s, q_s), (n_l, t_l, q_l) = results["small"], results["large"]
    print(
        f"ratio large/small: items {n_l / n_s:.1f}x, time {t_l / t_s:.1f}x, "
        f"statements {q_l}/{q_s} ({'equal' if q_l == q_s else 'DIFFERENT'})"
    )


if __name__ == "__main__":
    main()
