"""The BIG design questions answered from the data: which node governs each piece of work, what
work and which OTCs no node governs, and which nodes to add so that all of it is governed.

"Governed" means a *specific* node governs it (its ``governing_node_id``, a node scoping it or an
ancestor, or a node scoping its org unit); a node with no scope, which formally sees everything
(a main board), does not count — it would hide every gap.

Proposals follow common P3M practice: a project gets a project board escalating to its
programme's board; a programme gets a programme board escalating to the portfolio progress group;
a portfolio goes to the portfolio progress group; run work goes to its org unit's management team.
The proposal comes with a design fragment :func:`bigov.governance.design.import_design` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bigov.governance.topology import Topology
from bigov.org.models import ManagementTeam, OrgUnit
from bigov.strategy.models import Otc

if TYPE_CHECKING:
    from bigov.workspace import Workspace

DELIVERY_TOLERANCES = {
    "project_board": {
        "cost_pct": 5,
        "schedule_days": 30,
        "benefit_pct": 10,
        "risk_score": 12,
        "confidence": 3,
    },
    "programme_board": {
        "cost_pct": 10,
        "schedule_days": 60,
        "benefit_pct": 10,
        "risk_score": 15,
        "confidence": 3,
    },
    "portfolio_progress": {
        "cost_pct": 15,
        "schedule_days": 90,
        "benefit_pct": 15,
        "risk_score": 15,
        "confidence": 3,
    },
    "management_team": {"cost_pct": 5, "benefit_pct": 10, "risk_score": 12, "confidence": 3},
}


@dataclass
class Proposal:
    """``items``: one row per live work item (code, kind, governed_by, proposed, reason);
    ``ungoverned_work`` / ``ungoverned_otcs``: codes no specific node governs today;
    ``new_nodes``: design-document nodes to add (import them to apply the proposal)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    ungoverned_work: list[str] = field(default_factory=list)
    ungoverned_otcs: list[str] = field(default_factory=list)
    new_nodes: list[dict[str, Any]] = field(default_factory=list)

    def design(self) -> dict[str, Any]:
        return {"nodes": self.new_nodes}


def propose(ws: Workspace) -> Proposal:
    """Who governs what now, the gaps, and the nodes that would close them (nothing is written)."""
    with ws.session() as s:
        topo = Topology(s)
        unit_codes = dict(s.execute(select(OrgUnit.id, OrgUnit.code)).all())
        teams = dict(s.execute(select(ManagementTeam.org_unit_id, ManagementTeam.code)).all())
        otcs = list(s.execute(select(Otc.id, Otc.code, Otc.portfolio_id, Otc.management_team_id)))
        team_units = dict(s.execute(select(ManagementTeam.id, ManagementTeam.org_unit_id)).all())
    out = Proposal()
    progress = next((n.code for n in topo.nodes.values() if n.kind == "portfolio_progress"), None)
    new: dict[str, dict[str, Any]] = {}
    proposed_for: dict[int, str] = {}

    def add_node(
        code: str, name: str, kind: str, parent: str | None, item: str | None, unit: str | None
    ) -> str:
        if code not in new:
            new[code] = {
                "code": code,
                "name": name,
                "kind": kind,
                "parent": parent,
                "cadence": "monthly",
                "sitting_day": 10,
                "tolerances": DELIVERY_TOLERANCES.get(kind, {}),
                "scope": {"work_items": [item]} if item else {"org_units": [unit]} if unit else {},
            }
        return code

    # parents before children, so a project's proposed board can escalate to its programme's
    order = sorted(topo.items.values(), key=lambda i: (_depth(topo, i.id), i.code))
    for item in order:
        if item.phase in ("closed", "cancelled"):
            continue
        origin = topo.origin(item.id)
        row: dict[str, Any] = {
            "code": item.code,
            "kind": item.kind,
            "nature": item.nature,
            "governed_by": topo.nodes[origin].code if origin else None,
            "proposed": None,
            "reason": "",
        }
        if origin is not None:
            row["reason"] = "already governed"
            out.items.append(row)
            continue
        out.ungoverned_work.append(item.code)
        parent_gov = None
        if item.parent_id is not None:
            po = topo.origin(item.parent_id)
            parent_gov = topo.nodes[po].code if po else proposed_for.get(item.parent_id)
        if item.nature == "run":
            unit = unit_codes.get(item.org_unit_id) if item.org_unit_id else None
            team = teams.get(item.org_unit_id) if item.org_unit_id else None
            if unit:
                code = add_node(
                    f"MT-{unit}",
                    f"Management team {team or unit}",
                    "management_team",
                    None,
                    None,
                    unit,
                )
                row.update(proposed=code, reason="run work goes to its unit's management team")
            else:
                row.update(
                    proposed=parent_gov, reason="run work with no org unit: its parent's node"
                )
        elif item.kind == "project":
            code = add_node(
                f"PB-{item.code}",
                f"{item.name} project board",
                "project_board",
                parent_gov or progress,
                item.code,
                None,
            )
            row.update(proposed=code, reason="a project is governed by its own project board")
        elif item.kind == "programme":
            code = add_node(
                f"PGB-{item.code}",
                f"{item.name} programme board",
                "programme_board",
                parent_gov or progress,
                item.code,
                None,
            )
            row.update(proposed=code, reason="a programme is governed by its programme board")
        elif item.kind == "portfolio":
            code = progress or add_node(
                "PPG", "Portfolio progress group", "portfolio_progress", None, item.code, None
            )
            if progress and code == progress:
                new.setdefault(
                    f"{progress}+{item.code}", {"_extend": progress, "work_item": item.code}
                )
            row.update(
                proposed=code, reason="a portfolio is governed by the portfolio progress group"
            )
        else:
            row.update(proposed=parent_gov, reason="workstreams and products go with their parent")
        if row["proposed"]:
            proposed_for[item.id] = row["proposed"]
        out.items.append(row)

    governed_items = {i for i in topo.items if topo.origin(i) is not None}
    scoped_otcs = {o for n in topo.scope_otcs.values() for o in n}
    governed_units: set[int] = set()
    for n in topo.nodes:
        governed_units |= topo.units_of(n)
    for oid, code, portfolio_id, team_id in otcs:
        if oid in scoped_otcs:
            continue
        if portfolio_id is not None and portfolio_id in governed_items:
            continue
        if team_id is not None and team_units.get(team_id) in governed_units:
            continue
        out.ungoverned_otcs.append(code)
    out.new_nodes = [n for n in new.values() if "_extend" not in n]
    return out


def _depth(topo: Topology, item_id: int) -> int:
    depth, cur, seen = 0, topo.items[item_id].parent_id, set()
    while cur is not None and cur in topo.items and cur not in seen:
        seen.add(cur)
        depth += 1
        cur = topo.items[cur].parent_id
    return depth


__all__ = ["Proposal", "propose"]
