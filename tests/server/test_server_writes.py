"""Writes beyond work items and benefits: RAID entries (with boards' decisions and actions),
a benefit's profile by month, and OTC revisions — each guarded by If-Match (412 with the
current version), scope-checked, audited, and refused bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bigov.auth.models import AuditEvent
from bigov.raid.models import RaidItem
from bigov.strategy.models import OtcKind
from tests.server.conftest import Org


def _audit(org: Org, kind: str) -> list[tuple[str, str]]:
    with org.ws.session() as s:
        return [
            (e.action, e.entity_code)
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.entity_kind == kind).order_by(AuditEvent.id)
            )
        ]


def _put(org: Org, who: str, path: str, body: dict[str, Any], etag: str | None = None) -> Any:
    headers = {**org.auth(who), **({"If-Match": etag} if etag else {})}
    return org.client.put(path, json=body, headers=headers)


def test_raid_upsert_412_and_audit(org: Org) -> None:
    path = "/api/v1/raid/R-NEW"
    body = {"kind": "risk", "title": "Supplier may fail", "work_item": "PRJ-B1", "impact": 4}
    created = _put(org, "mgr", path, body)
    assert created.status_code == 201, created.text
    assert created.json()["work_item"] == "PRJ-B1" and created.json()["impact"] == 4
    etag = created.headers["etag"]
    assert _put(org, "mgr", path, body).status_code == 428
    updated = _put(org, "mgr", path, {**body, "status": "closed"}, etag)
    assert updated.status_code == 200 and updated.json()["status"] == "closed"
    stale = _put(org, "pmo", path, {**body, "title": "lost?"}, etag)
    assert stale.status_code == 412 and stale.json()["current"]["status"] == "closed"
    assert stale.headers["etag"] == updated.headers["etag"]
    assert _audit(org, "raid_item") == [("create", "R-NEW"), ("update", "R-NEW")]


def test_board_members_record_decisions_in_their_boards_log(org: Org) -> None:
    decision = {"kind": "decision", "title": "Re-baseline PG-A", "node": "N-PB-A"}
    assert _put(org, "board", "/api/v1/raid/D-1", decision).status_code == 201
    # not in another board's log, and not on work (that is the manager's)
    other = _put(org, "board", "/api/v1/raid/D-2", {**decision, "node": "N-BOARD"})
    assert other.status_code == 403
    on_work = _put(
        org, "board", "/api/v1/raid/A-1", {"kind": "action", "title": "x", "work_item": "PRJ-A1"}
    )
    assert on_work.status_code == 403
    with org.ws.session() as s:
        assert (
            set(s.scalars(select(RaidItem.code).where(RaidItem.code.in_(["D-2", "A-1"])))) == set()
        )
    listed = org.client.get("/api/v1/raid?kind=decision", headers=org.auth("board")).json()
    assert [r["code"] for r in listed["items"]] == ["D-1"]


@pytest.mark.parametrize(
    ("who", "code", "expected"),
    [
        ("mgr", "R-PRJ-B1", 200),
        ("mgr", "R-PRJ-A1", 404),  # out of scope: not even its existence leaks
        ("viewer", "R-PRJ-A1", 403),
        ("ben", "R-PRJ-A1", 403),  # sees it (work enabling their benefit), may not change it
        ("board", "R-NODE", 200),
        ("admin", "R-PRJ-B2", 200),
    ],
)
def test_raid_write_scope(org: Org, who: str, code: str, expected: int) -> None:
    current = org.client.get(f"/api/v1/raid/{code}", headers=org.auth("admin"))
    row = current.json()
    body = {k: row[k] for k in ("kind", "title", "work_item", "benefit", "node")}
    got = _put(
        org, who, f"/api/v1/raid/{code}", {**body, "title": f"by {who}"}, current.headers["etag"]
    )
    assert got.status_code == expected, got.text
    after = org.client.get(f"/api/v1/raid/{code}", headers=org.auth("admin")).json()
    assert (after["title"] == f"by {who}") == (expected == 200)


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "risk", "title": "no subject"},
        {"kind": "risk", "title": "x", "work_item": "PRJ-B1", "probability": 9},
        {"kind": "riddle", "title": "x", "work_item": "PRJ-B1"},
        {"kind": "risk", "title": "x", "work_item": "NOPE"},
        {"kind": "risk", "title": "x", "work_item": "PRJ-B1", "colour": "red"},
    ],
)
def test_bad_raid_input_is_422_and_writes_nothing(org: Org, body: dict[str, Any]) -> None:
    got = _put(org, "admin", "/api/v1/raid/R-BAD", body)
    assert got.status_code == 422, got.text
    assert org.client.get("/api/v1/raid/R-BAD", headers=org.auth("admin")).status_code == 404
    assert _audit(org, "raid_item") == []


def test_benefit_profile_by_month(org: Org) -> None:
    path = "/api/v1/benefits/BEN-A/profile/2026-10"
    created = _put(
        org, "ben", path, {"planned": "1000.00", "forecast": "900.00", "currency": "GBP"}
    )
    assert created.status_code == 201, created.text
    etag = created.headers["etag"]
    again = _put(org, "ben", path, {"planned": "1000.00", "actual": "950.00"}, etag)
    assert again.status_code == 200 and again.json()["actual"] == "950.00"
    assert again.json()["forecast"] is None  # the whole month is replaced
    assert _put(org, "pmo", path, {"planned": "1.00"}, etag).status_code == 412
    detail = org.client.get("/api/v1/benefits/BEN-A", headers=org.auth("ben")).json()
    assert [(p["period"], p["actual"]) for p in detail["profile"]] == [("2026-10-01", "950.00")]
    # out of scope reads 404; a role that may not write benefits gets 403
    assert _put(org, "ben", "/api/v1/benefits/BEN-B/profile/2026-10", {}).status_code == 404
    assert _put(org, "viewer", path, {"planned": "2.00"}, again.headers["etag"]).status_code == 403
    assert _put(org, "admin", "/api/v1/benefits/BEN-A/profile/2026-13", {}).status_code == 422
    assert _put(org, "admin", path, {"planned": "1e30"}, again.headers["etag"]).status_code == 422
    assert _audit(org, "benefit_profile") == [
        ("create", "BEN-A/2026-10"),
        ("update", "BEN-A/2026-10"),
    ]


def test_otc_revisions_keep_history_and_refuse_stale_edits(org: Org) -> None:
    org.ws.strategy.add_otc(
        "OBJ-1", OtcKind.OBJECTIVE, "Grow online sales", effective_from=dt.date(2026, 1, 1)
    )
    path = "/api/v1/strategy/otcs/OBJ-1"
    current = org.client.get(path, headers=org.auth("viewer"))
    assert current.status_code == 200 and current.json()["version"] == 1
    etag = current.headers["etag"]
    change = {"effective_from": "2026-07-01", "reason": "board review", "title": "Grow online"}
    assert (
        org.client.post(f"{path}/versions", json=change, headers=org.auth("pmo")).status_code == 428
    )
    for who in ("viewer", "mgr", "board"):
        denied = org.client.post(
            f"{path}/versions", json=change, headers={**org.auth(who), "If-Match": etag}
        )
        assert denied.status_code == 403, who
    done = org.client.post(
        f"{path}/versions", json=change, headers={**org.auth("boardall"), "If-Match": etag}
    )
    assert done.status_code == 201, done.text
    revised = done.json()
    assert revised["version"] == 2 and revised["title"] == "Grow online"
    assert [(v["version"], v["effective_to"]) for v in revised["versions"]] == [
        (1, "2026-07-01"),
        (2, None),
    ]
    stale = org.client.post(
        f"{path}/versions",
        json={**change, "effective_from": "2026-09-01"},
        headers={**org.auth("pmo"), "If-Match": etag},
    )
    assert stale.status_code == 412 and stale.json()["current"]["version"] == 2
    backwards = org.client.post(
        f"{path}/versions",
        json={**change, "effective_from": "2026-03-01"},
        headers={**org.auth("pmo"), "If-Match": done.headers["etag"]},
    )
    assert backwards.status_code == 422
    assert org.client.get(path, headers=org.auth("pmo")).json()["version"] == 2
    assert _audit(org, "otc") == [("update", "OBJ-1")]
