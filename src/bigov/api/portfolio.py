"""The portfolio optimiser over HTTP, thin over :class:`bigov.portfolio.service.PortfolioService`
and :func:`bigov.portfolio.frontier.compute_frontier`: a planning round as a problem, solved
scenarios (list, detail, side by side), solving a new scenario, and the efficient frontier.

Portfolio selection is an organisation-wide decision: reading it needs the admin or pmo role
or a seat on a board that governs the whole organisation; solving and storing a scenario needs
admin or pmo (it is audited). Solver runs are bounded (time limit per solve, points of a
frontier), so one request cannot hold a worker for long."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bigov.api.common import CODE_RE, SafeStr
from bigov.auth.scope import Scope
from bigov.auth.service import Principal, record
from bigov.errors import InfeasibleError
from bigov.portfolio.builder import RoundOptions
from bigov.server.deps import StateDep, UserDep, client_ip, scoped_read
from bigov.server.problems import Problem

router = APIRouter(prefix="/portfolio", tags=["portfolio"])
MAX_SECONDS = 30.0  # per solve: the server answers while it waits


def _organisation(st: StateDep, user: Principal) -> Scope:
    with scoped_read(st, user) as (_, scope):
        if not scope.organisation:
            raise Problem(
                403,
                "the portfolio needs the admin or pmo role, or a seat on a board that governs "
                "the whole organisation",
            )
        return scope


class RoundIn(RoundOptions):
    """The choices that make a planning round (:class:`~bigov.portfolio.builder.RoundOptions`),
    bounded at the edge: fiscal years a calendar holds, finite weights and rates."""

    model_config = ConfigDict(extra="forbid")
    years: list[Annotated[int, Field(ge=1900, le=2200)]] = Field(min_length=1, max_length=10)
    prioritisation: SafeStr | None = Field(None, max_length=64)
    stoppable: list[Annotated[SafeStr, Field(max_length=64)]] = Field(
        default_factory=list, max_length=10000
    )
    npv_weight: float = Field(0.0, ge=0, le=1e6, allow_inf_nan=False)
    run_min_fraction: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    discount_rate: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)

    def options(self) -> RoundOptions:
        return RoundOptions.model_validate(self.model_dump())


def _infeasible(err: InfeasibleError) -> Problem:
    return Problem(422, str(err), conflict=err.conflict)


@router.get("/scenarios")
def list_scenarios(
    st: StateDep,
    user: UserDep,
    planning_round: Annotated[str | None, Query(max_length=64, pattern=CODE_RE)] = None,
) -> Any:
    """Stored scenarios (of one planning round), oldest first."""
    _organisation(st, user)
    return [s.model_dump(mode="json") for s in st.ws.portfolio.scenarios(planning_round)]


ScenarioName = Annotated[SafeStr, Path(max_length=128, description="Name or code.")]


@router.get("/scenarios/{name}", responses={404: {}})
def get_scenario(name: ScenarioName, st: StateDep, user: UserDep) -> Any:
    """One scenario (by name or code): its value, plan and the round it was solved on."""
    _organisation(st, user)
    return st.ws.portfolio.scenario(name).model_dump(mode="json")


@router.get("/scenarios/{name}/problem", responses={404: {}})
def get_scenario_problem(name: ScenarioName, st: StateDep, user: UserDep) -> Any:
    """The problem a scenario was solved on (the documented problem format) and its plan."""
    _organisation(st, user)
    problem, plan = st.ws.portfolio.scenario_problem(name)
    return {
        "problem": problem.model_dump(mode="json"),
        "plan": {code: {"shift": i.shift, "fraction": i.fraction} for code, i in plan.items()},
    }


@router.get("/compare")
def compare(
    st: StateDep,
    user: UserDep,
    names: Annotated[list[str], Query(min_length=1, max_length=8)],
) -> Any:
    """Scenarios side by side (value, selection, spend, capacity, split, OTC coverage)."""
    _organisation(st, user)
    return st.ws.portfolio.compare(names).model_dump(mode="json")


@router.post("/problems")
def build_problem(body: RoundIn, st: StateDep, user: UserDep) -> Any:
    """The planning round built as a problem (what `bigov portfolio round --export` writes),
    with the notes on what was derived."""
    _organisation(st, user)
    return st.ws.portfolio.build_problem(body.options()).model_dump(mode="json")


class SolveIn(BaseModel):
    """Solve the round ``options`` and keep the result as scenario ``name``."""

    model_config = ConfigDict(extra="forbid")
    name: SafeStr = Field(pattern=CODE_RE)
    options: RoundIn
    time_limit: float = Field(10.0, gt=0, le=MAX_SECONDS)
    mip_gap: float | None = Field(None, ge=0, le=1)
    description: SafeStr | None = Field(None, max_length=2000)


@router.post("/scenarios", status_code=201, responses={403: {}, 409: {}, 422: {}})
def solve_scenario(body: SolveIn, request: Request, st: StateDep, user: UserDep) -> Any:
    """Solve a planning round and store it as a new scenario (admin, pmo): 201 with its
    summary, 409 if the name is taken, 422 with the conflicting rules when infeasible."""
    if not user.sees_everything:
        raise Problem(403, f"your role ({user.role.value}) may not store scenarios")
    try:
        summary = st.ws.portfolio.optimise(
            body.name,
            body.options.options(),
            time_limit=body.time_limit,
            mip_gap=body.mip_gap,
            description=body.description,
            created_by=user.email,
        )
    except InfeasibleError as err:
        raise _infeasible(err) from None
    out = summary.model_dump(mode="json")
    with st.ws.session() as s:
        record(
            s,
            who=user.email,
            ip=client_ip(request),
            action="create",
            kind="portfolio_scenario",
            code=body.name,
            before=None,
            after={"options": body.options.model_dump(mode="json"), "summary": out},
        )
    return JSONResponse(out, status_code=201)


class FrontierIn(BaseModel):
    """The efficient frontier of a stored scenario's problem (``scenario``) or of a round
    (``options``): best value at ``points`` levels of budget, or of one skill's capacity."""

    model_config = ConfigDict(extra="forbid")
    scenario: SafeStr | None = Field(None, max_length=128)
    options: RoundIn | None = None
    points: int = Field(10, ge=1, le=30)
    dimension: Literal["budget", "capacity"] = "budget"
    resource: SafeStr | None = Field(
        None, max_length=64, description="The funding source (budget) or skill (capacity)."
    )
    time_limit: float = Field(5.0, gt=0, le=MAX_SECONDS / 3, description="Seconds per point.")


@router.post("/frontier")
def frontier(body: FrontierIn, st: StateDep, user: UserDep) -> Any:
    """Best value at each level of budget (or of one skill's capacity), as `bigov portfolio
    frontier --json` prints it."""
    from bigov.portfolio.frontier import compute_frontier

    _organisation(st, user)
    if (body.scenario is None) == (body.options is None):
        raise Problem(422, "field 'scenario': give either a scenario or round options")
    if body.scenario is not None:
        problem, _ = st.ws.portfolio.scenario_problem(body.scenario)
    else:
        assert body.options is not None
        problem = st.ws.portfolio.build_problem(body.options.options()).problem
    try:
        result = compute_frontier(
            problem,
            body.points,
            dimension=body.dimension,
            resource=body.resource,
            time_limit=body.time_limit,
        )
    except InfeasibleError as err:
        raise _infeasible(err) from None
    return result.model_dump(mode="json")
