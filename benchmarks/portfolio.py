"""Benchmark of the portfolio optimiser (issue 7): value and time against the usual shortcuts.

Part (a): random multi-dimensional knapsack instances of the classic hard kind (Chu & Beasley
1998: weights uniform in [0, 1000], capacities a fraction α of the row sums, values correlated
with the weights: p_j = Σ_i w_ij / m + 500·q_j). bigov (HiGHS, 5 s per instance) is compared with

- the *waterline*: rank by value, fund down the list, stop at the first item that does not fit;
- a *greedy* by value per weighted cost (weights 1/capacity), skipping items that do not fit;
- on small instances (≤ 22 items), the exact optimum by exhaustive search (meet in the middle).

"Best known" for these generated instances is HiGHS itself run with a longer time limit (and a
zero gap); when that run proves optimality the reference is the true optimum. The output says
which.

Frontier: 50 budget levels of one instance, warm (one instance, warm starts) vs 50 cold solves.

Part (b) is the demo enterprise's annual planning round: the demo is generated at ``--scale``
(default ``large``; ``--quick`` uses ``small``) into a temporary SQLite file, the FY2028 round is
built by :class:`bigov.portfolio.service.PortfolioService` and solved by
:func:`bench_planning_round`. ``--problem FILE`` benchmarks a problem file as well.

Usage: ``python benchmarks/portfolio.py [--quick] [--time-limit 5] [--ref-time 30] [--scale S]``
The last line printed is
``portfolio: mean_vs_best=R1 waterline_vs_best=R2 greedy_vs_best=R3 exhaustive_matched=K/N``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bigov.portfolio.builder import RoundOptions
from bigov.portfolio.frontier import compute_frontier
from bigov.portfolio.problem import Candidate, PortfolioProblem, load_problem
from bigov.portfolio.scoring import candidate_values
from bigov.portfolio.solver import PlanItem, evaluate_plan, solve

FloatArray = np.ndarray[tuple[int, ...], np.dtype[np.float64]]


@dataclass
class Instance:
    name: str
    values: FloatArray  # (n,)
    weights: FloatArray  # (m, n)
    capacity: FloatArray  # (m,)


def chu_beasley(n: int, m: int, alpha: float, seed: int) -> Instance:
    """One Chu & Beasley style instance (correlated values, tightness ``alpha``)."""
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 1001, size=(m, n)).astype(float)
    b = np.floor(alpha * w.sum(axis=1))
    p = np.floor(w.sum(axis=0) / m + 500 * rng.random(n))
    return Instance(f"{n}x{m} a={alpha} s={seed}", p, w, b)


def as_problem(inst: Instance) -> PortfolioProblem:
    """The instance in bigov's file format: one funding source, one 'period' per constraint."""
    m, n = inst.weights.shape
    periods = [f"k{i}" for i in range(m)]
    cands = [
        Candidate(
            code=f"x{j}",
            value=float(inst.values[j]),
            cost={"budget": {periods[i]: float(inst.weights[i, j]) for i in range(m)}},
        )
        for j in range(n)
    ]
    return PortfolioProblem(
        name=inst.name,
        periods=periods,
        budgets={"budget": {periods[i]: float(inst.capacity[i]) for i in range(m)}},
        candidates=cands,
    )


def waterline(inst: Instance) -> float:
    """Rank by value, fund down the list until the first item that does not fit."""
    used = np.zeros_like(inst.capacity)
    total = 0.0
    for j in np.argsort(-inst.values, kind="stable"):
        if np.any(used + inst.weights[:, j] > inst.capacity):
            break
        used += inst.weights[:, j]
        total += inst.values[j]
    return total


def greedy(inst: Instance) -> float:
    """Best value per weighted cost first (weights 1/capacity); skip what does not fit."""
    scaled = (inst.weights / np.maximum(inst.capacity, 1.0)[:, None]).sum(axis=0)
    ratio = inst.values / np.maximum(scaled, 1e-12)
    used = np.zeros_like(inst.capacity)
    total = 0.0
    for j in np.argsort(-ratio, kind="stable"):
        if np.all(used + inst.weights[:, j] <= inst.capacity):
            used += inst.weights[:, j]
            total += inst.values[j]
    return total


