"""Benchmark of the HiGHS options bigov's proving solves change (issue 18).

bigov runs HiGHS with a few of its defaults changed where a solve's time goes on the proof
(``solver.PROOF_OPTIONS``: no cut rounds at every node; ``frontier.FRONTIER_OPTIONS``: also no
RINS, RENS or restart). This measures each set against HiGHS's defaults on the same instances,
in the same run, every solve on one thread (as bigov runs it), to optimality or a cap:

- frontier: the 50 levels of ``benchmarks/portfolio.py``'s 60x5 frontier, solved one by one,
  without a start and from each level's optimal plan (what the best repaired start could give);
- 100x5 / 100x10: the first hard instances of ``benchmarks/portfolio.py``'s sets, each solved
  to optimality or ``--cap`` seconds.

Values must agree wherever both proved optimality. Ratios are defaults ÷ tuned (above 1 = the
tuned options are faster). Usage: ``python benchmarks/highs_options.py [--n5 9] [--n10 9]
[--cap 20] [--points 50]``. The last line is ``highs_options: frontier_ratio=R1
frontier_start_ratio=R2 hard5_ratio=R3 hard10_proven=A/B``, B the defaults' proven count.
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

from bigov.portfolio.frontier import FRONTIER_OPTIONS, _least_scale, _rows
from bigov.portfolio.problem import PortfolioProblem
from bigov.portfolio.solver import PROOF_OPTIONS, build_model, highs_options
from portfolio import _hard_set, as_problem, chu_beasley


def timed_solve(
    problem: PortfolioProblem,
    options: Mapping[str, bool],
    *,
    cap: float | None = None,
    level: tuple[Sequence[int], Any] | None = None,
    start: Any = None,
) -> tuple[float, float, bool, Any]:
    """Seconds, value, proven, plan of one one-thread solve (``level``: rows and their limits)."""
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
        seconds = time.perf_counter() - t0
    value = float(model.h.getInfo().objective_function_value)
    return seconds, value, status == highspy.HighsModelStatus.kOptimal, model.column_values()


def frontier_levels(points: int) -> tuple[float, float, float, float, int]:
    """Sums of seconds over the levels: defaults, tuned; then both from optimal starts."""
    problem = as_problem(chu_beasley(60, 5, 0.5, 7))
    model = build_model(problem)
    rows = _rows(model, "budget", None)
    uppers = np.array([model.rows[r].upper for r in rows])
    low = _least_scale(problem, rows, None) or 0.0
    scales = [low + (1.0 - low) * k / (points - 1) for k in range(points)]
    sums = [0.0, 0.0, 0.0, 0.0]
    differ = 0
    for scale in scales:
        level = (rows, uppers * scale)
        t_plain, v_plain, _, plan = timed_solve(problem, {}, level=level)
        t_tuned, v_tuned, _, _ = timed_solve(problem, FRONTIER_OPTIONS, level=level)
        t_plain_s, _, _, _ = timed_solve(problem, {}, level=level, start=plan.tolist())
        t_tuned_s, v_start, _, _ = timed_solve(
            problem, FRONTIER_OPTIONS, level=level, start=plan.tolist()
        )
        differ += bool(abs(v_plain - v_tuned) > 1e-6 or abs(v_plain - v_start) > 1e-6)
        for i, t in enumerate((t_plain, t_tuned, t_plain_s, t_tuned_s)):
            sums[i] += t
    return sums[0], sums[1], sums[2], sums[3], differ


def hard(n: int, m: int, count: int, cap: float) -> tuple[list[float], list[float], int, int, int]:
    """Per instance seconds (defaults, tuned), proven counts, and disagreements."""
    plain_t: list[float] = []
    tuned_t: list[float] = []
    proven = [0, 0]
    differ = 0
    for inst in _hard_set(n, m, count, 1000 if m == 5 else 2000):
        problem = as_problem(inst)
        tp, vp, pp, _ = timed_solve(problem, {}, cap=cap)
        tt, vt, pt, _ = timed_solve(problem, PROOF_OPTIONS, cap=cap)
        plain_t.append(tp)
        tuned_t.append(tt)
        proven[0] += pp
        proven[1] += pt
        differ += bool(pp and pt and abs(vp - vt) > 1e-6)
        print(
            f"  {inst.name:<24} defaults {tp:6.2f} s{' proven' if pp else '       '}"
            f"   tuned {tt:6.2f} s{' proven' if pt else ''}",
            flush=True,
        )
    return plain_t, tuned_t, proven[0], proven[1], differ


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n5", type=int, default=9, help="100x5 hard instances")
    ap.add_argument("--n10", type=int, default=9, help="100x10 hard instances")
    ap.add_argument("--cap", type=float, default=20.0, help="seconds per hard solve")
    ap.add_argument("--points", type=int, default=50, help="frontier levels")
    args = ap.parse_args()

    plain, tuned, plain_s, tuned_s, differ = frontier_levels(args.points)
    print(
        f"frontier {args.points} levels (60x5), one by one: defaults {plain:.2f} s, "
        f"FRONTIER_OPTIONS {tuned:.2f} s ({plain / tuned:.2f}x); from optimal starts "
        f"{plain_s:.2f} s vs {tuned_s:.2f} s ({plain_s / tuned_s:.2f}x); values differ: {differ}"
    )
    print(f"\n100x5, to optimality or {args.cap:g} s, PROOF_OPTIONS vs defaults:")
    p5, t5, _, _, d5 = hard(100, 5, args.n5, args.cap)
    ratios5 = [a / b for a, b in zip(p5, t5, strict=True)]
    print(
        f"  total {sum(p5):.1f} s vs {sum(t5):.1f} s ({sum(p5) / sum(t5):.2f}x), median ratio "
        f"{statistics.median(ratios5):.2f}, values differ: {d5}"
    )
    print(f"\n100x10, to optimality or {args.cap:g} s:")
    _, _, proven_plain, proven_tuned, d10 = hard(100, 10, args.n10, args.cap)
    print(f"  proven: defaults {proven_plain}, tuned {proven_tuned}; values differ: {d10}")
    print(
        f"highs_options: frontier_ratio={plain / tuned:.2f} "
        f"frontier_start_ratio={plain_s / tuned_s:.2f} hard5_ratio={sum(p5) / sum(t5):.2f} "
        f"hard10_proven={proven_tuned}/{proven_plain}"
    )
    if differ or d5 or d10:
        raise SystemExit("the tuned options changed a proven value")


if __name__ == "__main__":
    main()
