"""``bigov portfolio …``: solve, explain and chart problem files from the command line.

Thin commands: each loads a file, calls one function of :mod:`bigov.portfolio` and prints a Rich
table or JSON. Errors are :class:`bigov.errors.BigovError` subclasses, translated to a message and
exit code by :class:`bigov.cli_support.ErrorHandlingGroup`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from bigov.cli_support import ErrorHandlingGroup, JsonOption, console, err_console, print_json
from bigov.errors import ConfigError
from bigov.portfolio.ahp import load_pairwise
from bigov.portfolio.explain import explain
from bigov.portfolio.frontier import compute_frontier, plot_frontier
from bigov.portfolio.problem import load_problem
from bigov.portfolio.solver import PlanItem, Solution, evaluate_plan, solve

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
    json_out: JsonOption = False,
) -> None:
    """Choose the best set of candidates within the problem's limits."""
    problem = load_problem(problem_file)
    solution = solve(problem, time_limit=time_limit, mip_gap=mip_gap)
    explanation = explain(problem, solution, time_limit=time_limit) if why else None
    if json_out:
        print_json(explanation if explanation is not None else solution)
        return
    _print_solution(solution)
    if explanation is not None:
        table = Table("item", "in", "value", "why", title="Why in or out")
        for it in explanation.items:
            table.add_row(
                it.code, "yes" if it.selected else "no", f"{it.value:g}", "; ".join(it.reasons)
            )
        console.print(table)
        binding = [c for c in explanation.constraints if c.binding]
        if binding:
            limits = Table("binding limit", "used", "limit", "shadow price", "LP shadow price")
            for c in binding:
                limits.add_row(
                    c.group, f"{c.used:g}", f"{c.limit:g}", f"{c.shadow_price:.4g}",
                    f"{c.lp_shadow_price:.4g}",
                )  # fmt: skip
            console.print(limits)


def _print_solution(solution: Solution) -> None:
    state = (
        "proven optimal"
        if solution.proven_optimal
        else f"best found within {solution.time_limit} s, gap {solution.gap:.2%}"
    )
    table = Table(
        "item", "name", "start", "fraction", "value", title=f"{solution.problem}: {state}"
    )
    for s in solution.selected:
        table.add_row(s.code, s.name, s.start_period or "", f"{s.fraction:.0%}", f"{s.value:g}")
    console.print(table)
    console.print(
        f"value [bold]{solution.value:g}[/] (bound {solution.bound:g}) · "
        f"{len(solution.selected)} selected, {len(solution.excluded)} excluded · "
        f"{solution.run_time:.2f} s"
    )
    if solution.excluded:
        console.print("excluded: " + ", ".join(solution.excluded))
    for title, used, limits in (
        ("spend", solution.spend, solution.budgets),
        ("capacity", solution.capacity_use, solution.capacity),
    ):
        if not used:
            continue
        periods = list(next(iter(used.values())))
        usage = Table(title, *periods)
        for key, row in used.items():
            cells = []
            for p in periods:
                limit = limits.get(key, {}).get(p)
                cells.append(f"{row[p]:g}" + ("" if limit is None else f" / {limit:g}"))
            usage.add_row(key, *cells)
        console.print(usage)


@app.command()
def frontier(
    problem_file: ProblemArg,
    points: Annotated[int, typer.Option("--points", min=1, help="Number of levels.")] = 20,
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
    json_out: JsonOption = False,
) -> None:
    """Best value at each level of budget (or of one skill's capacity)."""
    problem = load_problem(problem_file)
    dimension: Literal["budget", "capacity"] = "capacity" if skill else "budget"
    result = compute_frontier(
        problem, points, dimension=dimension, resource=skill or source, time_limit=time_limit
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
            err_console.print("warning: the plan of record breaks " + "; ".join(broken))
        marker = (result.stated_level, value)
    if out is not None:
        plot_frontier(
            result, out, plan_of_record=marker, title=f"{problem.name}: efficient frontier"
        )
    if json_out:
        print_json(result)
        return
    table = Table("level", "scale", "value", "optimal", "selected", title="Efficient frontier")
    for p in result.points:
        table.add_row(
            f"{p.level:g}",
            f"{p.scale:.2f}",
            "infeasible" if p.value is None else f"{p.value:g}",
            "yes" if p.proven_optimal else f"gap {p.gap:.2%}",
            str(len(p.selected)),
        )
    console.print(table)
    console.print(f"{len(result.points)} points in {result.run_time:.2f} s")
    if out is not None:
        console.print(f"chart written to {out}")


@app.command()
def ahp(
    matrix_file: Annotated[
        Path, typer.Argument(help="YAML/JSON with 'drivers' and an upper-triangular 'matrix'.")
    ],
    json_out: JsonOption = False,
) -> None:
    """Driver weights from a pairwise comparison matrix, with its consistency ratio."""
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
