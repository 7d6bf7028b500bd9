"""Benefit owner, executive and portfolio manager pages: benefits with their realisation curves
and the period's entry; the strategy map, attainment, balance, capacity and agility; driver
weights (direct or AHP), scenarios, the optimiser and committing the plan of record."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bigov.benefits import entry
from bigov.errors import BigovError, NotFoundError, ValidationError
from bigov.server.deps import client_ip
from bigov.web import charts, service
from bigov.web.core import (
    ForbiddenError,
    PageNotFoundError,
    UserDep,
    WebUser,
    redirect,
    render,
    require,
    state,
)
from bigov.web.pmo import PMO, jobs

router = APIRouter(include_in_schema=False)
PRIORITISATION = "PRIO-WEB"
AHP_SCALE = ["1/9", "1/7", "1/5", "1/3", "1", "3", "5", "7", "9"]

# -- benefits --


@router.get("/benefits")
def benefits_page(request: Request, user: UserDep, mine: bool = False) -> Response:
    st = state(request)
    with st.ws.session() as s:
        rows = service.benefits(s, user.scope(s), mine_only=mine)
    return render(
        request, "benefits.html.j2", {"title": "Benefits", "rows": rows, "mine": mine}, user=user
    )


def _benefit(request: Request, user: WebUser, code: str) -> tuple[service.BenefitRow, bool]:
    st = state(request)
    with st.ws.session() as s:
        scope = user.scope(s)
        found = service.benefits(s, scope, limit=1, code=code)
        may = scope.may_write_benefits()
    if not found:
        raise PageNotFoundError("benefit")
    return found[0], may


def _benefit_page(
    request: Request,
    user: WebUser,
    code: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    flash: str = "",
    status: int = 200,
) -> Response:
    b, may = _benefit(request, user, code)
    points = entry.profile(state(request).ws, code)
    cum: dict[str, list[float | None]] = {"planned": [], "forecast": [], "actual": []}
    run = {"planned": Decimal(0), "forecast": Decimal(0), "actual": Decimal(0)}
    for p in points:
        for k in run:
            v = getattr(p, k)
            if v is not None:
                run[k] += v
            # a curve stops where its data stops (the actual at the last month reported)
            cum[k].append(float(run[k]) if v is not None else None)
    chart = charts.lines(
        [p.period for p in points],
        list(cum.items()),
        title=f"Cumulative realisation of {b.name}: planned, forecast and actual",
    )
    last = next((p.period for p in reversed(points) if p.actual is not None), None)
    return render(
        request,
        "benefit.html.j2",
        {
            "title": b.name,
            "b": b,
            "points": points,
            "chart": chart,
            "may_write": may,
            "errors": errors or {},
            "form": form or {"period": last or dt.date.today().strftime("%Y-%m")},
            "flash": flash,
            "breadcrumbs": [("Benefits", "/benefits"), (code, None)],
        },
        user=user,
        status=status,
    )


@router.get("/benefits/{code}")
def benefit_page(request: Request, code: str, user: UserDep, saved: str = "") -> Response:
    flash = f"Saved {saved}." if re.fullmatch(r"\d{4}-\d{2}", saved) else ""
    return _benefit_page(request, user, code, flash=flash)


@router.post("/benefits/{code}")
def benefit_post(
    request: Request,
    code: str,
    user: UserDep,
    period: Annotated[str, Form(max_length=16)] = "",
    actual: Annotated[str, Form(max_length=64)] = "",
    forecast: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    _b, may = _benefit(request, user, code)
    if not may:
        raise ForbiddenError(f"your role ({user.label}) may not change benefits")
    try:
        point = entry.record_period(
            state(request).ws,
            code,
            period,
            actual,
            forecast,
            user=user.email,
            client_ip=client_ip(request),
        )
    except ValidationError as err:
        errors = {p.column or "period": p.reason for p in err.problems}
        form = {"period": period, "actual": actual, "forecast": forecast}
        return _benefit_page(request, user, code, errors=errors, form=form, status=422)
    return redirect(f"/benefits/{code}?saved={point.period}")


def _objectives(request: Request, user: WebUser) -> tuple[list[dict[str, Any]], str]:
    """Attainment of every OTC as the main board's latest cycle froze it (the governed figures,
    the same as its pack's section 3), and where it came from; without a cycle, the live
    attainment from the recorded actuals."""
    from bigov.web.board import document

    st = state(request)
    with st.ws.session() as s:
        ref = service.latest_top_cycle(s, user.scope(s))
        if ref is None:
            from bigov.analysis.attainment import attainment

            rows = [a.model_dump(mode="json") for a in attainment(s)]
            return rows, "live, from the recorded actuals (no board cycle yet)"
    return list(document(st, ref).get("objectives", [])), f"as frozen in {ref.code}"


@router.get("/targets")
def targets_page(request: Request, user: UserDep) -> Response:
    """Targets and KPIs handed to management teams, with their key results' attainment."""
    rows, source = _objectives(request, user)
    return render(
        request,
        "targets.html.j2",
        {
            "title": "Targets and KPIs",
            "rows": [r for r in rows if r.get("kind") == "target"],
            "source": source,
        },
        user=user,
    )


