"""The web app on a real demo workspace: one demo enterprise with the main board's September
cycle and two months of a programme board, built once per test session as a SQLite template and
copied for each test; the real server (uvicorn in a thread on a loopback port); Debian's Chromium
driven by Playwright (never a downloaded browser), with a screenshot kept when a test fails.

One user per role, each with the same password:

    board    board@web.example     board member on GOV-BOARD (the main board)
    pmo      pmo@web.example       PMO
    admin    admin@web.example     administrator
    manager  (the SRO of the first programme, by their email)
    benefit  (the owner of the first benefit, by their email)
    viewer   viewer@web.example    viewer scoped to the first programme's business unit
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bigov.auth.service import add_user
from bigov.demo.cast import cast
from bigov.governance.models import GovernanceNode
from bigov.org.models import OrgUnit, Person
from bigov.server import ServerSettings, create_app
from bigov.workspace import Workspace

PASSWORD = "web test password"
CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(os.environ.get("BIGOV_TEST_ARTEFACTS", "test-artefacts")) / "web"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.11.0" / "axe.min.js"
MAIN_BOARD = "GOV-BOARD"
PROGRAMME_BOARD = "GOV-PG-AUTO"


@dataclass
class Demo:
    path: Path
    users: dict[str, str]
    programme: str  # the manager's programme
    unit: str  # the viewer's unit
    benefit: str  # the benefit owner's benefit


def build_demo(path: Path) -> Demo:
    """The demo enterprise, its cycles and users (about 20 s; once per session)."""
    from bigov.demo import generate

    ws = Workspace.open(f"sqlite:///{path}")
    try:
        generate(ws)
        ws.governance.run_cycle(MAIN_BOARD, "2026-09", formats=())
        for period in ("2026-08", "2026-09"):
            ws.governance.run_cycle(PROGRAMME_BOARD, period, formats=())
        with ws.session() as s:
            programme, benefit = cast(s)
            assert programme is not None and benefit is not None
            sro = s.get(Person, programme.owner_id)
            owner = s.get(Person, benefit.owner_id)
            unit = s.get(OrgUnit, programme.org_unit_id)
            assert sro and sro.email and owner and owner.email and unit
            assert s.scalar(select(GovernanceNode.id).where(GovernanceNode.code == MAIN_BOARD))
            users = {
                "board": "board@web.example",
                "pmo": "pmo@web.example",
                "admin": "admin@web.example",
                "manager": sro.email.lower(),
                "benefit": owner.email.lower(),
                "viewer": "viewer@web.example",
            }
            roles = {
                "board": ("board_member", [], [MAIN_BOARD]),
                "pmo": ("pmo", [], []),
                "admin": ("admin", [], []),
                "manager": ("manager", [], []),
                "benefit": ("benefit_owner", [], []),
                "viewer": ("viewer", [unit.code], []),
            }
            for who, (role, units, nodes) in roles.items():
                add_user(s, users[who], role, password=PASSWORD, units=units, nodes=nodes)
            demo = Demo(path, users, programme.code, unit.code, benefit.code)
    finally:
        ws.close()
    return demo


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return build_demo(tmp_path_factory.mktemp("webdemo") / "demo.db")


@pytest.fixture
def demo_ws(demo_template: Demo, tmp_path: Path) -> Iterator[Workspace]:
    """A copy of the demo workspace for one test."""
    target = tmp_path / "demo.db"
    shutil.copyfile(demo_template.path, target)
    ws = Workspace.open(f"sqlite:///{target}")
    yield ws
    ws.close()


@dataclass
class Live:
    url: str
    ws: Workspace
    demo: Demo
    app: Any = field(repr=False, default=None)


@pytest.fixture
def live(demo_template: Demo, demo_ws: Workspace) -> Iterator[Live]:
    """The real server (uvicorn) on a loopback port, on this test's copy of the demo."""
    import uvicorn

    app = create_app(ServerSettings(secret_key="web-test", count_queries=True), demo_ws)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-web-test", daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Live(f"http://127.0.0.1:{port}", demo_ws, demo_template, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (scripts/system-deps.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (its own cookies); a full-page screenshot is kept in
    ``test-artefacts/web`` when the test fails. CSP is bypassed only so axe-core can be
    injected; the pages' own scripts still load from the server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
        # the page may be gone; the test's own failure is what matters
        with contextlib.suppress(Exception):
            pg.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    context.close()


def sign_in(page: Any, live: Live, who: str) -> None:
    """The documented sign-in: /login with the fields email and password."""
    page.goto(f"{live.url}/login")
    page.fill("input[name=email]", live.demo.users[who])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/")
