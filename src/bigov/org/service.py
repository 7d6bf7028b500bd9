"""Queries and commands of the organisation context."""

from __future__ import annotations

from sqlalchemy import select

from bigov.db.service import Service, find_by_code, get_by_code
from bigov.org.models import OrgUnit, OrgUnitKind, Person


class OrgService(Service):
    """Organisation units and people."""

    def units(self) -> list[OrgUnit]:
        """Every organisation unit, ordered by code."""
        with self.ws.session() as s:
            return list(s.scalars(select(OrgUnit).order_by(OrgUnit.code)))

    def unit(self, code: str) -> OrgUnit:
        """One unit by code (NotFoundError if absent)."""
        with self.ws.session() as s:
            return get_by_code(s, OrgUnit, code)

    def add_unit(
        self,
        code: str,
        name: str,
        *,
        kind: OrgUnitKind = OrgUnitKind.DEPARTMENT,
        parent: str | None = None,
        written_by: str | None = None,
    ) -> OrgUnit:
        """Create a unit under ``parent`` (a code)."""
        with self.ws.session() as s:
            parent_row = get_by_code(s, OrgUnit, parent) if parent else None
            unit = OrgUnit(
                code=code,
                name=name,
                kind=kind,
                parent_id=parent_row.id if parent_row else None,
                written_by=written_by,
            )
            s.add(unit)
            s.flush()
            return unit

    def descendants(self, code: str) -> list[str]:
        """Codes of ``code`` and every unit below it (recursive CTE: one query at any depth)."""
        with self.ws.session() as s:
            root = get_by_code(s, OrgUnit, code)
            tree = select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id == root.id).cte(recursive=True)
            # UNION (not UNION ALL) so a cycle in bad data ends the recursion instead of looping.
            tree = tree.union(
                select(OrgUnit.id, OrgUnit.code).where(OrgUnit.parent_id == tree.c.id)
            )
            return list(s.scalars(select(tree.c.code).order_by(tree.c.code)))

    def person(self, code: str) -> Person | None:
        """A person by code, or None."""
        with self.ws.session() as s:
            return find_by_code(s, Person, code)