# -- strategy (executive) --


def _organisation(request: Request, user: WebUser) -> None:
    st = state(request)
    with st.ws.session() as s:
        if not user.scope(s).organisation:
            raise ForbiddenError(
                "the organisation-wide view is for the PMO and boards governing everything"
            )


_NODE = re.compile(r'<g id="([^"]+)"><title>(.*?)</title>')


def _clickable(svg: str) -> str:
    """Each node of the map becomes a link that traces it (a focusable SVG ``<a>``)."""
    svg = svg.replace("</g>", "</g></a>")
    svg = _NODE.sub(
        lambda m: (
            f'<a href="/strategy/trace/{m.group(1)}" aria-label="trace {m.group(2)}">'
            f'<g id="{m.group(1)}"><title>{m.group(2)}</title>'
        ),
        svg,
    )
    return re.sub(r'\s(width|height)="[^"]*"', "", svg, count=2)


@router.get("/strategy")
def strategy_page(request: Request, user: UserDep, root: str | None = None) -> Response:
    _organisation(request, user)
    from bigov.analysis.agility import agility
    from bigov.analysis.balance import balance
    from bigov.analysis.resources import capacity
    from bigov.analysis.trace import strategy_map_svg
    from bigov.strategy.models import Otig

    st = state(request)
    today = dt.date.today().replace(day=1)
    with st.ws.session() as s:
        from sqlalchemy import select

        roots = list(s.execute(select(Otig.code, Otig.name).order_by(Otig.code)).all())
        try:
            svg = strategy_map_svg(s, root or None)
        except NotFoundError:
            raise PageNotFoundError("strategy element") from None
        bal = balance(s, grain="year")
        cap = capacity(s, start=today.replace(month=1), end=today.replace(year=today.year + 1))
        agil = agility(s)
    hot = sorted((c for c in cap.skills if c.over), key=lambda c: c.gap)[:15]
    attain, source = _objectives(request, user)
    return render(
        request,
        "strategy.html.j2",
        {
            "title": "Strategy and portfolio",
            "svg": _clickable(svg),
            "roots": roots,
            "root": root or "",
            "attainment": attain,
            "attainment_source": source,
            "balance": bal,
            "hot": hot,
            "agility": agil,
        },
        user=user,
    )


@router.get("/strategy/trace/{code}")
def trace_page(request: Request, code: str, user: UserDep) -> Response:
    _organisation(request, user)
    from bigov.analysis.trace import trace

    st = state(request)
    try:
        with st.ws.session() as s:
            result = trace(s, code)
    except NotFoundError:
        raise PageNotFoundError("strategy element") from None
    return render(
        request,
        "trace.html.j2",
        {
            "title": f"Trace {code}",
            "result": result,
            "breadcrumbs": [("Strategy", "/strategy"), (code, None)],
        },
        user=user,
    )


# -- portfolio --


