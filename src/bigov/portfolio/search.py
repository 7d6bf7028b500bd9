"""Better plans within a time limit: HiGHS plus a large-neighbourhood search on the second core.

A time-limited branch and bound spends most of its time proving; the last fraction of a percent of
value on hard rounds comes faster from *searching around* the best plan. :func:`search_solve`
runs two workers that share one incumbent pool:

- the **main solve**: HiGHS on the whole model (one thread). Every plan it finds goes into the
  pool (improving-solution callback); whenever the pool holds a better plan than HiGHS knows, it
  is handed over (user-solution callback), so HiGHS prunes with it. Its dual bound is the bound
  reported, and when it proves optimality the search stops;
- the **neighbourhood search** on a second HiGHS instance: it first solves the LP relaxation,
  then the round's *core* to optimality (:func:`_core_phase`: the LP-marginal items free, the
  rest held where the LP puts them), then repeatedly fixes most selection variables to the best
  plan and lets a sub-MIP re-decide
  the rest (the *neighbourhood*): the items where plan and LP disagree (RINS), plus a random
  choice biased towards items the LP finds close to the margin. Neighbourhood size adapts: a
  sub-MIP proved optimal without improvement grows the next one, a sub-MIP stopped by its time
  slice shrinks it. Every improvement goes into the pool at once.

Both workers are HiGHS, so the answer is HiGHS-exact when the main solve finishes (the
neighbourhood search only adds incumbents); within a time limit it is never worse than the main
solve alone and usually better. HiGHS releases the GIL while it solves, so the two workers use
both cores (HiGHS is held to one thread per instance, so neither worker takes
the other's core). Seeds are fixed: for the same machine load the run is reproducible.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import highspy
import numpy as np

from bigov.portfolio.solver import (
    PROOF_OPTIONS,
    SelectionModel,
    build_model,
    highs_options,
    new_highs,
)

__all__ = ["SearchResult", "search_solve"]

_EPS = 1e-9
FloatVec = np.ndarray[Any, np.dtype[np.float64]]


@dataclass
class _Pool:
    """The shared incumbent and what the main solve has been told."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    value: float = -np.inf
    vec: FloatVec | None = None
    source: str = ""
    sent: float = -np.inf  # best value handed to the main solve
    bound: float = np.inf  # the main solve's dual bound
    done: threading.Event = field(default_factory=threading.Event)
    improvements: dict[str, int] = field(default_factory=lambda: {"main": 0, "search": 0})

    def offer(self, value: float, vec: FloatVec, source: str) -> bool:
        with self.lock:
            if self.vec is None or value > self.value + _EPS * max(1.0, abs(self.value)):
                self.value, self.vec, self.source = value, vec.copy(), source
                self.improvements[source] += 1
                return True
        return False


@dataclass
class SearchResult:
    """The best plan found (full column vector of the main model) and what is known of it."""

    status: highspy.HighsModelStatus
    vec: FloatVec | None
    value: float
    bound: float
    proven_optimal: bool
    found_by: str
    improvements: dict[str, int]


def _objective(model: SelectionModel, vec: FloatVec) -> float:
    cost = np.asarray(model.h.getLp().col_cost_, dtype=float)
    return float(cost @ vec[: len(cost)])


