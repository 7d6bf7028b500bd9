"""The portfolio problem file format: what a selection round is, as data.

A :class:`PortfolioProblem` is everything the optimiser needs and nothing it does not: the periods
of the horizon, the candidates (each with value or driver scores, cost per funding source and
period, resource use per skill and period, dependencies), the limits (budgets, capacity), and the
rules (mutual exclusions, forced decisions, balance). It is the exchange format of issue 7: it is
exported from the database, solved from the CLI and re-imported, and is documented in
``docs/portfolio-problem-format.md``.

Callers may rely on this: :func:`parse_problem` and :func:`load_problem` either return a problem
that passed :func:`validate_problem` or raise :class:`bigov.errors.ValidationError` listing *every*
finding (not only the first), each naming the candidate or rule at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field

from bigov import safeload
from bigov.errors import Problem, ValidationError

__all__ = [
    "BalanceRule",
    "Candidate",
    "Category",
    "Confidence",
    "Exclusion",
    "Forced",
    "PairwiseInput",
    "Partial",
    "PortfolioProblem",
    "ScoringSettings",
    "ShiftWindow",
    "dump_problem",
    "load_problem",
    "parse_problem",
    "save_problem",
    "validate_problem",
]


class _Strict(BaseModel):
    # Unknown keys are almost always typos in hand-written files ("budget" for "budgets").
    model_config = ConfigDict(extra="forbid")


class Category(StrEnum):
    """Run / grow / transform: what kind of spend an item is (the classic three-way split)."""

    RUN = "run"
    GROW = "grow"
    TRANSFORM = "transform"


class Confidence(StrEnum):
    """Delivery confidence on the usual 5-point RAG scale (as used in GMPP returns)."""

    GREEN = "green"
    AMBER_GREEN = "amber/green"
    AMBER = "amber"
    AMBER_RED = "amber/red"
    RED = "red"


class ShiftWindow(_Strict):
    """How far the start may move, in whole periods: ``earliest`` ≤ 0 ≤ ``latest``."""

    earliest: int = 0
    latest: int = 0


class Partial(_Strict):
    """The item may be funded in part, between ``min_fraction`` and ``max_fraction`` of its
    stated size (value, cost and resources scale). ``max_fraction`` above 1 lets run work grow
    (e.g. 1.2 = up to 20 % more than its forecast)."""

    min_fraction: float = 0.0
    max_fraction: float = 1.0


class Candidate(_Strict):
    """One item that may be selected: proposed or running work, including BAU workstreams.

    ``cost`` is ``{funding source: {period: amount}}`` and ``resources`` is
    ``{skill: {period: quantity}}``, both for the planned start; a start shift moves the whole
    profile. ``value`` is used as given when present, otherwise it is computed from ``scores``
    (see :mod:`bigov.portfolio.scoring`).
    """

    code: str
    name: str = ""
    category: Category = Category.TRANSFORM
    portfolio: str | None = None
    business_unit: str | None = None
    value: float | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    npv: float | None = None
    confidence: Confidence | None = None
    cost: dict[str, dict[str, float]] | None = None
    resources: dict[str, dict[str, float]] = Field(default_factory=dict)
    requires: list[str] = Field(default_factory=list)
    shift: ShiftWindow | None = None
    partial: Partial | None = None


class Exclusion(_Strict):
    """At most one of ``codes`` may be selected (alternatives for the same need)."""

    codes: list[str]
    reason: str = ""


class Forced(_Strict):
    """A decision already taken: the item must be in (mandatory) or out (stopped)."""

    code: str
    decision: Literal["in", "out"]
    reason: str


class BalanceRule(_Strict):
    """A limit on the spend of one group (category, portfolio or business unit).

    Spend is the total over the horizon and all funding sources of the selected items. Shares are
    fractions of the total selected spend; amounts are absolute. This one rule covers a run-spend
    floor (``by: category, group: run, min_amount: …``), a run/grow/transform split (shares) and a
    minimum share per portfolio or business unit.
    """

    by: Literal["category", "portfolio", "business_unit"]
    group: str
    min_share: float | None = None
    max_share: float | None = None
    min_amount: float | None = None
    max_amount: float | None = None

    @property
    def label(self) -> str:
        """A short human name used in explanations and conflict sets."""
        parts = []
        if self.min_share is not None:
            parts.append(f"≥ {self.min_share:.0%}")
        if self.max_share is not None:
            parts.append(f"≤ {self.max_share:.0%}")
        if self.min_amount is not None:
            parts.append(f"≥ {self.min_amount:g}")
        if self.max_amount is not None:
            parts.append(f"≤ {self.max_amount:g}")
        return f"balance {self.by} {self.group} {' '.join(parts)}".strip()


class PairwiseInput(_Strict):
    """Driver weights by pairwise comparison: ``matrix[i][j]`` is how much ``drivers[i]`` beats j.

    Entries are numbers or fractions written as strings (``"1/3"``); only the upper triangle is
    read, the lower one is its reciprocal (write it, or leave it ``null``).
    """

    drivers: list[str]
    matrix: list[list[float | str | None]]


class ScoringSettings(_Strict):
    """How scores become value: driver weights (direct or pairwise), NPV weight, confidence."""

    weights: dict[str, float] | None = None
    pairwise: PairwiseInput | None = None
    npv_weight: float = 0.0
    confidence_factors: dict[Confidence, float] | None = None


class PortfolioProblem(_Strict):
    """A whole selection round. See the module docstring and the format documentation."""

    name: str = "portfolio"
    currency: str | None = None
    periods: list[str]
    period_groups: dict[str, list[str]] = Field(default_factory=dict)
    funding_sources: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    budgets: dict[str, dict[str, float]] = Field(default_factory=dict)
    total_budgets: dict[str, float] = Field(default_factory=dict)
    capacity: dict[str, dict[str, float]] = Field(default_factory=dict)
    capacity_allowance: dict[str, dict[str, float]] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    target_split: dict[Category, float] = Field(default_factory=dict)
    candidates: list[Candidate]
    exclusions: list[Exclusion] = Field(default_factory=list)
    forced: list[Forced] = Field(default_factory=list)
    balance: list[BalanceRule] = Field(default_factory=list)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)

    def sources(self) -> list[str]:
        """Every funding source declared or budgeted, in first-seen order."""
        return _ordered([*self.funding_sources, *self.budgets, *self.total_budgets])

    def all_skills(self) -> list[str]:
        """Every skill declared or with capacity, in first-seen order."""
        return _ordered([*self.skills, *self.capacity])

    def periods_of(self, key: str) -> list[str]:
        """The periods a budget key covers: the period itself, or the members of a group."""
        return list(self.period_groups.get(key, [key]))

    def label(self, key: str) -> str:
        """The display name of a skill or funding source code (the code when none is given)."""
        return self.labels.get(key, key)

    def capacity_limit(self, skill: str, period: str) -> float | None:
        """The limit the round applies: stated capacity plus any allowance for commitments."""
        table = self.capacity.get(skill)
        if table is None or period not in table:
            return None
        return table[period] + self.capacity_allowance.get(skill, {}).get(period, 0.0)

    def candidate(self, code: str) -> Candidate:
        """The candidate with ``code``; KeyError if there is none (validation prevents that)."""
        for c in self.candidates:
            if c.code == code:
                return c
        raise KeyError(code)


def _ordered(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- validation ---------------------------------------------------------------------------------


def validate_problem(problem: PortfolioProblem, *, file: str | None = None) -> None:
    """Check the rules a file's shape cannot express; raise one ValidationError with all findings.

    Checks: duplicate codes; missing, negative or non-finite costs, resource use and limits;
    references to unknown candidates, periods, funding sources, skills or drivers; cyclic
    dependencies (the cycle is named); contradictory forced decisions; impossible windows and
    shares. Feasibility (do the mandatory items fit?) is *not* checked here: the solver reports
    that with a conflict set (:mod:`bigov.portfolio.infeasibility`).
    """
    found: list[Problem] = []

    def bad(where: str, reason: str, value: object = None) -> None:
        found.append(
            Problem(
                reason=reason, file=file, column=where, value=None if value is None else str(value)
            )
        )

    periods = set(problem.periods)
    if not problem.periods:
        bad("periods", "at least one period is needed")
    if len(periods) != len(problem.periods):
        bad("periods", "periods are repeated", problem.periods)
    sources = set(problem.sources())
    skills = set(problem.all_skills())

    period_groups = set(problem.period_groups)
    for group, members in problem.period_groups.items():
        if group in periods:
            bad(f"period_groups.{group}", f"group {group!r} has the name of a period", group)
        for m in members:
            if m not in periods:
                bad(f"period_groups.{group}", f"unknown period {m!r}", m)
        if not members:
            bad(f"period_groups.{group}", "a period group needs at least one period")

    def check_amounts(
        where: str, table: Mapping[str, float], what: str, grouped: bool = False
    ) -> None:
        for period, amount in table.items():
            if period not in periods and not (grouped and period in period_groups):
                bad(f"{where}.{period}", f"unknown period {period!r}", period)
            if not _finite(amount) or amount < 0:
                bad(f"{where}.{period}", f"{what} must be a non-negative number", amount)

    for source, table in problem.budgets.items():
        check_amounts(f"budgets.{source}", table, "budget", grouped=True)
    for source, amount in problem.total_budgets.items():
        if not _finite(amount) or amount < 0:
            bad(f"total_budgets.{source}", "budget must be a non-negative number", amount)
    for skill, table in problem.capacity.items():
        check_amounts(f"capacity.{skill}", table, "capacity")
    for skill, table in problem.capacity_allowance.items():
        check_amounts(f"capacity_allowance.{skill}", table, "allowance")
        for period in table:
            if period not in problem.capacity.get(skill, {}):
                bad(
                    f"capacity_allowance.{skill}.{period}",
                    f"an allowance needs a capacity of {skill} in {period}",
                    period,
                )

    codes: dict[str, int] = {}
    for c in problem.candidates:
        if c.code in codes:
            bad(f"candidates[{c.code}]", f"candidate code {c.code!r} is used more than once")
        codes[c.code] = codes.get(c.code, 0) + 1
    if not problem.candidates:
        bad("candidates", "there are no candidates")

    drivers = _driver_names(problem)
    for c in problem.candidates:
        where = f"candidates[{c.code}]"
        if c.cost is None or not any(c.cost.values()):
            bad(
                f"{where}.cost",
                f"candidate {c.code} has no cost (write 0 explicitly if it is free)",
            )
        for source, table in (c.cost or {}).items():
            if source not in sources:
                bad(f"{where}.cost.{source}", f"unknown funding source {source!r}", source)
            check_amounts(f"{where}.cost.{source}", table, f"cost of {c.code}")
        for skill, table in c.resources.items():
            if skill not in skills:
                bad(f"{where}.resources.{skill}", f"unknown skill {skill!r}", skill)
            check_amounts(f"{where}.resources.{skill}", table, f"resource use of {c.code}")
        if c.value is None and not c.scores and c.npv is None:
            bad(f"{where}.value", f"candidate {c.code} has neither a value nor driver scores")
        if c.value is not None and not _finite(c.value):
            bad(f"{where}.value", "value must be a finite number", c.value)
        for driver, score in c.scores.items():
            if drivers is not None and driver not in drivers:
                bad(f"{where}.scores.{driver}", f"unknown driver {driver!r}", driver)
            if not _finite(score) or score < 0:
                bad(f"{where}.scores.{driver}", "score must be a non-negative number", score)
        if c.scores and drivers is None:
            bad(f"{where}.scores", "scores are given but scoring has no driver weights")
        for req in c.requires:
            if req not in codes:
                bad(f"{where}.requires", f"{c.code} requires unknown candidate {req!r}", req)
            elif req == c.code:
                bad(f"{where}.requires", f"{c.code} requires itself", req)
        if c.shift is not None and not (c.shift.earliest <= 0 <= c.shift.latest):
            bad(f"{where}.shift", "shift window must satisfy earliest ≤ 0 ≤ latest", c.shift)
        if c.partial is not None and not 0.0 <= c.partial.min_fraction <= 1.0:
            bad(f"{where}.partial", "min_fraction must be between 0 and 1", c.partial.min_fraction)
        if c.partial is not None and not 1.0 <= c.partial.max_fraction <= 10.0:
            bad(f"{where}.partial", "max_fraction must be between 1 and 10", c.partial.max_fraction)

    for cycle in _cycles(problem):
        bad("candidates.requires", "cyclic dependency: " + " → ".join([*cycle, cycle[0]]))

    for i, ex in enumerate(problem.exclusions):
        if len(ex.codes) < 2:
            bad(f"exclusions[{i}]", "a mutual exclusion needs at least two codes", ex.codes)
        for code in ex.codes:
            if code not in codes:
                bad(f"exclusions[{i}]", f"unknown candidate {code!r}", code)

    decided: dict[str, str] = {}
    for f in problem.forced:
        if f.code not in codes:
            bad(f"forced[{f.code}]", f"unknown candidate {f.code!r}", f.code)
        if not f.reason.strip():
            bad(f"forced[{f.code}]", f"forcing {f.code} {f.decision} needs a reason")
        if decided.get(f.code, f.decision) != f.decision:
            bad(f"forced[{f.code}]", f"{f.code} is forced both in and out")
        decided[f.code] = f.decision

    for i, rule in enumerate(problem.balance):
        groups = {_group_of(c, rule.by) for c in problem.candidates}
        if rule.group not in groups:
            bad(f"balance[{i}]", f"no candidate has {rule.by} {rule.group!r}", rule.group)
        for name in ("min_share", "max_share"):
            share = getattr(rule, name)
            if share is not None and not 0.0 <= share <= 1.0:
                bad(f"balance[{i}].{name}", "a share must be between 0 and 1", share)
        if all(
            v is None for v in (rule.min_share, rule.max_share, rule.min_amount, rule.max_amount)
        ):
            bad(f"balance[{i}]", "a balance rule needs a share or an amount limit")

    for cat, share in problem.target_split.items():
        if not 0.0 <= share <= 1.0:
            bad(f"target_split.{cat.value}", "a share must be between 0 and 1", share)

    scoring = problem.scoring
    if scoring.weights is not None and scoring.pairwise is not None:
        bad("scoring", "give driver weights directly or by pairwise comparison, not both")
    for driver, w in (scoring.weights or {}).items():
        if not _finite(w) or w < 0:
            bad(f"scoring.weights.{driver}", "weight must be a non-negative number", w)
    if scoring.weights is not None and scoring.weights and sum(scoring.weights.values()) <= 0:
        bad("scoring.weights", "driver weights sum to zero")

    if found:
        names = "; ".join(p.reason for p in found[:3])
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise ValidationError(f"invalid portfolio problem: {names}{more}", found)


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def _driver_names(problem: PortfolioProblem) -> set[str] | None:
    if problem.scoring.weights is not None:
        return set(problem.scoring.weights)
    if problem.scoring.pairwise is not None:
        return set(problem.scoring.pairwise.drivers)
    return None


def _group_of(c: Candidate, by: str) -> str | None:
    if by == "category":
        return c.category.value
    if by == "portfolio":
        return c.portfolio
    return c.business_unit


def _cycles(problem: PortfolioProblem) -> list[list[str]]:
    """Each dependency cycle once, as the codes along it (iterative DFS, no recursion limit)."""
    graph = {c.code: [r for r in c.requires if r != c.code] for c in problem.candidates}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    cycles: list[list[str]] = []
    for root in graph:
        if root in state:
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            succ = graph.get(node, [])
            if i < len(succ):
                stack.append((node, i + 1))
                nxt = succ[i]
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    cycles.append(path[path.index(nxt) :])
                elif nxt not in state:
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return cycles


# --- loading and saving -------------------------------------------------------------------------


def parse_problem(data: object, *, file: str | None = None) -> PortfolioProblem:
    """Build and validate a problem from already-parsed JSON/YAML data.

    Shape errors (wrong types, unknown keys) and rule errors are reported together in one
    :class:`ValidationError`; candidate positions are translated to their codes where possible.
    """
    try:
        problem = PortfolioProblem.model_validate(data)
    except pydantic.ValidationError as exc:
        found = [
            Problem(
                reason=err["msg"],
                file=file,
                column=_locate(data, err["loc"]),
                value=None if err.get("input") is None else _short(err["input"]),
            )
            for err in exc.errors()
        ]
        raise ValidationError(
            f"invalid portfolio problem: {len(found)} field error(s), first: "
            f"{found[0].column}: {found[0].reason}",
            found,
        ) from None
    validate_problem(problem, file=file)
    return problem


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _locate(data: object, loc: tuple[int | str, ...]) -> str:
    """Turn pydantic's ``('candidates', 3, 'cost')`` into ``candidates[P04].cost``."""
    parts: list[str] = []
    node: Any = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            item = node[key]
            code = item.get("code") if isinstance(item, dict) else None
            label = f"[{code or key}]"
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def load_problem(path: str | Path) -> PortfolioProblem:
    """Read a problem from a ``.json``, ``.yaml`` or ``.yml`` file and validate it."""
    p = Path(path)
    try:
        text = safeload.read_text(p, "json" if p.suffix.lower() == ".json" else "yaml")
    except OSError as exc:
        raise ValidationError(
            f"cannot read problem file {p}: {exc.strerror}", [Problem("unreadable", file=str(p))]
        ) from None
    try:
        data = (
            safeload.load_json(text, str(p))
            if p.suffix.lower() == ".json"
            else safeload.load_yaml(text, str(p))
        )
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(
            f"{p} is not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'}: {exc}",
            [Problem(str(exc), file=str(p))],
        ) from None
    return parse_problem(data, file=str(p))


def dump_problem(problem: PortfolioProblem, fmt: Literal["json", "yaml"] = "yaml") -> str:
    """The problem as JSON or YAML text that :func:`parse_problem` reads back identically."""
    data = problem.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("periods", problem.periods)
    data.setdefault("candidates", [])
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def save_problem(problem: PortfolioProblem, path: str | Path) -> None:
    """Write the problem to ``path``; the suffix (``.json``, else YAML) picks the format."""
    p = Path(path)
    fmt: Literal["json", "yaml"] = "json" if p.suffix.lower() == ".json" else "yaml"
    p.write_text(dump_problem(problem, fmt), encoding="utf-8")
