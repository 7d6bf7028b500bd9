"""People as resources: capacity of teams and demand of work by skill."""

from __future__ import annotations

from collections import defaultdict

from bigov.demo.common import _months, _qty
from bigov.demo.gaps import _HOT_SKILLS
from bigov.demo.money import _MoneyBuilder
from bigov.resources.models import Capacity, Demand
from bigov.work.models import Nature, Phase

# -- tuning knobs: capacity ---------------------------------------------------------------------
# Capacity / average demand of a team's skill: hot skills (gaps._HOT_SKILLS) are under-supplied
# so their peaks show as over-allocation; other skills get a headroom in the uniform range.
_HOT_SKILL_HEADROOM = 0.9
_HEADROOM = (1.1, 1.35)


class _ResourcesBuilder(_MoneyBuilder):
    """Capacity and demand."""

    def resources(self) -> None:
        rng = self.rng
        demand: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0] * len(self.window))
        index = {m: i for i, m in enumerate(self.window)}
        for item in self.items:
            self.reporter.advance()
            if not item.skills:
                continue
            if item.nature is Nature.RUN:
                months = self.window
            else:
                assert item.f_start and item.f_finish
                end = min(item.f_finish, item.a_finish or item.f_finish)
                months = [m for m in _months(item.f_start, end) if m in index]
            committed = item.phase not in (Phase.IDENTIFICATION, Phase.DEFINITION)
            n = len(months)
            for skill, fte, team in item.skills:
                for k, m in enumerate(months):
                    # ramp up and down at the ends of a project; flat for run work
                    shape = (
                        1.0
                        if item.nature is Nature.RUN
                        else min(1.0, 0.4 + 0.3 * min(k, n - 1 - k))
                    )
                    value = round(fte * shape * rng.uniform(0.9, 1.1), 1)
                    if value <= 0:
                        continue
                    demand[(team, skill)][index[m]] += value
                    self.w.add(
                        Demand,
                        code=f"DM-{item.code}-{skill}-{m:%Y-%m}",
                        work_item_id=item.id,
                        skill_id=self.skills[skill],
                        org_unit_id=team,
                        period=m,
                        fte=_qty(value),
                        status="committed" if committed else "proposed",
                        actual_fte=_qty(value * rng.uniform(0.8, 1.05))
                        if m < self.now_month and committed
                        else None,
                    )
        for reg in self.all_regions:
            for team_id, _bu, _dept, skills, team_code in reg.teams:
                for skill in skills:
                    profile = demand.get((team_id, skill))
                    average = sum(profile) / len(profile) if profile else 0.0
                    # capacity is flat; peaks in demand above it show as over-allocation
                    headroom = (
                        _HOT_SKILL_HEADROOM if skill in _HOT_SKILLS else rng.uniform(*_HEADROOM)
                    )
                    base = max(1.0, round(average * headroom * 2) / 2)
                    for m in self.window:
                        holiday = 0.9 if m.month in (8, 12) else 1.0
                        self.w.add(
                            Capacity,
                            code=f"CP-{team_code}-{skill}-{m:%Y-%m}",
                            org_unit_id=team_id,
                            skill_id=self.skills[skill],
                            period=m,
                            fte=_qty(base * holiday),
                        )
