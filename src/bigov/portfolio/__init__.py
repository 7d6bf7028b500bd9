"""Portfolio prioritisation and optimal selection (issue 7).

Pure computation, no database: a :class:`~bigov.portfolio.problem.PortfolioProblem` goes in, a
:class:`~bigov.portfolio.solver.Solution` (or an explanation, a frontier, a conflict set) comes
out. The database services export problems in this format and store the results as scenarios.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bigov.portfolio.problem import (
        PortfolioProblem,
        load_problem,
        parse_problem,
        save_problem,
    )

__all__ = ["PortfolioProblem", "load_problem", "parse_problem", "save_problem"]


def __getattr__(name: str) -> Any:
    # loaded on first use: importing bigov.portfolio.cli (mounted on every CLI start) must not
    # load pydantic models it does not need yet
    if name in __all__:
        from bigov.portfolio import problem

        return getattr(problem, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
