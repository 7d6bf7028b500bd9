"""``bigov portfolio …``: solve, explain and chart problem files; and, on a workspace (``--db``),
build planning rounds, save and compare scenarios, commit the plan of record and rebalance it.

Thin commands: each loads a file or opens the workspace, calls one function of
:mod:`bigov.portfolio` (or :class:`~bigov.portfolio.service.PortfolioService`) and prints a Rich
table or JSON. Errors are :class:`bigov.errors.BigovError` subclasses, translated to a message and
exit code by :class:`bigov.cli_support.ErrorHandlingGroup`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from bigov import safeload
from bigov.cli_support import (
    DbOption,
    ErrorHandlingGroup,
    JsonOption,
    RichReporter,
    console,
    err_console,
    open_workspace,
    print_json,
)
from bigov.errors import ConfigError, InfeasibleError, ValidationError

# The solver, explanations, frontier and AHP pull in highspy, numpy and matplotlib: imported in
# the commands that use them, so `bigov --help` and unrelated commands start fast.
if TYPE_CHECKING:
    from bigov.portfolio.builder import RoundOptions
    from bigov.portfolio.relax import Relaxation
    from bigov.portfolio.service import PortfolioService
    from bigov.portfolio.solver import Solution
    from bigov.workspace import Workspace

__all__ = ["app"]

app = typer.Typer(
    name="portfolio",
    cls=ErrorHandlingGroup,
    help="Prioritise and select the portfolio: driver weights, optimal selection, frontier.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ProblemArg = Annotated[
    Path, typer.Argument(help="Problem file (.yaml or .json), see docs/portfolio-problem-format.md")
]
TimeLimit = Annotated[
    float | None, typer.Option("--time-limit", help="Seconds the solver may spend (per solve).")
]
_KINDS = ("budget", "capacity", "force")


def _kinds(text: str) -> list[Literal["budget", "capacity", "force"]]:
    out: list[Literal["budget", "capacity", "force"]] = []
    for part in _codes(text):
        if part not in _KINDS:
            raise ConfigError(
                f"--allow: unknown kind of change {part!r}", hint="use budget, capacity, force"
            )
        out.append(part)  # type: ignore[arg-type]
    if not out:
        raise ConfigError("--allow: name at least one of budget, capacity, force")
    return out


@app.command()
def optimise(
    problem_file: ProblemArg,
    time_limit: TimeLimit = None,
    mip_gap: Annotated[
        float, typer.Option("--mip-gap", help="Relative gap accepted as optimal.")
    ] = 1e-6,
    why: Annotated[
        bool, typer.Option("--explain", help="Say why each item is in or out (re-solves).")
    ] = False,
    relax: Annotated[
        bool,
        typer.Option(
            "--relax",
            help="If no plan fits, find the least change (budgets, capacity, forced items) "
            "that gives one, and solve with it.",
        ),
    ] = False,
    allow: Annotated[
        str,
        typer.Option("--allow", help="Kinds of change --relax may propose (comma-separated)."),
    ] = "budget,capacity,force",
    json_out: JsonOption = False,
) -> None:
    """Choose the best set of candidates within the problem's limits."""
    from bigov.portfolio.problem import load_problem
    from bigov.portfolio.readable import amount, describe_group, points
    from bigov.portfolio.solver import solve

    problem = load_problem(problem_file)
    kinds = _kinds(allow)
    relaxation: Relaxation | None = None
    try:
        solution = solve(problem, time_limit=time_limit, mip_gap=mip_gap)
    except InfeasibleError as exc:
        if not relax:
            raise
        from bigov.portfolio.relax import apply_option
        from bigov.portfolio.relax import relax as find_relaxation

        relaxation = find_relaxation(problem, allow=kinds, time_limit=time_limit or 30.0)
        if not relaxation.options:
            raise InfeasibleError(
                f"{exc} — and {relaxation.text}", conflict=exc.conflict, hint=exc.hint
            ) from None
        problem = apply_option(problem, relaxation.options[0])
        solution = solve(problem, time_limit=time_limit, mip_gap=mip_gap)
    if why:
        from bigov.portfolio.explain import explain

        explanation = explain(problem, solution, time_limit=time_limit)
    else:
        explanation = None
    if json_out:
        body: Any = explanation if explanation is not None else solution
        if relaxation is not None:
            print_json({"relaxation": relaxation.model_dump(mode="json"), "plan": body})
        else:
            print_json(body)
        return
    if relaxation is not None:
        _print_relaxation(relaxation)
    _print_solution(solution)
    if explanation is not None:
        table = Table("item", "in", "value", "why", title="Why in or out")
        for it in explanation.items:
            table.add_row(
                escape(it.code),
                "yes" if it.selected else "no",
                points(it.value),
                escape("; ".join(it.reasons)),
            )
        console.print(table)
        binding = [c for c in explanation.constraints if c.binding]
        if binding:
            limits = Table(
                "binding limit", "used", "limit", "value of one more unit",
                title="Limits that bind",
            )  # fmt: skip
            for c in binding:
                limits.add_row(
                    escape(describe_group(c.group, problem.labels)),
                    amount(c.used, c.kind, problem.currency),
                    amount(c.limit, c.kind, problem.currency),
                    _price(max(c.shadow_price, c.lp_shadow_price), c.kind, problem.currency),
                )
            console.print(limits)


