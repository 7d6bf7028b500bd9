"""axe-core (vendored from npm, tests only) on every main page, as the role that uses it: no
serious or critical WCAG violation (public-sector users need WCAG 2.2 AA). The phone width is
checked on the pages people open on a phone (the pack, the return)."""

from __future__ import annotations

import json
from typing import Any

from tests.web.conftest import AXE, MAIN_BOARD, PASSWORD, PROGRAMME_BOARD, Live, sign_in

PAGES: dict[str, list[str]] = {
    "board": [
        "/",
        "/boards",
        f"/pack/{MAIN_BOARD}/2026-09",
        f"/pack/{MAIN_BOARD}/2026-09/figure/exceptions.owned",
        "EXCEPTION",
        "PROGRAMME",
    ],
    "manager": ["/", "/items/PROGRAMME/return"],
    "benefit": ["/", "/benefits", "/benefits/BENEFIT", "/targets"],
    "pmo": [
        "/",
        "/pmo",
        "/pmo/import",
        "/pmo/batches",
        "/pmo/quality",
        "/pmo/cycles",
        "/pmo/datacalls",
        "/pmo/governance",
        "/strategy",
        "/portfolio",
        f"/pack/{PROGRAMME_BOARD}/2026-09/diff",
    ],
    "admin": ["/admin/users"],
    "viewer": ["/", "/items"],
}
PHONE = {f"/pack/{MAIN_BOARD}/2026-09", "/items/PROGRAMME/return", "/"}
# axe takes ~15 s on the whole pack (thousands of nodes): at the phone width only the layout is
# checked there, the rules having run at the desktop width on the same markup
PHONE_AXE = PHONE - {f"/pack/{MAIN_BOARD}/2026-09"}


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                               resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""",
        ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def _resolve(path: str, live: Live, page: Any) -> str:
    if path == "EXCEPTION":
        page.goto(f"{live.url}/pack/{MAIN_BOARD}/2026-09")
        href = page.locator("#summary li[data-exception] a").first.get_attribute("href")
        return str(href)
    if path == "PROGRAMME":
        return f"/items/{live.demo.programme}"
    return path.replace("PROGRAMME", live.demo.programme).replace("BENEFIT", live.demo.benefit)


def test_login_page_is_accessible(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/login")
    assert _axe(page) == []
    # a failed sign-in names the problem and stays accessible
    page.fill("input[name=email]", live.demo.users["board"])
    page.fill("input[name=password]", PASSWORD + "x")
    page.click("button[type=submit]")
    assert "wrong email or password" in page.locator("[role=alert]").inner_text()
    assert _axe(page) == []


def test_main_pages_have_no_serious_accessibility_violations(
    browser: Any, page: Any, live: Live
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for who, paths in PAGES.items():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        pg = context.new_page()
        sign_in(pg, live, who)
        for raw in paths:
            path = _resolve(raw, live, pg)
            response = pg.goto(f"{live.url}{path}")
            assert response is not None and response.status == 200, (who, path)
            pg.wait_for_load_state("networkidle")
            bad = _axe(pg)
            if bad:
                found[f"{who} {path}"] = bad
            if raw in PHONE:
                pg.set_viewport_size({"width": 390, "height": 844})
                # nothing wider than the phone's screen outside the scrolling tables
                overflow = pg.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                assert overflow <= 1, (who, path, overflow)
                bad = _axe(pg) if raw in PHONE_AXE else []
                if bad:
                    found[f"{who} {path} (phone)"] = bad
                pg.set_viewport_size({"width": 1280, "height": 900})
        context.close()
    assert not found, json.dumps(found, indent=1)
