"""The REST API on the real app: pages, upserts with ETags, the audit row of every write, bad
input that changes nothing, cycles read from their stored documents, OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bigov.auth.models import AuditEvent
from bigov.work.models import WorkItem
from tests.server.conftest import Org

ITEMS = "/api/v1/work-items"


def _audit_count(org: Org) -> int:
    with org.ws.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _snapshot(org: Org) -> list[tuple[Any, ...]]:
    with org.ws.session() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(WorkItem.code, WorkItem.name, WorkItem.parent_id).order_by(WorkItem.code)
            )
        ]


@pytest.mark.parametrize("sort", ["code", "-code", "name", "-name", "kind", "-phase"])
def test_cursor_pages_walk_everything_once(org: Org, sort: str) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        page = org.client.get(ITEMS, params=params, headers=org.auth("admin")).json()
        seen += [r["code"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == ["PG-A", "PG-B", "PRJ-A1", "PRJ-B1", "PRJ-B2"]
    assert len(seen) == len(set(seen))


def test_filters_and_bad_query_values(org: Org) -> None:
    a = org.auth("admin")
    assert [
        r["code"]
        for r in org.client.get(ITEMS, params={"kind": "programme"}, headers=a).json()["items"]
    ] == ["PG-A", "PG-B"]
    assert [
        r["code"]
        for r in org.client.get(ITEMS, params={"parent": "PG-B"}, headers=a).json()["items"]
    ] == ["PRJ-B1"]
    for params in (
        {"cursor": "not-a-cursor"},
        {"sort": "secret"},
        {"limit": 0},
        {"limit": 100000},
        {"kind": "'; DROP TABLE work_item; --"},
    ):
        got = org.client.get(ITEMS, params=params, headers=a)
        assert got.status_code == 422, params
        assert got.json()["detail"].startswith("field '")


def test_upsert_with_etags_and_audit(org: Org) -> None:
    a = {**org.auth("admin"), "X-Forwarded-For": "203.0.113.9"}
    created = org.client.put(
        f"{ITEMS}/PRJ-C1",
        json={
            "name": "New",
            "kind": "project",
            "parent": "PG-A",
            "org_unit": "U-A1",
            "whole_life_cost": "1250000.50",
        },
        headers=a,
    )
    assert created.status_code == 201
    etag = created.headers["etag"]
    assert created.json()["whole_life_cost"] == "1250000.50"
    assert org.client.get(f"{ITEMS}/PRJ-C1", headers=a).headers["etag"] == etag
    missing = org.client.put(f"{ITEMS}/PRJ-C1", json={"name": "x", "kind": "project"}, headers=a)
    assert missing.status_code == 428
    updated = org.client.put(
        f"{ITEMS}/PRJ-C1",
        json={"name": "Renamed", "kind": "project", "parent": "PG-A"},
        headers={**a, "If-Match": etag},
    )
    assert updated.status_code == 200 and updated.headers["etag"] != etag
    stale = org.client.put(
        f"{ITEMS}/PRJ-C1",
        json={"name": "Lost?", "kind": "project"},
        headers={**a, "If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["current"]["name"] == "Renamed"
    assert stale.headers["etag"] == updated.headers["etag"]
    events = org.client.get("/api/v1/audit", params={"entity": "PRJ-C1"}, headers=a).json()
    assert [e["action"] for e in events["events"]] == ["update", "create"]
    update, create = events["events"]
    assert create["before"] is None and create["after"]["name"] == "New"
    assert update["before"]["name"] == "New" and update["after"]["name"] == "Renamed"
    assert update["user"] == "admin@example.org" and update["client_ip"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "x", "kind": ', "body"),  # malformed JSON
        ('{"name": 5, "kind": "project"}', "name"),  # wrong type
        ('{"name": "x", "kind": "project", "colour": "red"}', "colour"),  # unknown field
        ('{"name": "x", "kind": "project", "percent_complete": 140}', "percent_complete"),
        ('{"name": "x", "kind": "project", "parent": "PRJ-A1/../x"}', "parent"),
        ('{"name": "x", "kind": "project", "owner": "NOBODY"}', "owner"),
        ('{"name": "x", "kind": "programme", "parent": "PRJ-A1"}', "parent"),  # a loop
        ("[1, 2]", "body"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(org: Org, body: str, field: str) -> None:
    before, audit = _snapshot(org), _audit_count(org)
    etag = org.client.get(f"{ITEMS}/PG-A", headers=org.auth("admin")).headers["etag"]
    headers = {**org.auth("admin"), "content-type": "application/json", "If-Match": etag}
    got = org.client.put(f"{ITEMS}/PG-A", content=body, headers=headers)
    assert got.status_code == 422, got.text
    assert got.headers["content-type"] == "application/problem+json"
    assert got.json()["detail"].startswith(f"field '{field}'"), got.json()
    assert _snapshot(org) == before and _audit_count(org) == audit


@pytest.mark.parametrize("code", ["a'b", "a%25b", "a b", "..", "x;DROP", "ä", "a" * 65])
def test_hostile_codes_get_4xx_and_change_nothing(org: Org, code: str) -> None:
    before = _snapshot(org)
    got = org.client.get(f"{ITEMS}/{code}", headers=org.auth("admin"))
    assert 400 <= got.status_code < 500
    put = org.client.put(
        f"{ITEMS}/{code}", json={"name": "x", "kind": "project"}, headers=org.auth("admin")
    )
    assert 400 <= put.status_code < 500
    assert _snapshot(org) == before


def test_oversized_body_is_refused_before_reading(org: Org) -> None:
    limit = org.client.app.state.bigov.settings.max_body_bytes
    got = org.client.put(
        f"{ITEMS}/PRJ-BIG",
        content=b"{" + b" " * limit + b"}",
        headers={**org.auth("admin"), "content-type": "application/json"},
    )
    assert got.status_code == 413
    assert org.client.get(f"{ITEMS}/PRJ-BIG", headers=org.auth("admin")).status_code == 404


def test_status_reports_and_benefits(org: Org) -> None:
    reports = org.client.get("/api/v1/status-reports", headers=org.auth("viewer")).json()
    assert {r["work_item"] for r in reports["items"]} == {"PG-A", "PRJ-A1"}
    ben = org.client.get("/api/v1/benefits/BEN-A", headers=org.auth("ben")).json()
    assert ben["owner"] == "P-BEN" and ben["profile"] == []


def test_openapi_is_3_1_and_lists_every_route(org: Org) -> None:
    spec = org.client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/api/v1/work-items",
        "/api/v1/work-items/{code}",
        "/api/v1/benefits",
        "/api/v1/cycles",
        "/api/v1/analysis/rollup",
        "/api/v1/audit",
        "/api/v1/governance/nodes",
        "/api/v1/status-reports",
        "/api/v1/session",
    ):
        assert path in spec["paths"], path


def test_cycles_are_scoped_to_the_nodes(org: Org) -> None:
    org.ws.governance.run_cycle("N-PB-A", "2026-09")
    org.ws.governance.run_cycle("N-FIN", "2026-09")
    code = "N-PB-A/2026-09"
    listed = org.client.get("/api/v1/cycles", headers=org.auth("board")).json()
    assert [c["node"] for c in listed] == ["N-PB-A"]
    for suffix in ("", "/figures", "/exceptions", "/pack?format=html"):
        assert (
            org.client.get(f"/api/v1/cycles/{code}{suffix}", headers=org.auth("board")).status_code
            == 200
        ), suffix
        assert (
            org.client.get(f"/api/v1/cycles/{code}{suffix}", headers=org.auth("mgr")).status_code
            == 404
        ), suffix
    figures = org.client.get(f"/api/v1/cycles/{code}/figures", headers=org.auth("pmo")).json()
    doc = org.ws.governance.cycle_document(figures["cycle"])
    from bigov.figures import figure_rows

    assert figures["figures"] == figure_rows(doc)  # the governed figures, not a re-computation
    made = org.ws.governance.add_decision(figures["cycle"], "Re-plan A1", items=["PRJ-A1"])
    decisions = org.client.get("/api/v1/decisions", headers=org.auth("board")).json()
    assert [(d["code"], d["items"]) for d in decisions] == [(made, ["PRJ-A1"])]
    assert org.client.get("/api/v1/decisions", headers=org.auth("mgr")).json() == []
    assert (
        org.client.get("/api/v1/cycles/N-FIN/2026-09", headers=org.auth("board")).status_code == 404
    )
    assert (
        org.client.get("/api/v1/cycles/N-PB-A/2026-13", headers=org.auth("board")).status_code
        == 422
    )


def test_status_report_upsert_with_etag_and_audit(org: Org) -> None:
    url = f"{ITEMS}/PRJ-B1/status-reports/2026-10"
    body = {"confidence": "amber/red", "overall": "red", "narrative": "<b>late</b>"}
    created = org.client.put(url, json=body, headers=org.auth("mgr"))
    assert created.status_code == 201, created.text
    read = org.client.get(url, headers=org.auth("mgr"))
    assert read.headers["etag"] == created.headers["etag"]
    assert read.json()["narrative"] == "<b>late</b>"  # data stays data
    assert org.client.put(url, json=body, headers=org.auth("mgr")).status_code == 428
    changed = org.client.put(
        url,
        json={**body, "overall": "amber"},
        headers={**org.auth("mgr"), "If-Match": created.headers["etag"]},
    )
    assert changed.status_code == 200
    stale = org.client.put(
        url, json=body, headers={**org.auth("mgr"), "If-Match": created.headers["etag"]}
    )
    assert stale.status_code == 412 and stale.json()["current"]["overall"] == "amber"
    # out of scope: 404; read-only role: 403; a month that does not exist: 422
    assert (
        org.client.put(
            f"{ITEMS}/PRJ-A1/status-reports/2026-10", json=body, headers=org.auth("mgr")
        ).status_code
        == 404
    )
    assert org.client.put(url, json=body, headers=org.auth("board")).status_code == 404
    assert (
        org.client.put(
            f"{ITEMS}/PRJ-A1/status-reports/2026-10", json=body, headers=org.auth("viewer")
        ).status_code
        == 403
    )
    assert (
        org.client.put(
            f"{ITEMS}/PRJ-B1/status-reports/2026-13", json=body, headers=org.auth("mgr")
        ).status_code
        == 422
    )
    audit = org.client.get(
        "/api/v1/audit", params={"entity": "PRJ-B1/2026-10"}, headers=org.auth("pmo")
    ).json()["events"]
    assert [e["action"] for e in audit] == ["update", "create"]


def test_benefit_upsert_scope_and_audit(org: Org) -> None:
    mine = {"name": "Fewer calls", "category": "cashable", "owner": "P-BEN", "currency": "GBP"}
    created = org.client.put("/api/v1/benefits/BEN-C", json=mine, headers=org.auth("ben"))
    assert created.status_code == 201, created.text
    theirs = {"name": "Not mine", "category": "cashable", "owner": "P-OTHER"}
    refused = org.client.put("/api/v1/benefits/BEN-D", json=theirs, headers=org.auth("ben"))
    assert refused.status_code == 403
    bad = org.client.put(
        "/api/v1/benefits/BEN-E", json={**mine, "currency": "pounds"}, headers=org.auth("ben")
    )
    assert bad.status_code == 422 and bad.json()["detail"].startswith("field 'currency'")
    etag = created.headers["etag"]
    assert org.client.get("/api/v1/benefits/BEN-C", headers=org.auth("ben")).headers["etag"] == etag
    changed = org.client.put(
        "/api/v1/benefits/BEN-C",
        json={**mine, "status": "realising"},
        headers={**org.auth("ben"), "If-Match": etag},
    )
    assert changed.status_code == 200
    stale = org.client.put(
        "/api/v1/benefits/BEN-C", json=mine, headers={**org.auth("pmo"), "If-Match": etag}
    )
    assert stale.status_code == 412 and stale.json()["current"]["status"] == "realising"
    events = org.client.get(
        "/api/v1/audit", params={"entity": "BEN-C"}, headers=org.auth("admin")
    ).json()["events"]
    assert [e["action"] for e in events] == ["update", "create"]
    assert org.client.get("/api/v1/benefits/BEN-D", headers=org.auth("admin")).status_code == 404


def test_raid_follows_what_it_concerns(org: Org) -> None:
    def codes(who: str) -> set[str]:
        page = org.client.get("/api/v1/raid", headers=org.auth(who)).json()
        return {r["code"] for r in page["items"]}

    assert codes("board") == {"R-PRJ-A1", "R-NODE"}  # the node's own log too
    assert codes("mgr") == {"R-PRJ-B1"}
    assert codes("viewer") == {"R-PRJ-A1"}
    assert codes("pmo") == {"R-PRJ-A1", "R-PRJ-B1", "R-PRJ-B2", "R-NODE"}


def test_nul_characters_are_refused_at_the_edge(org: Org) -> None:
    before, audit = _snapshot(org), _audit_count(org)
    got = org.client.put(
        f"{ITEMS}/PRJ-NUL", json={"name": "a\x00b", "kind": "project"}, headers=org.auth("admin")
    )
    assert got.status_code == 422 and got.json()["detail"].startswith("field 'name'")
    query = org.client.get(ITEMS, params={"unit": "U\x00A"}, headers=org.auth("admin"))
    assert query.status_code == 422
    assert _snapshot(org) == before and _audit_count(org) == audit
