"""Portfolio service: drivers and prioritisations, ratings, planning rounds, scenarios, the plan of
record and the rebalance — everything of issue 7 that needs the database.

The workspace exposes it as ``ws.portfolio``; the CLI, the API and the tests call it, none holds
logic of its own. Computation is delegated to the database-free core (:mod:`.builder` builds the
problem, :mod:`.solver` solves it, :mod:`.rebalance` finds the fewest changes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bigov.db.service import Service, get_by_code
from bigov.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from bigov.governance.models import GovernanceNode
from bigov.org.models import OrgUnit
from bigov.portfolio.ahp import ahp_weights
from bigov.portfolio.builder import RoundOptions, RoundProblem, build_round
from bigov.portfolio.models import (
    Driver,
    DriverWeight,
    PlanOfRecord,
    Prioritisation,
    PrioritisationVersion,
    Rating,
    Scenario,
    ScenarioItem,
)
from bigov.portfolio.problem import PairwiseInput, PortfolioProblem, save_problem
from bigov.portfolio.rebalance import DEFAULT_TOLERANCE, RebalanceResult, min_change_plan
from bigov.portfolio.scoring import candidate_values
from bigov.portfolio.solver import PlanItem, Solution, evaluate_plan, plan_usage, solve
from bigov.progress import SILENT, Reporter
from bigov.raid.models import RaidItem, RaidKind
from bigov.strategy.models import Otc, OtcStatus, OtcVersion
from bigov.work.models import Contribution, WorkItem

if TYPE_CHECKING:
    from bigov.portfolio.relax import Relaxation
    from bigov.workspace import Workspace

__all__ = [
    "CommitResult",
    "Comparison",
    "DriverInfo",
    "PortfolioService",
    "PrioritisationInfo",
    "RebalanceReport",
    "ScenarioSummary",
]


# --- results ----------------------------------------------------------------------------------


class DriverInfo(BaseModel):
    code: str
    name: str
    otc: str | None = None
    otc_status: str | None = None


class PrioritisationInfo(BaseModel):
    """A prioritisation and the weights of each of its versions (newest last)."""

    code: str
    name: str
    node: str | None = None
    org_unit: str | None = None
    current_version: int
    versions: list[dict[str, Any]] = Field(default_factory=list)


class ScenarioSummary(BaseModel):
    """A stored scenario as a board reads it."""

    code: str
    name: str
    planning_round: str
    origin: str
    status: str
    proven_optimal: bool
    gap: float
    value: float
    selected: list[str]
    excluded: list[str]
    created_by: str | None = None
    created_at: dt.datetime | None = None
    prioritisation_version: str | None = None
    plan_of_record: bool = False


class ScenarioFigures(BaseModel):
    """One scenario's column of a comparison."""

    name: str
    value: float
    proven_optimal: bool
    selected: int
    spend: dict[str, dict[str, float]]
    spend_by_period: dict[str, float]
    budgets: dict[str, dict[str, float]]
    capacity_use: dict[str, dict[str, float]]
    capacity: dict[str, dict[str, float]]
    split: dict[str, float]  # spend by category run / grow / transform (whole horizon)
    coverage: dict[str, float]  # OTC → share of its contribution weight funded


class Comparison(BaseModel):
    """Scenarios side by side; the first is the baseline the others are read against."""

    scenarios: list[ScenarioFigures]
    items: list[dict[str, Any]]  # code, name, and per scenario: fraction (0 = out) and shift
    lose_coverage: dict[str, list[str]]  # scenario → OTCs covered less than in the baseline
    uncovered: dict[str, list[str]]  # scenario → OTCs with contributors but none funded


class CommitResult(BaseModel):
    planning_round: str
    scenario: str
    decision: str
    committed_on: dt.date
    superseded: str | None = None


class RebalanceReport(BaseModel):
    """A rebalance: what changed in strategy, and the fewest plan changes that answer it."""

    planning_round: str
    plan_of_record: str
    strategy_changes: list[str]
    result: RebalanceResult
    saved_as: str | None = None
    notes: list[str] = Field(default_factory=list)


# --- the service --------------------------------------------------------------------------------


