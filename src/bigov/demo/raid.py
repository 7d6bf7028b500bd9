"""RAID logs of work items and governance nodes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bigov.demo import names
from bigov.demo.base import _BuilderBase
from bigov.demo.common import _Item
from bigov.governance.models import NodeKind
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.work.models import Phase, WorkKind


class _RaidBuilder(_BuilderBase):
    """RAID rows: the numbering helper, the log of each item and of each node."""

    def raid(self, kind: RaidKind, title: str, **values: Any) -> int:
        self.raid_seq[kind] += 1
        prefix = {
            RaidKind.RISK: "RSK",
            RaidKind.ISSUE: "ISS",
            RaidKind.ACTION: "ACT",
            RaidKind.DECISION: "DEC",
            RaidKind.ASSUMPTION: "ASM",
        }[kind]
        row: dict[str, Any] = {
            "code": f"{prefix}-{self.raid_seq[kind]:05d}",
            "kind": kind,
            "title": title,
            "description": None,
            "status": RaidStatus.OPEN,
            "owner_id": None,
            "work_item_id": None,
            "benefit_id": None,
            "otc_id": None,
            "org_unit_id": None,
            "node_id": None,
            "probability": None,
            "impact": None,
            "proximity": None,
            "raised_on": None,
            "due_on": None,
            "closed_on": None,
            "response": None,
        }
        row.update(values)
        return self.w.add(RaidItem, **row)

    def item_raid(self, item: _Item) -> None:
        rng, as_of = self.rng, self.as_of
        if item.kind is WorkKind.PORTFOLIO:
            return
        trouble = {"good": 0, "watch": 1, "troubled": 2}[item.health]
        closed = item.phase in (Phase.CLOSED, Phase.CANCELLED)
        start = item.a_start or item.start or self.window_start
        raised_from = max(start, self.window_start)
        raised_to = max(raised_from, min(as_of, item.a_finish or as_of))
        n_risks = {WorkKind.PROJECT: rng.randint(2, 4), WorkKind.PROGRAMME: rng.randint(2, 3)}.get(
            item.kind, rng.randint(1, 2)
        )
        common = {"work_item_id": item.id, "org_unit_id": item.org_unit_id}
        for title, response in rng.sample(names.RISKS, n_risks + trouble):
            probability = min(5, rng.randint(1, 3) + trouble)
            impact = min(5, rng.randint(2, 4) + (trouble > 1))
            raised = self.day_between(raised_from, raised_to)
            is_closed = closed or rng.random() < 0.15
            self.raid(
                RaidKind.RISK,
                title,
                description=f"{title} on {item.name}.",
                status=RaidStatus.CLOSED
                if is_closed
                else rng.choice([RaidStatus.OPEN, RaidStatus.IN_PROGRESS]),
                owner_id=item.manager_id,
                probability=probability,
                impact=impact,
                proximity=as_of + dt.timedelta(days=rng.randint(15, 240)),
                raised_on=raised,
                closed_on=min(as_of, raised + dt.timedelta(days=60)) if is_closed else None,
                response=response,
                **common,
            )
        for title, response in rng.sample(names.ISSUES, rng.randint(0, 1) + trouble):
            raised = self.day_between(raised_from, raised_to)
            self.raid(
                RaidKind.ISSUE,
                title,
                status=RaidStatus.CLOSED if closed else RaidStatus.IN_PROGRESS,
                owner_id=item.manager_id,
                impact=min(5, 2 + trouble + rng.randint(0, 1)),
                raised_on=raised,
                closed_on=min(as_of, raised + dt.timedelta(days=45)) if closed else None,
                response=response,
                **common,
            )
        for title in rng.sample(names.ACTIONS, rng.randint(1, 2) + trouble):
            raised = self.day_between(
                max(raised_from, raised_to - dt.timedelta(days=90)), raised_to
            )
            due = raised + dt.timedelta(days=rng.randint(14, 60))
            done = closed or (due < as_of and rng.random() < 0.7)
            self.raid(
                RaidKind.ACTION,
                title,
                status=RaidStatus.CLOSED if done else RaidStatus.OPEN,
                owner_id=rng.choice([item.manager_id, item.owner_id]),
                raised_on=raised,
                due_on=due,
                closed_on=min(due, as_of) if done else None,
                **common,
            )
        if item.kind is not WorkKind.WORKSTREAM:
            for title in rng.sample(names.DECISIONS, rng.randint(0, 2)):
                raised = self.day_between(raised_from, raised_to)
                self.raid(
                    RaidKind.DECISION,
                    title,
                    status=RaidStatus.CLOSED,
                    owner_id=item.owner_id,
                    raised_on=raised,
                    closed_on=raised,
                    node_id=item.node_id,
                    **common,
                )
            if rng.random() < 0.5:
                self.raid(
                    RaidKind.ASSUMPTION,
                    rng.choice(names.ASSUMPTIONS),
                    owner_id=item.manager_id,
                    raised_on=raised_from,
                    **common,
                )

    def node_raid(self) -> None:
        """Each node keeps a small log of its own, separate from the items it governs."""
        rng, as_of = self.rng, self.as_of
        for code, node_id in self.nodes.items():
            kind = self.node_kind[node_id]
            if kind is NodeKind.PROJECT_BOARD:
                continue
            if kind is not NodeKind.MANAGEMENT_TEAM or rng.random() < 0.5:
                title, response = rng.choice(names.NODE_RISKS)
                self.raid(
                    RaidKind.RISK,
                    title,
                    node_id=node_id,
                    owner_id=None,
                    probability=rng.randint(2, 4),
                    impact=rng.randint(2, 5),
                    proximity=as_of + dt.timedelta(days=rng.randint(30, 180)),
                    raised_on=as_of - dt.timedelta(days=rng.randint(20, 200)),
                    response=response,
                    status=RaidStatus.OPEN,
                    description=f"Held on the {code} log.",
                )
            raised = as_of - dt.timedelta(days=rng.randint(5, 40))
            self.raid(
                RaidKind.ACTION,
                rng.choice(names.ACTIONS),
                node_id=node_id,
                raised_on=raised,
                due_on=raised + dt.timedelta(days=rng.randint(14, 45)),
                status=RaidStatus.OPEN,
            )
