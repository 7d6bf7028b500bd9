"""The shape of governance in memory: nodes and their escalation chains, the work hierarchy, and
what each node governs. Loaded in a fixed number of queries, whatever the size of the enterprise,
so that running every cycle of a period costs one load, not one per node.

Scope rules (what callers may rely on):

* a node governs the subtrees of the work items named in its scope (``node_scope``) and of the
  items whose ``governing_node_id`` is the node, plus the work of org units in its scope;
* a node also sees everything its descendant nodes govern (a portfolio group sees its boards' work);
* a node with no scope at all governs the whole organisation (main board, finance, assurance).

The *origin* of a work item is the lowest node governing it: its ``governing_node_id``, else the
node whose scope names the nearest ancestor, else the node of its org unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.governance.models import GovernanceNode, NodeScope, Tolerance
from bigov.org.models import OrgUnit, Person
from bigov.work.models import WorkItem


@dataclass
class NodeInfo:
    id: int
    code: str
    name: str
    kind: str
    cadence: str
    parent_id: int | None
    sitting_day: int | None
    chair: str | None
    org_unit_id: int | None
    tolerances: dict[str, Decimal] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemInfo:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    governing_node_id: int | None
    org_unit_id: int | None
    nature: str
    category: str
    phase: str
    owner: str | None
    baseline_finish: dt.date | None
    forecast_finish: dt.date | None
    percent_complete: Decimal | None
    batch_id: int | None


class Topology:
    """Nodes, items and scopes of one workspace as they stood when loaded."""

    def __init__(self, session: Session) -> None:
        people = dict(session.execute(select(Person.id, Person.name)).all())
        self.nodes: dict[int, NodeInfo] = {}
        for n in session.scalars(select(GovernanceNode).order_by(GovernanceNode.code)):
            self.nodes[n.id] = NodeInfo(
                n.id,
                n.code,
                n.name,
                n.kind.value,
                n.cadence.value,
                n.parent_id,
                n.sitting_day,
                people.get(n.chair_id) if n.chair_id else None,
                n.org_unit_id,
                rules=dict(n.rules or {}),
            )
        for node_id, dim, limit in session.execute(
            select(Tolerance.node_id, Tolerance.dimension, Tolerance.limit)
        ):
            self.nodes[node_id].tolerances[dim.value] = Decimal(limit)
        self.by_code = {n.code: n for n in self.nodes.values()}

        self.items: dict[int, ItemInfo] = {}
        self.item_children: dict[int | None, list[int]] = defaultdict(list)
        for row in session.execute(
            select(
                WorkItem.id,
                WorkItem.code,
                WorkItem.name,
                WorkItem.kind,
                WorkItem.parent_id,
                WorkItem.governing_node_id,
                WorkItem.org_unit_id,
                WorkItem.nature,
                WorkItem.category,
                WorkItem.phase,
                WorkItem.owner_id,
                WorkItem.baseline_finish,
                WorkItem.forecast_finish,
                WorkItem.percent_complete,
                WorkItem.batch_id,
            ).order_by(WorkItem.code)
        ):
            info = ItemInfo(
                row.id,
                row.code,
                row.name,
                row.kind.value,
                row.parent_id,
                row.governing_node_id,
                row.org_unit_id,
                row.nature.value,
                row.category.value,
                row.phase.value,
                people.get(row.owner_id) if row.owner_id else None,
                row.baseline_finish,
                row.forecast_finish,
                row.percent_complete,
                row.batch_id,
            )
            self.items[row.id] = info
            self.item_children[row.parent_id].append(row.id)
        self.item_by_code = {i.code: i for i in self.items.values()}

        self.unit_children: dict[int | None, list[int]] = defaultdict(list)
        self.unit_parent: dict[int, int | None] = {}
        for uid, parent in session.execute(select(OrgUnit.id, OrgUnit.parent_id)):
            self.unit_children[parent].append(uid)
            self.unit_parent[uid] = parent

        self.node_children: dict[int | None, list[int]] = defaultdict(list)
        for ninfo in self.nodes.values():
            self.node_children[ninfo.parent_id].append(ninfo.id)

        self.scope_items: dict[int, set[int]] = defaultdict(set)  # explicit work roots
        self.scope_units: dict[int, set[int]] = defaultdict(set)
        self.scope_otcs: dict[int, set[int]] = defaultdict(set)
        for node_id, wi, ou, otc in session.execute(
            select(
                NodeScope.node_id, NodeScope.work_item_id, NodeScope.org_unit_id, NodeScope.otc_id
            )
        ):
            if wi is not None:
                self.scope_items[node_id].add(wi)
            if ou is not None:
                self.scope_units[node_id].add(ou)
            if otc is not None:
                self.scope_otcs[node_id].add(otc)
        for item in self.items.values():
            if item.governing_node_id is not None:
                self.scope_items[item.governing_node_id].add(item.id)
        # nearest-ancestor look-up for origins: which nodes name an item explicitly
        self._named_by: dict[int, list[int]] = defaultdict(list)
        for node_id, roots in self.scope_items.items():
            for wi in roots:
                self._named_by[wi].append(node_id)
        self._units_named_by: dict[int, list[int]] = defaultdict(list)
        for node_id, units in self.scope_units.items():
            for ou in units:
                self._units_named_by[ou].append(node_id)
        self._subtree_cache: dict[int, frozenset[int]] = {}
        self._scope_cache: dict[int, frozenset[int]] = {}
        self._view_cache: dict[int, dict[str, Any]] = {}

    # -- chains ----------------------------------------------------------------------------
    def node_view(self, node_id: int) -> dict[str, Any]:
        """A node's name, parent code and tolerances as the cycle document stores them (cached)."""
        cached = self._view_cache.get(node_id)
        if cached is None:
            n = self.nodes[node_id]
            cached = {
                "name": n.name,
                "parent": self.nodes[n.parent_id].code if n.parent_id in self.nodes else None,
                "tolerances": {
                    k: str(v.quantize(Decimal("0.0001"))) for k, v in sorted(n.tolerances.items())
                },
            }
            self._view_cache[node_id] = cached
        return cached

    def chain(self, node_id: int) -> list[int]:
        """The node and every node it escalates to, lowest first (stops on a loop)."""
        out: list[int] = []
        cur: int | None = node_id
        while cur is not None and cur not in out and cur in self.nodes:
            out.append(cur)
            cur = self.nodes[cur].parent_id
        return out

    def depth(self, node_id: int) -> int:
        return len(self.chain(node_id))

    def node_subtree(self, node_id: int) -> list[int]:
        """The node and all nodes escalating to it."""
        out, stack, seen = [], [node_id], set()
        while stack:
            cur = stack.pop()
            if cur in seen:
                continue
            seen.add(cur)
            out.append(cur)
            stack.extend(self.node_children.get(cur, []))
        return out

    # -- work ------------------------------------------------------------------------------
    def item_subtree(self, item_id: int) -> frozenset[int]:
        """An item and all its descendants."""
        cached = self._subtree_cache.get(item_id)
        if cached is not None:
            return cached
        out: set[int] = set()
        stack = [item_id]
        while stack:
            cur = stack.pop()
            if cur in out:
                continue
            out.add(cur)
            stack.extend(self.item_children.get(cur, []))
        result = frozenset(out)
        self._subtree_cache[item_id] = result
        return result

    def unit_subtree(self, unit_id: int) -> set[int]:
        out: set[int] = set()
        stack = [unit_id]
        while stack:
            cur = stack.pop()
            if cur not in out:
                out.add(cur)
                stack.extend(self.unit_children.get(cur, []))
        return out

    def units_of(self, node_id: int) -> set[int]:
        """Org units a node governs (with their sub-units), own and its descendants'."""
        units: set[int] = set()
        for n in self.node_subtree(node_id):
            for ou in self.scope_units.get(n, ()):
                units |= self.unit_subtree(ou)
        return units

    def governs_everything(self, node_id: int) -> bool:
        """True for a node with no scope of its own or below it: it governs the organisation."""
        return not any(
            self.scope_items.get(n) or self.scope_units.get(n) or self.scope_otcs.get(n)
            for n in self.node_subtree(node_id)
        )

    def scope(self, node_id: int) -> frozenset[int]:
        """Ids of every work item the node governs (see module docstring)."""
        cached = self._scope_cache.get(node_id)
        if cached is not None:
            return cached
        if self.governs_everything(node_id):
            result = frozenset(self.items)
        else:
            out: set[int] = set()
            for n in self.node_subtree(node_id):
                for root in self.scope_items.get(n, ()):
                    out |= self.item_subtree(root)
            units = self.units_of(node_id)
            if units:
                for item in self.items.values():
                    if item.org_unit_id in units:
                        out |= self.item_subtree(item.id)
            result = frozenset(out)
        self._scope_cache[node_id] = result
        return result

    def scope_roots(self, node_id: int) -> list[int]:
        """Items of the scope whose parent is outside it: the top of what the node governs."""
        scope = self.scope(node_id)
        return [
            i
            for i in sorted(scope, key=lambda x: self.items[x].code)
            if self.items[i].parent_id not in scope
        ]

    def origin(self, item_id: int) -> int | None:
        """The lowest node governing an item (see module docstring), or None."""
        item = self.items.get(item_id)
        if item is None:
            return None
        if item.governing_node_id is not None:
            return item.governing_node_id
        cur: int | None = item_id
        seen: set[int] = set()
        while cur is not None and cur not in seen:
            seen.add(cur)
            named = self._named_by.get(cur)
            if named:
                # several nodes may name the same item: the deepest in the escalation tree wins
                return max(named, key=lambda n: (self.depth(n), -n))
            cur = self.items[cur].parent_id if cur in self.items else None
        if item.org_unit_id is not None:
            unit: int | None = item.org_unit_id
            seen_units: set[int] = set()
            while unit is not None and unit not in seen_units:
                seen_units.add(unit)
                named = self._units_named_by.get(unit)
                if named:
                    return max(named, key=lambda n: (self.depth(n), -n))
                unit = self.unit_parent.get(unit)
        return None


__all__ = ["ItemInfo", "NodeInfo", "Topology"]
