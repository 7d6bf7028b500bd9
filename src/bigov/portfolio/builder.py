"""A planning round from the integrated data set: the workspace as a :class:`PortfolioProblem`.

What goes in (all read in a fixed number of queries, whatever the size of the organisation):

* **periods** — the fiscal years of the round (``FY2028``), by the workspace's fiscal calendar;
* **candidates** — every work item that is proposed (phase identification or definition) or
  running (delivery or closure), of any kind but ``portfolio`` (portfolios are containers), with
  cost in the round. That includes BAU workstreams and products (nature ``run``): they enter as
  *partially fundable* — they may be cut down to ``run_min_fraction`` of their forecast (the
  ``portfolio_run_min_fraction`` setting, default 0.9) but not below;
* **cost** by funding stream and fiscal year from cost lines: **forecast** for running work,
  **budget** for proposals. A funding stream is the funding source's nature (``run`` /
  ``change``) when it has one, else the source's code; a cost line with no source counts against
  the item's own nature;
* **budgets** — the amounts of the *leaf* funding sources of each fiscal year (a parent pot is
  already split by its children), summed per stream;
* **resources** — demand by skill as average FTE over each fiscal year; **capacity** the same from
  team capacity, summed over teams;
* **dependencies** of kind ``needs`` between two candidates (others are scheduling links);
* **mutual exclusions** stored as ``portfolio_exclusion`` with their items: each keeps the items
  that are candidates of the round, and counts when at least two are;
* **forced in**: running work, unless listed as ``stoppable`` (the reason says why);
* **balance**: run / grow / transform shares from the settings ``portfolio_min_share_<category>``
  and ``portfolio_max_share_<category>`` (fractions, absent = no rule);
* **value** — driver ratings weighted by the prioritisation in force, optionally plus benefit NPV,
  risk-adjusted by the latest delivery confidence (see :mod:`bigov.portfolio.scoring`).

Where the workspace has no drivers, prioritisation or ratings (as in a fresh import, or the demo
enterprise), they are **derived deterministically** from the strategy:

* one driver per OTC (named by the OTC's code);
* weight of an active OTC = ``5 − priority`` (priority 1 → 4, 4 → 1; no priority → 1);
* rating of an item against an OTC = ``100 × contribution weight`` — the percentage of that OTC
  the item delivers, so all contributors of an OTC together are worth that OTC's weight.

Stored ratings win: for a driver with any stored rating, stored ratings are used for every item
(an unrated item scores 0); derived ratings fill in only drivers nobody has rated. An OTC that is
withdrawn, achieved or still draft weighs 0 whatever the prioritisation says — that is what makes
a rebalance follow a change of strategy.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitEnabler,
    BenefitKind,
    BenefitProfile,
)
from bigov.db.settings import DEFAULTS, Setting
from bigov.errors import ConfigError, NotFoundError
from bigov.finance.models import CostLine, FundingSource
from bigov.org.models import OrgUnit, OrgUnitKind
from bigov.portfolio.models import (
    Driver,
    DriverWeight,
    ExclusionItem,
    Prioritisation,
    PrioritisationVersion,
    Rating,
)
from bigov.portfolio.models import Exclusion as StoredExclusion
from bigov.portfolio.problem import (
    BalanceRule,
    Candidate,
    Category,
    Confidence,
    Exclusion,
    Forced,
    Partial,
    PortfolioProblem,
    ScoringSettings,
    ShiftWindow,
    validate_problem,
)
from bigov.resources.models import Capacity, Demand, Skill
from bigov.strategy.models import Otc, OtcStatus
from bigov.work.models import (
    Contribution,
    Dependency,
    DependencyKind,
    Nature,
    Phase,
    StatusReport,
    WorkItem,
    WorkKind,
)

__all__ = [
    "PROPOSED",
    "RUNNING",
    "RoundOptions",
    "RoundProblem",
    "build_round",
    "fiscal_year_bounds",
    "round_label",
]

PROPOSED = (Phase.IDENTIFICATION, Phase.DEFINITION)
RUNNING = (Phase.DELIVERY, Phase.CLOSURE)
_DEFAULT_RUN_MIN_FRACTION = 0.9  # a BAU line can usually be trimmed 10 % within a year, no more
_DEFAULT_DISCOUNT_RATE = 0.035  # HM Treasury Green Book rate
_DEFAULT_MAX_SHIFT = 3  # months a proposal may start late: one quarter of slack
_CATEGORIES = ("run", "grow", "transform")
# the governed target split's defaults (bigov.analysis.balance.DEFAULT_TARGET), in percent
_DEFAULT_TARGET = {"run": "70", "grow": "20", "transform": "10"}


class RoundOptions(BaseModel):
    """The choices that make a round; stored with each scenario so it can be rebuilt."""

    years: list[int]
    prioritisation: str | None = None
    stoppable: list[str] = Field(default_factory=list)
    npv_weight: float = 0.0
    run_min_fraction: float | None = None  # None = the workspace setting (default 0.9)
    run_max_fraction: float | None = None  # None = the workspace setting (default 1.0: no growth)
    discount_rate: float | None = None  # None = the workspace setting (default 3.5 %)
    # month: cost, demand and capacity by month, budgets by fiscal year (a period group), and
    # proposals may start up to max_shift months late; year: everything averaged per fiscal year
    grain: Literal["month", "year"] = "month"
    max_shift: int | None = None  # None = the workspace setting (default 3 months)
    # commitments already over a skill's capacity: "accept" the excess as an explicit allowance
    # (reported, never available to proposals), or "refuse" (the round is then infeasible)
    committed_overload: Literal["accept", "refuse"] = "accept"


class RoundProblem(BaseModel):
    """A built round: the problem, which weights it used, and notes on what was derived."""

    problem: PortfolioProblem
    options: RoundOptions
    planning_round: str
    prioritisation_version_id: int | None = None
    notes: list[str] = Field(default_factory=list)
    queries: int = 0


def round_label(years: Sequence[int]) -> str:
    """``FY2028`` or ``FY2028-FY2029``."""
    ys = sorted(set(years))
    return f"FY{ys[0]}" if len(ys) == 1 else f"FY{ys[0]}-FY{ys[-1]}"


def fiscal_year_bounds(year: int, start_month: int) -> tuple[dt.date, dt.date]:
    """First day of fiscal year ``year`` and first day after it (named by the year it ends in)."""
    if start_month == 1:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    return dt.date(year - 1, start_month, 1), dt.date(year, start_month, 1)


class _Counter:
    """Counts the queries a build runs (the builder promises a fixed number)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.n = 0

    def rows(self, stmt: Any) -> list[Any]:
        self.n += 1
        return list(self.s.execute(stmt).all())


