"""Governance nodes: the design everyone may read (who escalates to whom, cadence, tolerances)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from bigov.api.common import CodePath, not_found
from bigov.governance.models import GovernanceNode, Tolerance
from bigov.org.models import OrgUnit, Person
from bigov.server.deps import StateDep, UserDep

router = APIRouter(prefix="/governance", tags=["governance"])
ParentNode = aliased(GovernanceNode, name="parent_node")


class NodeOut(BaseModel):
    code: str
    name: str
    kind: str
    cadence: str
    parent: str | None
    chair: str | None
    org_unit: str | None


class NodeDetail(NodeOut):
    purpose: str | None
    tolerances: dict[str, str]


def _nodes() -> Select[*tuple[Any, ...]]:
    return (
        select(
            GovernanceNode.code,
            GovernanceNode.name,
            GovernanceNode.kind,
            GovernanceNode.cadence,
            ParentNode.code.label("parent"),
            Person.code.label("chair"),
            OrgUnit.code.label("org_unit"),
            GovernanceNode.purpose,
            GovernanceNode.id,
        )
        .outerjoin(ParentNode, ParentNode.id == GovernanceNode.parent_id)
        .outerjoin(Person, Person.id == GovernanceNode.chair_id)
        .outerjoin(OrgUnit, OrgUnit.id == GovernanceNode.org_unit_id)
        .order_by(GovernanceNode.code)
    )


def _row(r: Any) -> dict[str, Any]:
    m = dict(r._mapping)
    m["kind"] = m["kind"].value
    m["cadence"] = m["cadence"].value
    return m


@router.get("/nodes", response_model=list[NodeOut])
def list_nodes(st: StateDep, user: UserDep) -> Any:
    """Every governance node, by code."""
    with st.ws.session() as s:
        return [NodeOut.model_validate(_row(r)) for r in s.execute(_nodes())]


@router.get("/nodes/{code}", response_model=NodeDetail, responses={404: {}})
def get_node(code: CodePath, st: StateDep, user: UserDep) -> Any:
    """One node with its purpose and tolerances."""
    with st.ws.session() as s:
        row = s.execute(_nodes().where(GovernanceNode.code == code)).first()
        if row is None:
            raise not_found("governance node", code)
        tol = {
            dim.value: str(limit)
            for dim, limit in s.execute(
                select(Tolerance.dimension, Tolerance.limit).where(Tolerance.node_id == row.id)
            )
        }
    return NodeDetail(**_row(row), tolerances=tol)
