"""Governance nodes: tolerances, standing agendas and information definitions, members, scopes."""

from __future__ import annotations

from collections.abc import Sequence

from bigov.demo.common import _qty
from bigov.demo.raid import _RaidBuilder
from bigov.governance.models import (
    AgendaItem,
    AgendaSection,
    Cadence,
    GovernanceNode,
    InfoForm,
    InformationDefinition,
    NodeKind,
    NodeMember,
    NodeScope,
    Tolerance,
    ToleranceDimension,
)

# -- tuning knobs: delegated authority -----------------------------------------------------------
# Tolerances of each kind of node: beyond them an item, benefit or risk is an exception that node
# owns (and escalates to its parent), so they drive how many exceptions each board sees.
# The board's sub-groups and the portfolio direction group hold wide authority (they own red
# projects, risks up to 20 and slips up to 200 days), so the main board sees only what is beyond
# them: a handful of exceptions, each worth its time.
_TOLERANCES: dict[NodeKind, tuple[float, float, float, float, float]] = {
    # cost %, schedule days, benefit %, risk score, lowest confidence score tolerated
    NodeKind.MAIN_BOARD: (20, 180, 25, 20, 1),
    NodeKind.BOARD_SUBGROUP: (20, 200, 35, 20, 1),
    NodeKind.PORTFOLIO_DIRECTION: (20, 200, 35, 20, 1),
    NodeKind.PORTFOLIO_PROGRESS: (10, 90, 15, 15, 2),
    NodeKind.FINANCE: (10, 90, 15, 16, 2),
    NodeKind.BUSINESS_SUPPORT: (10, 90, 15, 15, 2),
    NodeKind.ASSURANCE: (10, 60, 15, 12, 3),
    NodeKind.PROGRAMME_BOARD: (7.5, 60, 10, 12, 3),
    NodeKind.MANAGEMENT_TEAM: (5, 30, 10, 12, 3),
    NodeKind.PROJECT_BOARD: (5, 30, 10, 10, 3),
}
# Rule settings by kind of node (bigov.governance.rules.RuleSettings): the main board hears of a
# skill only when demand tops capacity by a quarter, not at every 1 % over.
_RULES: dict[NodeKind, dict[str, float]] = {
    NodeKind.MAIN_BOARD: {"resource_over_pct": 125},
}
# Data cut-offs (bigov.datacall): working days before a sitting its data is due. Boards higher up
# sit on packs built from the boards below, so their data is due earlier.
_CUTOFF_DAYS: dict[NodeKind, int] = {
    NodeKind.MAIN_BOARD: 10,
    NodeKind.BOARD_SUBGROUP: 8,
    NodeKind.PORTFOLIO_DIRECTION: 8,
    NodeKind.PORTFOLIO_PROGRESS: 6,
    NodeKind.FINANCE: 6,
    NodeKind.BUSINESS_SUPPORT: 5,
    NodeKind.ASSURANCE: 6,
    NodeKind.PROGRAMME_BOARD: 4,
    NodeKind.MANAGEMENT_TEAM: 3,
    NodeKind.PROJECT_BOARD: 3,
}
_DIMENSIONS = (
    ToleranceDimension.COST_PCT,
    ToleranceDimension.SCHEDULE_DAYS,
    ToleranceDimension.BENEFIT_PCT,
    ToleranceDimension.RISK_SCORE,
    ToleranceDimension.CONFIDENCE,
)

_Info = tuple[str, str, InfoForm]
_AgendaSpec = tuple[AgendaSection, str, tuple[_Info, ...]]

