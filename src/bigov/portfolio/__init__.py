"""Portfolio prioritisation and optimal selection (issue 7).

Pure computation, no database: a :class:`~bigov.portfolio.problem.PortfolioProblem` goes in, a
:class:`~bigov.portfolio.solver.Solution` (or an explanation, a frontier, a conflict set) comes
out. The database services export problems in this format and store the results as scenarios.
"""

from bigov.portfolio.problem import PortfolioProblem, load_problem, parse_problem, save_problem

__all__ = ["PortfolioProblem", "load_problem", "parse_problem", "save_problem"]