def _price(price: float, kind: str, currency: str | None) -> str:
    """Value points per unit of limit: per FTE for capacity, per £1m (or £1k) for money."""
    from bigov.portfolio.readable import money, points

    if price <= 1e-9:
        return "—"
    if kind == "capacity":
        return f"{points(price)} per FTE"
    per, unit = (1e6, "1m") if price * 1e6 >= 0.1 else (1e3, "1k")
    return f"{points(price * per)} per {money(per, currency)[0]}{unit}"


def _print_relaxation(relaxation: Relaxation) -> None:
    console.print(f"[bold]{escape(relaxation.problem)}[/] has no plan as stated. Least changes:")
    for k, option in enumerate(relaxation.options):
        mark = "→" if k == 0 else " "
        kinds = ", ".join(option.kinds)
        console.print(f" {mark} ({escape(kinds)}) {escape(option.text)}")
    console.print("The plan below applies the first option.")


def _print_solution(solution: Solution) -> None:
    from bigov.portfolio.readable import fraction, fte, money, points

    cur = solution.currency
    state = (
        "proven optimal"
        if solution.proven_optimal
        else f"best found within {solution.time_limit:g} s, gap {solution.gap:.2%}"
        if solution.time_limit
        else f"best found, gap {solution.gap:.2%}"
    )
    table = Table(
        "item", "name", "start", "funded", "value", title=f"{escape(solution.problem)}: {state}"
    )
    for s in solution.selected:
        table.add_row(
            escape(s.code),
            escape(s.name),
            escape(s.start_period or ""),
            fraction(s.fraction),
            points(s.value),
        )
    console.print(table)
    console.print(
        f"value [bold]{points(solution.value)}[/] (bound {points(solution.bound)}) · "
        f"{len(solution.selected)} selected, {len(solution.excluded)} out · "
        f"{solution.run_time:.2f} s"
    )
    if solution.excluded:
        console.print("out: " + escape(", ".join(solution.excluded)))
    total = sum(solution.split.values())
    if total > 0:
        parts = []
        for cat, amount_ in solution.split.items():
            target = solution.target_split.get(cat)
            parts.append(
                f"{cat} {amount_ / total:.1%}"
                + ("" if target is None else f" (target {target:.1%})")
            )
        console.print("split of the selected spend: " + " · ".join(parts))
    groups = solution.period_groups
    if solution.spend:
        spend = Table("funding", "period", "spend", "budget", "used", title="Spend")
        for source, row in solution.spend.items():
            limits = solution.budgets.get(source, {})
            keys = list(limits) or list(groups) or list(row)
            for key in keys:
                used = sum(row.get(p, 0.0) for p in groups.get(key, [key]))
                limit = limits.get(key)
                spend.add_row(
                    escape(source),
                    escape(key),
                    money(used, cur),
                    "—" if limit is None else money(limit, cur),
                    "—" if not limit else f"{used / limit:.1%}",
                )
        console.print(spend)
    if solution.capacity_use:
        cap = Table(
            "skill", "tightest period", "use", "capacity", "committed over", "headroom",
            title="Capacity (the tightest period of each skill)",
        )  # fmt: skip
        for skill, row in solution.capacity_use.items():
            limits = solution.capacity.get(skill, {})
            extra = solution.capacity_allowance.get(skill, {})
            if not limits or not any(row.values()):
                continue
            tight = min(limits, key=lambda p: limits[p] + extra.get(p, 0.0) - row.get(p, 0.0))
            head = limits[tight] + extra.get(tight, 0.0) - row.get(tight, 0.0)
            cap.add_row(
                escape(solution.labels.get(skill, skill)),
                escape(tight),
                fte(row.get(tight, 0.0)),
                fte(limits[tight]),
                fte(extra[tight]) if extra.get(tight) else "—",
                fte(max(head, 0.0)),
            )
        console.print(cap)


