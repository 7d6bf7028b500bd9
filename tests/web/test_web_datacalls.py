"""The data-call pages on the demo with the 2026-10 call open: "what I owe" on the owner's home
page (and nobody else's), the PMO's per-node readiness board with accept and return (a return
without a comment saves nothing), 404 for everyone else, and pinned statement counts."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from bigov.auth.models import AuditEvent
from bigov.auth.service import add_user
from bigov.datacall.models import DataVerdict
from bigov.datacall.schemas import StatusSubmission
from bigov.datacall.service import Filters
from bigov.governance.models import GovernanceNode
from bigov.org.models import Person
from bigov.server import ServerSettings, create_app
from bigov.work.models import WorkItem
from bigov.workspace import Workspace
from tests.server.conftest import PASSWORD as ORG_PASSWORD
from tests.web.conftest import PASSWORD, Demo, Live
from tests.web.test_web_accessibility import _axe
from tests.web.test_web_pages import csrf_of, org_client, sign_in

PERIOD = "2026-10"


@pytest.fixture
def call_client(demo_ws: Workspace, demo_template: Demo) -> Iterator[TestClient]:
    demo_ws.datacall.open(PERIOD, by=demo_template.users["pmo"])
    app = create_app(ServerSettings(secret_key="web-test", count_queries=True), demo_ws)
    with TestClient(app) as client:
        yield client


def _signup_owner(ws: Workspace) -> str:
    """The person owing the most status reports in the call (the demo has most of its data in
    already), signed up as a project manager."""
    counts = Counter(
        r.owner
        for r in ws.datacall.requests(Filters(kind="status"))
        if r.state in ("requested", "returned")
    )
    email = counts.most_common(1)[0][0]
    with ws.session() as s:
        add_user(s, email, "manager", password=PASSWORD)
    return email


@pytest.fixture
def owner(call_client: TestClient, demo_ws: Workspace) -> str:
    return _signup_owner(demo_ws)


def test_the_owner_sees_what_they_owe_and_nobody_else_does(
    call_client: TestClient, demo_ws: Workspace, demo_template: Demo, owner: str
) -> None:
    manager = owner
    owed = demo_ws.datacall.owed_by(manager)
    assert owed, "the owner owes status reports in the 2026-10 call"
    sign_in(call_client, manager, PASSWORD)
    home = call_client.get("/").text
    section = home.split('id="owed"')[1].split("</table>")[0]
    for r in owed:
        assert r.title in section or r.code in section or (r.subject or "") in section
        if r.kind == "status":
            assert f'href="/items/{r.subject}/return"' in section
    assert section.count("<tr>") == len(owed) + 1  # the header row
    first = owed[0]
    assert str(first.due_on) in section
    call_client.cookies.clear()
    sign_in(call_client, demo_template.users["viewer"], PASSWORD)
    other = call_client.get("/").text
    assert "You owe no data for any board just now." in other
    assert (
        f'href="/items/{first.subject}/return"' not in other.split('id="owed"')[1].split("<h2")[0]
    )


def test_a_returned_request_shows_its_comment_and_overdue_in_text(
    call_client: TestClient, demo_ws: Workspace, demo_template: Demo, owner: str
) -> None:
    manager = owner
    code = demo_ws.datacall.owed_by(manager)[0].code
    demo_ws.datacall.submit_status(
        code, StatusSubmission(confidence="amber", narrative="ok"), by=manager
    )
    demo_ws.datacall.return_(code, by=demo_template.users["pmo"], comment="<b>fix</b> the costs")
    sign_in(call_client, manager, PASSWORD)
    home = call_client.get("/").text
    assert "&lt;b&gt;fix&lt;/b&gt; the costs" in home and "<b>fix</b>" not in home
    # a far-future "today" is beyond every due date: overdue is said in words
    late = demo_ws.datacall.owed_by(
        manager, today=demo_ws.datacall.request(code).due_on.replace(year=2030)
    )
    assert late[0].overdue_days > 0


def _submitted(ws: Workspace) -> tuple[str, list[str]]:
    """A node whose earliest cut-off is first for two or more submitted status reports, and
    those reports' codes."""
    by_node: dict[str, list[str]] = {}
    for r in ws.datacall.requests(Filters(period=PERIOD, kind="status", state="submitted")):
        by_node.setdefault(r.node, []).append(r.code)
    node = min(n for n, codes in by_node.items() if len(codes) >= 2)
    return node, by_node[node]