def build_round(
    session: Session, options: RoundOptions, *, name: str | None = None
) -> RoundProblem:
    """Build the problem of a planning round (see the module docstring for every rule).

    Raises:
        ConfigError: no years, or several prioritisations and none chosen.
        NotFoundError: an unknown prioritisation or stoppable code.
        ValidationError: the round breaks the problem rules (e.g. a cycle of ``needs``).
    """
    if not options.years:
        raise ConfigError("a planning round needs at least one fiscal year", hint="pass --year")
    q = _Counter(session)
    notes: list[str] = []
    settings: dict[str, str] = dict(
        q.rows(
            select(Setting.key, Setting.value).where(
                (Setting.key.like("portfolio_%"))
                | (Setting.key.like("target_split_%"))
                | (Setting.key == "fiscal_year_start_month")
            )
        )
    )
    start_month = int(settings.get("fiscal_year_start_month", DEFAULTS["fiscal_year_start_month"]))
    run_min = options.run_min_fraction
    if run_min is None:
        run_min = float(settings.get("portfolio_run_min_fraction", _DEFAULT_RUN_MIN_FRACTION))
    run_max = options.run_max_fraction
    if run_max is None:
        run_max = float(settings.get("portfolio_run_max_fraction", 1.0))
    rate = options.discount_rate
    if rate is None:
        rate = float(settings.get("portfolio_discount_rate", _DEFAULT_DISCOUNT_RATE))
    years = sorted(set(options.years))
    bounds = {y: fiscal_year_bounds(y, start_month) for y in years}
    horizon_start, horizon_end = bounds[years[0]][0], bounds[years[-1]][1]
    monthly = options.grain == "month"
    max_shift = options.max_shift
    if max_shift is None:
        max_shift = int(settings.get("portfolio_max_shift_months", _DEFAULT_MAX_SHIFT))
    groups: dict[str, list[str]] = {}
    if monthly:
        for y in years:
            groups[f"FY{y}"] = [f"{m:%Y-%m}" for m in _month_starts(*bounds[y])]
        periods = [m for y in years for m in groups[f"FY{y}"]]
    else:
        periods = [f"FY{y}" for y in years]

    def fy_of(day: dt.date) -> str | None:
        for y, (a, b) in bounds.items():
            if a <= day < b:
                return f"{day:%Y-%m}" if monthly else f"FY{y}"
        return None

    # -- work items and their context -------------------------------------------------------
    items = q.rows(
        select(
            WorkItem.id,
            WorkItem.code,
            WorkItem.name,
            WorkItem.kind,
            WorkItem.parent_id,
            WorkItem.phase,
            WorkItem.nature,
            WorkItem.category,
            WorkItem.org_unit_id,
        )
    )
    by_id = {r.id: r for r in items}
    units = {
        r.id: r for r in q.rows(select(OrgUnit.id, OrgUnit.code, OrgUnit.kind, OrgUnit.parent_id))
    }
    live = {
        r.id: r
        for r in items
        if r.kind is not WorkKind.PORTFOLIO and (r.phase in PROPOSED or r.phase in RUNNING)
    }
    codes = {r.code for r in items}
    unknown = [c for c in options.stoppable if c not in codes]
    if unknown:
        raise NotFoundError(f"no work item with code {', '.join(map(repr, unknown))} (stoppable)")

    # -- cost by item, stream and fiscal year ----------------------------------------------
    cost_rows = q.rows(
        select(
            CostLine.work_item_id,
            CostLine.period,
            FundingSource.nature,
            FundingSource.code,
            func.sum(CostLine.budget).label("budget"),
            func.sum(CostLine.forecast).label("forecast"),
        )
        .outerjoin(FundingSource, FundingSource.id == CostLine.funding_source_id)
        .where(CostLine.period >= horizon_start, CostLine.period < horizon_end)
        .group_by(CostLine.work_item_id, CostLine.period, FundingSource.nature, FundingSource.code)
    )
    cost: dict[int, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in cost_rows:
        item = live.get(r.work_item_id)
        period = fy_of(r.period)
        if item is None or period is None:
            continue
        amount = float(r.forecast if item.phase in RUNNING else r.budget)
        if amount == 0:
            continue
        stream = _stream(r.nature, r.code, item.nature)
        table = cost[item.id][stream]
        table[period] = round(table.get(period, 0.0) + amount, 2)

    sources = q.rows(
        select(
            FundingSource.id,
            FundingSource.code,
            FundingSource.nature,
            FundingSource.fiscal_year,
            FundingSource.amount,
            FundingSource.parent_id,
        )
    )
    parents = {r.parent_id for r in sources if r.parent_id is not None}
    budgets: dict[str, dict[str, float]] = defaultdict(dict)
    for r in sources:
        if r.id in parents or r.amount is None or r.fiscal_year not in bounds:
            continue
        stream = _stream(r.nature, r.code, None)
        period = f"FY{r.fiscal_year}"  # a period group when the grain is monthly
        budgets[stream][period] = round(budgets[stream].get(period, 0.0) + float(r.amount), 2)

    # -- resources: FTE per month, or average FTE per fiscal year -----------------------------
    months = (
        dict.fromkeys(periods, 1)
        if monthly
        else {f"FY{y}": _month_count(*bounds[y]) for y in years}
    )
    demand: dict[int, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in q.rows(
        select(Demand.work_item_id, Skill.code, Demand.period, func.sum(Demand.fte).label("fte"))
        .join(Skill, Skill.id == Demand.skill_id)
        .where(Demand.period >= horizon_start, Demand.period < horizon_end)
        .group_by(Demand.work_item_id, Skill.code, Demand.period)
    ):
        period = fy_of(r.period)
        if r.work_item_id not in live or period is None:
            continue
        table = demand[r.work_item_id][r.code]
        table[period] = table.get(period, 0.0) + float(r.fte) / months[period]
    capacity: dict[str, dict[str, float]] = defaultdict(dict)
    for r in q.rows(
        select(Skill.code, Capacity.period, func.sum(Capacity.fte).label("fte"))
        .join(Skill, Skill.id == Capacity.skill_id)
        .where(Capacity.period >= horizon_start, Capacity.period < horizon_end)
        .group_by(Skill.code, Capacity.period)
    ):
        period = fy_of(r.period)
        if period is not None:
            capacity[r.code][period] = (
                capacity[r.code].get(period, 0.0) + float(r.fte) / months[period]
            )

    # -- drivers, weights and ratings --------------------------------------------------------
    labels = {r.code: r.name for r in q.rows(select(Skill.code, Skill.name))}
    otcs = {r.id: r for r in q.rows(select(Otc.id, Otc.code, Otc.title, Otc.status, Otc.priority))}
    contributions = q.rows(
        select(Contribution.work_item_id, Contribution.otc_id, Contribution.weight)
    )
    weights, driver_otc, version_id, pnotes = _weights(q, options.prioritisation, otcs)
    notes += pnotes
    scores: dict[int, dict[str, float]] = defaultdict(dict)
    rated: set[str] = set()
    if driver_otc and any(d in weights for d in driver_otc):
        for r in q.rows(
            select(Rating.work_item_id, Driver.code, Rating.score).join(
                Driver, Driver.id == Rating.driver_id
            )
        ):
            if r.code in weights and r.work_item_id in live:
                rated.add(r.code)
                scores[r.work_item_id][r.code] = float(r.score)
    otc_driver: dict[int, list[str]] = defaultdict(list)
    for d, otc_id in driver_otc.items():
        if otc_id is not None and d not in rated:
            otc_driver[otc_id].append(d)
    for r in contributions:
        if r.work_item_id in live:
            for d in otc_driver.get(r.otc_id, []):
                scores[r.work_item_id][d] = round(100.0 * float(r.weight), 6)
    derived = sorted({d for ds in otc_driver.values() for d in ds})
    if derived and version_id is not None:
        notes.append(
            f"ratings derived from OTC contributions (100 × weight) for {len(derived)} "
            "driver(s) nobody has rated"
        )

    # -- confidence, benefits, dependencies -------------------------------------------------
    latest = (
        select(StatusReport.work_item_id, func.max(StatusReport.period).label("period"))
        .where(StatusReport.confidence.is_not(None))
        .group_by(StatusReport.work_item_id)
        .subquery()
    )
    confidence = {
        r.work_item_id: Confidence(r.confidence.value)
        for r in q.rows(
            select(StatusReport.work_item_id, StatusReport.confidence).join(
                latest,
                and_(
                    latest.c.work_item_id == StatusReport.work_item_id,
                    latest.c.period == StatusReport.period,
                ),
            )
        )
    }
    npv: dict[int, float] = {}
    if options.npv_weight:
        npv = _benefit_npv(q, set(live), horizon_start, rate)
    needs = q.rows(
        select(Dependency.predecessor_id, Dependency.successor_id).where(
            Dependency.kind == DependencyKind.NEEDS
        )
    )
    excluded = q.rows(
        select(StoredExclusion.code, StoredExclusion.reason, ExclusionItem.work_item_id)
        .join(ExclusionItem, ExclusionItem.exclusion_id == StoredExclusion.id)
        .order_by(StoredExclusion.code)
    )

    # -- candidates -----------------------------------------------------------------------
    stoppable = set(options.stoppable)
    candidates: list[Candidate] = []
    forced: list[Forced] = []
    no_cost: list[str] = []
    for item in sorted(live.values(), key=lambda r: r.code):
        item_cost = cost.get(item.id)
        if not item_cost:
            if item.phase in PROPOSED:
                no_cost.append(item.code)
            continue
        running = item.phase in RUNNING
        partial = (
            Partial(min_fraction=min(run_min, 1.0), max_fraction=max(run_max, 1.0))
            if item.nature is Nature.RUN and running and (run_min < 1.0 or run_max > 1.0)
            else None
        )
        item_scores = {d: s for d, s in scores.get(item.id, {}).items() if s}
        candidates.append(
            Candidate(
                code=item.code,
                name=item.name,
                category=Category(item.category.value),
                portfolio=_ancestor_portfolio(item, by_id),
                business_unit=_business_unit(item.org_unit_id, units),
                value=None if (item_scores or item.id in npv) else 0.0,
                scores=item_scores,
                npv=npv.get(item.id),
                confidence=confidence.get(item.id),
                cost={src: dict(t) for src, t in item_cost.items()},
                resources={
                    k: {p: round(v, 4) for p, v in t.items() if v}
                    for k, t in demand.get(item.id, {}).items()
                    if any(t.values())
                },
                partial=partial,
                shift=ShiftWindow(earliest=0, latest=max_shift)
                if monthly and not running and max_shift > 0
                else None,
            )
        )
        if running and item.code not in stoppable:
            forced.append(
                Forced(
                    code=item.code,
                    decision="in",
                    reason=f"running ({item.phase.value}); not marked stoppable",
                )
            )
    if no_cost:
        notes.append(
            f"{len(no_cost)} proposal(s) left out, no budget in {round_label(years)}: "
            + ", ".join(no_cost[:10])
            + (" …" if len(no_cost) > 10 else "")
        )
    in_round = {c.code for c in candidates}
    for c in candidates:
        c.resources = {k: v for k, v in c.resources.items() if v}
    code_of = {r.id: r.code for r in items}
    by_code = {c.code: c for c in candidates}
    for r in needs:
        pred, succ = code_of.get(r.predecessor_id), code_of.get(r.successor_id)
        if pred in in_round and succ in in_round and pred != succ:
            assert pred is not None and succ is not None
            by_code[succ].requires.append(pred)

    exclusion_groups: dict[str, tuple[str, list[str]]] = {}
    for r in excluded:
        member = code_of.get(r.work_item_id)
        group = exclusion_groups.setdefault(r.code, (r.reason or r.code, []))
        if member in in_round and member not in group[1]:
            assert member is not None
            group[1].append(member)
    exclusions = [
        Exclusion(codes=sorted(members), reason=reason)
        for reason, members in exclusion_groups.values()
        if len(members) >= 2
    ]
    target = {
        cat: float(settings.get(f"target_split_{cat}", _DEFAULT_TARGET[cat])) / 100.0
        for cat in _CATEGORIES
    }
    run_ids = {
        item.code: item
        for item in live.values()
        if item.nature is Nature.RUN and item.phase in RUNNING and item.code in in_round
    }
    if run_ids:
        notes.append(
            _value_run_work(q, candidates, run_ids, units, contributions, weights, target["run"])
        )

    skills = sorted({k for c in candidates for k in c.resources} | set(capacity))
    balance: list[BalanceRule] = []
    present = {c.category.value for c in candidates}
    for cat in _CATEGORIES:
        lo = settings.get(f"portfolio_min_share_{cat}")
        hi = settings.get(f"portfolio_max_share_{cat}")
        if (lo or hi) and cat in present:
            balance.append(
                BalanceRule(
                    by="category",
                    group=cat,
                    min_share=float(lo) if lo else None,
                    max_share=float(hi) if hi else None,
                )
            )
    used_streams = {s for c in candidates for s in (c.cost or {})}
    capacity_r = {k: {p: round(v, 4) for p, v in t.items()} for k, t in sorted(capacity.items())}
    allowance = _committed_overload(candidates, forced, capacity_r)
    for skill, table in allowance.items():
        worst = max(table, key=lambda p: table[p])
        over = [p for p in periods if p in table]
        notes.append(
            f"committed work already needs more {labels.get(skill, skill)} ({skill}) than the "
            f"teams supply in {len(over)} period(s), worst {worst}: "
            f"{capacity_r[skill][worst] + table[worst]:.1f} FTE against "
            f"{capacity_r[skill][worst]:.1f}; "
            + (
                "the excess is accepted as capacity_allowance (reported, never given to proposals)"
                if options.committed_overload == "accept"
                else "refused: the round has no plan until capacity or commitments change"
            )
        )
    problem = PortfolioProblem(
        name=name or f"planning round {round_label(years)}",
        currency=settings.get("portfolio_currency") or None,
        periods=periods,
        period_groups=groups,
        capacity_allowance=allowance if options.committed_overload == "accept" else {},
        labels={k: labels[k] for k in skills if k in labels},
        target_split={Category(c): v for c, v in target.items()},
        funding_sources=sorted(used_streams | set(budgets)),
        skills=skills,
        budgets={s: t for s, t in sorted(budgets.items()) if s in used_streams},
        capacity=capacity_r,
        candidates=candidates,
        forced=forced,
        exclusions=exclusions,
        balance=balance,
        scoring=ScoringSettings(weights=weights, npv_weight=options.npv_weight),
    )
    validate_problem(problem)
    return RoundProblem(
        problem=problem,
        options=options,
        planning_round=round_label(years),
        prioritisation_version_id=version_id,
        notes=notes,
        queries=q.n,
    )


def _stream(nature: Nature | None, code: str | None, item_nature: Nature | None) -> str:
    if nature is not None:
        return nature.value
    if code is not None:
        return code
    return item_nature.value if item_nature is not None else "unfunded"


def _value_run_work(
    q: _Counter,
    candidates: Sequence[Candidate],
    run_items: Mapping[str, Any],
    units: Mapping[int, Any],
    contributions: Sequence[Any],
    weights: Mapping[str, float],
    target_run: float,
) -> str:
    """Give running BAU work the value of keeping it running; returns a note saying how.

    Each run item's *service weight* is ``1 + KPIs it serves + exposure of stopping it``:
    operational measures owned by its organisation unit or any unit above it, key results of
    the OTCs it contributes to, and the open risks and issues logged against it (probability ×
    impact / 25 each, an issue counting as certain). The board's target split calibrates the
    scale: the run book together is worth ``target_run / (1 − target_run)`` times the value of
    all change candidates, so at the target split a pound of run buys on average as much value
    as a pound of change, and a run line serving more KPIs and risk is worth more per pound.
    The pool is shared in proportion to service weight × cost. The strategic value of the
    item's contributions (its driver scores) is added on top.
    """
    from bigov.metrics.models import MetricMeasure
    from bigov.portfolio.scoring import candidate_value
    from bigov.raid.models import RaidItem, RaidKind, RaidStatus
    from bigov.strategy.models import KeyResult

    measures: dict[str, int] = defaultdict(int)
    for r in q.rows(
        select(MetricMeasure.entity_code).where(MetricMeasure.entity_kind == "org_unit")
    ):
        measures[r.entity_code] += 1
    krs: dict[int, int] = defaultdict(int)
    for r in q.rows(select(KeyResult.otc_id).where(KeyResult.otc_id.is_not(None))):
        krs[r.otc_id] += 1
    wanted = {r.id for r in run_items.values()}
    exposure: dict[int, float] = defaultdict(float)
    for r in q.rows(
        select(RaidItem.work_item_id, RaidItem.kind, RaidItem.probability, RaidItem.impact).where(
            RaidItem.kind.in_([RaidKind.RISK, RaidKind.ISSUE]),
            RaidItem.status != RaidStatus.CLOSED,
            RaidItem.work_item_id.is_not(None),
        )
    ):
        if r.work_item_id in wanted:
            p = 5 if r.kind is RaidKind.ISSUE else (r.probability or 3)
            exposure[r.work_item_id] += p * (r.impact or 3) / 25.0
    otcs_of: dict[int, set[int]] = defaultdict(set)
    for r in contributions:
        otcs_of[r.work_item_id].add(r.otc_id)
    total_w = sum(weights.values()) or 1.0
    norm = {d: w / total_w for d, w in weights.items()}
    change_value = sum(
        candidate_value(c.model_copy(update={"confidence": None}), norm)
        for c in candidates
        if c.code not in run_items
    )
    share = min(max(target_run, 0.0), 0.95)
    pool = change_value * share / (1.0 - share) if change_value > 0 else float(len(run_items))
    service: dict[str, float] = {}
    for code, item in run_items.items():
        kpis = 0
        seen: set[int] = set()
        node = units.get(item.org_unit_id) if item.org_unit_id is not None else None
        while node is not None and node.id not in seen:
            seen.add(node.id)
            kpis += measures.get(node.code, 0)
            node = units.get(node.parent_id) if node.parent_id is not None else None
        kpis += sum(krs.get(o, 0) for o in otcs_of.get(item.id, ()))
        service[code] = 1.0 + kpis + exposure.get(item.id, 0.0)
    by_code = {c.code: c for c in candidates}
    cost = {code: _total_cost(by_code[code]) for code in run_items}
    mass = sum(service[c] * cost[c] for c in run_items) or 1.0
    for code in run_items:
        c = by_code[code]
        strategic = candidate_value(c.model_copy(update={"confidence": None, "value": None}), norm)
        c.value = round(strategic + pool * service[code] * cost[code] / mass, 6)
    return (
        f"{len(run_items)} running BAU item(s) valued for the KPIs they serve and the risk of "
        f"stopping them: {pool:,.1f} points in all, at the target run share "
        f"{target_run:.0%}"
    )


def _total_cost(c: Candidate) -> float:
    return sum(sum(t.values()) for t in (c.cost or {}).values())


def _committed_overload(
    candidates: Sequence[Candidate],
    forced: Sequence[Forced],
    capacity: Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, float]]:
    """FTE by which forced-in work alone (at full size) exceeds each skill's capacity."""
    committed = {f.code for f in forced if f.decision == "in"}
    need: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for c in candidates:
        if c.code in committed:
            for skill, table in c.resources.items():
                for p, fte in table.items():
                    need[skill][p] += fte
    out: dict[str, dict[str, float]] = {}
    for skill, limits in capacity.items():
        for p, limit in limits.items():
            excess = need.get(skill, {}).get(p, 0.0) - limit
            if excess > 1e-6:
                # rounded up to the hundredth so the commitments always fit
                out.setdefault(skill, {})[p] = math.ceil(excess * 100 - 1e-6) / 100
    return out


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    out = []
    d = start
    while d < end:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _month_count(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _ancestor_portfolio(item: Any, by_id: Mapping[int, Any]) -> str | None:
    seen: set[int] = set()
    node = item
    while node is not None and node.id not in seen:
        seen.add(node.id)
        if node.kind is WorkKind.PORTFOLIO:
            return str(node.code)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return None


def _business_unit(unit_id: int | None, units: Mapping[int, Any]) -> str | None:
    seen: set[int] = set()
    node = units.get(unit_id) if unit_id is not None else None
    while node is not None and node.id not in seen:
        seen.add(node.id)
        if node.kind is OrgUnitKind.BUSINESS_UNIT:
            return str(node.code)
        node = units.get(node.parent_id) if node.parent_id is not None else None
    return None


def _otc_weight(status: OtcStatus, priority: int | None) -> float:
    if status is not OtcStatus.ACTIVE:
        return 0.0
    return float(max(5 - priority, 1)) if priority is not None else 1.0


def _weights(
    q: _Counter, code: str | None, otcs: Mapping[int, Any]
) -> tuple[dict[str, float], dict[str, int | None], int | None, list[str]]:
    """Driver weights in force, each driver's OTC, the version used, and notes.

    Inactive OTCs weigh 0. Without a stored prioritisation every OTC is a driver (see module).
    """
    prios = q.rows(select(Prioritisation.id, Prioritisation.code, Prioritisation.current_version))
    chosen = None
    if code is not None:
        chosen = next((p for p in prios if p.code == code), None)
        if chosen is None:
            raise NotFoundError(f"no prioritisation with code {code!r}")
    elif len(prios) == 1:
        chosen = prios[0]
    elif len(prios) > 1:
        raise ConfigError(
            f"{len(prios)} prioritisations exist: {', '.join(p.code for p in prios)}",
            hint="choose one with --prioritisation",
        )
    if chosen is None or chosen.current_version == 0:
        weights = {o.code: _otc_weight(o.status, o.priority) for o in otcs.values()}
        if not any(weights.values()):
            raise ConfigError("no active OTC to derive driver weights from", hint="prioritise")
        return (
            weights,
            {o.code: o.id for o in otcs.values()},
            None,
            [
                "no prioritisation stored: one driver per OTC, weight 5 − priority (inactive "
                "OTCs 0), ratings 100 × contribution weight"
            ],
        )
    rows = q.rows(
        select(
            PrioritisationVersion.id,
            Driver.code,
            Driver.otc_id,
            DriverWeight.weight,
        )
        .join(DriverWeight, DriverWeight.version_id == PrioritisationVersion.id)
        .join(Driver, Driver.id == DriverWeight.driver_id)
        .where(
            PrioritisationVersion.prioritisation_id == chosen.id,
            PrioritisationVersion.version == chosen.current_version,
        )
    )
    weights = {}
    driver_otc: dict[str, int | None] = {}
    zeroed: list[str] = []
    for r in rows:
        w = float(r.weight)
        otc = otcs.get(r.otc_id) if r.otc_id is not None else None
        if otc is not None and otc.status is not OtcStatus.ACTIVE and w > 0:
            zeroed.append(f"{r.code} ({otc.code} {otc.status.value})")
            w = 0.0
        weights[r.code] = w
        driver_otc[r.code] = r.otc_id
    notes = [f"weights of prioritisation {chosen.code} v{chosen.current_version}"]
    if zeroed:
        notes.append("drivers weighted 0 because their OTC is not active: " + ", ".join(zeroed))
    if not any(weights.values()):
        raise ConfigError(
            f"every driver of prioritisation {chosen.code} weighs 0", hint="re-prioritise"
        )
    version_id = rows[0].id if rows else None
    return weights, driver_otc, version_id, notes


def _benefit_npv(
    q: _Counter, items: Iterable[int], start: dt.date, rate: float
) -> dict[int, float]:
    """Discounted forecast (else planned) financial benefit per enabling item, from ``start``.

    A benefit enabled by several items is shared equally; dis-benefits count negative.
    """
    wanted = set(items)
    enablers: dict[int, list[int]] = defaultdict(list)
    for r in q.rows(select(BenefitEnabler.benefit_id, BenefitEnabler.work_item_id)):
        enablers[r.benefit_id].append(r.work_item_id)
    out: dict[int, float] = defaultdict(float)
    for r in q.rows(
        select(
            Benefit.id,
            Benefit.kind,
            BenefitProfile.period,
            BenefitProfile.planned,
            BenefitProfile.forecast,
        )
        .join(BenefitProfile, BenefitProfile.benefit_id == Benefit.id)
        .where(Benefit.category != BenefitCategory.NON_FINANCIAL, BenefitProfile.period >= start)
    ):
        amount = r.forecast if r.forecast is not None else r.planned
        who = enablers.get(r.id, [])
        if amount is None or not who:
            continue
        years = (r.period - start).days / 365.25
        pv = float(amount) / math.pow(1.0 + rate, years)
        if r.kind is BenefitKind.DISBENEFIT:
            pv = -pv
        for wid in who:
            if wid in wanted:
                out[wid] += pv / len(who)
    return {k: round(v, 2) for k, v in out.items()}
