"""Benefits and dis-benefits with their enablers, contributions and profiles."""

from __future__ import annotations

import datetime as dt

from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitContribution,
    BenefitEnabler,
    BenefitKind,
    BenefitProfile,
    BenefitStatus,
)
from bigov.demo import names
from bigov.demo.common import _add_months, _Item, _money, _Region
from bigov.demo.gaps import _NO_MEASURE_BENEFITS, _NO_OWNER_BENEFITS
from bigov.demo.strategy import _StrategyBuilder
from bigov.raid.models import RaidKind
from bigov.work.models import Phase, WorkKind

# -- tuning knobs: benefit realisation ----------------------------------------------------------
# Forecast / plan of a benefit (uniform range) by the health of its lead enabling item: drives
# benefit shortfalls against tolerance and the benefits reported at risk.
_REALISATION_GOOD = (0.95, 1.05)
_REALISATION_WATCH = (0.8, 0.95)
_REALISATION_TROUBLED = (0.55, 0.8)
# Actual / forecast of a past period (uniform range): the noise of realised benefits.
_BENEFIT_ACTUAL_NOISE = (0.85, 1.1)


class _BenefitsBuilder(_StrategyBuilder):
    """Benefits of each region."""

    def region_benefits(self, reg: _Region) -> None:
        rng = self.rng
        for spec in names.PROGRAMMES:
            prog = reg.programmes[spec.code]
            projects = [c for c in prog.children if c.phase is not Phase.CANCELLED]
            for project in projects:
                for template in rng.sample(spec.benefits, 1 + (rng.random() < 0.35)):
                    name, category, measure, unit, code, low, high = template
                    short = project.name.removesuffix(reg.nsfx)
                    enablers = [project]
                    if rng.random() < 0.25:
                        enablers.append(rng.choice(projects))
                    self.benefit(
                        reg,
                        f"{name}: {short}",
                        BenefitKind.BENEFIT,
                        category,
                        measure,
                        unit,
                        code,
                        rng.uniform(low, high),
                        spec.bu,
                        enablers,
                        list(spec.objectives),
                    )
            for dis in names.DISBENEFITS:
                if dis[0] == spec.code and projects:
                    _, name, category, measure, unit = dis
                    self.benefit(
                        reg,
                        name,
                        BenefitKind.DISBENEFIT,
                        category,
                        measure,
                        unit,
                        "",
                        rng.uniform(20_000, 200_000) if unit == "GBP" else rng.uniform(2, 30),
                        spec.bu,
                        [rng.choice(projects)],
                        list(spec.objectives),
                    )
        for ws_sfx, name, category, measure, unit, code in names.RUN_BENEFITS:
            ws = next(i for i in reg.items if i.code == f"WS-{ws_sfx}{reg.sfx}")
            bu = ws_sfx.split("-")[0]
            targets = [k for k, v in reg.contributions.items() if ws.id in v]
            value = rng.uniform(100_000, 900_000) if unit == "GBP" else rng.uniform(2, 10)
            self.benefit(
                reg,
                name,
                BenefitKind.BENEFIT,
                category,
                measure,
                unit,
                code,
                value,
                bu,
                [ws],
                targets,
            )
        for item in reg.items:
            objectives = item.objectives
            if item.kind is WorkKind.PRODUCT or (objectives and objectives[0].startswith("C-")):
                bu = next((b for b, i in reg.bu.items() if i == item.org_unit_id), "RET")
                self.benefit(
                    reg,
                    f"Revenue growth: {item.name.removesuffix(reg.nsfx)}",
                    BenefitKind.BENEFIT,
                    "cashable",
                    "Net revenue (GBP)",
                    "GBP",
                    "",
                    rng.uniform(100_000, 600_000),
                    bu,
                    [item],
                    list(objectives),
                )

    def benefit(
        self,
        reg: _Region,
        name: str,
        kind: BenefitKind,
        category: str,
        measure: str,
        unit: str,
        measure_code: str,
        annual: float,
        bu: str,
        enablers: list[_Item],
        otcs: list[str],
    ) -> None:
        rng, w = self.rng, self.w
        self.benefit_seq += 1
        code = f"BEN-{self.benefit_seq:04d}"
        if not reg.first_benefit:
            reg.first_benefit = self.benefit_seq
        local = self.benefit_seq - reg.first_benefit + 1  # the planted gaps repeat per region
        no_owner = local in _NO_OWNER_BENEFITS
        no_measure = local in _NO_MEASURE_BENEFITS
        lead = enablers[0]
        financial = category != "non_financial"
        # benefits start after the enabling change lands; run benefits are already flowing
        if lead.kind is WorkKind.PROJECT:
            assert lead.finish and lead.f_finish
            plan_start = _add_months(lead.finish, rng.randint(1, 3))
            fc_start = _add_months(lead.f_finish, rng.randint(1, 3))
        else:
            plan_start = _add_months(self.window_start, rng.randint(0, 6))
            fc_start = plan_start
        plan_start = min(plan_start, _add_months(self.window_end, -9))
        fc_start = min(max(fc_start, plan_start), _add_months(self.window_end, -6))
        factor = {
            "good": rng.uniform(*_REALISATION_GOOD),
            "watch": rng.uniform(*_REALISATION_WATCH),
            "troubled": rng.uniform(*_REALISATION_TROUBLED),
        }[lead.health]
        has_actuals = fc_start < self.now_month and lead.phase is not Phase.IDENTIFICATION
        if lead.phase in (Phase.IDENTIFICATION, Phase.DEFINITION):
            status = (
                BenefitStatus.IDENTIFIED
                if lead.phase is Phase.IDENTIFICATION
                else (BenefitStatus.PLANNED)
            )
        elif has_actuals:
            status = BenefitStatus.REALISING
        else:
            status = BenefitStatus.PLANNED
        benefit_id = w.add(
            Benefit,
            code=code,
            name=name,
            kind=kind,
            category=BenefitCategory(category),
            status=status,
            description=f"{name}, enabled by {lead.name}.",
            owner_id=None if no_owner else rng.choice(reg.benefit_owners[bu]),
            owner_unit_id=reg.bu[bu],
            realising_team_id=reg.mt[bu],
            measure=None if no_measure else measure,
            measure_code=None if no_measure else (measure_code or None),
            unit=unit,
            currency="GBP" if financial else None,
        )
        seen: list[int] = []
        for enabler in enablers:
            if enabler.id not in seen:
                seen.append(enabler.id)
                w.add(
                    BenefitEnabler,
                    code=f"BEE-{code}-{enabler.code}",
                    benefit_id=benefit_id,
                    work_item_id=enabler.id,
                )
        for key in otcs:
            if key in reg.otc:
                w.add(
                    BenefitContribution,
                    code=f"BEC-{code}-{key}",
                    benefit_id=benefit_id,
                    otc_id=reg.otc[key],
                )
        currency = "GBP" if financial else None
        # The profiles stop at the window's end, so a forecast that merely starts later than plan
        # would fall short over the window even when the benefit is healthy. The business case
        # forecasts a catch-up instead: over the window the forecast totals the plan times the
        # health factor, so only watched and troubled benefits fall short, by their factor.
        plan_total = sum(self.ramp(m, plan_start, annual, financial) for m in self.window)
        shape_total = sum(self.ramp(m, fc_start, annual, financial) for m in self.window)
        catch_up = plan_total / shape_total if shape_total else 1.0
        for m in self.window:
            planned = self.ramp(m, plan_start, annual, financial)
            forecast = self.ramp(m, fc_start, annual, financial) * catch_up * factor
            if planned == 0 and forecast == 0:
                continue
            actual = None
            if m < self.now_month and has_actuals and m >= fc_start:
                actual = _money(forecast * rng.uniform(*_BENEFIT_ACTUAL_NOISE))
            w.add(
                BenefitProfile,
                code=f"BPR-{code}-{m:%Y-%m}",
                benefit_id=benefit_id,
                period=m,
                planned=_money(planned),
                forecast=_money(forecast),
                actual=actual,
                currency=currency,
            )
        if lead.health == "troubled" and lead.kind is WorkKind.PROJECT:
            self.raid(
                RaidKind.RISK,
                f"Benefit at risk: {name}",
                benefit_id=benefit_id,
                owner_id=None if no_owner else reg.director[bu],
                probability=4,
                impact=3,
                proximity=fc_start,
                raised_on=self.as_of - dt.timedelta(days=30),
                response="Benefit owner to re-profile with the programme.",
                org_unit_id=reg.bu[bu],
            )

    @staticmethod
    def ramp(month: dt.date, start: dt.date, annual: float, financial: bool) -> float:
        """Money per month builds up over six months; a non-financial level over a year."""
        if month < start:
            return 0.0
        k = (month.year - start.year) * 12 + month.month - start.month + 1
        if financial:
            return annual / 12 * min(1.0, k / 6)
        return annual * min(1.0, k / 12)
