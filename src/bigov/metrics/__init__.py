"""Measures at every rhythm: harmonise hourly/daily operational data to each board's periods.

Public entry points: :class:`bigov.metrics.service.MetricsService` (define, load, query),
:class:`bigov.metrics.calendar.FiscalCalendar` (periods) and the Typer sub-app in
:mod:`bigov.metrics.cli`. See docs/metrics.md for the design.
"""

from bigov.metrics.calendar import FiscalCalendar, Frequency, Grain
from bigov.metrics.service import MetricsService

__all__ = ["FiscalCalendar", "Frequency", "Grain", "MetricsService"]