_PREP: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.PREPARATION,
        "Minutes and actions from the last meeting",
        (("Open actions", "raid.action", InfoForm.TABLE),),
    ),
)
_CHANGE_PROGRESS: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.PROGRESS,
        "Delivery status and confidence trend",
        (
            ("Status and DCA by item", "work.status", InfoForm.TABLE),
            ("Delivery confidence trend", "work.status", InfoForm.TREND),
        ),
    ),
    (
        AgendaSection.PROGRESS,
        "Exceptions and escalations",
        (("Items outside tolerance", "work.status", InfoForm.EXCEPTIONS),),
    ),
    (
        AgendaSection.PROGRESS,
        "Cost and resources",
        (
            ("Spend against budget and forecast", "finance.cost", InfoForm.CHART),
            ("Resource demand against capacity", "resources.demand", InfoForm.CHART),
        ),
    ),
)
_ENABLERS: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.ENABLERS,
        "Changed objectives and drivers",
        (("Objective and target attainment", "strategy.attainment", InfoForm.TABLE),),
    ),
    (
        AgendaSection.ENABLERS,
        "Risks, issues and risk appetite",
        (
            ("Risks above appetite", "raid.risk", InfoForm.EXCEPTIONS),
            ("Open issues", "raid.issue", InfoForm.TABLE),
        ),
    ),
)
_PREDICTION: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.PREDICTION,
        "Outcomes and benefits forecast",
        (("Benefits: plan, forecast and actual", "benefits.profile", InfoForm.CHART),),
    ),
    (
        AgendaSection.PREDICTION,
        "Forecast cost, priorities and balance",
        (
            ("Forecast outturn against budget", "finance.cost", InfoForm.TABLE),
            ("Confidence outlook", "work.status", InfoForm.NARRATIVE),
        ),
    ),
)
_ACTIONS: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.ACTIONS,
        "Decisions, actions and escalations",
        (("Decisions log", "raid.decision", InfoForm.TABLE),),
    ),
)


def _agenda_for(kind: NodeKind, measures: Sequence[str]) -> tuple[_AgendaSpec, ...]:
    """The standing agenda of a node of ``kind`` (``measures``: metrics a team reviews)."""
    if kind is NodeKind.MANAGEMENT_TEAM:
        kpis: tuple[_Info, ...] = (
            ("Targets and KPIs", "strategy.attainment", InfoForm.TABLE),
            *((f"{m} trend", f"metrics.{m}", InfoForm.TREND) for m in measures),
        )
        progress: tuple[_AgendaSpec, ...] = (
            (AgendaSection.PROGRESS, "Business plan performance", kpis),
            (
                AgendaSection.PROGRESS,
                "Cost against budget",
                (("Run cost against budget", "finance.cost", InfoForm.CHART),),
            ),
            (
                AgendaSection.PROGRESS,
                "Resource actuals, demand and availability",
                (("Demand against capacity by skill", "resources.demand", InfoForm.TABLE),),
            ),
            (
                AgendaSection.PROGRESS,
                "Change we receive and benefits we realise",
                (
                    ("Benefits realised by this team", "benefits.profile", InfoForm.TABLE),
                    ("Change landing on this team", "work.status", InfoForm.EXCEPTIONS),
                ),
            ),
        )
    elif kind in (NodeKind.MAIN_BOARD, NodeKind.BOARD_SUBGROUP):
        progress = (
            (
                AgendaSection.PROGRESS,
                "Organisation performance",
                (
                    ("Strategy attainment", "strategy.attainment", InfoForm.TABLE),
                    ("Customer calls handled", "metrics.CALLS-HANDLED", InfoForm.TREND),
                ),
            ),
            (
                AgendaSection.PROGRESS,
                "Escalations from committees",
                (("Exceptions escalated", "work.status", InfoForm.EXCEPTIONS),),
            ),
            (
                AgendaSection.PROGRESS,
                "Run and change spend",
                (("Spend by run, grow and transform", "finance.cost", InfoForm.CHART),),
            ),
        )
    elif kind is NodeKind.FINANCE:
        progress = (
            (
                AgendaSection.PROGRESS,
                "Spend against budget",
                (
                    ("Run and change spend", "finance.cost", InfoForm.TABLE),
                    ("Cost exceptions", "finance.cost", InfoForm.EXCEPTIONS),
                ),
            ),
            (
                AgendaSection.PROGRESS,
                "Business cases and benefits",
                (("Cashable benefits", "benefits.profile", InfoForm.TABLE),),
            ),
        )
    elif kind is NodeKind.BUSINESS_SUPPORT:
        progress = (
            (
                AgendaSection.PROGRESS,
                "Data quality and new entities",
                (
                    ("Status reports missing or late", "work.status", InfoForm.EXCEPTIONS),
                    ("Resource demand without a supplier", "resources.demand", InfoForm.EXCEPTIONS),
                ),
            ),
        )
    elif kind is NodeKind.ASSURANCE:
        progress = (
            (
                AgendaSection.PROGRESS,
                "Review findings and delivery confidence",
                (
                    ("Delivery confidence by item", "work.status", InfoForm.TABLE),
                    ("Red and amber/red items", "work.status", InfoForm.EXCEPTIONS),
                ),
            ),
        )
    else:
        progress = _CHANGE_PROGRESS
    return _PREP + progress + _ENABLERS + _PREDICTION + _ACTIONS