def _portfolio_ctx(request: Request) -> dict[str, Any]:
    st = state(request)
    p = st.ws.portfolio
    drivers = p.drivers()
    prio = next((x for x in p.prioritisations() if x.code == PRIORITISATION), None)
    weights: dict[str, float] = {}
    if prio and prio.versions:
        weights = {k: float(v) for k, v in (prio.versions[-1].get("weights") or {}).items()}
    scenarios = p.scenarios()
    por = p.plan_of_record()
    year = st.ws.fiscal_year_of(dt.date.today())
    return {
        "drivers": drivers,
        "weights": weights,
        "prio": prio,
        "scenarios": scenarios,
        "por": por,
        "year": year + 1,
        "scale": AHP_SCALE,
    }


@router.get("/portfolio")
def portfolio_page(request: Request, user: UserDep, method: str = "direct") -> Response:
    require(user, *PMO)
    ctx = _portfolio_ctx(request)
    ctx.update(title="Portfolio", method=method, errors={}, flash="", ahp=None)
    return render(request, "portfolio.html.j2", ctx, user=user)


@router.post("/portfolio/drivers")
def derive(request: Request, user: UserDep) -> Response:
    require(user, *PMO)
    state(request).ws.portfolio.derive_drivers(written_by=user.email)
    return redirect("/portfolio")


def _pairwise(form: dict[str, str], drivers: list[str]) -> list[list[float | str | None]]:
    n = len(drivers)
    matrix: list[list[float | str | None]] = [[None] * n for _ in range(n)]
    for i in range(n):
        matrix[i][i] = 1.0
        for j in range(i + 1, n):
            value = form.get(f"pw_{i}_{j}", "1")
            matrix[i][j] = value if value in AHP_SCALE else "1"
    return matrix


@router.post("/portfolio/ahp")
async def ahp_check(request: Request, user: UserDep) -> Response:
    """A fragment: the consistency ratio and the worst pairs of the judgements so far."""
    require(user, *PMO)
    from bigov.portfolio.ahp import ahp_weights

    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    drivers = [d.code for d in state(request).ws.portfolio.drivers()]
    try:
        result = ahp_weights(drivers, _pairwise(form, drivers))
    except BigovError as err:
        return render(request, "partials/ahp.html.j2", {"ahp": None, "error": str(err)}, user=user)
    return render(request, "partials/ahp.html.j2", {"ahp": result, "error": ""}, user=user)


