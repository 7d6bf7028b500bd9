"""Strategy: OTIGs, versioned OTCs, key results, business plans and key result actuals."""

from __future__ import annotations

import datetime as dt

from bigov.demo import names
from bigov.demo.common import _add_months, _months, _qty, _Region
from bigov.demo.gaps import _NO_PLAN_TARGETS
from bigov.demo.work import _WorkBuilder
from bigov.org.models import BusinessPlanTarget
from bigov.strategy.models import (
    Direction,
    KeyResult,
    KeyResultActual,
    Otc,
    OtcKind,
    OtcStatus,
    OtcVersion,
    Otig,
    OtigKind,
    OtigOtc,
    Trajectory,
)
from bigov.work.models import Category, Nature, Phase, WorkKind


class _StrategyBuilder(_WorkBuilder):
    """Strategy of each region and the actuals of its key results."""

    def region_strategy(self, reg: _Region) -> None:
        w, rng = self.w, self.rng
        for key, kind, name, description in names.OTIGS:
            reg.otig[key] = w.add(
                Otig,
                code=f"OTIG-{key}{reg.sfx}",
                name=name,
                kind=OtigKind(kind),
                description=description,
                owner_id=rng.choice([self.ceo, self.coo, self.cfo]),
                raised_on=self.day_between(
                    _add_months(self.strategy_start, -6), self.strategy_start
                ),
            )
        # Portfolios are created here because objectives are delegated to them.
        for key, code, name, bu, description in names.PORTFOLIOS:
            item = self.new_item(
                reg,
                f"{code}{reg.sfx}",
                f"{name}{reg.nsfx}",
                WorkKind.PORTFOLIO,
                Nature.CHANGE,
                Category.TRANSFORM,
                Phase.DELIVERY,
                reg.bu[bu],
                self.portfolio_directors[key],
                self.portfolio_directors[key],
                self.nodes["GOV-PPG"],
                None,
            )
            item.start = self.window_start
            item.finish = _add_months(self.window_end, 24)
            item.description = description
            reg.portfolios[key] = item
        for kind, key, title, description, delegate, otigs, priority in names.OTCS:
            code = f"OTC-{key}{reg.sfx}"
            owner = (
                self.portfolio_directors.get(delegate)
                or reg.director.get(delegate)
                or self.innovation_lead
            )
            effective = self.strategy_start if priority < 4 else _add_months(self.strategy_start, 6)
            revised = self.revision(key)
            final_title = revised[1] if revised and revised[1] else title
            status = OtcStatus.WITHDRAWN if revised and revised[3] else OtcStatus.ACTIVE
            otc_id = w.add(
                Otc,
                code=code,
                kind=OtcKind(kind),
                title=final_title,
                description=description,
                status=status,
                owner_id=owner,
                portfolio_id=reg.portfolios[delegate].id if kind == "objective" else None,
                management_team_id=reg.mt[delegate] if kind == "target" else None,
                innovation_unit_id=self.fn_innov if kind == "challenge" else None,
                priority=priority,
                version=2 if revised else 1,
                effective_from=revised[0] if revised else effective,
            )
            reg.otc[key] = otc_id
            reg.otc_kind[key] = kind
            # versions exactly as StrategyService.add_otc / revise_otc record them
            w.add(
                OtcVersion,
                code=f"{code}@v1",
                otc_id=otc_id,
                version=1,
                title=title,
                description=description,
                status=OtcStatus.ACTIVE,
                effective_from=effective,
                effective_to=revised[0] if revised else None,
                change_reason="created",
            )
            if revised:
                w.add(
                    OtcVersion,
                    code=f"{code}@v2",
                    otc_id=otc_id,
                    version=2,
                    title=final_title,
                    description=description,
                    status=status,
                    effective_from=revised[0],
                    effective_to=None,
                    change_reason=revised[2],
                )
            for otig in otigs:
                w.add(
                    OtigOtc, code=f"OO-{otig}-{key}{reg.sfx}", otig_id=reg.otig[otig], otc_id=otc_id
                )
            for n, (kr_name, unit, base, target, direction, trajectory, measure) in enumerate(
                names.KEY_RESULTS.get(key, ()), start=1
            ):
                if key == "O-03" and revised:
                    target = 400_000  # the revision raised the target
                self.kr_ids[f"KR-{key}-{n}{reg.sfx}"] = w.add(
                    KeyResult,
                    code=f"KR-{key}-{n}{reg.sfx}",
                    name=kr_name,
                    otc_id=otc_id,
                    management_team_id=reg.mt[delegate] if kind == "target" else None,
                    unit=unit,
                    baseline=_qty(base, 4),
                    baseline_date=self.strategy_start,
                    target=_qty(target, 4),
                    target_date=self.target_date(key),
                    direction=Direction(direction),
                    trajectory=Trajectory(trajectory),
                    measure_code=measure or None,
                )
            if kind == "objective":
                self.scope("GOV-PDG", otc_id=otc_id)
            elif kind == "target":
                self.scope(f"GOV-MT-{self.bu_spec(delegate).code}{reg.sfx}", otc_id=otc_id)
        for bu_short, kpis in names.TEAM_KPIS.items():
            for n, (kr_name, unit, base, target, direction, measure) in enumerate(kpis, start=1):
                w.add(
                    KeyResult,
                    code=f"KPI-MT-{self.bu_spec(bu_short).code}-{n}{reg.sfx}",
                    name=kr_name,
                    otc_id=None,
                    management_team_id=reg.mt[bu_short],
                    unit=unit,
                    baseline=_qty(base, 4),
                    baseline_date=self.strategy_start,
                    target=_qty(target, 4),
                    target_date=dt.date(self.fy, 3, 31),
                    direction=Direction(direction),
                    trajectory=Trajectory.LINEAR,
                    measure_code=measure or None,
                )
        # targets go into their management team's business plans (one planted exception)
        for kind, key, _t, _d, delegate, _o, _p in names.OTCS:
            if kind != "target" or key in _NO_PLAN_TARGETS:
                continue
            mt_code = f"MT-{self.bu_spec(delegate).code}{reg.sfx}"
            for fy in self.fys:
                plan_code = f"PLAN-{mt_code}-FY{fy}"
                w.add(
                    BusinessPlanTarget,
                    code=f"BPT-{plan_code}-{key}",
                    business_plan_id=self._plan_id(plan_code),
                    otc_id=reg.otc[key],
                )

    def _plan_id(self, code: str) -> int:
        for row in self.w.pending["business_plan"]:
            if row["code"] == code:
                return int(row["id"])
        raise KeyError(code)

    def revision(self, key: str) -> tuple[dt.date, str | None, str, bool] | None:
        """(effective from, new title, reason, withdrawn) of the OTCs the board revised."""
        s = self.strategy_start
        if key == "O-03":
            return (
                _add_months(s, 12),
                "Install 400,000 smart meters by March 2028",
                "The regulator's final determination raised the smart metering allowance; "
                "the board raised the target to match.",
                False,
            )
        if key == "O-07":
            return (
                _add_months(s, 14),
                "Replace end-of-life finance and HR systems by December 2027",
                "ERP supplier re-plan after a failed data migration rehearsal; the board "
                "accepted a six-month delay.",
                False,
            )
        if key == "O-11":
            return (
                _add_months(s, 15),
                None,
                "Withdrawn after the market review showed low take-up; the pilot is "
                "stopped and its budget released.",
                True,
            )
        return None

    def target_date(self, key: str) -> dt.date:
        end = dt.date(self.fy + 1, 3, 31)
        return {
            "O-05": dt.date(self.fy, 3, 31),
            "O-06": dt.date(self.fy + 3, 3, 31),
            "O-07": dt.date(self.fy, 12, 31),
        }.get(key, dt.date(self.fy, 3, 31) if key.startswith("T-") else end)

    def key_result_actuals(self) -> None:
        """Monthly reported values for key results that no metrics series feeds."""
        rng = self.rng
        for reg in self.all_regions:
            for key, results in names.KEY_RESULTS.items():
                progress = 0.0 if not reg.contributions.get(key) else rng.uniform(0.5, 1.1)
                for n, (_name, _unit, base, target, _dir, _traj, measure) in enumerate(
                    results, start=1
                ):
                    if measure or base == target:
                        continue
                    kr_code = f"KR-{key}-{n}{reg.sfx}"
                    kr_id = self.kr_ids[kr_code]
                    horizon = max(len(_months(self.strategy_start, self.target_date(key))), 1)
                    for k, m in enumerate(_months(self.strategy_start, self.now_month)):
                        frac = min(1.0, (k + 1) / horizon) * progress
                        value = base + (target - base) * frac
                        value += (target - base) * rng.uniform(-0.03, 0.03)
                        self.w.add(
                            KeyResultActual,
                            code=f"KRA-{kr_code}-{m:%Y-%m}",
                            key_result_id=kr_id,
                            period=m,
                            value=_qty(value, 4),
                        )
