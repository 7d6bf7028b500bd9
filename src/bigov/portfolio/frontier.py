"""The efficient frontier: the best value reachable at each level of budget or of a scarce skill.

The limits of one dimension (all budgets, one funding source's budgets, or one skill's capacity)
are scaled together by a factor, from a small fraction up to the level at which every candidate
would fit. The points are solved on *one* HiGHS instance (only row bounds change between points,
no model rebuilds) from the top level down, and each optimum is reused wherever it provably holds:
the best value never falls as limits loosen, so a plan optimal at factor ``s`` that uses only a
factor ``u <= s`` of the limits is also optimal at every factor between ``u`` and ``s``. On a fine
grid most points therefore need no solve at all, and the values are exactly those of cold solves.
``warm=False`` gives the cold baseline (a fresh model per point) for comparison.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import highspy
import numpy as np
from pydantic import BaseModel, Field

from bigov.errors import ConfigError
from bigov.portfolio.problem import PortfolioProblem, validate_problem
from bigov.portfolio.solver import (
    DEFAULT_MIP_GAP,
    PROOF_OPTIONS,
    SelectionModel,
    build_model,
    highs_options,
)

__all__ = ["FRONTIER_OPTIONS", "Frontier", "FrontierPoint", "compute_frontier", "plot_frontier"]

# HiGHS options of the warm frontier's levels. Below the top level, a level's value is known to
# within one level step before it is solved (the repaired plan of the level above is its first
# incumbent), so its time goes on the *proof*: besides solver.PROOF_OPTIONS (no cut rounds at
# every node), RINS and RENS (which mostly re-find that incumbent) and the restart after the root
# are off. The top level, and a level whose repair fails, run the same way: measured on all 50
# levels with no start at all, the set is still faster than HiGHS's defaults. Measured by
# benchmarks/highs_options.py on benchmarks/portfolio.py's 60x5 frontier, one thread, the 50
# levels one by one: 34.3 s -> 15.5 s without starts (each option alone: 1.14x-1.37x), 25.0 s
# -> 9.9 s from each level's optimal plan, for about as many nodes. The proof stays exact: the
# values are those of cold solves (the tests compare them).
FRONTIER_OPTIONS: Final[Mapping[str, bool]] = MappingProxyType(
    {
        **PROOF_OPTIONS,
        "mip_heuristic_run_rins": False,
        "mip_heuristic_run_rens": False,
        "mip_allow_restart": False,
    }
)


class FrontierPoint(BaseModel):
    """Best plan at one level. ``value`` is None when no plan fits (e.g. mandatory items)."""

    scale: float
    level: float
    value: float | None
    proven_optimal: bool
    gap: float = 0.0
    selected: list[str] = Field(default_factory=list)


class Frontier(BaseModel):
    """Points in increasing level; ``level`` is the total of the scaled limits.

    ``stated_level`` is the total of the limits as the problem states them (scale 1).
    """

    dimension: Literal["budget", "capacity"]
    resource: str | None
    points: list[FrontierPoint]
    stated_level: float
    run_time: float
    warm: bool


def _rows(model: SelectionModel, dimension: str, resource: str | None) -> list[int]:
    kinds = ("budget", "total_budget") if dimension == "budget" else ("capacity",)
    return [
        r
        for r, row in enumerate(model.rows)
        if row.kind in kinds and (resource is None or row.key[0] == resource)
    ]


def _full_scale(model: SelectionModel, rows: Sequence[int]) -> float:
    """The factor at which every candidate fits every scaled row (whatever its start shift)."""
    need = 1.0
    for r in rows:
        upper = model.rows[r].upper
        per_code: dict[str, float] = {}
        for col, coef in model.entries[r].items():
            code = model.columns[col].code
            per_code[code] = max(per_code.get(code, 0.0), coef)
        total = sum(per_code.values())
        if upper > 0:
            need = max(need, total / upper)
    return need


def compute_frontier(
    problem: PortfolioProblem,
    points: int = 20,
    *,
    dimension: Literal["budget", "capacity"] = "budget",
    resource: str | None = None,
    max_scale: float | None = None,
    time_limit: float | None = None,
    mip_gap: float = DEFAULT_MIP_GAP,
    warm: bool = True,
    start: Literal["zero", "feasible"] = "feasible",
    workers: int = 1,
) -> Frontier:
    """Best value at ``points`` evenly spaced levels of one dimension.

    Args:
        dimension: "budget" scales budgets (of ``resource`` = one funding source, or all);
            "capacity" scales the capacity of the skill named by ``resource``.
        max_scale: the top factor; default: where everything fits (at least 1, the stated level).
        time_limit: seconds per point; a point stopped by it carries its gap.
        warm: reuse one instance with warm starts (default) or solve each point cold.
        start: "feasible" (default) spreads the levels from the least factor at which the
            forced items fit up to the top, so no level is wasted on "no plan fits"; "zero"
            spreads them from 0 (levels ``top × k / points``, the classic grid).
        workers: warm solves on this many HiGHS instances in parallel (1 or 2), one core
            each (HiGHS itself runs one thread per instance: solver.highs_threads). One chain
            reuses the most (each proven optimum covers the levels below it); two finish a
            fine grid about 1.5 times sooner on two cores.

    Raises:
        ConfigError: nothing to vary (no budgets, unknown or missing skill).
    """
    validate_problem(problem)
    if points < 1:
        raise ConfigError("a frontier needs at least one point")
    if dimension == "capacity" and resource is None:
        raise ConfigError("a capacity frontier needs the skill to vary", hint="pass a skill")
    started = time.perf_counter()
    model = build_model(problem)
    rows = _rows(model, dimension, resource)
    if not rows:
        what = f"{dimension} of {resource}" if resource else dimension
        raise ConfigError(f"the problem has no {what} limits to vary")
    uppers = np.array([model.rows[r].upper for r in rows])
    top = max_scale if max_scale is not None else _full_scale(model, rows)
    low = _least_scale(problem, rows, time_limit) if start == "feasible" else None
    if low is None or low >= top or points == 1:
        scales = [top * (k + 1) / points for k in range(points)]
    else:
        scales = [low + (top - low) * k / (points - 1) for k in range(points)]
    levels = [float(uppers.sum() * sc) for sc in scales]
    found: dict[int, FrontierPoint] = {}
    if not warm:
        for k in range(points):
            cold = build_model(problem)
            found[k] = _solve_level(cold, rows, uppers, scales[k], levels[k], time_limit, mip_gap)
    else:
        _warm_levels(
            problem, model, rows, uppers, scales, levels, time_limit, mip_gap, found, workers
        )
    out = [found[k] for k in range(points)]
    return Frontier(
        dimension=dimension,
        resource=resource,
        points=out,
        stated_level=float(uppers.sum()),
        run_time=time.perf_counter() - started,
        warm=warm,
    )


def _solve_level(
    model: SelectionModel,
    rows: Sequence[int],
    uppers: np.ndarray[tuple[int], np.dtype[np.float64]],
    scale: float,
    level: float,
    time_limit: float | None,
    mip_gap: float,
    start: np.ndarray[Any, np.dtype[np.float64]] | None = None,
    ceiling: float | None = None,
    proof_options: bool = False,
) -> FrontierPoint:
    """One level solved on ``model`` (its varied rows set to ``uppers × scale``).

    ``proof_options`` runs HiGHS with :data:`FRONTIER_OPTIONS` for this solve (the warm
    frontier); without it the instance's options are left alone (a cold solve: HiGHS as shipped).

    ``ceiling`` is the proven optimum of a higher level: no plan here can beat it (limits only
    tighten going down), so HiGHS may stop at the first plan that reaches it — a plateau of the
    frontier then costs no proof at all.
    """
    n = len(rows)
    target = -highspy.kHighsInf if ceiling is None else ceiling - 1e-9 * max(1.0, abs(ceiling))
    model.h.setOptionValue("objective_target", target)
    model.h.changeRowsBounds(
        n, np.array(rows, np.int32), np.full(n, -highspy.kHighsInf), uppers * scale
    )
    with highs_options(model.h, FRONTIER_OPTIONS if proof_options else {}):
        status = model.run(
            time_limit=time_limit, mip_gap=mip_gap, start=None if start is None else start.tolist()
        )
    if not model.has_solution():
        return FrontierPoint(scale=scale, level=level, value=None, proven_optimal=False)
    col = model.column_values()
    info = model.h.getInfo()
    return FrontierPoint(
        scale=scale,
        level=level,
        value=float(info.objective_function_value),
        proven_optimal=status
        in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kObjectiveTarget),
        gap=0.0
        if status == highspy.HighsModelStatus.kObjectiveTarget
        else max(float(info.mip_gap), 0.0)
        if np.isfinite(info.mip_gap)
        else 0.0,
        selected=sorted({model.columns[c].code for c in range(len(col)) if _chosen(model, c, col)}),
    )


def _warm_levels(
    problem: PortfolioProblem,
    model: SelectionModel,
    rows: Sequence[int],
    uppers: np.ndarray[tuple[int], np.dtype[np.float64]],
    scales: Sequence[float],
    levels: Sequence[float],
    time_limit: float | None,
    mip_gap: float,
    found: dict[int, FrontierPoint],
    workers: int = 1,
) -> None:
    """Solve every level from the top down, on one chain or two workers (one per core).

    Each worker takes the highest level left. A proven optimum that uses only a factor ``u`` of
    the limits is the optimum of every level down to ``u``: such intervals are shared, and a level
    inside one needs no solve. Otherwise the plan of the nearest level above (whichever worker
    solved it), repaired to fit by dropping its least valuable items per unit of overrun, is the
    first incumbent.
    """
    import threading

    lock = threading.Lock()
    queue = sorted(range(len(scales)), key=lambda k: scales[k])  # highest level last
    proven: list[tuple[float, float, FrontierPoint]] = []  # (used factor, factor, point)
    plans: dict[int, np.ndarray[Any, np.dtype[np.float64]]] = {}

    def work(m: SelectionModel) -> None:
        while True:
            with lock:
                if not queue:
                    return
                k = queue.pop()
                scale, level = scales[k], levels[k]
                cover = next(
                    (pt for u, top, pt in proven if u <= scale * (1 + 1e-9) <= top * (1 + 1e-9)),
                    None,
                )
                above = [q for q in plans if scales[q] > scale]
                prev = plans[min(above, key=lambda q: scales[q])] if above else None
                ceilings = [
                    pt.value
                    for q, pt in found.items()
                    if scales[q] >= scale and pt.proven_optimal and pt.value is not None
                ]
                ceiling = min(ceilings) if ceilings else None
                if cover is not None:
                    found[k] = cover.model_copy(update={"scale": scale, "level": level})
                    continue
            start = None if prev is None else _repair(m, prev, rows, uppers * scale)
            point = _solve_level(
                m,
                rows,
                uppers,
                scale,
                level,
                time_limit,
                mip_gap,
                start,
                ceiling,
                proof_options=True,
            )
            if point.value is None:
                with lock:
                    found[k] = point
                continue
            vec = m.column_values()
            used = _used_scale(m, rows, uppers)
            with lock:
                found[k] = point
                plans[k] = vec
                # only a proven optimum may stand in for other levels: a best-found plan might
                # be beaten at a lower level by one the solver did not find at this level
                if point.proven_optimal:
                    proven.append((used, scale, point))

    if workers < 2:
        work(model)
        return
    other = build_model(problem, model.values)
    worker = threading.Thread(target=work, args=(other,), name="bigov-frontier", daemon=True)
    worker.start()
    try:
        work(model)
    finally:
        worker.join()


def _repair(
    model: SelectionModel,
    vec: np.ndarray[Any, np.dtype[np.float64]],
    rows: Sequence[int],
    limits: np.ndarray[tuple[int], np.dtype[np.float64]],
) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """``vec`` made to fit ``limits`` on ``rows`` by dropping selected items, least value per
    unit of overrun first (with whatever needs them); None when that breaks another rule."""
    from bigov.portfolio.search import _feasible

    out = vec.copy()
    cost = np.asarray(model.h.getLp().col_cost_, dtype=float)
    forced_in = {f.code for f in model.problem.forced if f.decision == "in"}
    needs: dict[str, list[str]] = {}
    for c in model.problem.candidates:
        for r in c.requires:
            needs.setdefault(r, []).append(c.code)
    use_of = {
        code: [x if f is None else f for _, x, f in entries]
        for code, entries in model.by_code.items()
    }
    for _ in range(len(use_of)):
        act = [sum(cf * out[c] for c, cf in model.entries[r].items()) for r in rows]
        over = [(r, a - lim) for r, a, lim in zip(rows, act, limits, strict=True) if a > lim + 1e-9]
        if not over:
            return out if _feasible(model, out) else None
        best: tuple[float, str] | None = None
        for code, cols in use_of.items():
            if code in forced_in or not any(out[c] > 1e-9 for c in cols):
                continue
            relief = sum(model.entries[r].get(c, 0.0) * out[c] / ex for r, ex in over for c in cols)
            if relief <= 0:
                continue
            worth = sum(cost[c] * out[c] for c in cols)
            if best is None or worth / relief < best[0]:
                best = (worth / relief, code)
        if best is None:
            return None
        todo = [best[1]]
        while todo:
            code = todo.pop()
            for _, x, f in model.by_code[code]:
                out[x] = 0.0
                if f is not None:
                    out[f] = 0.0
            todo += [d for d in needs.get(code, []) if any(out[c] > 1e-9 for c in use_of[d])]
    return None


def _least_scale(
    problem: PortfolioProblem, rows: Sequence[int], time_limit: float | None
) -> float | None:
    """The least factor of the varied limits at which any plan fits (None: none found).

    One MILP: minimise s subject to use ≤ s × limit on the varied rows, every other rule as
    stated. Rounded up a hair so the level it gives is feasible despite solver tolerances.
    """
    model = build_model(problem, {c.code: 0.0 for c in problem.candidates})
    h = model.h
    n0 = len(model.columns)
    uppers = [model.rows[r].upper for r in rows]
    h.addCols(
        1,
        np.array([1.0]),
        np.array([0.0]),
        np.array([highspy.kHighsInf]),
        len(rows),
        np.array([0], np.int32),
        np.array(rows, np.int32),
        -np.array(uppers),
    )
    n = len(rows)
    h.changeRowsBounds(n, np.array(rows, np.int32), np.full(n, -highspy.kHighsInf), np.zeros(n))
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    model.run(time_limit=time_limit, mip_gap=1e-6)
    if not model.has_solution():
        return None
    s = float(model.column_values()[n0])
    return s * (1 + 1e-7) + 1e-9


def _used_scale(
    model: SelectionModel, rows: Sequence[int], uppers: np.ndarray[tuple[int], np.dtype[np.float64]]
) -> float:
    """The smallest factor of the varied limits the current solution fits within."""
    activity = np.asarray(model.h.getSolution().row_value, dtype=float)[list(rows)]
    used = 0.0
    for act, upper in zip(activity, uppers, strict=True):
        if upper > 0:
            used = max(used, act / upper)
        elif act > 1e-9:  # something used against a zero limit: no smaller factor fits
            return float("inf")
    return used


def _chosen(
    model: SelectionModel, c: int, col: np.ndarray[tuple[int], np.dtype[np.float64]]
) -> bool:
    return model.columns[c].kind == "x" and col[c] > 0.5


def plot_frontier(
    frontier: Frontier,
    path: str | Path,
    *,
    plan_of_record: tuple[float, float] | None = None,
    title: str | None = None,
    currency: str | None = None,
) -> Path:
    """Draw the frontier to ``path`` (.svg or .png, by suffix); optionally mark the plan of record.

    Levels where no plan fits are drawn as shaded gaps, never as a value of 0; the level axis
    reads in money (£k / £m) or FTE; the legend sits below the axes so it covers nothing.
    ``plan_of_record`` is (level, value) of the current plan, e.g. its budget and its value.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: this runs in CLIs, servers and tests
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from bigov.portfolio.readable import fte, money_tick, points

    p = Path(path)
    pts = frontier.points
    fig, ax = plt.subplots(figsize=(8, 5))
    try:
        # contiguous runs of feasible levels, each drawn as its own step line
        runs: list[list[FrontierPoint]] = []
        for pt in pts:
            if pt.value is None:
                runs.append([])
            elif runs and runs[-1]:
                runs[-1].append(pt)
            else:
                runs.append([pt])
        handles: list[Any] = []
        first = True
        for run in (r for r in runs if r):
            (line,) = ax.step(
                [pt.level for pt in run],
                [pt.value or 0.0 for pt in run],
                where="post",
                color="#1f77b4",
                marker="o",
                ms=3,
                label="best value at this level" if first else None,
            )
            if first:
                handles.append(line)
            first = False
        step = (pts[1].level - pts[0].level) if len(pts) > 1 else max(pts[0].level, 1.0) * 0.05
        gaps = [pt for pt in pts if pt.value is None]
        for pt in gaps:
            ax.axvspan(pt.level - step / 2, pt.level + step / 2, color="#bbbbbb", alpha=0.35, lw=0)
        if gaps:
            handles.append(
                Patch(color="#bbbbbb", alpha=0.35, label="no plan fits (commitments exceed it)")
            )
        if plan_of_record is not None:
            (mark,) = ax.plot(*plan_of_record, "D", color="#d62728", ms=7, label="plan of record")
            handles.append(mark)
        ax.axvline(frontier.stated_level, color="#555555", lw=0.8, ls="--")
        handles.append(
            ax.plot([], [], color="#555555", lw=0.8, ls="--", label="limit as stated")[0]
        )
        capacity = frontier.dimension == "capacity"
        what = "capacity" if capacity else "budget"
        if frontier.resource:
            what += f" ({frontier.resource})"
        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda x, _pos: fte(x) if capacity else money_tick(x, currency))
        )
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: points(y)))
        ax.set_xlabel(f"total {what}" + (" (FTE)" if capacity else f" ({currency or 'GBP'})"))
        ax.set_ylabel("value (points)")
        ax.set_title(title or f"Efficient frontier over {what}")
        ax.grid(True, alpha=0.3)
        values = [pt.value for pt in pts if pt.value is not None]
        if values:
            ax.set_ylim(bottom=min(0.0, min(values)), top=max(values) * 1.05 or 1.0)
        ax.set_xlim(pts[0].level - step, pts[-1].level + step)
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
            ncol=min(len(handles), 3),
            frameon=False,
        )
        fig.tight_layout()
        fig.savefig(p, format=p.suffix.lstrip(".").lower() or "svg")
    finally:
        plt.close(fig)
    return p
