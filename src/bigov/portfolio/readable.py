"""How optimiser figures read to a portfolio manager: money in £k / £m, FTE to one decimal, value
points to one decimal, funded fractions as whole percentages — never scientific notation.

Money goes through :func:`bigov.figures.format.money`, the formatter of the packs, so a budget
reads the same in a plan as on the board's page. Pure functions, no heavy imports (the CLI
imports this module at start-up).
"""

from __future__ import annotations

import math

from bigov.figures.format import money as _money

__all__ = [
    "amount",
    "describe_group",
    "fraction",
    "fte",
    "limit_kind",
    "money",
    "money_tick",
    "points",
    "snap",
]

_NOISE = 1e-6


def snap(x: float, step: float) -> float:
    """``x`` on the grid of ``step`` when it is within solver noise of it, else ``x``."""
    k = round(x / step)
    return k * step if abs(x - k * step) <= _NOISE * max(1.0, abs(x)) else x


def money(x: float, currency: str | None = None) -> str:
    """``£1.34m``, ``£412k``, ``£9,950``."""
    return _money(round(x, 2), currency or "GBP")


def money_tick(x: float, currency: str | None = None) -> str:
    """A chart axis label: ``£150m``, ``£2.5m``, ``£400k``, ``£0`` (as few digits as it takes)."""
    sym = _money(1, currency or "GBP")[:-1]
    a = abs(x)
    sign = "-" if x < 0 else ""
    for div, unit in ((1e6, "m"), (1e3, "k")):
        if a >= div:
            v = a / div
            text = f"{v:,.0f}" if abs(v - round(v)) < 1e-6 else f"{v:,.1f}".rstrip("0").rstrip(".")
            return f"{sign}{sym}{text}{unit}"
    return f"{sign}{sym}{a:,.0f}"


def fte(x: float) -> str:
    """``49.9 FTE``."""
    return f"{x:,.1f} FTE"


def points(x: float) -> str:
    """A value in points: one decimal, thousands separated (``1,234.5``); small values keep
    two significant digits (``0.042``) so a real difference never reads as 0."""
    if not math.isfinite(x):
        return "—"
    if abs(x) < 5e-7:  # solver noise, not a value
        return "0.0"
    if abs(x) < 0.95:
        places = min(6, 1 - math.floor(math.log10(abs(x))))
        y = round(x, places)
        return f"{0.0 if y == 0 else y:.{places}f}"
    y = round(x, 1)
    return f"{0.0 if y == 0 else y:,.1f}"


def fraction(x: float) -> str:
    """A funded fraction as a percentage: ``100%``, ``90%``, ``62.5%``."""
    pct = round(x * 100, 1)
    return f"{pct:.0f}%" if pct == int(pct) else f"{pct:.1f}%"


def describe_group(group: str, labels: dict[str, str]) -> str:
    """``capacity SK-DATA 2026-10`` → ``Data Engineer capacity in 2026-10``; budgets as
    ``change budget FY2027``; other groups unchanged."""
    parts = group.split(" ")
    if parts[0] == "capacity" and len(parts) == 3:
        return f"{labels.get(parts[1], parts[1])} capacity in {parts[2]}"
    if parts[0] == "budget" and len(parts) == 3:
        return f"{labels.get(parts[1], parts[1])} budget {parts[2]}"
    if parts[:2] == ["total", "budget"] and len(parts) == 3:
        return f"total {labels.get(parts[2], parts[2])} budget"
    return group


def limit_kind(kind: str) -> str:
    """``capacity`` limits are FTE; everything else (budgets, balance) money."""
    return "fte" if kind == "capacity" else "money"


def amount(x: float, kind: str, currency: str | None = None) -> str:
    """A limit's amount in its unit (FTE for capacity, money otherwise)."""
    return fte(x) if limit_kind(kind) == "fte" else money(x, currency)