def _subsets(p: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    k = len(p)
    masks = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(float)
    return masks @ p, masks @ w.T


def exhaustive(inst: Instance) -> float:
    """Exact optimum by meet in the middle: all subsets of each half, every pair checked."""
    n = len(inst.values)
    h = n // 2
    va, wa = _subsets(inst.values[:h], inst.weights[:, :h])
    vb, wb = _subsets(inst.values[h:], inst.weights[:, h:])
    best = 0.0
    for start in range(0, len(va), 256):
        block = wa[start : start + 256, None, :] + wb[None, :, :]
        ok = np.all(block <= inst.capacity, axis=2)
        vals = np.where(ok, va[start : start + 256, None] + vb[None, :], -1.0)
        best = max(best, float(vals.max()))
    return best


def bench_planning_round(problem: PortfolioProblem, time_limit: float = 5.0) -> dict[str, float]:
    """Part (b): bigov vs waterline and greedy on a whole planning round (any problem file).

    The baselines take forced-in items and what they need first (in full; partially fundable
    ones are cut to their minimum only if the commitments would break a limit otherwise), then
    add candidates in rank order when the plan stays within every rule (dependencies must already
    be in). Returns values and times.
    """
    values = candidate_values(problem)
    t0 = time.perf_counter()
    solution = solve(problem, time_limit=time_limit)
    t_bigov = time.perf_counter() - t0

    spend = {
        c.code: sum(sum(t.values()) for t in (c.cost or {}).values()) or 1e-9
        for c in problem.candidates
    }

    # commitments: forced-in items and, transitively, whatever they need
    todo = [f.code for f in problem.forced if f.decision == "in"]
    needed: list[str] = []
    while todo:
        code = todo.pop()
        if code not in needed:
            needed.append(code)
            todo.extend(problem.candidate(code).requires)
    forced = [problem.candidate(code) for code in needed]
    committed = {c.code: PlanItem() for c in forced}
    if evaluate_plan(problem, committed, values)[1]:
        committed = {
            c.code: PlanItem(0, c.partial.min_fraction if c.partial else 1.0) for c in forced
        }

    def fill(order: list[str], stop_at_first: bool) -> float:
        plan = dict(committed)
        for code in order:
            if code in plan:
                continue
            trial = {**plan, code: PlanItem()}
            _, broken = evaluate_plan(problem, trial, values)
            hard = [b for b in broken if not b.startswith(("balance", "force-in"))]
            if hard:
                if stop_at_first:
                    break
                continue
            plan = trial
        value, broken = evaluate_plan(problem, plan, values)
        return value if not broken else float("nan")

    t0 = time.perf_counter()
    by_value = sorted(values, key=lambda c: -values[c])
    wl = fill(by_value, stop_at_first=True)
    gr = fill(sorted(values, key=lambda c: -values[c] / spend[c]), stop_at_first=False)
    t_base = time.perf_counter() - t0
    return {
        "bigov": solution.value,
        "bigov_time": t_bigov,
        "proven_optimal": float(solution.proven_optimal),
        "selected": float(len(solution.selected)),
        "waterline": wl,
        "greedy": gr,
        "baseline_time": t_base,
    }


def demo_round(scale: str, year: int = 2028) -> tuple[PortfolioProblem, float, float]:
    """The demo enterprise's planning round; also the seconds to generate and to build it."""
    from bigov.demo import generate
    from bigov.portfolio.service import PortfolioService
    from bigov.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            t0 = time.perf_counter()
            generate(ws, scale=scale)
            t_gen = time.perf_counter() - t0
            t0 = time.perf_counter()
            built = PortfolioService(ws).build_problem(RoundOptions(years=[year]))
            t_build = time.perf_counter() - t0
        finally:
            ws.close()
    return built.problem, t_gen, t_build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=5.0, help="bigov seconds per instance")
    ap.add_argument("--ref-time", type=float, default=30.0, help="reference seconds per instance")
    ap.add_argument("--quick", action="store_true", help="fewer and smaller instances")
    ap.add_argument("--problem", type=Path, help="also benchmark this planning round (part b)")
    ap.add_argument("--scale", choices=["small", "large", "none"], help="demo scale for part (b)")
    args = ap.parse_args()
    scale = args.scale or ("small" if args.quick else "large")

    # (a1) small instances against exhaustive search.
    small = [chu_beasley(n, 5, 0.5, 100 + n) for n in range(12, 23, 2 if args.quick else 1)]
    matched = 0
    print("small instances (exhaustive optimum):")
    for inst in small:
        t0 = time.perf_counter()
        exact = exhaustive(inst)
        t_ex = time.perf_counter() - t0
        s = solve(as_problem(inst), time_limit=args.time_limit)
        ok = abs(s.value - exact) <= 1e-6
        matched += ok
        print(
            f"  {inst.name:<22} exact {exact:9.0f} ({t_ex:6.2f} s)  bigov {s.value:9.0f} "
            f"({s.run_time:5.2f} s)  {'match' if ok else 'MISMATCH'}"
        )

    # (a2) hard instances.
    sizes = [(100, 5)] * (2 if args.quick else 6)
    if not args.quick:
        sizes += [(250, 10), (250, 10), (500, 30)]
    alphas = [0.25, 0.5, 0.75]
    hard = [chu_beasley(n, m, alphas[k % 3], 1000 + k) for k, (n, m) in enumerate(sizes)]
    rows = []
    print(
        f"\nhard instances (bigov: HiGHS {args.time_limit:g} s; best known: HiGHS "
        f"{args.ref_time:g} s, gap 0, or bigov's run if that already proved optimality):"
    )
    for inst in hard:
        problem = as_problem(inst)
        t0 = time.perf_counter()
        s = solve(problem, time_limit=args.time_limit)
        t_bigov = time.perf_counter() - t0
        if s.proven_optimal:
            best, how = s.value, "proven (bigov run)"
        else:
            r = solve(problem, time_limit=args.ref_time, mip_gap=0.0)
            best = max(r.value, s.value)
            how = "proven" if r.proven_optimal else f"best found, gap {r.gap:.3%}"
        wl, gr = waterline(inst), greedy(inst)
        rows.append((s.value / best, wl / best, gr / best, t_bigov))
        print(
            f"  {inst.name:<24} best {best:9.0f} [{how}]  bigov {s.value / best:.4f} "
            f"({t_bigov:5.2f} s)  waterline {wl / best:.4f}  greedy {gr / best:.4f}"
        )
    r_bigov = [r[0] for r in rows]
    print(
        f"  medians: bigov {statistics.median(r_bigov):.4f}  waterline "
        f"{statistics.median(r[1] for r in rows):.4f}  greedy "
        f"{statistics.median(r[2] for r in rows):.4f}  bigov time "
        f"{statistics.median(r[3] for r in rows):.2f} s"
    )
    hundred = [r[0] for r, (n, m) in zip(rows, sizes, strict=True) if (n, m) == (100, 5)]
    print(f"  100x5 mean bigov/best {statistics.mean(hundred):.5f} (target ≥ 0.999 within 5 s)")

    # Frontier: warm vs cold on one mid-size instance.
    fr_inst = as_problem(chu_beasley(60, 5, 0.5, 7))
    points = 10 if args.quick else 50
    warm = compute_frontier(fr_inst, points, max_scale=1.0)
    cold = compute_frontier(fr_inst, points, max_scale=1.0, warm=False)
    same = all(
        (a.value is None and b.value is None)
        or (a.value is not None and b.value is not None and abs(a.value - b.value) < 1e-6)
        for a, b in zip(warm.points, cold.points, strict=True)
    )
    ratio = cold.run_time / warm.run_time
    print(
        f"\nfrontier {points} points (60x5): warm {warm.run_time:.2f} s, "
        f"cold {cold.run_time:.2f} s, ratio cold/warm {ratio:.2f}, same values: {same}"
    )

    rounds: list[tuple[str, PortfolioProblem, str]] = []
    if scale != "none":
        problem, t_gen, t_build = demo_round(scale)
        rounds.append(
            (
                f"demo FY2028 round ({scale})",
                problem,
                f"generated in {t_gen:.1f} s, round built in {t_build:.2f} s",
            )
        )
    if args.problem is not None:
        rounds.append((str(args.problem), load_problem(args.problem), "from file"))
    for label, problem, how in rounds:
        res = bench_planning_round(problem, args.time_limit)

        def rel(key: str, res: dict[str, float] = res) -> str:
            v = res[key]
            return "infeasible (breaks a rule)" if v != v else f"{v / res['bigov']:.4f}"

        proposals = len(problem.candidates) - len(problem.forced)
        print(
            f"\nplanning round {label}: {len(problem.candidates)} candidates "
            f"({proposals} not forced), {how}\n"
            f"  bigov {res['bigov']:.4g} ({res['bigov_time']:.2f} s, proven "
            f"{bool(res['proven_optimal'])}, {int(res['selected'])} selected)  "
            f"waterline {rel('waterline')}  greedy {rel('greedy')} (baselines "
            f"{res['baseline_time']:.2f} s)"
        )
    if not rounds:
        print("\nplanning round (part b): skipped (--scale none and no --problem)")

    print(
        f"portfolio: mean_vs_best={statistics.mean(r_bigov):.4f} "
        f"waterline_vs_best={statistics.mean(r[1] for r in rows):.4f} "
        f"greedy_vs_best={statistics.mean(r[2] for r in rows):.4f} "
        f"exhaustive_matched={matched}/{len(small)}"
    )


if __name__ == "__main__":
    main()
