"""The authorisation matrix: every role × every endpoint × in and out of scope, as data.

Each row names an endpoint (with ``{in}``/``{out}`` standing for a code in or out of the
role's scope) and the status each role gets. Out of scope reads answer 404 (codes do not leak);
writes the role may not make answer 403."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import ROLES, Org

# the codes in and out of each role's scope: (work item, benefit)
IN_SCOPE = {
    "admin": ("PRJ-B2", "BEN-B"),
    "pmo": ("PRJ-B2", "BEN-B"),
    "board": ("PRJ-A1", "BEN-A"),
    "boardall": ("PRJ-B2", "BEN-B"),
    "mgr": ("PRJ-B1", "BEN-B"),
    "ben": ("PRJ-A1", "BEN-A"),
    "viewer": ("PRJ-A1", "BEN-A"),
}
OUT_OF_SCOPE = {
    "board": ("PRJ-B1", "BEN-B"),
    "mgr": ("PRJ-A1", "BEN-A"),
    "ben": ("PRJ-B1", "BEN-B"),
    "viewer": ("PRJ-B1", "BEN-B"),
}
ALL = dict.fromkeys(ROLES, 200)
ORGANISATION = {**dict.fromkeys(ROLES, 403), "admin": 200, "pmo": 200, "boardall": 200}
WRITERS_IN = {**dict.fromkeys(ROLES, 403), "admin": 200, "pmo": 200, "mgr": 200}
BENEFIT_WRITERS_IN = {**dict.fromkeys(ROLES, 403), "admin": 200, "pmo": 200, "ben": 200}
# the in-scope RAID entries are on work: a manager may change them, a board member only those
# of their board's own log, a benefit owner only those on their benefits
RAID_WRITERS_IN = WRITERS_IN
ADMIN_PMO = {**dict.fromkeys(ROLES, 403), "admin": 200, "pmo": 200}

# (method, path, expected in scope, expected out of scope)
MATRIX: list[tuple[str, str, dict[str, int], dict[str, int]]] = [
    ("GET", "/api/v1/work-items/{item}", ALL, dict.fromkeys(ROLES, 404)),
    ("GET", "/api/v1/work-items?limit=500", ALL, ALL),
    ("GET", "/api/v1/status-reports?work_item={item}", ALL, ALL),
    ("PUT", "/api/v1/work-items/{item}", WRITERS_IN, dict.fromkeys(ROLES, 404)),
    ("GET", "/api/v1/work-items/{item}/status-reports/2026-09", ALL, dict.fromkeys(ROLES, 404)),
    (
        "PUT",
        "/api/v1/work-items/{item}/status-reports/2026-09",
        WRITERS_IN,
        dict.fromkeys(ROLES, 404),
    ),
    ("GET", "/api/v1/benefits/{benefit}", ALL, dict.fromkeys(ROLES, 404)),
    ("GET", "/api/v1/benefits", ALL, ALL),
    ("PUT", "/api/v1/benefits/{benefit}", BENEFIT_WRITERS_IN, dict.fromkeys(ROLES, 404)),
    ("GET", "/api/v1/analysis/rollup?root={item}", ALL, dict.fromkeys(ROLES, 404)),
    ("GET", "/api/v1/analysis/rollup", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/analysis/balance", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/analysis/benefits", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/analysis/gaps", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/analysis/attainment", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/raid/R-{item}", ALL, dict.fromkeys(ROLES, 404)),
    ("GET", "/api/v1/raid?limit=500", ALL, ALL),
    ("GET", "/api/v1/finance/cost-lines?limit=500", ALL, ALL),
    ("GET", "/api/v1/resources/demand?limit=500", ALL, ALL),
    ("GET", "/api/v1/decisions", ALL, ALL),
    ("GET", "/api/v1/cycles", ALL, ALL),
    ("GET", "/api/v1/org/units", ALL, ALL),
    ("GET", "/api/v1/strategy/otcs", ALL, ALL),
    ("GET", "/api/v1/governance/nodes", ALL, ALL),
    ("GET", "/api/v1/governance/nodes/N-PB-A", ALL, ALL),
    (
        "GET",
        "/api/v1/audit",
        {**dict.fromkeys(ROLES, 403), "admin": 200, "pmo": 200},
        {**dict.fromkeys(ROLES, 403), "admin": 200, "pmo": 200},
    ),
    ("GET", "/api/v1/me", ALL, ALL),
    # data calls (tests/datacall/test_datacall_api.py covers them in full with a call opened)
    ("GET", "/api/v1/datacalls/requests", ALL, ALL),
    ("GET", "/api/v1/datacalls/mine", ALL, ALL),
    ("GET", "/api/v1/datacalls/rates", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/datacalls/calendar/nodes/N-PB-A.ics", ALL, ALL),
    ("PUT", "/api/v1/raid/R-{item}", RAID_WRITERS_IN, dict.fromkeys(ROLES, 404)),
    (
        "PUT",
        "/api/v1/benefits/{benefit}/profile/2026-09",
        BENEFIT_WRITERS_IN,
        dict.fromkeys(ROLES, 404),
    ),
    ("GET", "/api/v1/benefits/{benefit}/profile/2026-09", ALL, dict.fromkeys(ROLES, 404)),
    ("GET", "/api/v1/metrics/measures", ALL, ALL),
    ("GET", "/api/v1/finance/funding-sources", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/finance/budget-split", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/analysis/capacity", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/portfolio/scenarios", ORGANISATION, ORGANISATION),
    ("GET", "/api/v1/imports", ADMIN_PMO, ADMIN_PMO),
]


def _call(org: Org, who: str, method: str, path: str) -> Any:
    admin = org.auth("admin")
    if "/profile/" in path and org.client.get(path, headers=admin).status_code == 404:
        # the month exists before anyone reads or changes it (the admin writes it first,
        # to a benefit the admin sees; an out-of-scope one stays the role's 404)
        org.client.put(path, json={"planned": "10.00"}, headers=admin)
    if method == "GET":
        return org.client.get(path, headers=org.auth(who))
    # the admin reads the current version, so only the role decides the answer
    current = org.client.get(path, headers=admin)
    if "/profile/" in path:
        headers = {**org.auth(who), "If-Match": current.headers["etag"]}
        return org.client.put(path, json={"planned": "20.00"}, headers=headers)
    if "/raid/" in path:
        body = {k: current.json()[k] for k in ("kind", "title", "work_item", "benefit", "node")}
        headers = {**org.auth(who), "If-Match": current.headers["etag"]}
        return org.client.put(path, json={**body, "title": f"edited by {who}"}, headers=headers)
    if "/benefits/" in path:
        body = {k: current.json()[k] for k in ("name", "category", "owner", "owner_unit")}
        headers = {**org.auth(who), "If-Match": current.headers["etag"]}
        return org.client.put(path, json={**body, "measure": who}, headers=headers)
    if "/status-reports/" in path:
        headers = {**org.auth(who), "If-Match": current.headers["etag"]}
        return org.client.put(path, json={"overall": "green", "narrative": who}, headers=headers)
    body = {k: current.json()[k] for k in ("name", "kind", "parent", "org_unit", "owner")}
    body["name"] = f"{body['name']} (edited by {who})"
    headers = {**org.auth(who), "If-Match": current.headers["etag"]}
    return org.client.put(path, json=body, headers=headers)


def test_authorisation_matrix(org: Org) -> None:
    failures: list[str] = []
    for method, template, expect_in, expect_out in MATRIX:
        for who in ROLES:
            cases = [("in", IN_SCOPE[who], expect_in)]
            if who in OUT_OF_SCOPE:
                cases.append(("out", OUT_OF_SCOPE[who], expect_out))
            for where, (item, benefit), expected in cases:
                path = template.format(item=item, benefit=benefit)
                got = _call(org, who, method, path)
                if got.status_code != expected[who]:
                    failures.append(
                        f"{who} {method} {path} ({where}): {got.status_code} != {expected[who]}"
                    )
                if got.status_code >= 400:
                    assert got.headers["content-type"] == "application/problem+json"
                if (
                    method == "GET"
                    and got.status_code == 200
                    and "?" in path
                    and "items" in got.json()
                ):
                    rows = got.json()["items"]
                    codes = {r.get("code") or r.get("work_item") for r in rows}
                    if "/raid" in path or "/finance" in path or "/resources" in path:
                        codes = {r["work_item"] for r in rows if r["work_item"]}
                    own, other = IN_SCOPE[who], OUT_OF_SCOPE.get(who, (None, None))
                    if "benefits" in path:
                        ok = own[1] in codes and other[1] not in codes
                    elif "status-reports" in path:
                        ok = (item in codes) == (where == "in" or who not in OUT_OF_SCOPE)
                    else:
                        ok = own[0] in codes and other[0] not in codes
                    if not ok:
                        failures.append(f"{who} {path}: wrong rows {sorted(codes)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("admin", {"PG-A", "PRJ-A1", "PG-B", "PRJ-B1", "PRJ-B2"}),
        ("board", {"PG-A", "PRJ-A1"}),
        ("boardall", {"PG-A", "PRJ-A1", "PG-B", "PRJ-B1", "PRJ-B2"}),
        ("mgr", {"PG-B", "PRJ-B1"}),
        ("ben", {"PRJ-A1"}),
        ("viewer", {"PG-A", "PRJ-A1"}),
    ],
)
def test_lists_hold_exactly_the_scope(org: Org, who: str, visible: set[str]) -> None:
    got = org.client.get("/api/v1/work-items", headers=org.auth(who)).json()
    assert {r["code"] for r in got["items"]} == visible


def test_writes_cannot_leave_the_scope(org: Org) -> None:
    # a manager may create an item they own, but not one for someone else's unit
    ok = org.client.put(
        "/api/v1/work-items/PRJ-NEW",
        json={"name": "Mine", "kind": "project", "parent": "PG-B"},
        headers=org.auth("mgr"),
    )
    assert ok.status_code == 201
    moved = org.client.put(
        "/api/v1/work-items/PRJ-NEW2",
        json={"name": "Theirs", "kind": "project", "org_unit": "U-A"},
        headers=org.auth("mgr"),
    )
    assert moved.status_code == 403
    assert (
        org.client.get("/api/v1/work-items/PRJ-NEW2", headers=org.auth("admin")).status_code == 404
    )
    # moving an own item under someone else's programme is refused and changes nothing
    current = org.client.get("/api/v1/work-items/PRJ-B1", headers=org.auth("mgr"))
    away = org.client.put(
        "/api/v1/work-items/PRJ-B1",
        json={"name": "x", "kind": "project", "parent": "PG-A", "org_unit": "U-A"},
        headers={**org.auth("mgr"), "If-Match": current.headers["etag"]},
    )
    assert away.status_code == 403
    after = org.client.get("/api/v1/work-items/PRJ-B1", headers=org.auth("admin")).json()
    assert after["parent"] == "PG-B"
    # viewers never write, even a new code
    new = org.client.put(
        "/api/v1/work-items/PRJ-V",
        json={"name": "v", "kind": "project"},
        headers=org.auth("viewer"),
    )
    assert new.status_code == 403
