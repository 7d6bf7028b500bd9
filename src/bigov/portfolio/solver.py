"""Optimal selection as a mixed-integer program solved by HiGHS.

Variables, per candidate *i* and allowed start shift *s*: a binary ``x[i,s]`` (selected, starting
*s* periods from plan) and, for items that allow partial funding, a continuous ``f[i,s]`` (funded
fraction, ``min_fraction·x ≤ f ≤ x``). Value, costs and resource use scale with ``f`` for partial
items and with ``x`` otherwise. Constraints, each a named *group* so that explanations and
conflict sets can speak of them:

- ``start once <code>``: Σₛ x[i,s] ≤ 1 (structural, never relaxed);
- ``budget <source> <period>`` and ``total budget <source>``: spend ≤ budget;
- ``capacity <skill> <period>``: use ≤ capacity;
- ``dependency <B> needs <A>``: Σₛ x[B,s] ≤ Σₛ x[A,s];
- ``exclusion <A> / <B> …``: at most one selected;
- ``force-in <code>`` / ``force-out <code>``: Σₛ x[i,s] = 1 / = 0;
- ``balance …``: spend of a group ≥ / ≤ a share of the total, or an amount.

Callers may rely on: :func:`solve` returns a :class:`Solution` or raises
:class:`bigov.errors.InfeasibleError` (with a conflict set) — never a silent empty plan. A
solution stopped by the time limit says so (``proven_optimal`` is False, ``gap`` is set).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

import highspy
import numpy as np
from pydantic import BaseModel, Field

from bigov.errors import BigovError
from bigov.portfolio.problem import (
    BalanceRule,
    Candidate,
    Category,
    PortfolioProblem,
    validate_problem,
)
from bigov.portfolio.scoring import candidate_values

__all__ = [
    "DEFAULT_MIP_GAP",
    "PROOF_OPTIONS",
    "Column",
    "PlanItem",
    "Row",
    "SelectedItem",
    "SelectionModel",
    "Solution",
    "allowed_shifts",
    "build_model",
    "evaluate_plan",
    "highs_options",
    "new_highs",
    "solve",
]

DEFAULT_MIP_GAP = 1e-6
_INF = highspy.kHighsInf
_TOL = 1e-6

# A HiGHS default that bigov's proving solves change: the main solve beside the neighbourhood
# search (search.MAIN_OPTIONS), a solve without a time limit, and the frontier's levels (with
# more, frontier.FRONTIER_OPTIONS). On selection problems of a few dozen rows, separating cuts
# again at every node of the tree costs more than it saves (the root's cuts stay; they hold what
# helps): each node is cheaper, and there are no more of them. Measured one thread per solve by
# benchmarks/highs_options.py against HiGHS's defaults, in one run: the first nine of
# benchmarks/portfolio.py's 100x5 hard set, each solved to optimality, 52.1 s -> 23.3 s in all
# (median 1.97x per instance, nodes 133k -> 89k); its first six 100x10 instances, each to
# optimality or 20 s, proven 1 -> 2; the frontier's 50 levels, 1.37x by this option alone. Plain
# HiGHS (``solve(search=False)``) keeps every default: it is the benchmarks' baseline.
PROOF_OPTIONS: Final[Mapping[str, bool]] = MappingProxyType(
    {"mip_allow_cut_separation_at_nodes": False}
)

# --- HiGHS instances ------------------------------------------------------------------------------

_banner_lock = threading.Lock()
_banner_shown = False


# highspy ships stubs that miss much of the low-level API (changeRowsBounds, …); the instance is
# therefore typed loosely and every use goes through the methods of SelectionModel.
Highs = Any


def highs_threads() -> int:
    """Threads each HiGHS instance runs on: 1 unless ``BIGOV_HIGHS_THREADS`` says otherwise
    (0 = HiGHS's own choice).

    bigov puts the cores to work itself (the neighbourhood search beside the main solve, two
    frontier workers), and HiGHS's MIP, left to its default, also spreads onto every core: the
    two then fight over them, and on two cores the search made the main solve slower than plain
    HiGHS (benchmarks/portfolio.py: best known reached on 22 of 30 hard instances at the
    default, 25 of 30 with one thread each). HiGHS keeps one task scheduler per process and
    refuses to run an instance asking for another thread count than the first did, so the
    choice is one per process, made here for every instance.
    """
    try:
        return max(0, int(os.environ.get("BIGOV_HIGHS_THREADS", "1")))
    except ValueError:
        return 1


def new_highs(*, seed: int = 0) -> Highs:
    """A silent HiGHS instance with a fixed random seed (reproducible runs), on
    :func:`highs_threads` threads.

    HiGHS writes a copyright banner straight to file descriptor 1 when the first instance of a
    process is created, before any option can silence it; that would corrupt ``--json`` output,
    so the first construction runs with fd 1 pointed at /dev/null.
    """
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
                _flush_c_stdout()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_shown = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", seed)
    threads = highs_threads()
    if threads:
        h.setOptionValue("threads", threads)
    return h


@contextlib.contextmanager
def highs_options(h: Highs, options: Mapping[str, bool]) -> Iterator[None]:
    """``options`` set on ``h`` for the block, then what was there before put back, so an
    instance that is reused (the warm frontier's) never carries them into another solve.

    Raises:
        ValueError: HiGHS refused an option (unknown name or wrong type): highspy reports that
            only as a status, and an option silently left at its default would make the
            benchmarks measure the wrong thing.
    """
    before: dict[str, bool] = {}
    try:
        for name, value in options.items():
            status, was = h.getOptionValue(name)
            _option_set(status, name, value)
            before[name] = was
            _option_set(h.setOptionValue(name, value), name, value)
        yield
    finally:
        for name, was in before.items():
            _option_set(h.setOptionValue(name, was), name, was)


def _option_set(status: highspy.HighsStatus, name: str, value: bool) -> None:
    if status != highspy.HighsStatus.kOk:
        raise ValueError(f"HiGHS refused option {name}={value!r} ({status})")


def _flush_c_stdout() -> None:
    # The banner may sit in C stdio's buffer; flush it while fd 1 is still /dev/null.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


# --- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One model variable: ``kind`` x (selection binary) or f (funded fraction)."""

    code: str
    shift: int
    kind: Literal["x", "f"]


@dataclass(frozen=True)
class Row:
    """One model row, with the group it belongs to (the unit of explanation and relaxation)."""

    group: str
    kind: str
    lower: float
    upper: float
    key: tuple[str, ...] = ()


def allowed_shifts(candidate: Candidate, periods: Sequence[str]) -> list[int]:
    """Start shifts the candidate may take: its window, clipped so no use leaves the horizon."""
    if candidate.shift is None:
        return [0]
    index = {p: t for t, p in enumerate(periods)}
    used = [
        index[p]
        for table in [*(candidate.cost or {}).values(), *candidate.resources.values()]
        for p, amount in table.items()
        if amount != 0 and p in index
    ]
    first, last = (min(used), max(used)) if used else (0, 0)
    lo = max(candidate.shift.earliest, -first)
    hi = min(candidate.shift.latest, len(periods) - 1 - last)
    return list(range(lo, hi + 1)) if lo <= 0 <= hi else [0]


@dataclass
class SelectionModel:
    """A problem loaded into one HiGHS instance, with names for every column and row.

    The instance can be modified in place (:meth:`relax`, :meth:`fix`, :meth:`set_rhs_scale`) and
    re-solved, which is how the frontier, explanations and conflict search avoid rebuilding it.
    """

    problem: PortfolioProblem
    values: dict[str, float]
    h: Highs
    columns: list[Column]
    rows: list[Row]
    groups: dict[str, list[int]]
    by_code: dict[str, list[tuple[int, int, int | None]]]  # code -> [(shift, x col, f col)]
    use_col: np.ndarray[Any, np.dtype[np.int64]]  # per x column: the column carrying value/costs
    entries: list[dict[int, float]]  # per row: column -> coefficient
    is_mip: bool = True
    relaxed: set[str] = field(default_factory=set)

    # -- modification ----------------------------------------------------------------------------

    def relax(self, groups: Iterable[str]) -> None:
        """Drop the named constraint groups (their rows become free) until :meth:`restore`."""
        idx = [r for g in groups for r in self.groups[g]]
        self.relaxed.update(groups)
        if idx:
            n = len(idx)
            self.h.changeRowsBounds(n, np.array(idx, np.int32), np.full(n, -_INF), np.full(n, _INF))

    def restore(self, groups: Iterable[str]) -> None:
        """Put relaxed groups back with their original bounds."""
        idx = [r for g in groups for r in self.groups[g]]
        self.relaxed.difference_update(groups)
        if idx:
            self.h.changeRowsBounds(
                len(idx),
                np.array(idx, np.int32),
                np.array([self.rows[r].lower for r in idx]),
                np.array([self.rows[r].upper for r in idx]),
            )

    def set_bounds(self, group: str, lower: float, upper: float) -> None:
        """Change the bounds of every row of a group (used for frontier levels and what-ifs)."""
        idx = self.groups[group]
        n = len(idx)
        self.h.changeRowsBounds(n, np.array(idx, np.int32), np.full(n, lower), np.full(n, upper))

    def fix(self, code: str, decision: Literal["in", "out"] | None) -> None:
        """Force a candidate in or out by bounds (None frees it); "in" leaves its shift free."""
        entries = self.by_code[code]
        n = len(entries)
        xs = np.array([x for _, x, _ in entries], np.int32)
        hi = np.zeros(n) if decision == "out" else np.ones(n)
        lo = np.ones(n) if decision == "in" and n == 1 else np.zeros(n)
        self.h.changeColsBounds(n, xs, lo, hi)
        if n > 1:
            r = np.array(self.groups[f"start once {code}"], np.int32)
            lower = 1.0 if decision == "in" else -_INF
            self.h.changeRowsBounds(1, r, np.array([lower]), np.ones(1))

    def set_value(self, code: str, value: float) -> None:
        """Change a candidate's value in the objective (for what-would-it-take re-solves)."""
        cols = [self._use(x, f) for _, x, f in self.by_code[code]]
        n = len(cols)
        self.h.changeColsCost(n, np.array(cols, np.int32), np.full(n, value))

    @staticmethod
    def _use(x: int, f: int | None) -> int:
        return x if f is None else f

    # -- solving ----------------------------------------------------------------------------------

    def run(
        self,
        *,
        time_limit: float | None = None,
        mip_gap: float = DEFAULT_MIP_GAP,
        feasibility_only: bool = False,
        start: Sequence[float] | None = None,
    ) -> highspy.HighsModelStatus:
        """Solve the current model; returns the HiGHS model status (no exception on infeasible).

        ``feasibility_only`` stops at the first feasible point (used by the conflict search).
        ``start`` is a full column vector offered as a starting incumbent (warm start).
        """
        h = self.h
        h.setOptionValue("time_limit", float(time_limit) if time_limit else _INF)
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        h.setOptionValue("mip_max_improving_sols", 1 if feasibility_only else 2**30)
        if start is not None:
            h.setSolution(
                len(start), np.arange(len(start), dtype=np.int32), np.asarray(start, float)
            )
        h.run()
        status: highspy.HighsModelStatus = h.getModelStatus()
        return status

    def column_values(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Column values of the last solve (meaningful only when it found a solution)."""
        return np.asarray(self.h.getSolution().col_value, dtype=float)

    def has_solution(self) -> bool:
        """Whether the last solve produced a feasible point."""
        return bool(self.h.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible)


def build_model(
    problem: PortfolioProblem,
    values: Mapping[str, float] | None = None,
    *,
    relax_integrality: bool = False,
    h: Highs | None = None,
) -> SelectionModel:
    """Load ``problem`` into a (new or given, cleared) HiGHS instance, maximising value.

    ``values`` overrides the scored values (what-if re-solves); ``relax_integrality`` builds the
    LP relaxation. Forced decisions are rows, not column bounds, so they can be relaxed.
    """
    vals = dict(candidate_values(problem) if values is None else values)
    periods = problem.periods
    t_of = {p: t for t, p in enumerate(periods)}
    columns: list[Column] = []
    lower: list[float] = []
    upper: list[float] = []
    cost: list[float] = []
    integral: list[int] = []
    by_code: dict[str, list[tuple[int, int, int | None]]] = {}

    def add_col(col: Column, lo: float, hi: float, c: float, integer: bool) -> int:
        columns.append(col)
        lower.append(lo)
        upper.append(hi)
        cost.append(c)
        integral.append(1 if integer and not relax_integrality else 0)
        return len(columns) - 1

    shifts_of: dict[str, list[int]] = {}
    for cand in problem.candidates:
        shifts_of[cand.code] = allowed_shifts(cand, periods)
        entries: list[tuple[int, int, int | None]] = []
        for s in shifts_of[cand.code]:
            v = vals[cand.code]
            if cand.partial is None:
                x = add_col(Column(cand.code, s, "x"), 0.0, 1.0, v, True)
                entries.append((s, x, None))
            else:
                x = add_col(Column(cand.code, s, "x"), 0.0, 1.0, 0.0, True)
                fcol = add_col(Column(cand.code, s, "f"), 0.0, cand.partial.max_fraction, v, False)
                entries.append((s, x, fcol))
        by_code[cand.code] = entries

    rows: list[Row] = []
    row_entries: list[dict[int, float]] = []
    groups: dict[str, list[int]] = {}

    def add_row(row: Row, entries: dict[int, float]) -> None:
        groups.setdefault(row.group, []).append(len(rows))
        rows.append(row)
        row_entries.append(entries)

    def use_col(x: int, f: int | None) -> int:
        return x if f is None else f

    # Structural rows: one start; partial fraction between min·x and x.
    for cand in problem.candidates:
        entries = by_code[cand.code]
        if len(entries) > 1:
            add_row(
                Row(f"start once {cand.code}", "structural", -_INF, 1.0, (cand.code,)),
                {x: 1.0 for _, x, _ in entries},
            )
        if cand.partial is not None:
            for _, x, f in entries:
                assert f is not None
                add_row(
                    Row(f"partial {cand.code}", "structural", -_INF, 0.0, (cand.code,)),
                    {f: 1.0, x: -cand.partial.max_fraction},
                )
                if cand.partial.min_fraction > 0:
                    add_row(
                        Row(f"partial {cand.code}", "structural", -_INF, 0.0, (cand.code,)),
                        {x: cand.partial.min_fraction, f: -1.0},
                    )

    def usage(table: Mapping[str, float], t: int, s: int) -> float:
        src = t - s
        return table.get(periods[src], 0.0) if 0 <= src < len(periods) else 0.0

    # Budgets per source and period, then totals per source.
    for source in problem.sources():
        for period, amount in problem.budgets.get(source, {}).items():
            ts = [t_of[p] for p in problem.periods_of(period)]
            entries_b: dict[int, float] = {}
            for cand in problem.candidates:
                table = (cand.cost or {}).get(source)
                if not table:
                    continue
                for s, x, f in by_code[cand.code]:
                    a = sum(usage(table, t, s) for t in ts)
                    if a:
                        entries_b[use_col(x, f)] = a
            add_row(
                Row(f"budget {source} {period}", "budget", -_INF, amount, (source, period)),
                entries_b,
            )
        if source in problem.total_budgets:
            entries_t: dict[int, float] = {}
            for cand in problem.candidates:
                total = sum((cand.cost or {}).get(source, {}).values())
                if total:
                    for _, x, f in by_code[cand.code]:
                        entries_t[use_col(x, f)] = total
            add_row(
                Row(
                    f"total budget {source}",
                    "total_budget",
                    -_INF,
                    problem.total_budgets[source],
                    (source,),
                ),
                entries_t,
            )

    for skill, table_c in problem.capacity.items():
        for period, amount in table_c.items():
            t = t_of[period]
            entries_c: dict[int, float] = {}
            for cand in problem.candidates:
                table = cand.resources.get(skill)
                if not table:
                    continue
                for s, x, f in by_code[cand.code]:
                    a = usage(table, t, s)
                    if a:
                        entries_c[use_col(x, f)] = a
            limit = amount + problem.capacity_allowance.get(skill, {}).get(period, 0.0)
            add_row(
                Row(f"capacity {skill} {period}", "capacity", -_INF, limit, (skill, period)),
                entries_c,
            )

    for cand in problem.candidates:
        for req in cand.requires:
            entries_d: dict[int, float] = {x: 1.0 for _, x, _ in by_code[cand.code]}
            for _, x, _ in by_code[req]:
                entries_d[x] = -1.0
            add_row(
                Row(
                    f"dependency {cand.code} needs {req}",
                    "dependency",
                    -_INF,
                    0.0,
                    (cand.code, req),
                ),
                entries_d,
            )

    for ex in problem.exclusions:
        entries_e = {x: 1.0 for code in ex.codes for _, x, _ in by_code[code]}
        add_row(
            Row("exclusion " + " / ".join(ex.codes), "exclusion", -_INF, 1.0, tuple(ex.codes)),
            entries_e,
        )

    for forced in problem.forced:
        bound = 1.0 if forced.decision == "in" else 0.0
        add_row(
            Row(
                f"force-{forced.decision} {forced.code}",
                "force",
                bound,
                bound,
                (forced.code, forced.reason),
            ),
            {x: 1.0 for _, x, _ in by_code[forced.code]},
        )

    for rule in problem.balance:
        for row, entries_r in _balance_rows(rule, problem, by_code):
            add_row(row, entries_r)

    if h is None:
        h = new_highs()
    else:
        h.clearModel()
    n = len(columns)
    h.addCols(
        n, np.array(cost), np.array(lower), np.array(upper), 0,
        np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0),
    )  # fmt: skip
    starts, index, value = [], [], []
    nnz = 0
    for entries_any in row_entries:
        starts.append(nnz)
        for col, coef in entries_any.items():
            index.append(col)
            value.append(coef)
        nnz += len(entries_any)
    h.addRows(
        len(rows),
        np.array([r.lower for r in rows]),
        np.array([r.upper for r in rows]),
        nnz,
        np.array(starts, np.int32),
        np.array(index, np.int32),
        np.array(value, float),
    )
    if any(integral):
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.array(integral, np.uint8))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    use = np.array([use_col(x, f) for code in by_code for _, x, f in by_code[code]], dtype=np.int64)
    return SelectionModel(
        problem, vals, h, columns, rows, groups, by_code, use, row_entries, is_mip=any(integral)
    )


def _total_cost(cand: Candidate) -> float:
    return sum(sum(t.values()) for t in (cand.cost or {}).values())


def _balance_rows(
    rule: BalanceRule,
    problem: PortfolioProblem,
    by_code: Mapping[str, list[tuple[int, int, int | None]]],
) -> list[tuple[Row, dict[int, float]]]:
    """Rows of one balance rule: shares are linear once multiplied out by the total spend."""
    out: list[tuple[Row, dict[int, float]]] = []
    member = {cand.code: _in_group(cand, rule) for cand in problem.candidates}

    def entries(weight_in: float, weight_out: float) -> dict[int, float]:
        e: dict[int, float] = {}
        for cand in problem.candidates:
            c = _total_cost(cand) * (weight_in if member[cand.code] else weight_out)
            if c:
                for _, x, f in by_code[cand.code]:
                    e[x if f is None else f] = c
        return e

    label = rule.label
    key = (rule.by, rule.group)
    if rule.min_share is not None:
        m = rule.min_share
        out.append((Row(label, "balance", 0.0, _INF, key), entries(1 - m, -m)))
    if rule.max_share is not None:
        m = rule.max_share
        out.append((Row(label, "balance", -_INF, 0.0, key), entries(1 - m, -m)))
    if rule.min_amount is not None:
        out.append((Row(label, "balance", rule.min_amount, _INF, key), entries(1.0, 0.0)))
    if rule.max_amount is not None:
        out.append((Row(label, "balance", -_INF, rule.max_amount, key), entries(1.0, 0.0)))
    return out


# --- results ------------------------------------------------------------------------------------


class SelectedItem(BaseModel):
    """One selected candidate: its start shift, funded fraction and the value it contributes."""

    code: str
    name: str = ""
    shift: int = 0
    start_period: str | None = None
    fraction: float = 1.0
    value: float


class Solution(BaseModel):
    """The chosen plan and how sure we are of it.

    ``proven_optimal`` is True when HiGHS closed the gap to ``mip_gap``; otherwise ``value`` is the
    best plan found within ``time_limit`` and ``bound`` the best value any plan could reach.
    Amounts are by funding source (or skill) and period, for the selected plan.
    """

    problem: str
    status: Literal["optimal", "time_limit", "interrupted"]
    proven_optimal: bool
    value: float
    bound: float
    gap: float
    time_limit: float | None = None
    run_time: float
    selected: list[SelectedItem]
    excluded: list[str]
    spend: dict[str, dict[str, float]] = Field(default_factory=dict)
    budgets: dict[str, dict[str, float]] = Field(default_factory=dict)
    capacity_use: dict[str, dict[str, float]] = Field(default_factory=dict)
    capacity: dict[str, dict[str, float]] = Field(default_factory=dict)
    capacity_allowance: dict[str, dict[str, float]] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    period_groups: dict[str, list[str]] = Field(default_factory=dict)
    currency: str | None = None
    split: dict[str, float] = Field(default_factory=dict)  # selected spend by category
    target_split: dict[str, float] = Field(default_factory=dict)

    def selected_codes(self) -> set[str]:
        """Codes of the selected candidates."""
        return {s.code for s in self.selected}

    def plan(self) -> dict[str, PlanItem]:
        """The selection as a plan (for :func:`evaluate_plan` and warm starts)."""
        return {s.code: PlanItem(s.shift, s.fraction) for s in self.selected}


@dataclass(frozen=True)
class PlanItem:
    """How a selected item is taken: start shift in periods, funded fraction."""

    shift: int = 0
    fraction: float = 1.0


def read_solution(
    model: SelectionModel,
    status: highspy.HighsModelStatus,
    *,
    time_limit: float | None,
    col: np.ndarray[Any, np.dtype[np.float64]] | None = None,
    bound: float | None = None,
    proven: bool | None = None,
) -> Solution:
    """Turn the model's current solution (or the column vector ``col``, with its ``bound`` and
    whether it is ``proven`` optimal) into a :class:`Solution`; callers checked it exists."""
    problem = model.problem
    if col is None:
        col = model.column_values()
    info = model.h.getInfo()
    plan: dict[str, PlanItem] = {}
    cand_of = {c.code: c for c in problem.candidates}
    for code, entries in model.by_code.items():
        for s, x, f in entries:
            if col[x] > 0.5:
                part = cand_of[code].partial
                top = 1.0 if part is None else part.max_fraction
                frac = 1.0 if f is None else float(np.clip(col[f], 0.0, top))
                plan[code] = PlanItem(s, round(frac, 9))
    plan = snap_plan(problem, plan, model.values)
    selected = []
    for cand in problem.candidates:
        if cand.code in plan:
            item = plan[cand.code]
            selected.append(
                SelectedItem(
                    code=cand.code,
                    name=cand.name,
                    shift=item.shift,
                    start_period=_start_period(cand, problem.periods, item.shift),
                    fraction=item.fraction,
                    value=model.values[cand.code] * item.fraction,
                )
            )
    spend, use = plan_usage(problem, plan)
    value = sum(s.value for s in selected)
    is_mip = model.is_mip
    if bound is None:
        bound = float(info.mip_dual_bound) if is_mip else value
    bound = max(bound, value) if np.isfinite(bound) else bound
    gap = abs(bound - value) / max(abs(bound), 1e-9) if is_mip and np.isfinite(bound) else 0.0
    if not np.isfinite(gap) or gap < 1e-9:
        gap = 0.0
    optimal = status == highspy.HighsModelStatus.kOptimal if proven is None else proven
    state: Literal["optimal", "time_limit", "interrupted"] = (
        "optimal"
        if optimal
        else "time_limit"
        if status == highspy.HighsModelStatus.kTimeLimit
        else "interrupted"
    )
    return Solution(
        problem=problem.name,
        status=state,
        proven_optimal=optimal,
        value=value,
        bound=bound if np.isfinite(bound) else value,
        gap=gap,
        time_limit=time_limit,
        run_time=float(model.h.getRunTime()),
        selected=selected,
        excluded=[c.code for c in problem.candidates if c.code not in plan],
        spend=spend,
        budgets={s: dict(t) for s, t in problem.budgets.items()},
        capacity_use=use,
        capacity={s: dict(t) for s, t in problem.capacity.items()},
        capacity_allowance={s: dict(t) for s, t in problem.capacity_allowance.items() if t},
        labels=dict(problem.labels),
        period_groups={g: list(m) for g, m in problem.period_groups.items()},
        currency=problem.currency,
        split=category_split(problem, plan),
        target_split={c.value: v for c, v in problem.target_split.items()},
    )


def category_split(problem: PortfolioProblem, plan: Mapping[str, PlanItem]) -> dict[str, float]:
    """Selected spend (horizon, all sources) by run / grow / transform: the category of the
    work item, the definition of the governed figures ``balance.purpose_share.*``."""
    out = {c.value: 0.0 for c in Category}
    for cand in problem.candidates:
        item = plan.get(cand.code)
        if item is not None:
            out[cand.category.value] += _total_cost(cand) * item.fraction
    return out


def snap_plan(
    problem: PortfolioProblem,
    plan: Mapping[str, PlanItem],
    values: Mapping[str, float] | None = None,
) -> dict[str, PlanItem]:
    """Funded fractions on whole percentages when that keeps the plan within every rule.

    A solver returns 0.500000954 where a person means 50 %: each partial fraction is moved to
    the nearest whole percent (or, failing that, the whole percent below), one item at a time,
    and kept only if the plan still breaks nothing and loses no more than solver noise.
    """
    out = dict(plan)
    parts = [c for c in problem.candidates if c.partial is not None and c.code in out]
    if not parts:
        return out
    vals = candidate_values(problem) if values is None else values
    base_value, base_broken = evaluate_plan(problem, out, vals)
    if base_broken:
        return out
    for cand in parts:
        item = out[cand.code]
        for frac in (round(item.fraction, 2), math.floor(item.fraction * 100 + 1e-9) / 100):
            if abs(frac - item.fraction) <= 1e-12:
                break
            trial = {**out, cand.code: PlanItem(item.shift, frac)}
            value, broken = evaluate_plan(problem, trial, vals)
            if not broken and value >= base_value - 1e-6 * max(1.0, abs(base_value)):
                out = trial
                base_value = value
                break
    return out


def _start_period(cand: Candidate, periods: Sequence[str], shift: int) -> str | None:
    index = {p: t for t, p in enumerate(periods)}
    used = [
        index[p]
        for table in [*(cand.cost or {}).values(), *cand.resources.values()]
        for p, a in table.items()
        if a and p in index
    ]
    if not used:
        return None
    t = min(used) + shift
    return periods[t] if 0 <= t < len(periods) else None


def plan_usage(
    problem: PortfolioProblem, plan: Mapping[str, PlanItem]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Spend by source and period, and resource use by skill and period, of a plan."""
    periods = problem.periods
    index = {p: t for t, p in enumerate(periods)}
    spend = {s: dict.fromkeys(periods, 0.0) for s in problem.sources()}
    use = {k: dict.fromkeys(periods, 0.0) for k in problem.all_skills()}
    for cand in problem.candidates:
        item = plan.get(cand.code)
        if item is None:
            continue
        for target, tables in ((spend, cand.cost or {}), (use, cand.resources)):
            for key, table in tables.items():
                for p, amount in table.items():
                    t = index[p] + item.shift
                    if 0 <= t < len(periods):
                        target.setdefault(key, dict.fromkeys(periods, 0.0))
                        target[key][periods[t]] += amount * item.fraction
    return spend, use


def evaluate_plan(
    problem: PortfolioProblem,
    plan: Mapping[str, PlanItem],
    values: Mapping[str, float] | None = None,
    *,
    tol: float = 1e-6,
) -> tuple[float, list[str]]:
    """Value of a plan and every rule it breaks (empty list = feasible), without a solver.

    An independent, plain-Python reading of the same rules the MILP encodes: used to check
    solver results, score hand-made plans (the plan of record, a waterline) and in tests.
    """
    vals = candidate_values(problem) if values is None else values
    broken: list[str] = []
    for code, item in plan.items():
        cand = problem.candidate(code)
        if item.shift not in allowed_shifts(cand, problem.periods):
            broken.append(f"start shift {item.shift:+d} of {code} is outside its window")
        low = 1.0 if cand.partial is None else cand.partial.min_fraction
        high = 1.0 if cand.partial is None else cand.partial.max_fraction
        if not (low - tol <= item.fraction <= high + tol):
            broken.append(f"fraction {item.fraction:g} of {code} is not allowed")
    spend, use = plan_usage(problem, plan)
    for source, table in problem.budgets.items():
        for period, limit in table.items():
            used = sum(spend.get(source, {}).get(p, 0.0) for p in problem.periods_of(period))
            if used > limit + tol * max(1.0, limit):
                broken.append(f"budget {source} {period}")
    for source, limit in problem.total_budgets.items():
        if sum(spend.get(source, {}).values()) > limit + tol * max(1.0, limit):
            broken.append(f"total budget {source}")
    for skill, table in problem.capacity.items():
        for period in table:
            limit = problem.capacity_limit(skill, period) or 0.0
            if use.get(skill, {}).get(period, 0.0) > limit + tol * max(1.0, limit):
                broken.append(f"capacity {skill} {period}")
    for cand in problem.candidates:
        if cand.code in plan:
            broken += [f"dependency {cand.code} needs {r}" for r in cand.requires if r not in plan]
    for ex in problem.exclusions:
        if sum(code in plan for code in ex.codes) > 1:
            broken.append("exclusion " + " / ".join(ex.codes))
    for forced in problem.forced:
        if (forced.code in plan) != (forced.decision == "in"):
            broken.append(f"force-{forced.decision} {forced.code}")
    total = sum(_total_cost(problem.candidate(c)) * i.fraction for c, i in plan.items())
    for rule in problem.balance:
        group = sum(
            _total_cost(problem.candidate(c)) * i.fraction
            for c, i in plan.items()
            if _in_group(problem.candidate(c), rule)
        )
        slack = tol * max(1.0, total)
        if (
            (rule.min_share is not None and group < rule.min_share * total - slack)
            or (rule.max_share is not None and group > rule.max_share * total + slack)
            or (rule.min_amount is not None and group < rule.min_amount - slack)
            or (rule.max_amount is not None and group > rule.max_amount + slack)
        ):
            broken.append(rule.label)
    value = sum(vals[c] * i.fraction for c, i in plan.items())
    return value, broken


def _in_group(cand: Candidate, rule: BalanceRule) -> bool:
    if rule.by == "category":
        return cand.category.value == rule.group
    if rule.by == "portfolio":
        return cand.portfolio == rule.group
    return cand.business_unit == rule.group


# --- the entry point -----------------------------------------------------------------------------


def solve(
    problem: PortfolioProblem,
    *,
    time_limit: float | None = None,
    mip_gap: float = DEFAULT_MIP_GAP,
    values: Mapping[str, float] | None = None,
    start: Mapping[str, PlanItem] | None = None,
    search: bool = True,
) -> Solution:
    """The best selection for ``problem``.

    Args:
        time_limit: seconds HiGHS may spend; None = until proven optimal.
        mip_gap: relative gap at which a plan counts as optimal.
        values: candidate values overriding the scored ones.
        start: a plan to offer HiGHS as a first incumbent (e.g. the plan of record); ignored if
            it is infeasible.
        search: with a time limit, run the neighbourhood search of :mod:`.search` on the second
            core beside HiGHS, sharing incumbents; without one, HiGHS alone with
            :data:`PROOF_OPTIONS`. False = plain HiGHS, every option as shipped.

    Raises:
        ValidationError: the problem breaks the format rules.
        InfeasibleError: no plan satisfies all constraints; ``conflict`` names a minimal set.
        BigovError: the time limit passed before any feasible plan was found.
    """
    validate_problem(problem)
    model = build_model(problem, values)
    start_vector = plan_vector(model, start) if start else None
    if search and time_limit and model.is_mip:
        from bigov.portfolio.search import search_solve

        found = search_solve(model, time_limit=time_limit, mip_gap=mip_gap, start=start_vector)
        if found.vec is not None:
            return read_solution(
                model,
                found.status,
                time_limit=time_limit,
                col=found.vec,
                bound=found.bound,
                proven=found.proven_optimal,
            )
        status = found.status
    else:
        with highs_options(model.h, PROOF_OPTIONS if search and model.is_mip else {}):
            status = model.run(time_limit=time_limit, mip_gap=mip_gap, start=start_vector)
    if status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        from bigov.portfolio.infeasibility import raise_infeasible

        raise_infeasible(problem)
    if not model.has_solution():
        raise BigovError(
            f"no feasible plan found for {problem.name!r} within {time_limit} s",
            hint="raise the time limit",
        )
    return read_solution(model, status, time_limit=time_limit)


def plan_vector(model: SelectionModel, plan: Mapping[str, PlanItem]) -> list[float]:
    """The full column vector of a plan in ``model`` (for warm starts)."""
    vec = [0.0] * len(model.columns)
    for code, item in plan.items():
        for s, x, f in model.by_code.get(code, []):
            if s == item.shift:
                vec[x] = 1.0
                if f is not None:
                    vec[f] = item.fraction
    return vec