@app.command()
def frontier(
    problem_file: ProblemArg,
    points_: Annotated[int, typer.Option("--points", min=1, help="Number of levels.")] = 20,
    out: Annotated[Path | None, typer.Option("--out", help="Chart file (.svg or .png).")] = None,
    skill: Annotated[
        str | None, typer.Option("--skill", help="Vary this skill's capacity, not the budget.")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Vary only this funding source's budget.")
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="Plan of record to mark on the chart: comma-separated codes."),
    ] = None,
    time_limit: TimeLimit = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=2, help="HiGHS instances in parallel (1-2).")
    ] = 2,
    json_out: JsonOption = False,
) -> None:
    """Best value at each level of budget (or of one skill's capacity)."""
    from bigov.portfolio.frontier import compute_frontier, plot_frontier
    from bigov.portfolio.problem import load_problem
    from bigov.portfolio.readable import amount, points
    from bigov.portfolio.solver import PlanItem, evaluate_plan

    problem = load_problem(problem_file)
    dimension: Literal["budget", "capacity"] = "capacity" if skill else "budget"
    result = compute_frontier(
        problem,
        points_,
        dimension=dimension,
        resource=skill or source,
        time_limit=time_limit,
        workers=workers,
    )
    marker = None
    if plan:
        codes = [c.strip() for c in plan.split(",") if c.strip()]
        known = {c.code for c in problem.candidates}
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ConfigError(f"--plan names unknown candidates: {', '.join(unknown)}")
        value, broken = evaluate_plan(problem, {c: PlanItem() for c in codes})
        if broken:
            err_console.print("warning: the plan of record breaks " + escape("; ".join(broken)))
        marker = (result.stated_level, value)
    if out is not None:
        plot_frontier(
            result,
            out,
            plan_of_record=marker,
            title=f"{problem.name}: efficient frontier",
            currency=problem.currency,
        )
    if json_out:
        print_json(result)
        return
    kind = "capacity" if dimension == "capacity" else "budget"
    table = Table("level", "scale", "value", "optimal", "selected", title="Efficient frontier")
    for p in result.points:
        table.add_row(
            amount(p.level, kind, problem.currency),
            f"{p.scale * 100:.1f}%",  # a column of scales reads evenly at one decimal
            "no plan fits" if p.value is None else points(p.value),
            "yes" if p.proven_optimal else ("—" if p.value is None else f"gap {p.gap:.2%}"),
            str(len(p.selected)),
        )
    console.print(table)
    console.print(f"{len(result.points)} points in {result.run_time:.2f} s")
    if out is not None:
        console.print(f"chart written to {escape(str(out))}")


@app.command()
def ahp(
    matrix_file: Annotated[
        Path, typer.Argument(help="YAML/JSON with 'drivers' and an upper-triangular 'matrix'.")
    ],
    json_out: JsonOption = False,
) -> None:
    """Driver weights from a pairwise comparison matrix, with its consistency ratio."""
    from bigov.portfolio.ahp import load_pairwise

    result = load_pairwise(matrix_file)
    if json_out:
        print_json(
            {
                "weights": result.weights,
                "lambda_max": result.lambda_max,
                "ci": result.ci,
                "cr": result.cr,
                "consistent": result.consistent,
                "warning": result.warning,
                "inconsistent_pairs": [
                    {"a": p.a, "b": p.b, "given": p.given, "implied": p.implied}
                    for p in result.inconsistent_pairs
                ],
            }
        )
        return
    table = Table("driver", "weight", title="Driver weights (principal eigenvector)")
    for d, w in result.weights.items():
        table.add_row(d, f"{w:.4f}")
    console.print(table)
    console.print(f"λmax {result.lambda_max:.4f} · CI {result.ci:.4f} · CR {result.cr:.4f}")
    if result.warning:
        err_console.print(f"[bold yellow]warning:[/] {result.warning}")