@router.post("/portfolio/weights")
async def save_weights(request: Request, user: UserDep) -> Response:
    """A new version of the web's prioritisation: direct weights or AHP judgements."""
    require(user, *PMO)
    from bigov.portfolio.problem import PairwiseInput

    st = state(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    drivers = [d.code for d in st.ws.portfolio.drivers()]
    errors: dict[str, str] = {}
    try:
        if form.get("method") == "ahp":
            st.ws.portfolio.prioritise(
                PRIORITISATION,
                pairwise=PairwiseInput(drivers=drivers, matrix=_pairwise(form, drivers)),
                name="Weights set in the web app",
                reason=form.get("reason") or None,
                written_by=user.email,
            )
        else:
            weights: dict[str, float] = {}
            for i, d in enumerate(drivers):
                raw = form.get(f"w_{i}", "").strip()
                try:
                    value = float(raw) if raw else 0.0
                except ValueError:
                    errors[f"w_{i}"] = f"{raw!r} is not a number"
                    continue
                if not value >= 0 or value != value or value == float("inf"):
                    errors[f"w_{i}"] = "must be zero or more"
                weights[d] = value
            if not errors and sum(weights.values()) <= 0:
                errors["w_0"] = "give at least one driver a weight above zero"
            if not errors:
                st.ws.portfolio.prioritise(
                    PRIORITISATION,
                    weights=weights,
                    name="Weights set in the web app",
                    reason=form.get("reason") or None,
                    written_by=user.email,
                )
    except BigovError as err:
        errors["w_0"] = str(err)
    if errors:
        ctx = _portfolio_ctx(request)
        ctx.update(
            title="Portfolio",
            method=form.get("method", "direct"),
            errors=errors,
            flash="",
            ahp=None,
        )
        return render(request, "portfolio.html.j2", ctx, user=user, status=422)
    return redirect("/portfolio?saved=weights")


@router.post("/portfolio/optimise")
def optimise(
    request: Request,
    user: UserDep,
    name: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    budget_change: Annotated[str, Form(max_length=32)] = "",
    budget_run: Annotated[str, Form(max_length=32)] = "",
    capacity_pct: Annotated[str, Form(max_length=8)] = "100",
    forced: Annotated[str, Form(max_length=20000)] = "",
    stoppable: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """Build the round with the scenario's edits (budgets, capacity, forced items with reasons)
    and solve it in the background; the result is stored as a scenario."""
    require(user, *PMO)
    from bigov.portfolio.builder import RoundOptions
    from bigov.portfolio.problem import Forced

    st = state(request)
    errors: dict[str, str] = {}
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name.strip()):
        errors["name"] = "a name of letters, digits and . _ - (at most 64)"
    if not year.isdigit():
        errors["year"] = "a fiscal year such as 2028"
    budgets: dict[str, float] = {}
    for key, raw in (("change", budget_change), ("run", budget_run)):
        if raw.strip():
            try:
                budgets[key] = float(raw.replace(",", ""))
                if budgets[key] < 0:
                    raise ValueError
            except ValueError:
                errors[f"budget_{key}"] = f"{raw!r} is not an amount of zero or more"
    try:
        cap = float(capacity_pct or "100") / 100
        if cap <= 0:
            raise ValueError
    except ValueError:
        errors["capacity_pct"] = "a percentage above zero"
        cap = 1.0
    forced_rows: list[Forced] = []
    for n, line in enumerate(forced.splitlines(), 1):
        parts = line.strip().split(None, 2)
        if not parts:
            continue
        if len(parts) < 3 or parts[1] not in ("in", "out"):
            errors["forced"] = f"line {n}: write CODE in|out REASON"
            continue
        forced_rows.append(Forced(code=parts[0], decision=parts[1], reason=parts[2]))
    if errors:
        ctx = _portfolio_ctx(request)
        ctx.update(title="Portfolio", method="direct", errors=errors, flash="", ahp=None)
        return render(request, "portfolio.html.j2", ctx, user=user, status=422)
    ws = st.ws
    fy = int(year)
    prio = (
        PRIORITISATION
        if any(p.code == PRIORITISATION for p in ws.portfolio.prioritisations())
        else None
    )
    options = RoundOptions(
        years=[fy], prioritisation=prio, stoppable=stoppable.replace(",", " ").split()
    )
    scenario = name.strip()

    def work(reporter: Any) -> str:
        reporter.start("building the planning round", 2)
        built = ws.portfolio.build_problem(options, name=scenario)
        problem = built.problem
        period = f"FY{fy}"
        for key, amount in budgets.items():
            problem.budgets.setdefault(key, {})[period] = amount
        if cap != 1.0:
            for skill in problem.capacity:
                problem.capacity[skill] = {p: v * cap for p, v in problem.capacity[skill].items()}
        if forced_rows:
            mine = {f.code for f in forced_rows}
            problem.forced = [f for f in problem.forced if f.code not in mine] + forced_rows
        reporter.advance()
        reporter.start(f"solving {len(problem.candidates)} candidates", 1)
        summary = ws.portfolio.import_scenario(
            scenario,
            problem,
            planning_round=built.planning_round,
            time_limit=30,
            created_by=user.email,
        )
        reporter.advance()
        return (
            f"scenario {summary.name}: {summary.status}, {len(summary.selected)} selected, "
            f"{len(summary.excluded)} left out, value {summary.value:.2f}"
        )

    job = jobs(request).submit(f"Optimise {scenario} (FY{fy})", work, owner=user.email)
    return redirect(f"/pmo/jobs/{job}")


@router.get("/portfolio/scenarios/{name}")
def scenario_page(request: Request, name: str, user: UserDep, compare: str = "") -> Response:
    require(user, *PMO)
    st = state(request)
    try:
        sc = st.ws.portfolio.scenario(name)
        _problem, plan = st.ws.portfolio.scenario_problem(name)
        comparison = st.ws.portfolio.compare([compare, name]) if compare else None
    except NotFoundError:
        raise PageNotFoundError("scenario") from None
    return render(
        request,
        "scenario.html.j2",
        {
            "title": f"Scenario {name}",
            "sc": sc,
            "plan": plan,
            "comparison": comparison,
            "others": [x.name for x in st.ws.portfolio.scenarios() if x.name != name],
            "compare": compare,
            "today": dt.date.today().isoformat(),
            "errors": {},
            "breadcrumbs": [("Portfolio", "/portfolio"), (name, None)],
        },
        user=user,
    )


@router.post("/portfolio/scenarios/{name}/commit")
def commit(
    request: Request,
    name: str,
    user: UserDep,
    decided_on: Annotated[str, Form(max_length=16)] = "",
    node: Annotated[str, Form(max_length=64)] = "",
    title: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Commit a scenario as the plan of record through a recorded decision."""
    require(user, *PMO)
    st = state(request)
    try:
        day = dt.date.fromisoformat(decided_on) if decided_on else dt.date.today()
        st.ws.portfolio.commit(
            name,
            decided_on=day,
            node=node or None,
            title=title or None,
            written_by=user.email,
        )
    except ValueError:
        return render(
            request,
            "message.html.j2",
            {"title": "Not committed", "message": f"{decided_on!r} is not a date (YYYY-MM-DD)."},
            user=user,
            status=422,
        )
    except NotFoundError as err:
        return render(
            request,
            "message.html.j2",
            {"title": "Not committed", "message": str(err)},
            user=user,
            status=422,
        )
    except BigovError as err:
        return render(
            request,
            "message.html.j2",
            {"title": "Not committed", "message": str(err)},
            user=user,
            status=422,
        )
    return redirect(f"/portfolio?committed={name}")


@router.get("/portfolio/scenarios/{name}/why")
def scenario_why(request: Request, name: str, user: UserDep) -> Response:
    """A fragment: why each item is in or out, and which limits bind (the optimiser's own
    account, from the scenario's problem; loaded after the page, as it re-solves)."""
    require(user, *PMO)
    from bigov.portfolio.explain import explain

    st = state(request)
    try:
        problem, plan = st.ws.portfolio.scenario_problem(name)
    except NotFoundError:
        raise PageNotFoundError("scenario") from None
    try:
        why = explain(problem, time_limit=20, what_it_takes=False)
    except BigovError as err:
        return render(request, "partials/why.html.j2", {"why": None, "error": str(err)}, user=user)
    # the account holds for the stored plan only where the re-solve chose the same items
    same = {i.code for i in why.items if i.selected} == set(plan)
    return render(
        request,
        "partials/why.html.j2",
        {"why": why, "error": "", "same": same},
        user=user,
    )


@router.get("/portfolio/scenarios/{name}/frontier")
def scenario_frontier(request: Request, name: str, user: UserDep) -> Response:
    """A fragment: the efficient frontier of the scenario's round (best value at each budget
    level) with this scenario and the plan of record on it."""
    require(user, *PMO)
    from bigov.portfolio.frontier import compute_frontier

    st = state(request)
    try:
        sc = st.ws.portfolio.scenario(name)
        problem, _plan = st.ws.portfolio.scenario_problem(name)
    except NotFoundError:
        raise PageNotFoundError("scenario") from None
    try:
        frontier = compute_frontier(problem, points=12, time_limit=5)
    except BigovError as err:
        return render(
            request, "partials/frontier.html.j2", {"error": str(err), "chart": ""}, user=user
        )
    por = st.ws.portfolio.plan_of_record(sc.planning_round)
    points = frontier.points
    labels = [charts.short(p.level) for p in points]
    # the scenario and the plan of record sit at the round's stated budget level
    at = min(range(len(points)), key=lambda i: abs(points[i].level - frontier.stated_level))
    mine: list[float | None] = [None] * len(points)
    mine[at] = sc.value
    series: list[tuple[str, list[float | None]]] = [
        ("best value", [p.value for p in points]),
        (f"scenario {name}", mine),
    ]
    if por is not None and por.name != name:
        theirs: list[float | None] = [None] * len(points)
        theirs[at] = por.value
        series.append((f"plan of record {por.name}", theirs))
    chart = charts.lines(
        labels, series, title=f"Efficient frontier of {sc.planning_round}: value by budget level"
    )
    return render(
        request,
        "partials/frontier.html.j2",
        {"error": "", "chart": chart, "frontier": frontier, "labels": labels},
        user=user,
    )