def test_the_pmo_board_returns_and_accepts(
    call_client: TestClient, demo_ws: Workspace, demo_template: Demo, owner: str
) -> None:
    node, (first, second, *_rest) = _submitted(demo_ws)
    sign_in(call_client, demo_template.users["pmo"], PASSWORD)
    index = call_client.get("/pmo/datacalls")
    assert index.status_code == 200 and PERIOD in index.text
    assert f'href="/pmo/datacalls/{node}?period={PERIOD}"' in index.text
    assert 'href="/pmo/datacalls"' in call_client.get("/pmo").text
    page = call_client.get(f"/pmo/datacalls/{node}?period={PERIOD}")
    assert page.status_code == 200
    assert first in page.text and "Accept" in page.text
    token = csrf_of(call_client, "/pmo")
    form = {"csrf_token": token, "code": first, "period": PERIOD, "verdict": "return"}

    # a return without a comment: the field's error, and nothing saved
    with demo_ws.session() as s:
        verdicts = s.scalar(select(func.count()).select_from(DataVerdict))
    r = call_client.post(f"/pmo/datacalls/{node}/verdict", data={**form, "comment": "  "})
    assert r.status_code == 422
    assert "needs a comment" in r.text and 'aria-invalid="true"' in r.text
    with demo_ws.session() as s:
        assert s.scalar(select(func.count()).select_from(DataVerdict)) == verdicts
    assert demo_ws.datacall.request(first).state == "submitted"

    r = call_client.post(
        f"/pmo/datacalls/{node}/verdict",
        data={**form, "comment": "costs <missing>"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/pmo/datacalls/{node}?period={PERIOD}"
    returned = demo_ws.datacall.request(first)
    assert returned.state == "returned" and returned.returned_comment == "costs <missing>"
    with demo_ws.session() as s:
        audited = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_kind == "datacall_verdict", AuditEvent.entity_code == first
            )
        ).all()
    assert [e.user_email for e in audited] == [demo_template.users["pmo"]]
    board = call_client.get(r.headers["location"]).text
    assert "costs &lt;missing&gt;" in board

    # a verdict on a version the page no longer shows is refused
    r = call_client.post(
        f"/pmo/datacalls/{node}/verdict",
        data={**form, "code": second, "verdict": "accept", "version": "stale"},
    )
    assert r.status_code == 409 and "changed since you read it" in r.text
    assert demo_ws.datacall.request(second).state == "submitted"
    r = call_client.post(
        f"/pmo/datacalls/{node}/verdict",
        data={**form, "code": second, "verdict": "accept", "comment": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert demo_ws.datacall.request(second).state == "assured"
    # accepting a request with nothing submitted is refused, saying why, and saves nothing
    nothing = demo_ws.datacall.owed_by(owner)[0]
    assert nothing.state == "requested"
    r = call_client.post(
        f"/pmo/datacalls/{node}/verdict",
        data={**form, "code": nothing.code, "verdict": "accept"},
    )
    assert r.status_code == 409 and "no data submitted to judge" in r.text
    assert demo_ws.datacall.request(nothing.code).state == "requested"


def test_the_board_and_its_actions_are_404_to_others(
    call_client: TestClient, demo_ws: Workspace, demo_template: Demo, owner: str
) -> None:
    node, (code, *_rest) = _submitted(demo_ws)
    for who in ("viewer", "manager", "board", "owner"):
        call_client.cookies.clear()
        sign_in(call_client, owner if who == "owner" else demo_template.users[who], PASSWORD)
        for path in ("/pmo/datacalls", f"/pmo/datacalls/{node}"):
            assert call_client.get(path).status_code == 404, (who, path)
        r = call_client.post(
            f"/pmo/datacalls/{node}/verdict",
            data={"csrf_token": csrf_of(call_client), "code": code, "verdict": "accept"},
        )
        assert r.status_code == 404
    assert demo_ws.datacall.request(code).state == "submitted"
    call_client.cookies.clear()
    sign_in(call_client, demo_template.users["pmo"], PASSWORD)
    assert call_client.get("/pmo/datacalls/NO-SUCH-NODE").status_code == 404
    assert call_client.get("/pmo/datacalls?period=2026-13").status_code == 404


# statements with the call open (the home pages' pins without a call are in test_web_pages):
# the owner's home adds the service's owed-by reads and one for the boards; the index and the
# board are a fixed set whatever the number of requests. The service reads each information
# source once per cadence window, so the largest board (GOV-PMO, over 100 requests drawing on
# more sources) runs one more than the smallest, never one per row.
PINNED = {
    "owner": [("/", 18)],
    "pmo": [("/pmo/datacalls", 24), ("/pmo/datacalls/NODE", 24), ("/pmo/datacalls/BIG", 25)],
}


@pytest.mark.parametrize("who", list(PINNED))
def test_data_call_pages_run_a_pinned_number_of_statements(
    call_client: TestClient, demo_ws: Workspace, demo_template: Demo, owner: str, who: str
) -> None:
    # the smallest and the largest board: the same statements whatever the number of rows
    sizes = Counter(r.node for r in demo_ws.datacall.requests(Filters(period=PERIOD)))
    (big, _many), *_middle, (small, _few) = sizes.most_common()
    sign_in(call_client, owner if who == "owner" else demo_template.users[who], PASSWORD)
    measured = {}
    for path, _limit in PINNED[who]:
        url = path.replace("NODE", small).replace("BIG", big)
        call_client.get(url)
        r = call_client.get(url)
        assert r.status_code == 200, (who, url, r.text[:300])
        measured[path] = int(r.headers["x-query-count"])
    assert measured == dict(PINNED[who])


def test_the_data_call_pages_are_accessible(browser: Any, page: Any, live: Live) -> None:
    """axe-core (as in test_web_accessibility) on the owner's home with what they owe, the call's
    index and a board showing a return's field error."""
    live.ws.datacall.open(PERIOD, by=live.demo.users["pmo"])
    email = _signup_owner(live.ws)
    node, _codes = _submitted(live.ws)
    found: dict[str, Any] = {}
    for who, paths in ((email, ["/"]), ("pmo", ["/pmo/datacalls", f"/pmo/datacalls/{node}"])):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        pg = context.new_page()
        pg.goto(f"{live.url}/login")
        pg.fill("input[name=email]", live.demo.users.get(who, who))
        pg.fill("input[name=password]", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_url(f"{live.url}/")
        for path in paths:
            response = pg.goto(f"{live.url}{path}")
            assert response is not None and response.status == 200, (who, path)
            pg.wait_for_load_state("networkidle")
            if path == "/":
                assert pg.locator("#owed + .table-wrap tbody tr").count() >= 1
            if path.endswith(node):
                pg.locator("button[value=return]").first.click()
                pg.wait_for_load_state("networkidle")
                assert "needs a comment" in pg.locator("[role=alert]").inner_text()
            bad = _axe(pg)
            if bad:
                found[f"{who} {path}"] = bad
        context.close()
    assert not found, json.dumps(found, indent=1)


# -- on every backend (the server tests' small organisation) --


ORG_PERIOD = "2026-10"  # a month the small organisation has no status reports for yet


def _open_org_call(ws: Workspace) -> None:
    # as the API's data-call tests do: owners on two projects, sitting days and cut-offs
    with ws.session() as s:
        people = dict(s.execute(select(Person.code, Person.id)).all())
        for code, person in (("PRJ-A1", "P-BEN"), ("PRJ-B1", "P-MGR")):
            s.execute(update(WorkItem).where(WorkItem.code == code).values(owner_id=people[person]))
        for node in ("N-PB-A", "N-FIN"):
            s.execute(
                update(GovernanceNode)
                .where(GovernanceNode.code == node)
                .values(sitting_day=10, rules={"data_cutoff_days": 3})
            )
    ws.datacall.open(ORG_PERIOD, by="test")


__all__ = ["org_client"]  # the fixture, shared with the page tests


def test_owed_and_the_board_on_every_backend(org_client: tuple[TestClient, Workspace]) -> None:
    client, ws = org_client
    _open_org_call(ws)
    code = f"{ORG_PERIOD}:status:PRJ-B1"
    assert ws.datacall.request(code).state == "requested"
    sign_in(client, "mgr@example.org", ORG_PASSWORD)
    owed = client.get("/").text.split('id="owed"')[1].split("</table>")[0]
    assert 'href="/items/PRJ-B1/return"' in owed and "PRJ-A1" not in owed
    client.cookies.clear()
    sign_in(client, "viewer@example.org", ORG_PASSWORD)
    assert "You owe no data for any board just now." in client.get("/").text
    assert client.get("/pmo/datacalls").status_code == 404

    ws.datacall.submit_status(code, StatusSubmission(overall="green"), by="mgr@example.org")
    client.cookies.clear()
    sign_in(client, "pmo@example.org", ORG_PASSWORD)
    node = ws.datacall.request(code).node
    index = client.get("/pmo/datacalls")
    assert index.status_code == 200 and f"/pmo/datacalls/{node}?period={ORG_PERIOD}" in index.text
    board = client.get(f"/pmo/datacalls/{node}?period={ORG_PERIOD}")
    assert board.status_code == 200 and code in board.text
    form = {"csrf_token": csrf_of(client, "/pmo"), "code": code, "period": ORG_PERIOD}
    r = client.post(f"/pmo/datacalls/{node}/verdict", data={**form, "verdict": "return"})
    assert r.status_code == 422 and ws.datacall.request(code).state == "submitted"
    r = client.post(
        f"/pmo/datacalls/{node}/verdict",
        data={**form, "verdict": "return", "comment": "add the narrative"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and ws.datacall.request(code).state == "returned"
    client.cookies.clear()
    sign_in(client, "mgr@example.org", ORG_PASSWORD)
    assert "add the narrative" in client.get("/").text