# --- workspace commands ---------------------------------------------------------------------

Years = Annotated[
    list[int],
    typer.Option(
        "--year", help="Fiscal year of the round, named by the year it ends (repeatable)."
    ),
]
Stoppable = Annotated[
    str | None,
    typer.Option("--stoppable", help="Running items that may be stopped: comma-separated codes."),
]
PrioritisationOpt = Annotated[
    str | None,
    typer.Option("--prioritisation", help="Prioritisation whose weights to use (if several)."),
]
NpvWeight = Annotated[
    float, typer.Option("--npv-weight", help="Value per unit of benefit NPV (0 = ignore NPV).")
]


def _service(ws: Workspace) -> PortfolioService:
    return ws.portfolio  # the workspace imports the service (and the solver) on first use


def _codes(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


Grain = Annotated[
    str,
    typer.Option(
        "--grain", help="month: cost, demand and capacity by month (default); year: averaged."
    ),
]
RefuseOverload = Annotated[
    bool,
    typer.Option(
        "--refuse-overload",
        help="Do not accept commitments already over a skill's capacity (the round is then "
        "infeasible; see optimise --relax).",
    ),
]


def _options(
    years: list[int],
    stoppable: str | None,
    prioritisation: str | None,
    npv_weight: float,
    grain: str = "month",
    refuse_overload: bool = False,
) -> RoundOptions:
    from bigov.portfolio.builder import RoundOptions

    if grain not in ("month", "year"):
        raise ConfigError(f"--grain: {grain!r} is not month or year")
    return RoundOptions(
        years=years,
        stoppable=_codes(stoppable),
        prioritisation=prioritisation,
        npv_weight=npv_weight,
        grain="month" if grain == "month" else "year",
        committed_overload="refuse" if refuse_overload else "accept",
    )


@app.command("export-problem")
def export_problem(
    out: Annotated[Path, typer.Argument(help="Problem file to write (.yaml or .json).")],
    year: Years,
    db: DbOption = None,
    stoppable: Stoppable = None,
    prioritisation: PrioritisationOpt = None,
    npv_weight: NpvWeight = 0.0,
    grain: Grain = "month",
    refuse_overload: RefuseOverload = False,
    json_out: JsonOption = False,
) -> None:
    """Write the workspace's planning round as a problem file (docs/portfolio.md)."""
    with open_workspace(db) as ws:
        built = _service(ws).export_problem(
            _options(year, stoppable, prioritisation, npv_weight, grain, refuse_overload), out
        )
    summary = {
        "file": str(out),
        "planning_round": built.planning_round,
        "candidates": len(built.problem.candidates),
        "forced_in": len(built.problem.forced),
        "notes": built.notes,
    }
    if json_out:
        print_json(summary)
        return
    console.print(
        f"{built.planning_round}: {summary['candidates']} candidates "
        f"({summary['forced_in']} running, forced in) written to {out}"
    )
    for note in built.notes:
        console.print(f"  note: {note}")


scenario_app = typer.Typer(
    cls=ErrorHandlingGroup,
    help="Save, list, compare, import and commit scenarios of a planning round.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("save")
def scenario_save(
    name: Annotated[str, typer.Argument(help="Name of the new scenario.")],
    year: Years,
    db: DbOption = None,
    stoppable: Stoppable = None,
    prioritisation: PrioritisationOpt = None,
    npv_weight: NpvWeight = 0.0,
    time_limit: TimeLimit = None,
    by: Annotated[str | None, typer.Option("--by", help="Who creates it.")] = None,
    grain: Grain = "month",
    refuse_overload: RefuseOverload = False,
    json_out: JsonOption = False,
) -> None:
    """Build the planning round, solve it and save the result as a named scenario."""
    from bigov.portfolio.readable import points

    with open_workspace(db) as ws:
        summary = _service(ws).optimise(
            name,
            _options(year, stoppable, prioritisation, npv_weight, grain, refuse_overload),
            time_limit=time_limit,
            created_by=by,
            reporter=RichReporter(enabled=not json_out),
        )
    if json_out:
        print_json(summary)
        return
    console.print(
        f"scenario [bold]{escape(summary.name)}[/] ({summary.code}, "
        f"{summary.planning_round}): value "
        f"{points(summary.value)}, {len(summary.selected)} selected, {len(summary.excluded)} out"
        + ("" if summary.proven_optimal else f", gap {summary.gap:.2%}")
    )
    if summary.excluded:
        console.print("out: " + ", ".join(summary.excluded))


@scenario_app.command("import")
def scenario_import(
    name: Annotated[str, typer.Argument(help="Name of the new scenario.")],
    problem_file: ProblemArg,
    solution_file: Annotated[
        Path | None,
        typer.Option("--solution", help="Solution JSON (as printed by optimise --json)."),
    ] = None,
    db: DbOption = None,
    planning_round: Annotated[
        str | None, typer.Option("--round", help="Round label (default: the problem's name).")
    ] = None,
    time_limit: TimeLimit = None,
    json_out: JsonOption = False,
) -> None:
    """Re-import a problem file and its solution (solved now if none is given) as a scenario."""
    from bigov.portfolio.problem import load_problem
    from bigov.portfolio.readable import points
    from bigov.portfolio.solver import Solution

    problem = load_problem(problem_file)
    solution = None
    if solution_file is not None:
        try:
            solution = Solution.model_validate_json(safeload.read_text(solution_file, "json"))
        except (OSError, ValueError) as exc:
            raise ValidationError(f"cannot read solution {solution_file}: {exc}") from None
    with open_workspace(db) as ws:
        summary = _service(ws).import_scenario(
            name, problem, solution, planning_round=planning_round, time_limit=time_limit
        )
    if json_out:
        print_json(summary)
        return
    console.print(
        f"imported scenario [bold]{escape(summary.name)}[/] ({summary.code}): "
        f"value {points(summary.value)}"
    )


@scenario_app.command("list")
def scenario_list(
    db: DbOption = None,
    planning_round: Annotated[str | None, typer.Option("--round", help="Only this round.")] = None,
    json_out: JsonOption = False,
) -> None:
    """The stored scenarios, oldest first; the plan of record is marked."""
    from bigov.portfolio.readable import points

    with open_workspace(db) as ws:
        rows = _service(ws).scenarios(planning_round)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("code", "name", "round", "origin", "value", "selected", "optimal", "record")
    for r in rows:
        table.add_row(
            r.code, r.name, r.planning_round, r.origin, f"{points(r.value)}", str(len(r.selected)),
            "yes" if r.proven_optimal else f"gap {r.gap:.2%}", "✓" if r.plan_of_record else "",
        )  # fmt: skip
    console.print(table)


@scenario_app.command("compare")
def scenario_compare(
    names: Annotated[list[str], typer.Argument(help="Scenarios; the first is the baseline.")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Scenarios side by side: value, items that differ, spend, capacity, split, coverage."""
    from bigov.portfolio.readable import money, points

    with open_workspace(db) as ws:
        cmp = _service(ws).compare(names)
    if json_out:
        print_json(cmp)
        return
    cols = [f.name for f in cmp.scenarios]
    head = Table("", *cols, title="Scenarios")
    head.add_row("value", *(f"{points(f.value)}" for f in cmp.scenarios))
    head.add_row("selected", *(str(f.selected) for f in cmp.scenarios))
    for period in cmp.scenarios[0].spend_by_period:
        head.add_row(
            f"spend {period}", *(money(f.spend_by_period.get(period, 0)) for f in cmp.scenarios)
        )
    for cat in ("run", "grow", "transform"):
        head.add_row(f"spend {cat}", *(money(f.split.get(cat, 0)) for f in cmp.scenarios))
    for skill, limits in cmp.scenarios[0].capacity.items():
        for period, limit in limits.items():
            head.add_row(
                f"{skill} {period} (≤ {limit:,.1f})",
                *(f"{f.capacity_use.get(skill, {}).get(period, 0):.1f}" for f in cmp.scenarios),
            )
    console.print(head)
    diff = Table("item", "name", *cols, title="Items that differ")
    for row in cmp.items:
        if row["differs"]:
            diff.add_row(
                row["code"],
                row["name"],
                *(_cell(row[c]) for c in cols),
            )
    console.print(diff)
    for name, otcs in cmp.lose_coverage.items():
        if otcs:
            console.print(f"{name} loses coverage of: " + ", ".join(otcs))


def _cell(entry: dict[str, Any]) -> str:
    from bigov.portfolio.readable import fraction

    if not entry["fraction"]:
        return "out"
    text = "in" if abs(entry["fraction"] - 1.0) < 1e-6 else fraction(entry["fraction"])
    return text + (f" {entry['shift']:+d}" if entry["shift"] else "")


@scenario_app.command("commit")
def scenario_commit(
    name: Annotated[str, typer.Argument(help="Scenario to commit as plan of record.")],
    db: DbOption = None,
    node: Annotated[
        str | None, typer.Option("--node", help="Governance node that decides.")
    ] = None,
    decision: Annotated[
        str | None, typer.Option("--decision", help="An existing decision's code to cite.")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="Date of the decision (YYYY-MM-DD).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who commits it.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Commit a scenario as the plan of record of its round, through a recorded decision."""
    day = _date(on)
    with open_workspace(db) as ws:
        result = _service(ws).commit(
            name, decided_on=day, node=node, decision=decision, written_by=by
        )
    if json_out:
        print_json(result)
        return
    console.print(
        f"{result.scenario} is the plan of record for {result.planning_round} "
        f"(decision {result.decision}, {result.committed_on})"
        + (f"; supersedes {result.superseded}" if result.superseded else "")
    )


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not a date: {text!r}", hint="use YYYY-MM-DD") from None


@app.command()
def rebalance(
    db: DbOption = None,
    planning_round: Annotated[
        str | None, typer.Option("--round", help="Round (default: latest plan of record).")
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Share of the optimum given up to avoid changes.")
    ] = 0.005,
    time_limit: TimeLimit = 30.0,
    save: Annotated[
        str | None, typer.Option("--save", help="Save the rebalanced plan as this scenario.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """After a change of strategy: the fewest changes to the plan of record that reach the new
    best value (stop / start / slow / speed)."""
    from bigov.portfolio.readable import points

    with open_workspace(db) as ws:
        report = _service(ws).rebalance(
            planning_round, tolerance=tolerance, time_limit=time_limit, save_as=save
        )
    if json_out:
        print_json(report)
        return
    r = report.result
    console.print(
        f"{report.planning_round}: plan of record "
        f"[bold]{escape(str(report.plan_of_record))}[/] is now worth "
        f"{points(r.reference_value)}; best possible {points(r.optimum_value)}; with "
        f"{len(r.changes)} change(s) {points(r.value)} ({r.run_time:.2f} s)"
    )
    for change in report.strategy_changes:
        console.print(f"  strategy: {change}")
    if r.reference_broken:
        console.print("  the plan of record now breaks: " + "; ".join(r.reference_broken))
    table = Table("item", "name", "action", "detail", "value before", "value after")
    for c in r.changes:
        table.add_row(
            c.code,
            c.name,
            c.action,
            c.detail,
            f"{points(c.value_before)}",
            f"{points(c.value_after)}",
        )
    console.print(table)
    if report.saved_as:
        console.print(f"saved as scenario {report.saved_as}")


@app.command()
def drivers(
    db: DbOption = None,
    derive: Annotated[
        bool, typer.Option("--derive", help="Add a driver for every active OTC lacking one.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """The business drivers candidates are rated against."""
    with open_workspace(db) as ws:
        svc = _service(ws)
        rows = svc.derive_drivers() if derive else svc.drivers()
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("driver", "name", "OTC", "OTC status", title="Drivers")
    for r in rows:
        table.add_row(r.code, r.name, r.otc or "", r.otc_status or "")
    console.print(table)


@app.command()
def prioritise(
    code: Annotated[str, typer.Argument(help="Prioritisation code (created if new).")],
    db: DbOption = None,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Direct weights: DRIVER=W,DRIVER=W,…")
    ] = None,
    pairwise: Annotated[
        Path | None, typer.Option("--pairwise", help="YAML/JSON with drivers and a matrix.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name of the prioritisation.")] = None,
    node: Annotated[str | None, typer.Option("--node", help="Owning board (node code).")] = None,
    org_unit: Annotated[
        str | None, typer.Option("--org-unit", help="Owning department (org unit code).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the weights change.")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Effective from (YYYY-MM-DD).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Set driver weights — directly or by pairwise comparison — as a new version."""
    from bigov.portfolio.ahp import load_pairwise
    from bigov.portfolio.problem import PairwiseInput

    direct = None
    if weights:
        direct = {}
        for part in _codes(weights):
            key, sep, val = part.partition("=")
            try:
                direct[key.strip()] = float(val)
            except ValueError:
                raise ConfigError(f"--weights: {part!r} is not DRIVER=NUMBER") from None
            if not sep:
                raise ConfigError(f"--weights: {part!r} is not DRIVER=NUMBER")
    matrix = None
    if pairwise is not None:
        result = load_pairwise(pairwise)  # validates the judgements and reports CR problems
        if result.warning:
            err_console.print(f"[bold yellow]warning:[/] {result.warning}")
        data = safeload.load_yaml(safeload.read_text(pairwise), str(pairwise))
        matrix = PairwiseInput.model_validate(
            {"drivers": data["drivers"], "matrix": data["matrix"]}
        )
    with open_workspace(db) as ws:
        info = _service(ws).prioritise(
            code,
            weights=direct,
            pairwise=matrix,
            name=name,
            node=node,
            org_unit=org_unit,
            reason=reason,
            effective_from=_date(on),
        )
    if json_out:
        print_json(info)
        return
    latest = info.versions[-1]
    table = Table("driver", "weight", title=f"{info.code} v{info.current_version}")
    for d, w in latest["weights"].items():
        table.add_row(d, f"{w:.4f}")
    console.print(table)
    if latest["consistency_ratio"] is not None:
        console.print(f"consistency ratio {latest['consistency_ratio']:.4f}")


def _ratings_file(file: Path) -> dict[str, dict[str, float]]:
    """``{item: {driver: score}}`` from a YAML/JSON file, every shape error a clear refusal."""
    is_json = file.suffix.lower() == ".json"
    try:
        text = safeload.read_text(file, "json" if is_json else "yaml")
        data = (
            safeload.load_json(text, file.name) if is_json else safeload.load_yaml(text, file.name)
        )
    except OSError as exc:
        raise ValidationError(f"{file.name}: cannot read the file: {exc.strerror}") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(
            f"{file.name}: not valid {'JSON' if is_json else 'YAML'}: {first}"
        ) from None
    shape = "expected a mapping of item → {driver: score}"
    if not isinstance(data, dict):
        raise ValidationError(f"{file.name}: {shape}, got a {type(data).__name__}")
    table: dict[str, dict[str, float]] = {}
    for item, row in data.items():
        if not isinstance(row, dict):
            raise ValidationError(
                f"{file.name}: item {str(item)[:64]!r}: {shape}, got a {type(row).__name__}"
            )
        scores: dict[str, float] = {}
        for driver, value in row.items():
            try:
                if isinstance(value, bool):
                    raise TypeError
                scores[str(driver)] = float(value)
            except (TypeError, ValueError, OverflowError):
                raise ValidationError(
                    f"{file.name}: item {str(item)[:64]!r}, driver {str(driver)[:64]!r}: "
                    f"the score must be a number, got {str(value)[:40]!r}"
                ) from None
        table[str(item)] = scores
    return table


@app.command()
def rate(
    ratings: Annotated[
        list[str] | None, typer.Argument(help="ITEM DRIVER=SCORE [DRIVER=SCORE …]")
    ] = None,
    db: DbOption = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="YAML/JSON {item: {driver: score}}.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Rate work items against drivers (replacing earlier ratings of the same pairs)."""
    table: dict[str, dict[str, float]] = {}
    if file is not None:
        table = _ratings_file(file)
    if ratings:
        item, *pairs = ratings
        if not pairs:
            raise ConfigError("give ITEM followed by DRIVER=SCORE pairs")
        for pair in pairs:
            d, sep, v = pair.partition("=")
            try:
                table.setdefault(item, {})[d] = float(v)
            except ValueError:
                raise ConfigError(f"{pair!r} is not DRIVER=SCORE") from None
            if not sep:
                raise ConfigError(f"{pair!r} is not DRIVER=SCORE")
    if not table:
        raise ConfigError("nothing to rate", hint="give ITEM DRIVER=SCORE … or --file")
    with open_workspace(db) as ws:
        n = _service(ws).rate(table)
    if json_out:
        print_json({"ratings": n})
        return
    console.print(f"{n} rating(s) stored")