class PortfolioService(Service):
    """Prioritisation, selection, scenarios and the plan of record, on one workspace."""

    def __init__(self, ws: Workspace) -> None:
        super().__init__(ws)

    # -- drivers ------------------------------------------------------------------------------

    def drivers(self) -> list[DriverInfo]:
        """Every driver with its OTC (and that OTC's current status), by code."""
        with self.ws.session() as s:
            rows = s.execute(
                select(Driver.code, Driver.name, Otc.code, Otc.status)
                .outerjoin(Otc, Otc.id == Driver.otc_id)
                .order_by(Driver.code)
            ).all()
        return [
            DriverInfo(code=c, name=n, otc=o, otc_status=st.value if st else None)
            for c, n, o, st in rows
        ]

    def add_driver(
        self, code: str, name: str, *, otc: str | None = None, written_by: str | None = None
    ) -> DriverInfo:
        """Create a driver, optionally standing for an OTC.

        Raises:
            ConflictError: the code exists. NotFoundError: unknown OTC.
        """
        with self.ws.session() as s:
            if s.scalar(select(Driver.id).where(Driver.code == code)) is not None:
                raise ConflictError(f"driver {code!r} exists")
            otc_row = get_by_code(s, Otc, otc) if otc else None
            s.add(
                Driver(
                    code=code,
                    name=name,
                    otc_id=otc_row.id if otc_row else None,
                    written_by=written_by,
                )
            )
        return DriverInfo(code=code, name=name, otc=otc)

    def derive_drivers(self, *, written_by: str | None = None) -> list[DriverInfo]:
        """A driver ``DRV-<OTC code>`` for every active OTC that has none yet; returns all drivers.

        Only OTCs some work contributes to are taken: a driver nothing can score on adds nothing.
        """
        with self.ws.session() as s:
            have = set(s.scalars(select(Driver.otc_id).where(Driver.otc_id.is_not(None))))
            used = set(s.scalars(select(Contribution.otc_id).distinct()))
            existing = set(s.scalars(select(Driver.code)))
            for otc in s.scalars(
                select(Otc).where(Otc.status == OtcStatus.ACTIVE).order_by(Otc.code)
            ):
                code = _code("DRV", otc.code)
                if otc.id in have or otc.id not in used or code in existing:
                    continue
                s.add(Driver(code=code, name=otc.title, otc_id=otc.id, written_by=written_by))
        return self.drivers()

    # -- prioritisations ----------------------------------------------------------------------

    def prioritise(
        self,
        code: str,
        *,
        weights: Mapping[str, float] | None = None,
        pairwise: PairwiseInput | None = None,
        name: str | None = None,
        node: str | None = None,
        org_unit: str | None = None,
        effective_from: dt.date | None = None,
        reason: str | None = None,
        written_by: str | None = None,
    ) -> PrioritisationInfo:
        """Set driver weights as a new version of prioritisation ``code`` (created if new).

        Exactly one of ``weights`` (any positive numbers, normalised) and ``pairwise`` (AHP; the
        judgements and their consistency ratio are stored) is given. Earlier versions are kept.

        Raises:
            ConfigError: both or neither of weights/pairwise; weights summing to 0.
            NotFoundError: unknown driver, node or org unit.
        """
        if (weights is None) == (pairwise is None):
            raise ConfigError("give driver weights directly or by pairwise comparison (one)")
        method: Literal["direct", "pairwise"] = "direct" if weights is not None else "pairwise"
        cr: float | None = None
        if pairwise is not None:
            ahp = ahp_weights(pairwise.drivers, pairwise.matrix)
            norm = dict(ahp.weights)
            cr = float(ahp.cr)
        else:
            assert weights is not None
            bad = [d for d, w in weights.items() if not w >= 0]
            total = sum(weights.values())
            if bad or total <= 0:
                raise ConfigError("driver weights must be non-negative and not all zero")
            norm = {d: w / total for d, w in weights.items()}
        with self.ws.session() as s:
            drivers = {
                d.code: d for d in s.scalars(select(Driver).where(Driver.code.in_(list(norm))))
            }
            missing = sorted(set(norm) - set(drivers))
            if missing:
                raise NotFoundError(f"no driver with code {', '.join(map(repr, missing))}")
            prio = s.scalar(select(Prioritisation).where(Prioritisation.code == code))
            if prio is None:
                prio = Prioritisation(code=code, name=name or code, written_by=written_by)
                s.add(prio)
            if name:
                prio.name = name
            if node:
                prio.node_id = get_by_code(s, GovernanceNode, node).id
            if org_unit:
                prio.org_unit_id = get_by_code(s, OrgUnit, org_unit).id
            s.flush()
            prio.current_version += 1
            version = PrioritisationVersion(
                code=_code(code, f"v{prio.current_version}"),
                prioritisation_id=prio.id,
                version=prio.current_version,
                effective_from=effective_from or dt.date.today(),
                method=method,
                pairwise=pairwise.model_dump(mode="json") if pairwise else None,
                consistency_ratio=cr,
                reason=reason,
                written_by=written_by,
            )
            s.add(version)
            s.flush()
            for d, w in norm.items():
                s.add(
                    DriverWeight(
                        code=_code(version.code, d),
                        version_id=version.id,
                        driver_id=drivers[d].id,
                        weight=Decimal(f"{w:.6f}"),
                        written_by=written_by,
                    )
                )
        return self.prioritisation(code)

    def prioritisation(self, code: str) -> PrioritisationInfo:
        """A prioritisation with every version's weights."""
        with self.ws.session() as s:
            prio = get_by_code(s, Prioritisation, code)
            node = s.get(GovernanceNode, prio.node_id) if prio.node_id else None
            unit = s.get(OrgUnit, prio.org_unit_id) if prio.org_unit_id else None
            rows = s.execute(
                select(PrioritisationVersion, Driver.code, DriverWeight.weight)
                .join(DriverWeight, DriverWeight.version_id == PrioritisationVersion.id)
                .join(Driver, Driver.id == DriverWeight.driver_id)
                .where(PrioritisationVersion.prioritisation_id == prio.id)
                .order_by(PrioritisationVersion.version, Driver.code)
            ).all()
            versions: dict[int, dict[str, Any]] = {}
            for v, d, w in rows:
                entry = versions.setdefault(
                    v.version,
                    {
                        "version": v.version,
                        "code": v.code,
                        "effective_from": v.effective_from.isoformat(),
                        "method": v.method,
                        "consistency_ratio": v.consistency_ratio,
                        "reason": v.reason,
                        "weights": {},
                    },
                )
                entry["weights"][d] = float(w)
            return PrioritisationInfo(
                code=prio.code,
                name=prio.name,
                node=node.code if node else None,
                org_unit=unit.code if unit else None,
                current_version=prio.current_version,
                versions=[versions[k] for k in sorted(versions)],
            )

    def prioritisations(self) -> list[PrioritisationInfo]:
        """Every prioritisation with its versions."""
        with self.ws.session() as s:
            codes = list(s.scalars(select(Prioritisation.code).order_by(Prioritisation.code)))
        return [self.prioritisation(c) for c in codes]

    # -- ratings -------------------------------------------------------------------------------

    def rate(
        self,
        ratings: Mapping[str, Mapping[str, float]],
        *,
        note: str | None = None,
        written_by: str | None = None,
    ) -> int:
        """Store ratings ``{work item: {driver: score}}`` (replacing earlier ones); returns count.

        Raises:
            NotFoundError: unknown work item or driver (nothing is written).
            ValidationError: a negative or non-finite score.
        """
        bad = [
            f"{i}/{d}"
            for i, row in ratings.items()
            for d, v in row.items()
            if not (v >= 0 and v != float("inf"))
        ]
        if bad:
            raise ValidationError(f"scores must be non-negative numbers: {', '.join(bad)}")
        with self.ws.session() as s:
            items = dict(
                s.execute(
                    select(WorkItem.code, WorkItem.id).where(WorkItem.code.in_(list(ratings)))
                ).all()
            )
            wanted = {d for row in ratings.values() for d in row}
            drivers = dict(
                s.execute(select(Driver.code, Driver.id).where(Driver.code.in_(wanted))).all()
            )
            missing = sorted(set(ratings) - set(items)) + sorted(wanted - set(drivers))
            if missing:
                raise NotFoundError(f"unknown work item or driver: {', '.join(missing)}")
            existing = {
                (r.work_item_id, r.driver_id): r
                for r in s.scalars(select(Rating).where(Rating.work_item_id.in_(items.values())))
            }
            n = 0
            for item, row in ratings.items():
                for d, v in row.items():
                    key = (items[item], drivers[d])
                    score = Decimal(f"{v:.6f}")
                    if key in existing:
                        existing[key].score = score
                        existing[key].note = note
                    else:
                        s.add(
                            Rating(
                                code=_code("RT", item, d),
                                work_item_id=key[0],
                                driver_id=key[1],
                                score=score,
                                note=note,
                                written_by=written_by,
                            )
                        )
                    n += 1
            return n

    def ratings(self) -> dict[str, dict[str, float]]:
        """Stored ratings as ``{work item: {driver: score}}``."""
        with self.ws.session() as s:
            out: dict[str, dict[str, float]] = defaultdict(dict)
            for item, d, v in s.execute(
                select(WorkItem.code, Driver.code, Rating.score)
                .join(WorkItem, WorkItem.id == Rating.work_item_id)
                .join(Driver, Driver.id == Rating.driver_id)
                .order_by(WorkItem.code, Driver.code)
            ):
                out[item][d] = float(v)
            return dict(out)

    # -- rounds -------------------------------------------------------------------------------

    def build_problem(self, options: RoundOptions, *, name: str | None = None) -> RoundProblem:
        """The planning round as a problem (rules in :mod:`bigov.portfolio.builder`)."""
        with self.ws.session() as s:
            return build_round(s, options, name=name)

    def export_problem(self, options: RoundOptions, path: str | Path) -> RoundProblem:
        """Build the round and write it in the documented file format (.json, else YAML)."""
        built = self.build_problem(options)
        save_problem(built.problem, path)
        return built

    def relax_round(
        self,
        options: RoundOptions,
        *,
        allow: Sequence[str] = ("budget", "capacity", "force"),
        force_weight: float | None = None,
        time_limit: float | None = 30.0,
    ) -> Relaxation:
        """What would make the round feasible: the least weighted changes of budgets (by source
        and period), capacity (by skill and month) and forced decisions, each kind allowed or
        not (see :mod:`bigov.portfolio.relax`). A feasible round answers ``feasible = True``.

        Raises:
            ConfigError: no or unknown kinds of change.
        """
        from bigov.portfolio.relax import ALL_KINDS, DEFAULT_FORCE_WEIGHT, relax

        unknown = [k for k in allow if k not in ALL_KINDS]
        if unknown:
            raise ConfigError(
                f"unknown kind of change: {', '.join(unknown)}", hint="budget, capacity, force"
            )
        kinds = [k for k in ALL_KINDS if k in set(allow)]
        built = self.build_problem(options)
        return relax(
            built.problem,
            allow=kinds,
            force_weight=DEFAULT_FORCE_WEIGHT if force_weight is None else force_weight,
            time_limit=time_limit,
        )

    def optimise(
        self,
        name: str,
        options: RoundOptions,
        *,
        time_limit: float | None = None,
        mip_gap: float | None = None,
        description: str | None = None,
        created_by: str | None = None,
        reporter: Reporter = SILENT,
    ) -> ScenarioSummary:
        """Build the round, solve it and save the result as scenario ``name``.

        Raises:
            ConflictError: a scenario of that name exists.
            InfeasibleError: the round has no feasible plan (with the conflicting constraints).
        """
        self._check_free(name)
        reporter.start("building the planning round")
        built = self.build_problem(options)
        reporter.finish()
        reporter.start(f"solving {len(built.problem.candidates)} candidates")
        try:
            kwargs: dict[str, Any] = {"time_limit": time_limit}
            if mip_gap is not None:
                kwargs["mip_gap"] = mip_gap
            solution = solve(built.problem, **kwargs)
        finally:
            reporter.finish()
        params = {**options.model_dump(mode="json"), "time_limit": time_limit}
        return self._store(
            name,
            built.problem,
            solution.plan(),
            planning_round=built.planning_round,
            origin="solved",
            status=solution.status,
            proven_optimal=solution.proven_optimal,
            gap=solution.gap,
            bound=solution.bound,
            run_time=solution.run_time,
            parameters=params,
            version_id=built.prioritisation_version_id,
            description=description,
            created_by=created_by,
        )

    def import_scenario(
        self,
        name: str,
        problem: PortfolioProblem,
        solution: Solution | None = None,
        *,
        planning_round: str | None = None,
        time_limit: float | None = None,
        description: str | None = None,
        created_by: str | None = None,
    ) -> ScenarioSummary:
        """Save a problem file and its solution (solved now when not given) as a scenario.

        Raises:
            ValidationError: the solution names items the problem lacks, or breaks its rules.
        """
        self._check_free(name)
        if solution is None:
            solution = solve(problem, time_limit=time_limit)
        plan = solution.plan()
        unknown = sorted(set(plan) - {c.code for c in problem.candidates})
        if unknown:
            raise ValidationError(f"the solution selects unknown candidates: {', '.join(unknown)}")
        _, broken = evaluate_plan(problem, plan)
        if broken:
            raise ValidationError("the solution breaks the problem's rules: " + "; ".join(broken))
        return self._store(
            name,
            problem,
            plan,
            planning_round=planning_round or problem.name,
            origin="imported",
            status=solution.status,
            proven_optimal=solution.proven_optimal,
            gap=solution.gap,
            bound=solution.bound,
            run_time=solution.run_time,
            parameters={},
            version_id=None,
            description=description,
            created_by=created_by,
        )

    # -- scenarios ----------------------------------------------------------------------------

    def scenarios(self, planning_round: str | None = None) -> list[ScenarioSummary]:
        """Stored scenarios (of one round), oldest first."""
        with self.ws.session() as s:
            q = select(Scenario).order_by(Scenario.id)
            if planning_round:
                q = q.where(Scenario.planning_round == planning_round)
            rows = list(s.scalars(q))
            return [self._summary(s, sc) for sc in rows]

    def scenario(self, name: str) -> ScenarioSummary:
        """One scenario by name or code."""
        with self.ws.session() as s:
            return self._summary(s, _scenario(s, name))

    def scenario_problem(self, name: str) -> tuple[PortfolioProblem, dict[str, PlanItem]]:
        """The problem a scenario was solved on and its plan."""
        with self.ws.session() as s:
            sc = _scenario(s, name)
            return PortfolioProblem.model_validate(sc.problem), _plan(s, sc.id)

    def compare(self, names: Sequence[str]) -> Comparison:
        """Scenarios side by side: value, selected items, spend by period and source, capacity
        use, run/grow/transform split, and which OTCs lose coverage against the first one.

        Coverage of an OTC = Σ contribution weight × funded fraction of its contributors.
        """
        if not names:
            raise ConfigError("name at least one scenario to compare")
        with self.ws.session() as s:
            loaded = []
            for n in names:
                sc = _scenario(s, n)
                loaded.append((sc, PortfolioProblem.model_validate(sc.problem), _plan(s, sc.id)))
            codes = sorted({c.code for _, p, _ in loaded for c in p.candidates})
            contrib = s.execute(
                select(WorkItem.code, Otc.code, Contribution.weight)
                .join(WorkItem, WorkItem.id == Contribution.work_item_id)
                .join(Otc, Otc.id == Contribution.otc_id)
                .where(WorkItem.code.in_(codes))
            ).all()
        by_otc: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for item, otc, w in contrib:
            by_otc[otc].append((item, float(w)))
        figures: list[ScenarioFigures] = []
        for sc, problem, plan in loaded:
            spend, use = plan_usage(problem, plan)
            split: dict[str, float] = defaultdict(float)
            for c in problem.candidates:
                if c.code in plan:
                    total = sum(sum(t.values()) for t in (c.cost or {}).values())
                    split[c.category.value] += total * plan[c.code].fraction
            coverage = {
                otc: round(sum(w * plan[i].fraction for i, w in rows if i in plan), 6)
                for otc, rows in sorted(by_otc.items())
            }
            figures.append(
                ScenarioFigures(
                    name=sc.name,
                    value=sc.value,
                    proven_optimal=sc.proven_optimal,
                    selected=len(plan),
                    spend=spend,
                    spend_by_period={
                        p: round(sum(t.get(p, 0.0) for t in spend.values()), 2)
                        for p in problem.periods
                    },
                    budgets=problem.budgets,
                    capacity_use=use,
                    capacity=problem.capacity,
                    split=dict(split),
                    coverage=coverage,
                )
            )
        names_ = [f.name for f in figures]
        items: list[dict[str, Any]] = []
        name_of = {c.code: c.name for _, p, _ in loaded for c in p.candidates}
        for code in codes:
            row: dict[str, Any] = {"code": code, "name": name_of.get(code, "")}
            fracs = []
            for (_, _, plan), n in zip(loaded, names_, strict=True):
                chosen = plan.get(code)
                row[n] = {
                    "fraction": chosen.fraction if chosen else 0.0,
                    "shift": chosen.shift if chosen else 0,
                }
                fracs.append((round(chosen.fraction, 6), chosen.shift) if chosen else (0.0, 0))
            row["differs"] = len(set(fracs)) > 1
            items.append(row)
        base = figures[0].coverage
        lose = {
            f.name: [o for o, v in f.coverage.items() if v < base.get(o, 0.0) - 1e-9]
            for f in figures[1:]
        }
        uncovered = {f.name: [o for o, v in f.coverage.items() if v <= 0] for f in figures}
        return Comparison(scenarios=figures, items=items, lose_coverage=lose, uncovered=uncovered)

    # -- plan of record -------------------------------------------------------------------------

    def commit(
        self,
        name: str,
        *,
        decided_on: dt.date | None = None,
        node: str | None = None,
        decision: str | None = None,
        title: str | None = None,
        written_by: str | None = None,
    ) -> CommitResult:
        """Commit scenario ``name`` as the plan of record of its round, through a decision.

        A new RAID item of kind decision is recorded (on ``node``'s log when given, else on the
        log of the node owning the scenario's prioritisation), unless ``decision`` names an
        existing decision (e.g. one recorded at a board's sitting). The round's previous plan of
        record is superseded, not deleted.

        Raises:
            NotFoundError: unknown scenario, node or decision.
            ConfigError: ``decision`` is a RAID item of another kind.
        """
        day = decided_on or dt.date.today()
        with self.ws.session() as s:
            sc = _scenario(s, name)
            if decision:
                raid = get_by_code(s, RaidItem, decision)
                if raid.kind is not RaidKind.DECISION:
                    raise ConfigError(f"{decision} is a {raid.kind.value}, not a decision")
            else:
                node_id = get_by_code(s, GovernanceNode, node).id if node else _owner_node(s, sc)
                n = int(
                    s.scalar(
                        select(func.count())
                        .select_from(RaidItem)
                        .where(RaidItem.code.like("DEC-POR-%"))
                    )
                    or 0
                )
                code = f"DEC-POR-{n + 1:04d}"
                while s.scalar(select(RaidItem.id).where(RaidItem.code == code)) is not None:
                    n += 1
                    code = f"DEC-POR-{n + 1:04d}"
                plan = _plan(s, sc.id)
                raid = RaidItem(
                    code=code,
                    kind=RaidKind.DECISION,
                    title=(title or f"Commit scenario '{sc.name}' as the {sc.planning_round} plan")[
                        :255
                    ],
                    description=(
                        f"Plan of record for {sc.planning_round}: scenario {sc.code} "
                        f"'{sc.name}', value {sc.value:.4g}, {len(plan)} items selected: "
                        + ", ".join(sorted(plan))
                    ),
                    node_id=node_id,
                    raised_on=day,
                    written_by=written_by,
                )
                s.add(raid)
                s.flush()
            current = s.scalar(
                select(PlanOfRecord).where(
                    PlanOfRecord.planning_round == sc.planning_round,
                    PlanOfRecord.superseded_on.is_(None),
                )
            )
            superseded = None
            if current is not None:
                current.superseded_on = day
                old = s.get(Scenario, current.scenario_id)
                superseded = old.name if old else None
            n_por = int(s.scalar(select(func.count()).select_from(PlanOfRecord)) or 0)
            s.add(
                PlanOfRecord(
                    code=_code("POR", sc.planning_round, str(n_por + 1)),
                    planning_round=sc.planning_round,
                    scenario_id=sc.id,
                    decision_id=raid.id,
                    committed_on=day,
                    committed_by=written_by,
                    written_by=written_by,
                )
            )
            return CommitResult(
                planning_round=sc.planning_round,
                scenario=sc.name,
                decision=raid.code,
                committed_on=day,
                superseded=superseded,
            )

    def plan_of_record(self, planning_round: str | None = None) -> ScenarioSummary | None:
        """The scenario in force as plan of record (of a round; else the latest committed)."""
        with self.ws.session() as s:
            por = _current_por(s, planning_round)
            if por is None:
                return None
            sc = s.get(Scenario, por.scenario_id)
            assert sc is not None
            return self._summary(s, sc)

    def rebalance(
        self,
        planning_round: str | None = None,
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        time_limit: float | None = 30.0,
        save_as: str | None = None,
        created_by: str | None = None,
    ) -> RebalanceReport:
        """Re-run the plan of record's round on today's strategy and show the fewest changes.

        The round is rebuilt from the workspace with the plan of record's own options (years,
        stoppable items, prioritisation — whose *current* version now applies, and whose drivers
        weigh 0 if their OTC was withdrawn), then :func:`min_change_plan` finds the plan within
        ``tolerance`` of the new optimum that changes least. ``save_as`` stores it as a scenario
        (ready to be committed).

        Raises:
            NotFoundError: no plan of record. ConfigError: it was imported (nothing to rebuild).
        """
        if save_as:
            self._check_free(save_as)
        with self.ws.session() as s:
            por = _current_por(s, planning_round)
            if por is None:
                raise NotFoundError(
                    "no plan of record" + (f" for {planning_round}" if planning_round else ""),
                    hint="commit a scenario first",
                )
            sc = s.get(Scenario, por.scenario_id)
            assert sc is not None
            if "years" not in sc.parameters:
                raise ConfigError(
                    f"scenario {sc.name!r} was imported; a rebalance needs a round built "
                    "from the workspace"
                )
            reference = _plan(s, sc.id)
            options = RoundOptions.model_validate(
                {k: v for k, v in sc.parameters.items() if k in RoundOptions.model_fields}
            )
            since = por.committed_on
            changes = [
                f"{code} v{v.version} from {v.effective_from.isoformat()}: {v.status.value}"
                + (f" ({v.change_reason})" if v.change_reason else "")
                for code, v in s.execute(
                    select(Otc.code, OtcVersion)
                    .join(Otc, Otc.id == OtcVersion.otc_id)
                    .where(OtcVersion.version > 1)
                    .where(
                        (OtcVersion.effective_from >= since)
                        | (OtcVersion.created_at > por.created_at)
                    )
                    .order_by(OtcVersion.effective_from, Otc.code)
                )
            ]
            built = build_round(s, options)
            round_code, por_name = sc.planning_round, sc.name
        result = min_change_plan(
            built.problem, reference, tolerance=tolerance, time_limit=time_limit
        )
        saved = None
        if save_as:
            saved = self._store(
                save_as,
                built.problem,
                result.plan,
                planning_round=round_code,
                origin="rebalance",
                status="optimal" if result.minimal_proven else "time_limit",
                proven_optimal=result.optimum_proven,
                gap=0.0,
                bound=result.optimum_value,
                run_time=result.run_time,
                parameters={**options.model_dump(mode="json"), "tolerance": tolerance},
                version_id=built.prioritisation_version_id,
                description=f"rebalance of {por_name}",
                created_by=created_by,
            ).name
        return RebalanceReport(
            planning_round=round_code,
            plan_of_record=por_name,
            strategy_changes=changes,
            result=result,
            saved_as=saved,
            notes=built.notes,
        )

    # -- internals ----------------------------------------------------------------------------

    def _check_free(self, name: str) -> None:
        with self.ws.session() as s:
            if s.scalar(select(Scenario.id).where(Scenario.name == name)) is not None:
                raise ConflictError(f"a scenario named {name!r} exists", hint="choose another name")

    def _store(
        self,
        name: str,
        problem: PortfolioProblem,
        plan: Mapping[str, PlanItem],
        *,
        planning_round: str,
        origin: str,
        status: str,
        proven_optimal: bool,
        gap: float,
        bound: float | None,
        run_time: float | None,
        parameters: dict[str, Any],
        version_id: int | None,
        description: str | None,
        created_by: str | None,
    ) -> ScenarioSummary:
        values = candidate_values(problem)
        total = sum(values[c] * i.fraction for c, i in plan.items())
        with self.ws.session() as s:
            if s.scalar(select(Scenario.id).where(Scenario.name == name)) is not None:
                raise ConflictError(f"a scenario named {name!r} exists", hint="choose another name")
            n = int(s.scalar(select(func.count()).select_from(Scenario)) or 0)
            code = f"SCN-{n + 1:04d}"
            while s.scalar(select(Scenario.id).where(Scenario.code == code)) is not None:
                n += 1
                code = f"SCN-{n + 1:04d}"
            sc = Scenario(
                code=code,
                name=name,
                description=description,
                planning_round=planning_round,
                origin=origin,
                prioritisation_version_id=version_id,
                parameters=parameters,
                problem=problem.model_dump(mode="json", exclude_defaults=True),
                status=status,
                proven_optimal=proven_optimal,
                gap=gap,
                value=total,
                bound=bound,
                run_time=run_time,
                created_by=created_by,
                written_by=created_by,
            )
            s.add(sc)
            s.flush()
            ids = dict(
                s.execute(
                    select(WorkItem.code, WorkItem.id).where(
                        WorkItem.code.in_([c.code for c in problem.candidates])
                    )
                ).all()
            )
            rows = []
            for k, c in enumerate(problem.candidates, start=1):
                item = plan.get(c.code)
                rows.append(
                    {
                        "code": f"{code}/{k:05d}",
                        "scenario_id": sc.id,
                        "candidate": c.code,
                        "work_item_id": ids.get(c.code),
                        "selected": item is not None,
                        "start_shift": item.shift if item else 0,
                        "fraction": Decimal(f"{item.fraction:.6f}") if item else Decimal(0),
                        "value": values[c.code] * item.fraction if item else 0.0,
                        "written_by": created_by,
                    }
                )
            if rows:
                s.execute(insert(ScenarioItem), rows)
            return self._summary(s, sc)

    def _summary(self, s: Session, sc: Scenario) -> ScenarioSummary:
        rows = s.execute(
            select(ScenarioItem.candidate, ScenarioItem.selected)
            .where(ScenarioItem.scenario_id == sc.id)
            .order_by(ScenarioItem.candidate)
        ).all()
        version = (
            s.get(PrioritisationVersion, sc.prioritisation_version_id)
            if sc.prioritisation_version_id
            else None
        )
        por = s.scalar(
            select(PlanOfRecord.id).where(
                PlanOfRecord.scenario_id == sc.id, PlanOfRecord.superseded_on.is_(None)
            )
        )
        return ScenarioSummary(
            code=sc.code,
            name=sc.name,
            planning_round=sc.planning_round,
            origin=sc.origin,
            status=sc.status,
            proven_optimal=sc.proven_optimal,
            gap=sc.gap,
            value=sc.value,
            selected=[c for c, sel in rows if sel],
            excluded=[c for c, sel in rows if not sel],
            created_by=sc.created_by,
            created_at=sc.created_at,
            prioritisation_version=version.code if version else None,
            plan_of_record=por is not None,
        )


