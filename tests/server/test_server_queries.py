"""The number of statements a request runs does not grow with the data: counted with a
SQLAlchemy event listener on the engine, on two data sizes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bigov.work.models import StatusReport, WorkItem, WorkKind
from tests.server.conftest import Org

REQUESTS = [
    ("admin", "/api/v1/work-items?limit=500"),
    ("viewer", "/api/v1/work-items?limit=500"),
    ("mgr", "/api/v1/work-items?limit=500"),
    ("board", "/api/v1/work-items?limit=500"),
    ("admin", "/api/v1/work-items/PRJ-A1"),
    ("viewer", "/api/v1/status-reports?limit=500"),
    ("ben", "/api/v1/benefits"),
    ("admin", "/api/v1/analysis/rollup"),
    ("admin", "/api/v1/governance/nodes"),
    ("mgr", "/api/v1/finance/cost-lines?limit=500"),
    ("viewer", "/api/v1/raid?limit=500"),
]


@contextmanager
def counting(org: Org) -> Iterator[list[int]]:
    count = [0]

    def listener(*_: Any, **__: Any) -> None:
        count[0] += 1

    event.listen(org.ws.engine, "before_cursor_execute", listener)
    try:
        yield count
    finally:
        event.remove(org.ws.engine, "before_cursor_execute", listener)


def _counts(org: Org) -> dict[str, int]:
    out: dict[str, int] = {}
    for who, path in REQUESTS:
        with counting(org) as count:
            assert org.client.get(path, headers=org.auth(who)).status_code == 200, path
        out[f"{who} {path}"] = count[0]
    return out


def _grow(org: Org, n: int) -> None:
    with org.ws.session() as s:
        parent = s.query(WorkItem).filter_by(code="PG-A").one()
        for i in range(n):
            wi = WorkItem(
                code=f"PRJ-X{i:04d}",
                name=f"Extra {i}",
                kind=WorkKind.PROJECT,
                parent_id=parent.id,
                org_unit_id=parent.org_unit_id,
            )
            s.add(wi)
            s.flush()
            s.add(
                StatusReport(
                    code=f"SR-X{i:04d}",
                    work_item_id=wi.id,
                    period=parent.created_at.date().replace(day=1),
                )
            )


def test_query_count_per_request_does_not_grow_with_data(org: Org) -> None:
    small = _counts(org)
    _grow(org, 200)
    large = _counts(org)
    assert large == small
    # pinned: one for the token (user and scope joined), then the request's own (a roll-up ~12)
    assert max(small.values()) <= 16, small
