"""Money: cost lines (budget, actual, forecast) and expenditure of run and change work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import update

from bigov.demo.common import _fiscal_year, _Item, _money, _month, _months
from bigov.demo.status import _StatusBuilder
from bigov.finance.models import CostLine, Expenditure
from bigov.work.models import Nature, Phase, WorkKind

# -- tuning knobs: cost noise -------------------------------------------------------------------
# Actual / forecast of a past month of run work (uniform range).
_RUN_ACTUAL_NOISE = (0.97, 1.03)
# Actual / planned rate of a past month of change work (uniform range), on top of its overrun.
_CHANGE_ACTUAL_NOISE = (0.9, 1.1)


class _MoneyBuilder(_StatusBuilder):
    """Costs of every item."""

    def costs(self) -> None:
        for item in self.items:
            self.reporter.advance()
            if item.kind in (WorkKind.PORTFOLIO, WorkKind.PROGRAMME) or not item.funded:
                continue
            lines = self.run_costs(item) if item.nature is Nature.RUN else self.change_costs(item)
            for period, budget, forecast, actual in lines:
                fy = _fiscal_year(period)
                funding = self.funding[(fy, item.nature)]
                self.funding_total[(fy, item.nature)] += budget
                parts = [(Expenditure.OPEX, 1 - item.capex_share)]
                if item.capex_share > 0:
                    parts.append((Expenditure.CAPEX, item.capex_share))
                for expenditure, share in parts:
                    self.w.add(
                        CostLine,
                        code=f"CL-{item.code}-{period:%Y-%m}-{expenditure.value}",
                        work_item_id=item.id,
                        period=period,
                        funding_source_id=funding,
                        expenditure=expenditure,
                        budget=_money(budget * share),
                        forecast=_money(forecast * share),
                        actual=None if actual is None else _money(actual * share),
                        currency="GBP",
                    )
        for (fy, nature), total in sorted(self.funding_total.items()):
            self.w.conn.execute(
                update(self.w.tables["funding_source"])
                .where(self.w.tables["funding_source"].c.id == self.funding[(fy, nature)])
                .values(amount=_money(round(total * 1.03, -5)))
            )
        for fy, root in self.funding_root.items():
            total = sum(v for (y, _n), v in self.funding_total.items() if y == fy)
            self.w.conn.execute(
                update(self.w.tables["funding_source"])
                .where(self.w.tables["funding_source"].c.id == root)
                .values(amount=_money(round(total * 1.05, -5)))
            )

    def run_costs(self, item: _Item) -> Iterator[tuple[dt.date, float, float, float | None]]:
        rng = self.rng
        for period in self.window:
            years = _fiscal_year(period) - self.fys[0]
            budget = item.annual / 12 * (1 + item.growth) ** years
            budget *= 1 + 0.04 * ((period.month % 3) - 1)  # a little quarterly seasonality
            overrun = item.overrun * (
                self.ramp_at(item, period) if period >= self.window_start else 0
            )
            forecast = budget * (1 + overrun)
            actual = None
            if period < self.now_month:
                actual = forecast * rng.uniform(*_RUN_ACTUAL_NOISE)
                forecast = actual
            yield period, budget, forecast, actual

    def change_costs(self, item: _Item) -> Iterator[tuple[dt.date, float, float, float | None]]:
        """Budget on the baseline months; actuals to date; the rest of the forecast at completion
        (budget × (1 + overrun)) spread over the remaining forecast months."""
        rng = self.rng
        assert item.start and item.finish and item.f_start and item.f_finish
        base_months = _months(item.start, item.finish)
        rate = item.wlc / max(len(base_months), 1)
        fc_months = _months(item.f_start, item.f_finish)
        stop = _month(item.a_finish) if item.a_finish else None
        eac = item.wlc * (1 + item.overrun)
        spent = 0.0
        actuals: dict[dt.date, float] = {}
        for m in fc_months:
            if m >= self.now_month or (stop and m > stop):
                break
            ramp = self.ramp_at(item, m) if item.health != "good" else 1.0
            value = rate * (1 + item.overrun * ramp) * rng.uniform(*_CHANGE_ACTUAL_NOISE)
            actuals[m] = value
            spent += value
        remaining = [m for m in fc_months if m >= self.now_month and (stop is None or m <= stop)]
        if item.phase is Phase.CANCELLED:
            remaining = []
        rest = max(eac - spent, rate * 0.2 * len(remaining)) / max(len(remaining), 1)
        budget_set = set(base_months)
        for m in self.window:
            budget = rate if m in budget_set else 0.0
            if item.phase is Phase.CANCELLED and stop and m > stop:
                budget = 0.0  # a stopped project's remaining budget is released
            if m in actuals:
                yield m, budget, actuals[m], actuals[m]
            elif m in remaining:
                yield m, budget, rest, None
            elif budget:
                yield m, budget, 0.0, (0.0 if m < self.now_month else None)
