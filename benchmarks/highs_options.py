"""Benchmark of the HiGHS options bigov's proving solves change (issue 18).

bigov runs HiGHS with a few defaults changed where a solve's time goes on the proof:
``solver.PROOF_OPTIONS`` (no cut rounds at every node of the tree) for a solve without a time
limit; ``search.MAIN_OPTIONS`` (that, and no RINS/RENS) for the main solve beside the
neighbourhood search; ``frontier.FRONTIER_OPTIONS`` (that, and no restart) for the warm
frontier's levels. Each set is measured against what it replaces, on the same instances, in the
same run, every HiGHS solve on one thread as bigov runs it (``BIGOV_HIGHS_THREADS`` overrides):

- frontier: the 50 levels of ``benchmarks/portfolio.py``'s 60x5 frontier, solved one by one:
  HiGHS's defaults, ``FRONTIER_OPTIONS``, and each of its options alone, without a start; then
  defaults and ``FRONTIER_OPTIONS`` from each level's optimal plan (the best a repaired start
  could give);
- hard: the first instances of ``benchmarks/portfolio.py``'s 100x5 and 100x10 sets, each solved
  to optimality or ``--cap`` seconds by HiGHS alone: defaults against ``PROOF_OPTIONS`` (the solve
  without a time limit), and RINS/RENS off against ``MAIN_OPTIONS`` (the main solve before and
  after this change);
- within the limit: ``solve(time_limit=5)`` (search and main solve on both cores) on the 100x10
  instances, with ``MAIN_OPTIONS`` and with RINS/RENS off alone: the plans' values.

Ratios are "before ÷ after" (above 1: the changed options are faster). Values must agree
wherever both solves proved optimality. About 12 minutes at the defaults. Usage:
``python benchmarks/highs_options.py [--n5 9] [--n10 6] [--cap 20] [--points 50]``. The last line
is ``highs_options: frontier_ratio=R1 frontier_start_ratio=R2 hard5_ratio=R3
hard10_proven_before=A hard10_proven_after=B``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bigov.portfolio.search as search_module
from bigov.portfolio.frontier import FRONTIER_OPTIONS, _least_scale, _rows
from bigov.portfolio.problem import PortfolioProblem
from bigov.portfolio.search import MAIN_OPTIONS
from bigov.portfolio.solver import PROOF_OPTIONS, build_model, highs_options, solve
from portfolio import _hard_set, as_problem, chu_beasley

NO_RINS_RENS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}


class Run:
    """One HiGHS solve: seconds, value, proven, nodes, plan."""

    def __init__(
        self,
        problem: PortfolioProblem,
        options: Mapping[str, bool],
        *,
        cap: float | None = None,
        level: tuple[Sequence[int], Any] | None = None,
        start: Any = None,
    ) -> None:
        model = build_model(problem)
        if level is not None:
            rows, limits = level
            n = len(rows)
            model.h.changeRowsBounds(
                n, np.array(rows, np.int32), np.full(n, -highspy.kHighsInf), limits
            )
        with highs_options(model.h, options):
            t0 = time.perf_counter()
            status = model.run(time_limit=cap, mip_gap=1e-6, start=start)
            self.seconds = time.perf_counter() - t0
        info = model.h.getInfo()
        self.value = float(info.objective_function_value)
        self.proven = status == highspy.HighsModelStatus.kOptimal
        self.nodes = int(info.mip_node_count)
        self.plan = model.column_values()


def frontier_levels(points: int) -> tuple[float, float, float, float]:
    """Seconds over all levels: defaults, FRONTIER_OPTIONS; the same from optimal starts."""
    problem = as_problem(chu_beasley(60, 5, 0.5, 7))
    model = build_model(problem)
    rows = _rows(model, "budget", None)
    uppers = np.array([model.rows[r].upper for r in rows])
    low = _least_scale(problem, rows, None) or 0.0
    scales = [low + (1.0 - low) * k / (points - 1) for k in range(points)]
    alone = {name: {name: value} for name, value in FRONTIER_OPTIONS.items()}
    configs: dict[str, Mapping[str, bool]] = {"defaults": {}, "FRONTIER_OPTIONS": FRONTIER_OPTIONS}
    configs |= {f"{name} alone": opts for name, opts in alone.items()}
    seconds = dict.fromkeys(
        [*configs, "defaults from optimum", "FRONTIER_OPTIONS from optimum"], 0.0
    )
    nodes = dict.fromkeys(seconds, 0)
    differ = 0
    for scale in scales:
        level = (rows, uppers * scale)
        runs = {label: Run(problem, opts, level=level) for label, opts in configs.items()}
        optimum = runs["defaults"].plan.tolist()
        runs["defaults from optimum"] = Run(problem, {}, level=level, start=optimum)
        runs["FRONTIER_OPTIONS from optimum"] = Run(
            problem, FRONTIER_OPTIONS, level=level, start=optimum
        )
        reference = runs["defaults"].value
        differ += any(
            abs(r.value - reference) > 1e-6 * max(1.0, abs(reference)) for r in runs.values()
        )
        for label, r in runs.items():
            seconds[label] += r.seconds
            nodes[label] += r.nodes
    print(f"frontier {points} levels (60x5), one by one, one thread:")
    for label in seconds:
        ratio = seconds["defaults"] / seconds[label]
        if "optimum" in label:
            ratio = seconds["defaults from optimum"] / seconds[label]
        print(f"  {label:<46} {seconds[label]:7.2f} s  {nodes[label]:7d} nodes  {ratio:5.2f}x")
    if differ:
        raise SystemExit(f"the options changed the value of {differ} level(s)")
    return (
        seconds["defaults"],
        seconds["FRONTIER_OPTIONS"],
        seconds["defaults from optimum"],
        seconds["FRONTIER_OPTIONS from optimum"],
    )


def hard(n: int, m: int, count: int, cap: float) -> dict[str, list[Run]]:
    """Each instance solved by HiGHS alone under the four option sets."""
    configs: dict[str, Mapping[str, bool]] = {
        "defaults": {},
        "PROOF_OPTIONS": PROOF_OPTIONS,
        "RINS/RENS off": NO_RINS_RENS,
        "MAIN_OPTIONS": MAIN_OPTIONS,
    }
    out: dict[str, list[Run]] = {label: [] for label in configs}
    for inst in _hard_set(n, m, count, 1000 if m == 5 else 2000):
        problem = as_problem(inst)
        runs = {label: Run(problem, opts, cap=cap) for label, opts in configs.items()}
        proven = [r.value for r in runs.values() if r.proven]
        if proven and max(proven) - min(proven) > 1e-6 * max(1.0, abs(proven[0])):
            raise SystemExit(f"{inst.name}: the options changed a proven value")
        for label, r in runs.items():
            out[label].append(r)
        print(
            f"  {inst.name:<22}"
            + "".join(
                f"  {label} {r.seconds:5.1f} s{'*' if r.proven else ' '}"
                for label, r in runs.items()
            ),
            flush=True,
        )
    for before, after in (("defaults", "PROOF_OPTIONS"), ("RINS/RENS off", "MAIN_OPTIONS")):
        a, b = out[before], out[after]
        ratios = [x.seconds / y.seconds for x, y in zip(a, b, strict=True)]
        ta, tb = sum(x.seconds for x in a), sum(y.seconds for y in b)
        print(
            f"  {before} -> {after}: {ta:.1f} s -> {tb:.1f} s ({ta / tb:.2f}x, "
            f"median {statistics.median(ratios):.2f}x); proven {sum(x.proven for x in a)} -> "
            f"{sum(y.proven for y in b)} of {len(a)}; nodes {sum(x.nodes for x in a)} -> "
            f"{sum(y.nodes for y in b)}"
        )
    return out


def within_limit(count: int, time_limit: float) -> None:
    """bigov's solve (search + main solve) on 100x10 with MAIN_OPTIONS and without its proof
    option: the values of the plans found within the limit."""
    before = {k: v for k, v in MAIN_OPTIONS.items() if k not in PROOF_OPTIONS}
    values: dict[str, list[float]] = {"RINS/RENS off": [], "MAIN_OPTIONS": []}
    shipped = search_module.MAIN_OPTIONS
    for inst in _hard_set(100, 10, count, 2000):
        problem = as_problem(inst)
        for label, opts in (("RINS/RENS off", before), ("MAIN_OPTIONS", shipped)):
            search_module.MAIN_OPTIONS = opts  # type: ignore[misc]  # the benchmark's A/B switch
            try:
                values[label].append(solve(problem, time_limit=time_limit).value)
            finally:
                search_module.MAIN_OPTIONS = shipped  # type: ignore[misc]
    same = sum(a == b for a, b in zip(*values.values(), strict=True))
    better = sum(b > a for a, b in zip(*values.values(), strict=True))
    print(
        f"\n100x10 within {time_limit:g} s (search + main solve): same value {same}, "
        f"better with MAIN_OPTIONS {better}, worse {count - same - better} of {count}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n5", type=int, default=9, help="100x5 hard instances (at least 1)")
    ap.add_argument("--n10", type=int, default=6, help="100x10 hard instances (at least 1)")
    ap.add_argument("--cap", type=float, default=20.0, help="seconds per hard solve")
    ap.add_argument("--points", type=int, default=50, help="frontier levels (at least 2)")
    ap.add_argument("--time-limit", type=float, default=5.0, help="seconds, within-limit part")
    args = ap.parse_args()
    if args.points < 2 or args.n5 < 1 or args.n10 < 1:
        ap.error("--points needs at least 2, --n5 and --n10 at least 1")

    plain, tuned, plain_s, tuned_s = frontier_levels(args.points)
    print(f"\n100x5, HiGHS alone, to optimality or {args.cap:g} s (* = proven):")
    h5 = hard(100, 5, args.n5, args.cap)
    print(f"\n100x10, HiGHS alone, to optimality or {args.cap:g} s (* = proven):")
    h10 = hard(100, 10, args.n10, args.cap)
    within_limit(args.n10, args.time_limit)
    t5 = [sum(r.seconds for r in h5[k]) for k in ("defaults", "PROOF_OPTIONS")]
    print(
        f"highs_options: frontier_ratio={plain / tuned:.2f} "
        f"frontier_start_ratio={plain_s / tuned_s:.2f} hard5_ratio={t5[0] / t5[1]:.2f} "
        f"hard10_proven_before={sum(r.proven for r in h10['defaults'])} "
        f"hard10_proven_after={sum(r.proven for r in h10['PROOF_OPTIONS'])}"
    )


if __name__ == "__main__":
    main()
