"""Kept analysis answers: computed once per data version, shared, and never stale — every kind
of write (through the API, a service, a raw Core statement) moves the data version; bookkeeping
(token checks, the audit trail, the kept answers themselves) does not; a rolled-back write
does not."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, update

from bigov.db.answers import AnalysisAnswer
from bigov.db.dataversion import current, writes_data
from bigov.finance.models import CostLine
from bigov.work.models import WorkItem
from tests.server.conftest import Org

ROLLUP = "/api/v1/analysis/rollup"


def _version(org: Org) -> int:
    with org.ws.session() as s:
        return current(s)


def _ask(org: Org, path: str = ROLLUP) -> tuple[str, dict[str, object]]:
    got = org.client.get(path, headers=org.auth("admin"))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/json"
    return got.headers["x-answer"], got.json()


def test_an_answer_is_computed_once_then_kept(org: Org) -> None:
    first, body = _ask(org)
    again, kept = _ask(org)
    assert (first, again) == ("computed", "kept")
    assert kept == body
    # the same question with other parameters is another answer
    assert _ask(org, f"{ROLLUP}?root=PG-A")[0] == "computed"
    assert _ask(org, f"{ROLLUP}?as_at=2026-01-31")[0] == "computed"
    assert _ask(org, f"{ROLLUP}?root=PG-A")[0] == "kept"
    with org.ws.session() as s:
        assert s.scalar(select(func.count()).select_from(AnalysisAnswer)) == 3


def test_reads_and_bookkeeping_do_not_move_the_version(org: Org) -> None:
    before = _version(org)
    for path in ("/api/v1/work-items", "/api/v1/audit", ROLLUP, ROLLUP, "/api/v1/me"):
        assert org.client.get(path, headers=org.auth("admin")).status_code == 200
    assert _version(org) == before


def test_an_api_write_makes_the_next_answer_fresh(org: Org) -> None:
    _ask(org)
    before = _version(org)
    current_item = org.client.get("/api/v1/work-items/PRJ-B2", headers=org.auth("admin"))
    body = {k: current_item.json()[k] for k in ("name", "kind", "org_unit")}
    put = org.client.put(
        "/api/v1/work-items/PRJ-B2",
        json={**body, "name": "Renamed by the API"},
        headers={**org.auth("admin"), "If-Match": current_item.headers["etag"]},
    )
    assert put.status_code == 200
    assert _version(org) == before + 1  # one write transaction, one step
    how, fresh = _ask(org)
    assert how == "computed"
    rows = {r["code"]: r for r in fresh["rows"]}  # type: ignore[attr-defined]
    assert rows["PRJ-B2"]["name"] == "Renamed by the API"


def test_service_and_core_writes_make_the_next_answer_fresh(org: Org) -> None:
    _, body = _ask(org)
    budget = Decimal(body["total"]["budget"])  # type: ignore[index]
    # an ORM write as any service or import makes it
    with org.ws.session() as s:
        item = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ-B2"))
        assert item is not None
        s.add(
            CostLine(
                code="C-EXTRA",
                work_item_id=item.id,
                period=dt.date(2026, 10, 1),
                budget=Decimal("500.00"),
            )
        )
    how, after = _ask(org)
    assert how == "computed"
    assert Decimal(after["total"]["budget"]) == budget + 500  # type: ignore[index]
    # a plain Core statement on a connection (no ORM session) counts too
    with org.ws.engine.begin() as conn:
        conn.execute(
            update(CostLine).where(CostLine.code == "C-EXTRA").values(budget=Decimal("700.00"))
        )
    how, again = _ask(org)
    assert how == "computed"
    assert Decimal(again["total"]["budget"]) == budget + 700  # type: ignore[index]


def test_a_rolled_back_write_does_not_move_the_version(org: Org) -> None:
    before = _version(org)
    with pytest.raises(RuntimeError), org.ws.session() as s:
        s.execute(update(WorkItem).where(WorkItem.code == "PG-A").values(name="never"))
        raise RuntimeError("changed my mind")
    assert _version(org) == before
    with org.ws.engine.begin() as conn:
        conn.execute(
            insert(AnalysisAnswer).values(
                key="x" * 64,
                data_version=0,
                question="q",
                body="{}",
                computed_at=dt.datetime.now(dt.UTC),
                compute_ms=0,
            )
        )
    assert _version(org) == before  # the kept answers are bookkeeping


def test_concurrent_askers_compute_once(org: Org) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: _ask(org, f"{ROLLUP}?root=PG-B"), range(12)))
    assert [how for how, _ in answers].count("computed") == 1
    assert all(body == answers[0][1] for _, body in answers)


@pytest.mark.parametrize(
    ("statement", "tracked"),
    [
        ("INSERT INTO work_item (code) VALUES (?)", True),
        ('UPDATE "t_abc".cost_line SET budget=1', True),
        ("DELETE FROM benefit_profile WHERE id = 3", True),
        ("insert or replace into setting values (?, ?)", True),
        ("TRUNCATE TABLE raid_item", True),
        ("UPDATE api_token SET last_used_at = now()", False),
        ("INSERT INTO audit_event (at) VALUES (?)", False),
        ('INSERT INTO "analysis_answer" (key) VALUES (?)', False),
        ("UPDATE data_version SET version = version + 1", False),
        ("SELECT * FROM work_item", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
    ],
)
def test_which_statements_move_the_version(statement: str, tracked: bool) -> None:
    assert writes_data(statement) is tracked


def test_a_kept_answer_costs_the_token_check_and_one_read(org: Org) -> None:
    from tests.server.test_server_queries import counting

    _ask(org)
    with counting(org) as count:
        assert _ask(org)[0] == "kept"
    assert count[0] == 2