class _GovernanceBuilder(_RaidBuilder):
    """Governance nodes and their scopes."""

    pmo_analysts: list[int]  # set by the organisation part before any node is built

    def node(
        self,
        code: str,
        name: str,
        kind: NodeKind,
        parent: int | None,
        chair: int,
        cadence: Cadence,
        sitting_day: int,
        org_unit_id: int | None,
        purpose: str,
        members: Sequence[int],
        measures: Sequence[str],
    ) -> int:
        w = self.w
        node_id = w.add(
            GovernanceNode,
            code=code,
            name=name,
            kind=kind,
            parent_id=parent,
            chair_id=chair,
            cadence=cadence,
            sitting_day=sitting_day,
            org_unit_id=org_unit_id,
            purpose=purpose,
            rules={**_RULES.get(kind, {}), "data_cutoff_days": _CUTOFF_DAYS[kind]},
        )
        self.nodes[code] = node_id
        self.node_kind[node_id] = kind
        self.node_parent[node_id] = parent
        seen: list[int] = []
        for person_id in [chair, *members, self.rng.choice(self.pmo_analysts)]:
            if person_id in seen:
                continue
            role = (
                "chair"
                if not seen
                else ("secretary" if person_id in self.pmo_analysts else "member")
            )
            seen.append(person_id)
            w.add(
                NodeMember,
                code=f"NM-{code}-{len(seen):02d}",
                node_id=node_id,
                person_id=person_id,
                role=role,
            )
        for dimension, limit in zip(_DIMENSIONS, _TOLERANCES[kind], strict=True):
            w.add(
                Tolerance,
                code=f"TOL-{code}-{dimension.value.upper()}",
                node_id=node_id,
                dimension=dimension,
                limit=_qty(limit, 4),
            )
        grain = "quarter" if cadence is Cadence.QUARTERLY else "month"
        freshness = 30 if cadence is Cadence.QUARTERLY else 10
        for seq, (section, title, infos) in enumerate(_agenda_for(kind, measures), start=1):
            agenda_id = w.add(
                AgendaItem,
                code=f"AG-{code}-{seq:02d}",
                node_id=node_id,
                sequence=seq,
                section=section,
                title=title,
            )
            for n, (info_title, source, form) in enumerate(infos, start=1):
                w.add(
                    InformationDefinition,
                    code=f"INF-{code}-{seq:02d}-{n}",
                    agenda_item_id=agenda_id,
                    title=info_title,
                    source=source,
                    grain=grain,
                    form=form,
                    required=form is not InfoForm.NARRATIVE,
                    freshness_days=freshness,
                    owner_id=self.rng.choice(self.pmo_analysts),
                )
        return node_id

    def scope(
        self,
        node_code: str,
        *,
        work_item_id: int | None = None,
        org_unit_id: int | None = None,
        otc_id: int | None = None,
    ) -> None:
        target = work_item_id or org_unit_id or otc_id
        kind = "W" if work_item_id else ("U" if org_unit_id else "O")
        self.w.add(
            NodeScope,
            code=f"NS-{node_code}-{kind}{target}",
            node_id=self.nodes[node_code],
            work_item_id=work_item_id,
            org_unit_id=org_unit_id,
            otc_id=otc_id,
        )
