"""Measures at every rhythm: harmonise hourly/daily operational data to each board's periods.

Public entry points: :class:`bigov.metrics.service.MetricsService` (define, load, query),
:class:`bigov.metrics.calendar.FiscalCalendar` (periods) and the Typer sub-app in
:mod:`bigov.metrics.cli`. See docs/metrics.md for the design.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bigov.metrics.calendar import FiscalCalendar, Frequency, Grain

if TYPE_CHECKING:
    from bigov.metrics.service import MetricsService

__all__ = ["FiscalCalendar", "Frequency", "Grain", "MetricsService"]


def __getattr__(name: str) -> Any:
    # the service loads DuckDB and Arrow: only when asked for, not when a model or the CLI
    # imports this package
    if name == "MetricsService":
        from bigov.metrics.service import MetricsService

        return MetricsService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
