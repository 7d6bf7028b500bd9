"""/api/v1/datacalls: every role × endpoint × in and out of scope, as data (the server tests'
small organisation), and that writes are audited."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar
from sqlalchemy import select, update

from bigov.governance.models import GovernanceNode
from bigov.org.models import Person
from bigov.work.models import WorkItem
from tests.server.conftest import ROLES, Org

PERIOD = "2026-09"
IN_SCOPE = {
    "admin": "PRJ-B2",
    "pmo": "PRJ-B2",
    "board": "PRJ-A1",
    "boardall": "PRJ-B2",
    "mgr": "PRJ-B1",
    "ben": "PRJ-A1",
    "viewer": "PRJ-A1",
}
OUT_OF_SCOPE = {"board": "PRJ-B1", "mgr": "PRJ-A1", "ben": "PRJ-B1", "viewer": "PRJ-B1"}
ALL = dict.fromkeys(ROLES, 200)
NONE_404 = dict.fromkeys(ROLES, 404)
ASSURERS = {**dict.fromkeys(ROLES, 403), "admin": 200, "pmo": 200}
ORGANISATION = {**ASSURERS, "boardall": 200}
# a submission: the PMO, and the item's owner (ben owns PRJ-A1, mgr owns PRJ-B1)
SUBMITTERS = {**ASSURERS, "mgr": 200, "ben": 200}
# the nodes whose cycles a role may read (a board member: their nodes and those below)
BOARD_NODE = {**ALL, "boardall": 404, "mgr": 404, "ben": 404, "viewer": 404}

MATRIX: list[tuple[str, str, dict[str, int], dict[str, int]]] = [
    ("GET", "/api/v1/datacalls/requests/2026-09:status:{item}", ALL, NONE_404),
    ("GET", "/api/v1/datacalls/requests", ALL, ALL),
    ("GET", "/api/v1/datacalls/mine", ALL, ALL),
    ("POST", "/api/v1/datacalls/requests/2026-09:status:{item}/submission", SUBMITTERS, NONE_404),
    ("POST", "/api/v1/datacalls/requests/2026-09:status:{item}/verdict", ASSURERS, NONE_404),
    ("POST", "/api/v1/datacalls/open", ASSURERS, ASSURERS),
    ("GET", "/api/v1/datacalls/rates", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/datacalls/nodes/N-PB-A?period=2026-09", BOARD_NODE, BOARD_NODE),
    ("GET", "/api/v1/datacalls/calendar/nodes/N-PB-A.ics", ALL, ALL),
    ("GET", "/api/v1/datacalls/calendar/me.ics", ALL, ALL),
]


def _open_call(org: Org) -> None:
    ws = org.ws
    with ws.session() as s:
        people = dict(s.execute(select(Person.code, Person.id)).all())
        for code, owner in (("PRJ-A1", "P-BEN"), ("PRJ-B1", "P-MGR")):
            s.execute(update(WorkItem).where(WorkItem.code == code).values(owner_id=people[owner]))
        for node in ("N-PB-A", "N-FIN"):
            s.execute(
                update(GovernanceNode)
                .where(GovernanceNode.code == node)
                .values(sitting_day=10, rules={"data_cutoff_days": 3})
            )
    result = ws.datacall.open(PERIOD, by="test")
    assert {r.subject for r in ws.datacall.requests()} == {"PRJ-A1", "PRJ-B1", "PRJ-B2"}
    assert result.skipped == [] or all(s.node == "N-BOARD" for s in result.skipped)


def _call(org: Org, who: str, method: str, path: str) -> Any:
    headers = org.auth(who)
    if method == "GET":
        return org.client.get(path, headers=headers)
    if path.endswith("/open"):
        return org.client.post(path, json={"period": PERIOD}, headers=headers)
    if path.endswith("/verdict"):
        return org.client.post(path, json={"verdict": "accepted"}, headers=headers)
    # a submission replaces the data: send the version the PMO reads now
    current = org.client.get(path.removesuffix("/submission"), headers=org.auth("admin"))
    etag = current.headers.get("etag", '"none"')
    return org.client.post(
        path, json={"overall": "green", "narrative": who}, headers={**headers, "If-Match": etag}
    )


def test_datacall_authorisation_matrix(org: Org) -> None:
    _open_call(org)
    failures: list[str] = []
    for method, template, expect_in, expect_out in MATRIX:
        for who in ROLES:
            cases = [("in", IN_SCOPE[who], expect_in)]
            if who in OUT_OF_SCOPE:
                cases.append(("out", OUT_OF_SCOPE[who], expect_out))
            for where, item, expected in cases:
                path = template.format(item=item)
                got = _call(org, who, method, path)
                if got.status_code != expected[who]:
                    failures.append(
                        f"{who} {method} {path} ({where}): {got.status_code} != {expected[who]}"
                        f" {got.text[:200]}"
                    )
                if got.status_code >= 400:
                    assert got.headers["content-type"] == "application/problem+json"
    assert not failures, "\n".join(failures)


def test_lists_hold_exactly_what_each_role_may_see(org: Org) -> None:
    _open_call(org)
    expect = {
        "admin": {"PRJ-A1", "PRJ-B1", "PRJ-B2"},
        "pmo": {"PRJ-A1", "PRJ-B1", "PRJ-B2"},
        "board": {"PRJ-A1"},
        "boardall": {"PRJ-A1", "PRJ-B1", "PRJ-B2"},
        "mgr": {"PRJ-B1"},
        "ben": {"PRJ-A1"},
        "viewer": {"PRJ-A1"},
    }
    for who, visible in expect.items():
        got = org.client.get("/api/v1/datacalls/requests", headers=org.auth(who)).json()
        assert {r["subject"] for r in got["items"]} == visible, who
    mine = org.client.get("/api/v1/datacalls/mine", headers=org.auth("mgr")).json()
    assert mine == []  # PRJ-B1's September report is in: nothing owed
    cal = org.client.get("/api/v1/datacalls/calendar/nodes/N-PB-A.ics", headers=org.auth("ben"))
    assert cal.headers["content-type"].startswith("text/calendar")
    assert Calendar.from_ical(cal.content).walk("VEVENT")


def test_writes_are_audited_and_a_return_needs_a_comment(org: Org) -> None:
    _open_call(org)
    code = "2026-09:status:PRJ-B1"
    bad = org.client.post(
        f"/api/v1/datacalls/requests/{code}/verdict",
        json={"verdict": "returned"},
        headers=org.auth("pmo"),
    )
    assert bad.status_code == 422 and "comment" in bad.json()["detail"]
    back = org.client.post(
        f"/api/v1/datacalls/requests/{code}/verdict",
        json={"verdict": "returned", "comment": "RAG missing"},
        headers=org.auth("pmo"),
    )
    assert back.status_code == 200 and back.json()["state"] == "returned"
    mine = org.client.get("/api/v1/datacalls/mine", headers=org.auth("mgr")).json()
    assert [r["code"] for r in mine] == [code] and mine[0]["returned_comment"] == "RAG missing"
    detail = org.client.get(f"/api/v1/datacalls/requests/{code}", headers=org.auth("mgr"))
    fixed = org.client.post(
        f"/api/v1/datacalls/requests/{code}/submission",
        json={"overall": "amber", "cost": "amber"},
        headers={**org.auth("mgr"), "If-Match": detail.headers["etag"]},
    )
    assert fixed.status_code == 200 and fixed.json()["state"] == "submitted"
    wrong = org.client.post(
        f"/api/v1/datacalls/requests/{code}/submission",
        json={"overall": "purple"},
        headers={**org.auth("mgr"), "If-Match": fixed.headers["etag"]},
    )
    assert wrong.status_code == 422 and "overall" in wrong.json()["detail"]
    trail = org.client.get("/api/v1/audit", headers=org.auth("admin")).json()
    kinds = [(e["entity_kind"], e["entity_code"], e["user"]) for e in trail["events"]]
    assert ("datacall_verdict", code, "pmo@example.org") in kinds
    assert ("datacall_submission", code, "mgr@example.org") in kinds
