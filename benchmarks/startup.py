"""How long the CLI takes before it answers: ``bigov --help`` and one query command (``status``)
on a demo workspace, beside ``python -c pass`` and ``python -c "import sqlalchemy.orm"`` measured
in the same run (interleaved, so a busy shared machine slows all of them alike).

Each command runs ``--runs`` times as a fresh process; the medians of wall-clock and of CPU time
(user + system of the child) are printed, and the ratios to the baselines. Bytecode caching is on
(as after any install), and one warm-up run of each fills the caches. Last line:

    startup: help_s=A status_s=B help_cpu_s=C status_cpu_s=D python_s=E help_ratio=F status_ratio=G

    python benchmarks/startup.py                       # makes a small demo in a temporary folder
    python benchmarks/startup.py --db sqlite:////tmp/cli-demo.db --runs 15
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing demo workspace URL (default: make one)")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["COLUMNS"] = "100"
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'demo.db'}"
        if not args.db:
            subprocess.run(
                [py, "-m", "bigov.cli", "demo", "--db", db], env=env, check=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        commands = {
            "python": [py, "-c", "pass"],
            "sqlalchemy": [py, "-c", "import sqlalchemy.orm"],
            "help": [py, "-m", "bigov.cli", "--help"],
            "status": [py, "-m", "bigov.cli", "status", "--db", db],
        }
        for argv in commands.values():  # warm-up: bytecode and file caches
            _run(argv, env)
        wall: dict[str, list[float]] = {k: [] for k in commands}
        cpu: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                w, c = _run(argv, env)
                wall[name].append(w)
                cpu[name].append(c)
    med = {k: statistics.median(v) for k, v in wall.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    for name in commands:
        print(
            f"{name:<11} wall median {med[name]:.3f} s (min {min(wall[name]):.3f}, "
            f"max {max(wall[name]):.3f}) · cpu median {mcpu[name]:.3f} s"
        )
    print(
        f"startup: help_s={med['help']:.3f} status_s={med['status']:.3f} "
        f"help_cpu_s={mcpu['help']:.3f} status_cpu_s={mcpu['status']:.3f} "
        f"python_s={med['python']:.3f} sqlalchemy_s={med['sqlalchemy']:.3f} "
        f"help_ratio={med['help'] / med['python']:.1f} "
        f"status_ratio={med['status'] / med['python']:.1f} "
        f"status_vs_sqlalchemy={med['status'] / med['sqlalchemy']:.2f}"
    )


if __name__ == "__main__":
    main()
