"""The pages without a browser (starlette's TestClient on the real app): sign-in and its CSRF
check, the live pack's figures are the PDF pack's, each page's statement count is pinned, and
scope and validation hold on SQLite and PostgreSQL (the server tests' small organisation)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bigov.reports import render_html
from bigov.server import ServerSettings, create_app
from bigov.web.core import CSP
from bigov.work.models import StatusReport, WorkItem
from bigov.work.return_models import MonthlyReturn
from bigov.workspace import Workspace
from tests.server.conftest import PASSWORD as ORG_PASSWORD
from tests.server.conftest import add_users, seed
from tests.web.conftest import MAIN_BOARD, PASSWORD, PROGRAMME_BOARD, Demo

FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]*)"')


def sign_in(client: TestClient, email: str, password: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/"


def csrf_of(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def demo_client(demo_ws: Workspace) -> Iterator[TestClient]:
    app = create_app(ServerSettings(secret_key="web-test", count_queries=True), demo_ws)
    with TestClient(app) as client:
        yield client


# -- sign-in ---------------------------------------------------------------------------------------


def test_pages_need_a_session_and_login_returns_to_the_page(
    demo_client: TestClient, demo_template: Demo
) -> None:
    r = demo_client.get(f"/items/{demo_template.programme}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next=%2Fitems%2F{demo_template.programme}"
    page = demo_client.get(r.headers["location"])
    assert 'name="email"' in page.text and 'name="password"' in page.text
    # the page's own strict policy, not the API's (and only one of them)
    assert page.headers.get_list("content-security-policy") == [CSP]
    assert "'unsafe-inline'" not in CSP


def test_login_refuses_a_wrong_password_a_missing_token_and_foreign_redirects(
    demo_client: TestClient, demo_template: Demo
) -> None:
    email = demo_template.users["board"]
    r = demo_client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert r.status_code == 403 and "expired" in r.text
    token = csrf_of(demo_client, "/login")
    r = demo_client.post(
        "/login", data={"email": email, "password": "nope nope nope", "csrf_token": token}
    )
    assert r.status_code == 401 and "wrong email or password" in r.text
    token = csrf_of(demo_client, "/login")
    r = demo_client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_write_without_the_session_token_is_refused(
    demo_client: TestClient, demo_template: Demo
) -> None:
    sign_in(demo_client, demo_template.users["board"], PASSWORD)
    r = demo_client.post(
        f"/pack/{MAIN_BOARD}/2026-09/decisions",
        data={"title": "Sneaky", "owner": "X", "decided_on": "2026-09-30"},
    )
    assert r.status_code == 403
    assert "security token" in r.text
    r = demo_client.post(
        "/logout", data={"csrf_token": csrf_of(demo_client)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert demo_client.get("/", follow_redirects=False).status_code == 303


# -- one truth --


def test_the_live_pack_shows_the_pdf_packs_figures_and_sections(
    demo_client: TestClient, demo_template: Demo, demo_ws: Workspace
) -> None:
    sign_in(demo_client, demo_template.users["board"], PASSWORD)
    page = demo_client.get(f"/pack/{MAIN_BOARD}/2026-09")
    assert page.status_code == 200
    doc = demo_ws.governance.cycle_document(f"{MAIN_BOARD}/2026-09")
    printed = render_html(doc).decode()
    assert FIGURE.findall(page.text) == FIGURE.findall(printed)
    live = page.text.split('<div class="pack-live">')[1].split('<section id="sitting"')[0]
    assert re.findall(r'<section[^>]* id="([^"]+)"', live) == re.findall(
        r'<section[^>]* id="([^"]+)"', printed
    )
    # every figure is a link to the rows behind it, and the rows are the document's
    links = set(re.findall(r'href="/pack/GOV-BOARD/2026-09/figure/([^"]+)"', page.text))
    assert links == {k for k, _ in FIGURE.findall(printed)}
    red = demo_client.get(f"/pack/{MAIN_BOARD}/2026-09/figure/work.confidence.red")
    shown = re.search(r'data-figure="work.confidence.red" data-value="(\d+)"', red.text)
    assert shown is not None
    rows = red.text.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    assert rows == int(shown.group(1)) == doc["governed"]["work.confidence.red"]


# -- statements per page --

# statements each page runs on the demo enterprise: fixed, whatever the data's size (no query per
# row). Measured December 2026; a page that needs more must say why here. Every home page runs one
# statement for "what I owe" (does the user own any data request?); with a call open the owner's
# home runs the owed-by reads too (pinned in test_web_datacalls).
PINNED: dict[str, list[tuple[str, int]]] = {
    "board": [
        ("/", 13),
        ("/boards", 13),
        (f"/pack/{MAIN_BOARD}/2026-09", 15),
        (f"/pack/{MAIN_BOARD}/2026-09/figure/cost.budget", 9),
        (f"/pack/{MAIN_BOARD}/2026-09/exception/EXC", 13),
        ("/items/PROGRAMME", 14),
        ("/items", 9),
    ],
    "manager": [("/", 6), ("/items/PROGRAMME/return", 11)],
    "benefit": [("/", 5), ("/benefits", 3), ("/benefits/BENEFIT", 5)],
    "pmo": [
        ("/", 10),
        ("/pmo/import", 2),
        ("/pmo/batches", 3),
        ("/pmo/cycles", 7),
        (f"/pack/{PROGRAMME_BOARD}/2026-09/diff", 4),
        ("/portfolio", 7),
        ("/pmo/quality", 17),
        ("/targets", 3),
        ("/strategy", 44),
    ],
    "admin": [("/admin/users", 4)],
    "viewer": [("/", 4), ("/items", 3)],
}


@pytest.mark.parametrize("who", list(PINNED))
def test_each_page_runs_a_pinned_number_of_statements(
    demo_client: TestClient, demo_template: Demo, demo_ws: Workspace, who: str
) -> None:
    sign_in(demo_client, demo_template.users[who], PASSWORD)
    doc = demo_ws.governance.cycle_document(f"{MAIN_BOARD}/2026-09")
    exc = next(e["code"] for e in doc["exceptions"] if e["role"] == "owned")
    measured = {}
    for path, _limit in PINNED[who]:
        url = (
            path.replace("PROGRAMME", demo_template.programme)
            .replace("BENEFIT", demo_template.benefit)
            .replace("EXC", exc)
        )
        demo_client.get(url)  # the first request warms per-process caches
        r = demo_client.get(url)
        assert r.status_code == 200, (who, url, r.text[:300])
        measured[path] = int(r.headers["x-query-count"])
    assert measured == dict(PINNED[who])


# -- scope and validation on every backend --


@pytest.fixture
def org_client(workspace: Workspace) -> Iterator[tuple[TestClient, Workspace]]:
    seed(workspace)
    add_users(workspace)
    app = create_app(ServerSettings(secret_key="web-test", count_queries=True), workspace)
    with TestClient(app) as client:
        yield client, workspace


def test_viewer_scope_on_every_backend(org_client: tuple[TestClient, Workspace]) -> None:
    client, _ws = org_client
    sign_in(client, "viewer@example.org", ORG_PASSWORD)
    assert client.get("/items/PRJ-A1").status_code == 200
    listing = client.get("/items").text
    assert "PRJ-A1" in listing and "PRJ-B1" not in listing and "PG-B" not in listing
    for path in ("/items/PRJ-B1", "/items/PG-B", "/benefits/BEN-B", "/items/PRJ-B1/return"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "PRJ-B1" not in r.text and "BEN-B" not in r.text
    assert client.get("/benefits/BEN-A").status_code == 200


def test_return_validation_on_every_backend(org_client: tuple[TestClient, Workspace]) -> None:
    client, ws = org_client
    sign_in(client, "mgr@example.org", ORG_PASSWORD)
    form_page = client.get("/items/PG-B/return")
    assert form_page.status_code == 200
    period = re.search(r'name="period" value="([^"]+)"', form_page.text)
    assert period is not None
    costs = re.findall(r'name="(cost_\d{4}-\d{2})" value="([^"]*)"', form_page.text)
    data: dict[str, Any] = {
        "csrf_token": csrf_of(client, "/items/PG-B/return"),
        "period": period.group(1),
        "confidence": "purple",
        "rag_overall": "red",
        "narrative": "",
        "action": "submit",
        **dict(costs),
    }
    data[costs[0][0]] = "-5"
    r = client.post("/items/PG-B/return", data=data)
    assert r.status_code == 422
    for message in ("choose one of green", "must be zero or more", "explain an amber or red"):
        assert message in r.text
    with ws.session() as s:
        assert s.scalar(select(func.count()).select_from(MonthlyReturn)) == 0
        before = s.scalar(select(func.count()).select_from(StatusReport))
    data.update({"confidence": "amber/red", "narrative": "Behind plan", costs[0][0]: "100.50"})
    data["action"] = "draft"
    r = client.post("/items/PG-B/return", data=data, follow_redirects=False)
    assert r.status_code == 303
    with ws.session() as s:
        assert s.scalar(select(func.count()).select_from(StatusReport)) == before
        draft = s.scalar(select(MonthlyReturn))
        assert draft is not None and draft.status.value == "draft"
    again = client.get(r.headers["location"])
    assert "Draft saved" in again.text and "Behind plan" in again.text
    data["action"] = "submit"
    r = client.post("/items/PG-B/return", data=data, follow_redirects=False)
    assert r.status_code == 303
    with ws.session() as s:
        item_id = s.scalar(select(WorkItem.id).where(WorkItem.code == "PG-B"))
        report = s.scalar(
            select(StatusReport).where(
                StatusReport.work_item_id == item_id,
                func.extract("month", StatusReport.period) == int(period.group(1)[5:]),
                func.extract("year", StatusReport.period) == int(period.group(1)[:4]),
            )
        )
        assert report is not None and report.narrative == "Behind plan"
    # a viewer may read the item but not write its return
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    sign_in(client, "viewer@example.org", ORG_PASSWORD)
    assert client.get("/items/PRJ-A1/return").status_code == 403


def test_untrusted_text_stays_text(org_client: tuple[TestClient, Workspace]) -> None:
    client, ws = org_client
    hostile = '<script>alert(1)</script>" onmouseover="x'
    with ws.session() as s:
        item = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ-A1"))
        assert item is not None
        item.name = hostile
    sign_in(client, "pmo@example.org", ORG_PASSWORD)
    for path in ("/items", "/items/PRJ-A1"):
        page = client.get(path).text
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover=&#34;x" in page
    # an upload named to climb out of its folder is kept under a plain name
    r = client.post(
        "/pmo/import",
        data={"csrf_token": csrf_of(client, "/pmo/import"), "kind": "work_item"},
        files={"upload": ("../../evil.csv", b"code,name,kind\nX-1,,project\n", "text/csv")},
    )
    assert r.status_code == 422
    assert "evil.csv" in r.text


def test_pmo_runs_a_cycle_in_the_background_and_publishes_it(
    demo_client: TestClient, demo_template: Demo, demo_ws: Workspace
) -> None:
    sign_in(demo_client, demo_template.users["pmo"], PASSWORD)
    r = demo_client.post(
        "/pmo/cycles",
        data={"csrf_token": csrf_of(demo_client), "period": "2026-10", "node": PROGRAMME_BOARD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/pmo/jobs/")
    job = r.headers["location"]
    deadline = time.time() + 120
    while True:
        frag = demo_client.get(job, headers={"HX-Request": "true"})
        if frag.status_code == 286:  # finished: HTMX stops polling
            break
        assert frag.status_code == 200 and time.time() < deadline
        assert 'hx-trigger="every 1s"' in frag.text
        time.sleep(0.2)
    assert 'id="job-status">done<' in frag.text, frag.text
    code = f"{PROGRAMME_BOARD}/2026-10/v1"
    assert code in frag.text
    assert (
        demo_ws.governance.list_cycles(node=PROGRAMME_BOARD, period="2026-10")[0]["status"]
        == "draft"
    )
    r = demo_client.post(
        "/pmo/cycles/publish",
        data={"csrf_token": csrf_of(demo_client), "code": code},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert (
        demo_ws.governance.list_cycles(node=PROGRAMME_BOARD, period="2026-10")[0]["status"]
        == "published"
    )
    # a bad period starts nothing
    r = demo_client.post(
        "/pmo/cycles", data={"csrf_token": csrf_of(demo_client), "period": "2026-13"}
    )
    assert r.status_code == 422


def test_governance_editor_validates_like_the_yaml_import(
    demo_client: TestClient, demo_template: Demo, demo_ws: Workspace
) -> None:
    sign_in(demo_client, demo_template.users["pmo"], PASSWORD)
    page = demo_client.get("/pmo/governance")
    assert page.status_code == 200
    text = re.search(r'<textarea id="design"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert text is not None
    import html

    design = html.unescape(text.group(1))
    before = demo_ws.governance.design()
    broken = design.replace("parent: GOV-BOARD", "parent: GOV-NOWHERE", 1)
    assert broken != design
    r = demo_client.post(
        "/pmo/governance", data={"csrf_token": csrf_of(demo_client), "design": broken}
    )
    assert r.status_code == 422
    assert "GOV-NOWHERE" in r.text and 'id="problems"' in r.text
    assert demo_ws.governance.design() == before
    r = demo_client.post(
        "/pmo/governance", data={"csrf_token": csrf_of(demo_client), "design": design}
    )
    assert r.status_code == 200 and "Design saved" in r.text
