"""A small hand-built workspace whose planning round can be solved by hand.

FY2028 (April 2027 – March 2028), one change envelope of 10, one skill with 1 FTE on average.

| item | phase          | cost | skill | contributes to      | derived value            |
|------|----------------|------|-------|---------------------|--------------------------|
| A    | identification | 5    | 0.6   | O1 (all of it)      | 4/7 × 100 = 57.14        |
| B    | identification | 3    | 0.3   | O2 (half)           | 3/7 × 50  = 21.43        |
| C    | identification | 4    | 0.0   | O2 (half), needs B  | 3/7 × 50  = 21.43        |
| R    | delivery       | 2    | —     | —                   | 0 (running: forced in)   |

O1 has priority 1 (weight 4), O2 priority 2 (weight 3). R leaves 8 for proposals: the optimum is
A + B = 78.57 (A + C costs 9; B + C is worth only 42.86). Withdraw O1 and A is worth nothing while
B and C are worth 50 each: the best plan becomes B + C, reached by stopping A and starting C.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import update

from bigov.finance.models import CostLine, FundingSource
from bigov.org.models import OrgUnit, OrgUnitKind
from bigov.resources.models import Capacity, Demand, Skill
from bigov.strategy.models import Otc, OtcKind
from bigov.work.models import (
    Category,
    Contribution,
    Dependency,
    DependencyKind,
    Nature,
    Phase,
    WorkItem,
    WorkKind,
)
from bigov.workspace import Workspace

FY2028 = [dt.date(2027, 4, 1)] + [
    dt.date(2027 + (m >= 13), (m - 1) % 12 + 1, 1) for m in range(5, 16)
]
EXPECTED_VALUE = 400 / 7 + 150 / 7  # A + B


def seed(ws: Workspace, *, extra_running_cost: float | None = None) -> None:
    """Write the table of the module docstring (plus, optionally, a second running item R2)."""
    ws.strategy.add_otc("O1", OtcKind.OBJECTIVE, "Grow retail", effective_from=dt.date(2026, 4, 1))
    ws.strategy.add_otc("O2", OtcKind.OBJECTIVE, "Cut leakage", effective_from=dt.date(2026, 4, 1))
    with ws.session() as s:
        s.execute(update(Otc).where(Otc.code == "O1").values(priority=1))
        s.execute(update(Otc).where(Otc.code == "O2").values(priority=2))
        team = OrgUnit(code="TEAM", name="Delivery team", kind=OrgUnitKind.TEAM)
        skill = Skill(code="SK-DEV", name="Developer")
        fund = FundingSource(
            code="FUND-CHG-2028",
            name="Change 2027/28",
            nature=Nature.CHANGE,
            fiscal_year=2028,
            amount=Decimal(10),
        )
        s.add_all([team, skill, fund])
        s.flush()
        items: dict[str, WorkItem] = {}
        spec = [("A", Phase.IDENTIFICATION), ("B", Phase.IDENTIFICATION),
                ("C", Phase.IDENTIFICATION), ("R", Phase.DELIVERY)]  # fmt: skip
        if extra_running_cost is not None:
            spec.append(("R2", Phase.DELIVERY))
        for code, phase in spec:
            items[code] = WorkItem(
                code=code,
                name=f"Project {code}",
                kind=WorkKind.PROJECT,
                nature=Nature.CHANGE,
                category=Category.TRANSFORM,
                phase=phase,
                org_unit_id=team.id,
            )
        s.add_all(items.values())
        s.flush()
        costs = {"A": 5.0, "B": 3.0, "C": 4.0, "R": 2.0}
        if extra_running_cost is not None:
            costs["R2"] = extra_running_cost
        for code, total in costs.items():
            running = items[code].phase is Phase.DELIVERY
            # running work is costed at forecast; make its budget differ so the rule shows
            s.add(
                CostLine(
                    code=f"CL-{code}",
                    work_item_id=items[code].id,
                    period=dt.date(2027, 6, 1),
                    funding_source_id=fund.id,
                    budget=Decimal(str(total / 2 if running else total)),
                    forecast=Decimal(str(total if running else 0)),
                )
            )
        for code, fte in {"A": 0.6, "B": 0.3}.items():
            for m in FY2028:
                s.add(
                    Demand(
                        code=f"DM-{code}-{m:%Y-%m}",
                        work_item_id=items[code].id,
                        skill_id=skill.id,
                        org_unit_id=team.id,
                        period=m,
                        fte=Decimal(str(fte)),
                    )
                )
        for m in FY2028:
            s.add(
                Capacity(
                    code=f"CP-{m:%Y-%m}",
                    org_unit_id=team.id,
                    skill_id=skill.id,
                    period=m,
                    fte=Decimal(1),
                )
            )
        otc = {o.code: o.id for o in s.query(Otc)}
        for code, key, weight in (("A", "O1", "1"), ("B", "O2", "0.5"), ("C", "O2", "0.5")):
            s.add(
                Contribution(
                    code=f"CTB-{code}-{key}",
                    work_item_id=items[code].id,
                    otc_id=otc[key],
                    weight=Decimal(weight),
                )
            )
        s.add(
            Dependency(
                code="DPN-1",
                predecessor_id=items["B"].id,
                successor_id=items["C"].id,
                kind=DependencyKind.NEEDS,
            )
        )
