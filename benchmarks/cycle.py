"""Benchmark: time to run every governance cycle of a quarter on the demo enterprise.

For each scale (default ``small`` then ``large``) the demo is generated once into a SQLite file;
each repetition copies that file and runs ``run_all`` for the three months of the quarter
(snapshot, rules, exceptions, escalation; with ``--render`` also the HTML packs). Prints the
median of ``--repeat`` runs per scale and the large/small ratio measured in the same run.

    python benchmarks/cycle.py [--scales small large] [--repeat 3] [--render]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bigov.demo import generate
from bigov.workspace import Workspace

QUARTER = ("2026-07", "2026-08", "2026-09")  # fiscal Q2 of FY2027, before the demo's as-of date


def _prepare(scale: str, folder: Path) -> tuple[Path, dict[str, int]]:
    path = folder / f"demo-{scale}.db"
    with Workspace.open(f"sqlite:///{path}") as ws:
        generate(ws, scale=scale)
        from bigov.governance.topology import Topology

        with ws.session() as s:
            topo = Topology(s)
            sizes = {"nodes": len(topo.nodes), "work_items": len(topo.items)}
    return path, sizes


def _one_run(source: Path, folder: Path, render: bool) -> tuple[float, int, int]:
    copy = folder / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, copy)
    with Workspace.open(f"sqlite:///{copy}") as ws:
        started = time.perf_counter()
        cycles = exceptions = 0
        for month in QUARTER:
            results = ws.governance.run_all(
                month, out_dir=folder / "packs" if render else None, formats=("html",)
            )
            cycles += len(results)
            exceptions += sum(r.exceptions for r in results)
        return time.perf_counter() - started, cycles, exceptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small", "large"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--render", action="store_true", help="also write the HTML packs")
    args = parser.parse_args()
    medians: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for scale in args.scales:
            source, sizes = _prepare(scale, folder)
            times = []
            for _ in range(args.repeat):
                seconds, cycles, exceptions = _one_run(source, folder, args.render)
                times.append(seconds)
            medians[scale] = statistics.median(times)
            runs = ", ".join(f"{t:.2f}" for t in times)
            print(
                f"{scale:>6}: {sizes['nodes']} nodes, {sizes['work_items']} work items — "
                f"{cycles} cycles, {exceptions} exception sightings in the quarter — "
                f"median {medians[scale]:.2f} s of {args.repeat} ({runs})"
            )
    if "small" in medians and "large" in medians:
        print(f"large / small: {medians['large'] / medians['small']:.1f}×")


if __name__ == "__main__":
    main()