# --- helpers ------------------------------------------------------------------------------------


def _code(*parts: str) -> str:
    """A readable code from parts; hashed down when it would not fit the 64-character column."""
    text = "/".join(parts)
    if len(text) <= 64:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{text[:50]}~{digest}"


def _scenario(s: Session, name: str) -> Scenario:
    sc = s.scalar(select(Scenario).where((Scenario.name == name) | (Scenario.code == name)))
    if sc is None:
        raise NotFoundError(f"no scenario named {name!r}")
    return sc


def _plan(s: Session, scenario_id: int) -> dict[str, PlanItem]:
    return {
        c: PlanItem(int(shift), float(frac))
        for c, shift, frac in s.execute(
            select(ScenarioItem.candidate, ScenarioItem.start_shift, ScenarioItem.fraction).where(
                ScenarioItem.scenario_id == scenario_id, ScenarioItem.selected.is_(True)
            )
        )
    }


def _current_por(s: Session, planning_round: str | None) -> PlanOfRecord | None:
    q = select(PlanOfRecord).where(PlanOfRecord.superseded_on.is_(None))
    if planning_round:
        q = q.where(PlanOfRecord.planning_round == planning_round)
    return s.scalar(q.order_by(PlanOfRecord.committed_on.desc(), PlanOfRecord.id.desc()).limit(1))


def _owner_node(s: Session, sc: Scenario) -> int | None:
    if sc.prioritisation_version_id is None:
        return None
    return s.scalar(
        select(Prioritisation.node_id)
        .join(PrioritisationVersion, PrioritisationVersion.prioritisation_id == Prioritisation.id)
        .where(PrioritisationVersion.id == sc.prioritisation_version_id)
    )