# HiGHS options of the main (proving) solve beside the search. The neighbourhood search is a RINS
# of its own, on its own core: the main solve's RINS and RENS sub-MIPs (about a third of a plain
# solve's time on the benchmark's instances) would repeat it on the proving core. Without them
# the main solve proves more often in the limit (benchmarks/portfolio.py's 100x5 set at 5 s, two
# runs each: 23 of 30 proven instead of 21, and a mean of 0.99996 and 1.00000 of the best known
# instead of 0.99992). solver.PROOF_OPTIONS (no cut rounds at every node) on top, measured
# against RINS/RENS off alone by benchmarks/highs_options.py: HiGHS alone to optimality, the
# first nine 100x5 instances 52.1 s -> 36.5 s (median 1.37x); within 5 s beside the search, the
# plans of the first six 100x10 instances have the same values (the option speeds up proofs).
MAIN_OPTIONS: Final[Mapping[str, bool]] = MappingProxyType(
    {**PROOF_OPTIONS, "mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}
)


def search_solve(
    model: SelectionModel,
    *,
    time_limit: float,
    mip_gap: float,
    start: Sequence[float] | None = None,
    seed: int = 0,
) -> SearchResult:
    """Solve ``model`` (a maximisation built by :func:`build_model`) with both workers.

    ``start`` is offered to both as a first incumbent (ignored if infeasible).
    """
    pool = _Pool()
    started = time.perf_counter()
    deadline = started + time_limit
    h = model.h
    # both instances run on one thread each (solver.highs_threads): one core each
    cost = np.asarray(h.getLp().col_cost_, dtype=float)

    def improving(e: Any) -> None:
        vec = np.asarray(e.data_out.mip_solution, dtype=float)
        if len(vec) == len(cost):
            pool.offer(float(cost @ vec), vec, "main")
        pool.bound = float(e.data_out.mip_dual_bound)

    def user_solution(e: Any) -> None:
        # hand the main solve the pool's plan when it beats what HiGHS has
        with pool.lock:
            vec, value = pool.vec, pool.value
            newer = vec is not None and (
                not np.isfinite(pool.sent) or value > pool.sent + _EPS * max(1.0, abs(value))
            )
            if newer:
                pool.sent = value
        primal = float(e.data_out.mip_primal_bound)
        if newer and vec is not None and (not np.isfinite(primal) or value > primal + _EPS):
            e.data_in.setSolution(vec)
            e.data_in.user_has_solution = True

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipUserSolution.subscribe(user_solution)
    if start is not None:
        vec = np.asarray(start, dtype=float)
        # only a feasible start may seed the pool; HiGHS checks it when it is set
        h.setSolution(len(vec), np.arange(len(vec), dtype=np.int32), vec)
    worker = threading.Thread(
        target=_neighbourhood_search,
        args=(model, pool, deadline, seed, start),
        name="bigov-lns",
        daemon=True,
    )
    worker.start()
    try:
        with highs_options(h, MAIN_OPTIONS):
            status = model.run(time_limit=time_limit, mip_gap=mip_gap)
    finally:
        pool.done.set()
        worker.join()
        h.cbMipImprovingSolution.unsubscribe(improving)
        h.cbMipUserSolution.unsubscribe(user_solution)
    info = h.getInfo()
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else np.inf
    if model.has_solution():
        main_vec = np.asarray(h.getSolution().col_value, dtype=float)
        pool.offer(float(cost @ main_vec), main_vec, "main")
    optimal = status == highspy.HighsModelStatus.kOptimal
    if not optimal and pool.vec is not None and np.isfinite(bound):
        optimal = pool.value >= bound - mip_gap * max(1.0, abs(bound))
    return SearchResult(
        status=status,
        vec=pool.vec,
        value=pool.value,
        bound=bound if np.isfinite(bound) else pool.value,
        proven_optimal=bool(optimal),
        found_by=pool.source,
        improvements=dict(pool.improvements),
    )


def _feasible(model: SelectionModel, vec: FloatVec, tol: float = 1e-6) -> bool:
    """Whether a column vector satisfies every row and bound of ``model`` (plain arithmetic)."""
    lp = model.h.getLp()
    lo, hi = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    if np.any(vec < lo - tol) or np.any(vec > hi + tol):
        return False
    for r, entries in enumerate(model.entries):
        act = sum(c * vec[k] for k, c in entries.items())
        row = model.rows[r]
        if act > row.upper + tol * max(1.0, abs(row.upper)):
            return False
        if act < row.lower - tol * max(1.0, abs(row.lower)):
            return False
    return True


def _neighbourhood_search(
    main: SelectionModel,
    pool: _Pool,
    deadline: float,
    seed: int,
    start: Sequence[float] | None,
) -> None:
    """The second worker: LP relaxation, then sub-MIPs around the pool's plan until told to stop."""
    rng = random.Random(seed)
    h = new_highs(seed=seed + 1)
    sub = build_model(main.problem, main.values, h=h)
    n = len(sub.columns)
    cost = np.asarray(h.getLp().col_cost_, dtype=float)
    if start is not None:
        vec = np.asarray(start, dtype=float)
        if _feasible(sub, vec):
            pool.offer(float(cost @ vec), vec, "search")
    codes = list(sub.by_code)
    xs_of = {c: [x for _, x, _ in sub.by_code[c]] for c in codes}
    integral = np.array([1 if col.kind == "x" else 0 for col in sub.columns], dtype=np.uint8)
    lo0 = np.asarray(h.getLp().col_lower_, dtype=float).copy()
    hi0 = np.asarray(h.getLp().col_upper_, dtype=float).copy()
    # LP relaxation: where the plan and the LP disagree is where value hides
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.uint8))
    h.setOptionValue("time_limit", max(0.05, min(1.0, deadline - time.perf_counter())))
    h.run()
    solved = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    lp = np.asarray(h.getSolution().col_value, dtype=float) if solved else None
    dual = np.abs(np.asarray(h.getSolution().col_dual, dtype=float)) if solved else None
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), integral)
    if lp is None or dual is None or pool.done.is_set():
        return
    lp_sel = {c: sum(lp[x] for x in xs_of[c]) for c in codes}
    # margin: an item whose LP value is fractional or whose reduced cost is small is "close" to
    # changing sides; closeness decays with the reduced cost against its typical size
    rc = {c: min(dual[x] for x in xs_of[c]) for c in codes}
    typical = float(np.median([v for v in rc.values() if v > 0] or [1.0])) or 1.0
    closeness = {
        c: max(1.0 - abs(2.0 * lp_sel[c] - 1.0), float(np.exp(-rc[c] / typical))) for c in codes
    }
    _core_phase(sub, h, pool, deadline, codes, xs_of, lp_sel, rc, lo0, hi0, cost)
    size = max(8, min(len(codes), len(codes) // 4))
    slice_ = 0.25
    while not pool.done.is_set():
        left = deadline - time.perf_counter()
        if left < 0.05:
            return
        with pool.lock:
            inc = None if pool.vec is None else pool.vec.copy()
            inc_value = pool.value
        if inc is None:
            # no plan yet: let HiGHS find one in the neighbourhood of the LP's integral part
            free = [c for c in codes if 0.0 < lp_sel[c] < 1.0]
            fixed = {c: round(lp_sel[c]) for c in codes if c not in set(free)}
        else:
            inc_sel = {c: sum(inc[x] for x in xs_of[c]) for c in codes}
            disagree = [c for c in codes if abs(inc_sel[c] - lp_sel[c]) > 1e-6]
            rest = [c for c in codes if c not in set(disagree)]
            k = max(0, size - len(disagree))
            weights = [0.02 + closeness[c] for c in rest]
            picked: set[str] = set()
            while len(picked) < min(k, len(rest)):
                picked.add(rng.choices(rest, weights)[0])
            free = disagree + sorted(picked)
            fixed = {c: round(inc_sel[c]) for c in codes if c not in set(free)}
        lo, hi = lo0.copy(), hi0.copy()
        for c, v in fixed.items():
            for x in xs_of[c]:
                want = 0.0 if v == 0 else float(inc[x]) if inc is not None else None
                if want is None:
                    # from the LP: fix "out" only; an "in" keeps its shift free
                    if v == 0:
                        hi[x] = 0.0
                    continue
                lo[x] = hi[x] = want
        _prepare_sub(h, lo, hi, inc, min(slice_, left))
        h.setOptionValue("random_seed", rng.randrange(1 << 30))
        h.run()
        status = h.getModelStatus()
        if sub.has_solution():
            vec = np.asarray(h.getSolution().col_value, dtype=float)
            value = float(cost @ vec)
            improved = inc is None or value > inc_value + _EPS * max(1.0, abs(inc_value))
            if improved:
                pool.offer(value, vec, "search")
        else:
            improved = False
        # adapt the neighbourhood: proved without gain → larger; cut by the slice → smaller
        if status == highspy.HighsModelStatus.kOptimal and not improved:
            size = min(len(codes), size + max(2, size // 5))
        elif status != highspy.HighsModelStatus.kOptimal:
            size = max(6, int(size * 0.8))
            slice_ = min(1.0, slice_ * 1.25)
        if pool.value >= pool.bound - 1e-9 * max(1.0, abs(pool.bound)):
            return


def _prepare_sub(h: Any, lo: FloatVec, hi: FloatVec, inc: FloatVec | None, seconds: float) -> None:
    """The search's instance set for one sub-MIP: column bounds ``lo``/``hi``, the pool's plan
    as its start (HiGHS ignores it where it breaks a bound), ``seconds``, solved to a zero gap."""
    n = len(lo)
    h.changeColsBounds(n, np.arange(n, dtype=np.int32), lo, hi)
    if inc is not None:
        h.setSolution(n, np.arange(n, dtype=np.int32), inc)
    h.setOptionValue("time_limit", seconds)
    h.setOptionValue("mip_rel_gap", 0.0)


CORE_SIZE = 30  # items left free in the core sub-MIP (see _core_phase)


def _core_phase(
    sub: SelectionModel,
    h: Any,
    pool: _Pool,
    deadline: float,
    codes: list[str],
    xs_of: dict[str, list[int]],
    lp_sel: dict[str, float],
    rc: dict[str, float],
    lo0: FloatVec,
    hi0: FloatVec,
    cost: FloatVec,
) -> None:
    """One longer sub-MIP on the *core* of the round before the random neighbourhoods: the
    items the LP leaves fractional, then those with the smallest reduced cost (the ones a small
    change of the limits would move), up to :data:`CORE_SIZE`; every other item is held where
    the LP puts it. Tight rounds hide their optimum there: on the benchmark's tight 100x10
    instances (alpha 0.25) this sub-MIP, solved to optimality in 1-4 s on one core, reached the
    best known plan on 3 of 4, where the random neighbourhoods stalled 0.1-0.25 % below it."""
    if len(codes) <= CORE_SIZE:
        return  # the whole round is the core: the main solve covers it
    left = deadline - time.perf_counter()
    if left < 1.0:
        return
    order = sorted(codes, key=lambda c: (not 0.0 < lp_sel[c] < 1.0, rc[c], c))
    core = set(order[:CORE_SIZE])
    lo, hi = lo0.copy(), hi0.copy()
    for c in codes:
        if c in core:
            continue
        xs = xs_of[c]
        if round(lp_sel[c]) == 0:
            hi[xs] = 0.0
        elif len(xs) == 1 and sub.by_code[c][0][2] is None:
            lo[xs] = 1.0  # one start, no partial funding: held in as the LP has it
    with pool.lock:
        inc = None if pool.vec is None else pool.vec.copy()
    # most of what is left, keeping a margin for the neighbourhoods after it
    _prepare_sub(h, lo, hi, inc, max(0.5, min(0.75 * left, left - 0.5)))

    def stop_when_done(e: Any) -> None:
        # the main solve proved its plan optimal: this longer sub-MIP has nothing left to add
        if pool.done.is_set():
            e.interrupt()

    h.cbMipInterrupt.subscribe(stop_when_done)
    try:
        h.run()
    finally:
        h.cbMipInterrupt.unsubscribe(stop_when_done)
    if sub.has_solution():
        vec = np.asarray(h.getSolution().col_value, dtype=float)
        pool.offer(float(cost @ vec), vec, "search")
