"""Monthly status reports of work items."""

from __future__ import annotations

import datetime as dt

from bigov.demo import names
from bigov.demo.benefits import _BenefitsBuilder
from bigov.demo.common import _add_months, _Item, _month, _months
from bigov.demo.gaps import _HOT_SKILLS
from bigov.work.models import Confidence, Rag, StatusReport, WorkKind

_CONF = list(Confidence)  # best first: index 0 green .. 4 red
_RAG = (Rag.GREEN, Rag.AMBER, Rag.RED)


# -- tuning knobs: status reports ---------------------------------------------------------------
# Share of good items whose confidence starts at green (the rest start one step lower): drives
# the spread of delivery confidence on the packs.
_GOOD_GREEN_SHARE = 0.6
# Cost variance (overrun so far) up to which cost is green, then amber; beyond, red.
_COST_GREEN_UPTO = 0.05
_COST_AMBER_UPTO = 0.10
# Slip so far, days, up to which schedule is green, then amber; beyond, red.
_SCHEDULE_GREEN_DAYS = 30
_SCHEDULE_AMBER_DAYS = 90
# Chance a month's confidence moves one step either way: the noise of the confidence trend.
_CONFIDENCE_WOBBLE = 0.08
# Chance a troubled item reports scope amber; an item needing a hot skill, resources amber.
_TROUBLED_SCOPE_AMBER = 0.4
_HOT_SKILL_RESOURCES_AMBER = 0.5


class _StatusBuilder(_BenefitsBuilder):
    """Status reports of every item, month by month."""

    def ramp_at(self, item: _Item, period: dt.date) -> float:
        assert item.onset
        if period < item.onset:
            return 0.0
        span = max((self.last_period - item.onset).days, 30)
        return min(1.0, (period - item.onset).days / span + 0.25)

    def status_reports(self) -> None:
        first = _add_months(self.last_period, -17)
        for item in self.items:
            if item.kind in (WorkKind.PORTFOLIO, WorkKind.PROGRAMME):
                continue
            if item.a_start is None:
                self.reporter.advance()
                continue
            end = min(
                _add_months(self.last_period, 1),
                _add_months(_month(item.a_finish), 1) if item.a_finish else self.window_end,
            )
            base = 0 if item.health == "good" and self.rng.random() < _GOOD_GREEN_SHARE else 1
            if item.health == "troubled":
                base = 1
            for period in _months(max(item.a_start, first), end):
                ramp = self.ramp_at(item, period)
                cost_var = item.overrun * (ramp if item.health != "good" else 1)
                slip = item.slip * (ramp if item.health != "good" else 1)
                cost_sev = (
                    0
                    if cost_var <= _COST_GREEN_UPTO
                    else (1 if cost_var <= _COST_AMBER_UPTO else 2)
                )
                sched_sev = (
                    0
                    if slip <= _SCHEDULE_GREEN_DAYS
                    else (1 if slip <= _SCHEDULE_AMBER_DAYS else 2)
                )
                conf = base + max(cost_sev, sched_sev) + (cost_sev == sched_sev == 2)
                if self.rng.random() < _CONFIDENCE_WOBBLE:
                    conf += self.rng.choice((-1, 1))
                conf = min(4, max(0, conf))
                item.status[period] = (conf, cost_sev, sched_sev)
                self.write_status(item, period, conf, cost_sev, sched_sev, cost_var, slip)
            self.reporter.advance()
        for item in self.items:
            if item.kind is WorkKind.PROGRAMME:
                periods = sorted({p for c in item.children for p in c.status})
                for period in periods:
                    rows = [c.status[period] for c in item.children if period in c.status]
                    worst = max(r[0] for r in rows)
                    mean = sum(r[0] for r in rows) / len(rows)
                    conf = max(round(mean), worst - 1)
                    cost = max(
                        round(sum(r[1] for r in rows) / len(rows)), min(1, max(r[1] for r in rows))
                    )
                    sched = max(
                        round(sum(r[2] for r in rows) / len(rows)), min(1, max(r[2] for r in rows))
                    )
                    good = sum(r[0] <= 1 for r in rows)
                    worst_child = next(
                        c
                        for c in item.children
                        if period in c.status and c.status[period][0] == worst
                    )
                    narrative = (
                        f"{good} of {len(rows)} projects green or amber/green. "
                        f"Main concern: {worst_child.name} "
                        f"({_CONF[worst].value})."
                    )
                    self.write_status(item, period, conf, cost, sched, 0.0, 0.0, narrative)

    def write_status(
        self,
        item: _Item,
        period: dt.date,
        conf: int,
        cost_sev: int,
        sched_sev: int,
        cost_var: float,
        slip: float,
        narrative: str | None = None,
    ) -> None:
        rng = self.rng
        confidence = _CONF[conf]
        if narrative is None:
            upcoming = [n for n, d in item.milestones if d >= period]
            hot = [s for s, _f, _t in item.skills if s in _HOT_SKILLS]
            template = rng.choice(names.NARRATIVES[confidence.value])
            narrative = template.format(
                milestone=upcoming[0] if upcoming else "Handover to operations",
                slip_weeks=max(1, round(slip / 7)),
                cost_pct=max(1, round(cost_var * 100)),
                skill=next(
                    (n for c, n, _d in names.SKILLS if hot and c == hot[0]), "business analysis"
                ),
            )
        overall = _RAG[0] if conf <= 1 else (_RAG[1] if conf == 2 else _RAG[2])
        self.w.add(
            StatusReport,
            code=f"SR-{item.code}-{period:%Y-%m}",
            work_item_id=item.id,
            period=period,
            confidence=confidence,
            overall=overall,
            schedule=_RAG[sched_sev],
            cost=_RAG[cost_sev],
            scope=_RAG[1]
            if item.health == "troubled" and rng.random() < _TROUBLED_SCOPE_AMBER
            else _RAG[0],
            benefits=_RAG[min(2, max(0, conf - 1))],
            risk=_RAG[min(2, max(0, conf - 1))],
            resources=_RAG[1]
            if any(s in _HOT_SKILLS for s, _f, _t in item.skills)
            and rng.random() < _HOT_SKILL_RESOURCES_AMBER
            else _RAG[0],
            narrative=narrative,
            reported_by_id=item.manager_id,
            reported_on=_add_months(period, 1) + dt.timedelta(days=rng.randint(1, 6)),
        )
