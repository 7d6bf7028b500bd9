"""The figures of a cycle that :mod:`bigov.analysis` already computes, read once per as-at date and
cut per node — so a pack's cost, benefits, run/change balance, confidence and attainment are the
same numbers ``bigov rollup``, ``bigov benefits``, ``bigov balance`` and ``bigov attainment``
print, not a second implementation of them.

A node's scope is a union of whole work subtrees (see :mod:`bigov.governance.topology`), so its
figures are the sums of the organisation-wide roll-up rows of its scope roots: one roll-up per
as-at date serves every node of a ``cycle run --all``.

Measures (``metrics.*`` information definitions) are read from :class:`MetricsService` for the
periods up to the cycle's as-at date, *as known when the cycle runs*: a period's observations
arrive after it ends, so the as-at date is the cut-off of the periods, not of knowledge. The
snapshot freezes what was read, which is what makes the pack reproducible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from bigov.analysis.attainment import MeasureSource, OtcAttainment, attainment
from bigov.analysis.balance import (
    ALL_UNITS,
    BalanceReport,
    BalanceRow,
    balance,
    business_unit_map,
)
from bigov.analysis.benefits import BenefitAtRisk, BenefitGroup, realisation
from bigov.analysis.rollups import RollupReport, RollupRow, rollup
from bigov.analysis.trace import render_strategy_map, strategy_map_graph
from bigov.errors import BigovError
from bigov.figures.balance import delivery_split
from bigov.governance.periods import add_months
from bigov.metrics.calendar import FiscalCalendar
from bigov.metrics.models import MetricMeasure
from bigov.metrics.service import MetricsService

if TYPE_CHECKING:
    from bigov.workspace import Workspace

ZERO = Decimal("0")


@dataclass
class MeasureView:
    """One measure at one grain, org and window: its values (JSON-ready) and readiness."""

    measure: str
    grain: str
    org: str | None
    values: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ready"
    detail: str = ""
    latest: str | None = None
    rows: int = 0


class AnalysisFigures:
    """Analysis results for one as-at date (and the month it closes), computed lazily once."""

    def __init__(self, ws: Workspace, session: Session, month: dt.date, as_at: dt.date) -> None:
        self.ws = ws
        self.session = session
        self.month = month
        self.as_at = as_at
        self._whole: RollupReport | None = None
        self._to_date: RollupReport | None = None
        self._benefits: dict[str, BenefitGroup] | None = None
        self._at_risk: dict[str, BenefitAtRisk] = {}
        self._attainment: dict[str, OtcAttainment] | None = None
        self._balance: dict[tuple[dt.date, dt.date], BalanceReport] = {}
        self._delivery: dict[tuple[dt.date, dt.date], dict[str, dict[str, Decimal]]] = {}
        self._maps: dict[str | None, str] = {}
        self._map_graph: Any = None
        self._rows: tuple[dict[str, RollupRow], dict[str, RollupRow]] | None = None
        self._measures: dict[tuple[str, str, str | None, dt.date, dt.date], MeasureView] = {}
        self._units: dict[int, str] | None = None
        self._service: _CycleMetrics | None = None
        self._service_checked = False
        self.currency = ""

    # -- cost and confidence (bigov rollup) ----------------------------------------------------
    @property
    def whole(self) -> RollupReport:
        """Whole-life cost (all periods); confidence and milestones judged at the as-at date."""
        if self._whole is None:
            self._whole = rollup(self.session, as_at=self.as_at)
            self.currency = self._whole.currency
        return self._whole

    @property
    def to_date(self) -> RollupReport:
        """Cost of the periods up to the cycle's month: actual and budget to date."""
        if self._to_date is None:
            self._to_date = rollup(self.session, as_at=self.as_at, end=add_months(self.month, 1))
        return self._to_date

    def rows(self) -> tuple[dict[str, RollupRow], dict[str, RollupRow]]:
        """Both roll-ups' rows by work item code (built once; callers only read them)."""
        if self._rows is None:
            self._rows = (
                {r.code: r for r in self.whole.rows},
                {r.code: r for r in self.to_date.rows},
            )
        return self._rows

    # -- benefits (bigov benefits) ---------------------------------------------------------
    def benefits(self) -> tuple[dict[str, BenefitGroup], dict[str, BenefitAtRisk]]:
        """Per-benefit realisation as at the date, and every benefit at risk with tolerance 0 (so
        each shortfall is known; the node tolerances decide which matter)."""
        if self._benefits is None:
            report = realisation(
                self.session, by="benefit", as_at=self.as_at, tolerance_pct=Decimal("0")
            )
            self._benefits = {g.key: g for g in report.groups}
            self._at_risk = {a.code: a for a in report.at_risk}
            self.currency = report.currency
        return self._benefits, self._at_risk

    # -- run / change balance (bigov balance) ----------------------------------------------
    def balance(self, start: dt.date, end: dt.date) -> BalanceReport:
        """The year's split by run / grow / transform, organisation and business units."""
        key = (start, end)
        if key not in self._balance:
            self._balance[key] = balance(self.session, grain="year", start=start, end=end)
        return self._balance[key]

    def delivery(self, start: dt.date, end: dt.date) -> dict[str, dict[str, Decimal]]:
        """The year's budget by nature (run / change delivery) per business unit."""
        key = (start, end)
        if key not in self._delivery:
            self._delivery[key] = delivery_split(self.session, start, end)
        return self._delivery[key]

    def business_units(self) -> dict[int, str]:
        """Each organisation unit's business unit code, as :func:`balance` groups them."""
        if self._units is None:
            self._units = {u: code for u, (code, _n) in business_unit_map(self.session).items()}
        return self._units

    # -- strategy (bigov attainment, bigov trace --map) -----------------------------------------
    def attainment(self) -> dict[str, OtcAttainment]:
        if self._attainment is None:
            rows = attainment(self.session, as_at=self.as_at, measures=self._measure_source())
            self._attainment = {a.code: a for a in rows}
        return self._attainment

    def strategy_map(self, root: str | None) -> str:
        """:func:`~bigov.analysis.trace.strategy_map_svg` of ``root`` as at the date: the map's
        data is read once per date and each root's map drawn once from it."""
        if root not in self._maps:
            if self._map_graph is None:
                self._map_graph = strategy_map_graph(self.session, as_at=self.as_at)
            self._maps[root] = render_strategy_map(self._map_graph, root)
        return self._maps[root]

    def strategy_roots(self) -> list[str]:
        """The OTIG codes of the map as at the date: one legible map each for a large board."""
        if self._map_graph is None:
            self._map_graph = strategy_map_graph(self.session, as_at=self.as_at)
        g = self._map_graph
        return sorted(g.otigs[i][0] for i in g.otigs)

    # -- measures (metrics engine) -----------------------------------------------------------
    def _metrics(self) -> MetricsService | None:
        """The metrics service, or None when this workspace has no metrics tables (one per
        as-at date: every measure read of the cycles shares its calendar and org lookups)."""
        if not self._service_checked:
            self._service_checked = True
            if inspect(self.session.get_bind()).has_table(MetricMeasure.__tablename__):
                self._service = _CycleMetrics(self.ws)
        return self._service

    def _measure_source(self) -> MeasureSource | None:
        """Monthly actuals of key results' measures up to the as-at date (see module docstring)."""
        service = self._metrics()
        if service is None:
            return None
        end = dt.datetime.combine(self.as_at + dt.timedelta(days=1), dt.time())

        def source(code: str, _as_at: dt.date) -> list[tuple[dt.date, Decimal]]:
            try:
                values = service.values(code, grain="month", end=end)
            except BigovError:
                return []
            return [
                (_day(v.period_start), Decimal(str(v.value))) for v in values if v.value is not None
            ]

        return source

    def measure(
        self,
        code: str,
        grain: str,
        org: str | None,
        start: dt.date,
        freshness_days: int | None,
        history: int,
    ) -> MeasureView:
        """The measure per period at ``grain`` up to the as-at date (the last ``history``
        periods) with target and RAG, and its readiness for the window ``start``..as-at: missing
        (no value for a period of the window), incomplete (fewer observations than expected in a
        series), stale (newest value older than ``freshness_days``) or ready."""
        key = (code, grain, org, start, self.as_at)
        cached = self._measures.get(key)
        if cached is not None:
            return cached
        view = MeasureView(code, grain, org)
        self._measures[key] = view
        service = self._metrics()
        if service is None:
            view.status, view.detail = "missing", "this workspace has no metrics."
            return view
        end = dt.datetime.combine(self.as_at + dt.timedelta(days=1), dt.time())
        try:
            values = service.values(code, grain=grain, org=org, end=end)
            completeness = service.completeness(code, grain=grain, org=org)
        except BigovError as exc:
            view.status, view.detail = "invalid", str(exc)
            return view
        for v in values[-history:]:
            view.values.append(
                {
                    "period": v.label,
                    "start": _day(v.period_start).isoformat(),
                    "value": _float(v.value),
                    "target": _float(v.target),
                    "rag": v.rag,
                    "coverage": _float(v.coverage),
                    "partial": bool(v.partial),
                }
            )
        in_window = [v for v in values if start <= _day(v.period_start) <= self.as_at]
        view.rows = sum(v.n for v in in_window)
        with_value = [v for v in values if v.value is not None]
        view.latest = with_value[-1].label if with_value else None
        short = sorted(
            {
                f"{c.series} ({c.n} of {c.expected})"
                for c in completeness
                if start <= _day(c.period_start) <= self.as_at and c.partial
            }
        )
        if not in_window or all(v.value is None for v in in_window):
            view.status = "missing"
            view.detail = f"no {code} values for the period ({grain})."
        elif short:
            view.status = "incomplete"
            view.detail = f"fewer observations than expected: {', '.join(short[:5])}" + (
                " …" if len(short) > 5 else "."
            )
        elif (
            freshness_days is not None
            and with_value
            and (self.as_at - _day(with_value[-1].period_start)).days
            > freshness_days + _grain_days(grain)
        ):
            view.status = "stale"
            view.detail = f"newest value is for {view.latest}, older than {freshness_days} days."
        else:
            view.detail = f"{len(in_window)} period(s), {view.rows} observations."
        return view


class _CycleMetrics(MetricsService):
    """:class:`MetricsService` for the reads of one cycle run: the workspace calendar and each
    organisation unit's subtree are read once, not once per measure, node and window (neither
    changes while the cycles run)."""

    def __init__(self, ws: Workspace) -> None:
        super().__init__(ws)
        self._calendar: FiscalCalendar | None = None
        self._orgs: dict[str, list[str]] = {}

    def calendar(self) -> FiscalCalendar:
        if self._calendar is None:
            self._calendar = super().calendar()
        return self._calendar

    def _org_codes(self, s: Session, org: str) -> list[str]:
        if org not in self._orgs:
            self._orgs[org] = super()._org_codes(s, org)
        return list(self._orgs[org])


def _grain_days(grain: str) -> int:
    return {"month": 31, "quarter": 92, "year": 366}.get(grain, 7)


def _day(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _float(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def balance_rows(report: BalanceReport, units: set[str] | None) -> list[BalanceRow]:
    """The whole-range rows of the organisation (``units`` None) or of some business units."""
    if units is None:
        return [r for r in report.totals if r.unit == ALL_UNITS]
    return [r for r in report.totals if r.unit in units]


__all__ = ["AnalysisFigures", "MeasureView", "balance_rows"]
