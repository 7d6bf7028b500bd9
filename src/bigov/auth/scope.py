"""What a user may see and change, derived from the model and applied as SQL predicates.

The predicates are handed to the queries (never applied to results afterwards), so a list,
a detail, an export or a page built on the same query can only ever return rows in scope:

* admin and pmo: everything;
* board member: what the nodes they sit on govern (:meth:`Topology.scope`), and the cycles of
  those nodes and the nodes escalating to them;
* manager: the items they own (as SRO, matched by email to a person) with everything below them,
  and the work of their units and the units below;
* benefit owner: the benefits they own or their units own, and the work enabling them;
* viewer: read-only, the work and benefits of their units and the units below.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import CTE, ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session

from bigov.auth.models import UserRole
from bigov.auth.service import Principal
from bigov.benefits.models import Benefit, BenefitEnabler
from bigov.org.models import OrgUnit, Person
from bigov.work.models import WorkItem

# roles that may change work items and status reports (within their scope)
WORK_WRITERS = frozenset({UserRole.ADMIN, UserRole.PMO, UserRole.MANAGER})
BENEFIT_WRITERS = frozenset({UserRole.ADMIN, UserRole.PMO, UserRole.BENEFIT_OWNER})


def unit_subtree(unit_ids: frozenset[int], name: str = "scope_units") -> CTE:
    """Ids of the given org units and every unit below them (recursive CTE)."""
    base = select(OrgUnit.id.label("id")).where(OrgUnit.id.in_(sorted(unit_ids)))
    cte = base.cte(name, recursive=True)
    return cte.union_all(select(OrgUnit.id).join(cte, OrgUnit.parent_id == cte.c.id))


def item_subtree(roots: Select[int], name: str = "scope_items") -> CTE:
    """Ids of the root work items and everything below them (recursive CTE)."""
    cte = roots.cte(name, recursive=True)
    return cte.union_all(select(WorkItem.id).join(cte, WorkItem.parent_id == cte.c.id))


def my_people(principal: Principal) -> Select[int]:
    """The person rows the user is (matched by email; an equality, never a LIKE pattern)."""
    return select(Person.id).where(func.lower(Person.email) == principal.email.lower())


@dataclass
class Scope:
    """A user's scope on one Session: predicates over work items and benefits, the governance
    nodes whose cycles they may read, and whether they see the whole organisation."""

    principal: Principal
    work: ColumnElement[bool]
    benefits: ColumnElement[bool]
    node_ids: frozenset[int] | None  # None: every node
    organisation: bool  # organisation-wide analysis is theirs to read

    @property
    def role(self) -> UserRole:
        return self.principal.role

    def may_write_work(self) -> bool:
        return self.role in WORK_WRITERS

    def may_write_benefits(self) -> bool:
        return self.role in BENEFIT_WRITERS


def scope_for(s: Session, principal: Principal) -> Scope:
    """Build the user's scope. A fixed number of queries whatever the size of the data (a
    board member's costs one topology load); everyone else's is pure SQL composed into the
    request's own query."""
    role = principal.role
    if principal.sees_everything:
        return Scope(principal, true(), true(), None, True)
    units = unit_subtree(principal.unit_ids) if principal.unit_ids else None
    in_units = WorkItem.org_unit_id.in_(select(units.c.id)) if units is not None else false()
    benefit_units = Benefit.owner_unit_id.in_(select(units.c.id)) if units is not None else false()
    if role is UserRole.BOARD_MEMBER:
        from bigov.governance.topology import Topology

        topo = Topology(s)
        nodes = [n for n in principal.node_ids if n in topo.nodes]
        everything = any(topo.governs_everything(n) for n in nodes)
        visible_nodes = frozenset(x for n in nodes for x in topo.node_subtree(n))
        if everything:
            return Scope(principal, true(), true(), visible_nodes, True)
        ids = sorted({i for n in nodes for i in topo.scope(n)})
        work = WorkItem.id.in_(ids) if ids else false()
        enabled = select(BenefitEnabler.benefit_id).where(BenefitEnabler.work_item_id.in_(ids))
        return Scope(principal, work, Benefit.id.in_(enabled), visible_nodes, False)
    if role is UserRole.MANAGER:
        roots = select(WorkItem.id).where(
            or_(WorkItem.owner_id.in_(my_people(principal)), in_units)
        )
        mine = item_subtree(roots)
        work = WorkItem.id.in_(select(mine.c.id))
        enabled = select(BenefitEnabler.benefit_id).where(
            BenefitEnabler.work_item_id.in_(select(item_subtree(roots, "scope_items_b").c.id))
        )
        return Scope(
            principal, work, or_(Benefit.id.in_(enabled), benefit_units), frozenset(), False
        )
    if role is UserRole.BENEFIT_OWNER:
        own = or_(Benefit.owner_id.in_(my_people(principal)), benefit_units)
        enabling = (
            select(BenefitEnabler.work_item_id)
            .join(Benefit, Benefit.id == BenefitEnabler.benefit_id)
            .where(own)
        )
        return Scope(principal, WorkItem.id.in_(enabling), own, frozenset(), False)
    # viewer
    return Scope(principal, in_units, benefit_units, frozenset(), False)
