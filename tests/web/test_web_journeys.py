"""The journeys of the web application in Debian's Chromium, on the real server and a real demo
workspace: each role signs in at /login and does its main job; the database is checked after."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from bigov.governance.cycle_models import CycleDecision
from bigov.governance.decision_links import DecisionOtc
from bigov.governance.models import GovernanceNode, NodeMember
from bigov.org.models import OrgUnit, Person
from bigov.raid.models import RaidItem, RaidKind
from bigov.work.models import StatusReport, WorkItem
from bigov.work.return_models import MonthlyReturn
from tests.web.conftest import MAIN_BOARD, Live, sign_in


def _board_person(live: Live) -> str:
    with live.ws.session() as s:
        code = s.scalar(
            select(Person.code)
            .join(NodeMember, NodeMember.person_id == Person.id)
            .join(GovernanceNode, GovernanceNode.id == NodeMember.node_id)
            .where(GovernanceNode.code == MAIN_BOARD)
            .order_by(Person.code)
            .limit(1)
        )
    assert code
    return str(code)


def test_board_member_drills_into_an_exception_and_decides(page: Any, live: Live) -> None:
    sign_in(page, live, "board")
    # home: the main board, its next sitting and its current pack
    assert page.locator("h3", has_text="Main Board").is_visible()
    page.click(f"a[href='/pack/{MAIN_BOARD}/2026-09']")
    assert page.locator("[data-figure='exceptions.owned']").first.is_visible()
    # an over-tolerance exception on the summary → its page: item, escalation path, history
    first = page.locator("#summary li[data-exception] a").first
    title = first.inner_text()
    first.click()
    assert page.locator("h1").inner_text() == title
    assert page.locator("ol.path li").count() >= 2
    assert "owned" in page.locator("ol.path").inner_text()
    item_link = page.locator(".exc-card a[href^='/items/']")
    item = item_link.inner_text()
    item_link.click()
    assert f"({item})" in page.locator("h1").inner_text()

    # record a decision at the sitting: invalid first (no owner), nothing written
    page.goto(f"{live.url}/pack/{MAIN_BOARD}/2026-09#sitting")
    form = page.locator(f"form[action='/pack/{MAIN_BOARD}/2026-09/decisions']")
    form.locator("#title").fill("Fund the recovery plan from contingency")
    form.locator("#items").fill(item)
    form.locator("#otcs option").first.click()
    form.locator("button[type=submit]").click()
    assert "name who owns it" in page.locator(".error-summary").inner_text()
    with live.ws.session() as s:
        assert s.scalar(select(func.count()).select_from(CycleDecision)) == 0

    form = page.locator(f"form[action='/pack/{MAIN_BOARD}/2026-09/decisions']")
    otc = form.locator("#otcs option").first.get_attribute("value")
    form.locator("#otcs").select_option(otc)
    form.locator("#owner").fill(_board_person(live))
    form.locator("#decided_on").fill("2026-09-28")
    form.locator("button[type=submit]").click()
    recorded = page.locator("#sitting table")
    assert "Fund the recovery plan from contingency" in recorded.inner_text()
    assert item in recorded.inner_text() and str(otc) in recorded.inner_text()
    with live.ws.session() as s:
        raid = s.scalar(select(RaidItem).where(RaidItem.title.startswith("Fund the recovery")))
        assert raid is not None and raid.kind is RaidKind.DECISION
        assert raid.raised_on == dt.date(2026, 9, 28)
        link = s.scalar(select(DecisionOtc).where(DecisionOtc.raid_item_id == raid.id))
        assert link is not None and f"@v{link.otc_version}" in str(otc)

    # the decision shows in the board's next cycle (the published pack stays as it was)
    live.ws.governance.run_cycle(MAIN_BOARD, "2026-12", formats=())
    page.goto(f"{live.url}/pack/{MAIN_BOARD}/2026-12")
    assert "Fund the recovery plan from contingency" in page.locator("#actions").inner_text()
    page.goto(f"{live.url}/pack/{MAIN_BOARD}/2026-09")
    assert "Fund the recovery plan" not in page.locator(".pack-live").inner_text()
    # earlier pack against the previous one
    page.goto(f"{live.url}/pack/{MAIN_BOARD}/2026-12/diff")
    assert "2026-09 → 2026-12" in page.locator("h1").inner_text()


def test_manager_return_invalid_then_valid_updates_the_trend(page: Any, live: Live) -> None:
    code = live.demo.programme
    sign_in(page, live, "manager")
    page.click(f"a[href='/items/{code}/return']")
    heading = page.locator("h1").inner_text()
    period = re.search(r"\d{4}-\d{2}", heading)
    assert period is not None
    month = dt.date.fromisoformat(period.group(0) + "-01")
    assert "pre-filled from last month" in page.locator("main").inner_text()

    page.check("input[name=confidence][value='amber']")
    page.select_option("#rag_overall", "amber")
    page.fill("#narrative", "Supplier slipped two weeks; recovery plan agreed.")
    costs = page.locator("input[name^=cost_]")
    costs.first.fill("12,5x")
    page.click("button[value=submit]")
    summary = page.locator(".error-summary")
    assert "is not an amount" in summary.inner_text()
    assert page.locator("input[aria-invalid=true]").count() == 1
    # what was typed is kept, nothing is saved
    assert page.locator("#narrative").input_value().startswith("Supplier slipped")
    with live.ws.session() as s:
        item_id = s.scalar(select(WorkItem.id).where(WorkItem.code == code))
        assert (
            s.scalar(
                select(StatusReport.id).where(
                    StatusReport.work_item_id == item_id, StatusReport.period == month
                )
            )
            is None
        )
        assert s.scalar(select(func.count()).select_from(MonthlyReturn)) == 0

    page.locator("input[name^=cost_]").first.fill("12500")
    page.click("button[value=submit]")
    assert "Return submitted" in page.locator(".flash").inner_text()
    with live.ws.session() as s:
        report = s.scalar(
            select(StatusReport).where(
                StatusReport.work_item_id == item_id, StatusReport.period == month
            )
        )
        assert report is not None and report.confidence is not None
        assert report.confidence.value == "amber"
    page.goto(f"{live.url}/items/{code}")
    row = page.locator(f"#trend tr[data-period='{period.group(0)}']")
    assert row.count() == 1
    assert "amber" in (row.text_content() or "")
    assert f"delivery confidence ({period.group(0)})" in page.locator(".tiles").inner_text()


def _outside_item(live: Live) -> str:
    """A work item in another business unit than the viewer's (and not below it)."""
    with live.ws.session() as s:
        unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == live.demo.unit))
        parent = s.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == unit_id))
        sibling = s.scalar(
            select(OrgUnit.id)
            .where(OrgUnit.parent_id == parent, OrgUnit.id != unit_id)
            .join(WorkItem, WorkItem.org_unit_id == OrgUnit.id)
            .limit(1)
        )
        code = s.scalar(
            select(WorkItem.code).where(WorkItem.org_unit_id == sibling).order_by(WorkItem.code)
        )
    assert code
    return str(code)


def test_viewer_never_sees_another_units_item(page: Any, live: Live) -> None:
    other = _outside_item(live)
    sign_in(page, live, "viewer")
    page.goto(f"{live.url}/items")
    listed = page.locator("main table").inner_text()
    assert other not in listed
    assert live.demo.programme in listed
    links = page.locator("a[href^='/items/']").evaluate_all("els => els.map(e => e.href)")
    assert not any(h.endswith(f"/items/{other}") for h in links)
    for path in (
        f"/items/{other}",
        f"/items/{other}/return",
        f"/pack/{MAIN_BOARD}/2026-09",
        f"/pack/{MAIN_BOARD}/2026-09/figure/cost.budget",
    ):
        response = page.goto(f"{live.url}{path}")
        assert response is not None and response.status == 404, path
        assert other not in page.content()
        assert "Page not found" in page.locator("h1").inner_text()
    # a write is refused too: viewers may not write returns even on their own unit's items
    response = page.goto(f"{live.url}/items/{live.demo.programme}/return")
    assert response is not None and response.status == 403


def _counts(live: Live) -> tuple[int, int]:
    with live.ws.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(WorkItem)) or 0),
            int(s.scalar(select(func.count()).select_from(StatusReport)) or 0),
        )


def test_pmo_uploads_a_malformed_csv_and_nothing_changes(
    page: Any, live: Live, tmp_path: Path
) -> None:
    bad = tmp_path / "work_items.csv"
    bad.write_text(
        "code,name,kind,phase\n"
        "WEB-OK-1,A fine project,project,delivery\n"
        "WEB-BAD-2,,project,delivery\n"
        "WEB-BAD-3,Another,spaceship,delivery\n",
        encoding="utf-8",
    )
    before = _counts(live)
    sign_in(page, live, "pmo")
    page.goto(f"{live.url}/pmo/import")
    page.set_input_files("#upload", str(bad))
    page.select_option("#kind", "work_item")
    page.click("form[action='/pmo/import'] button[type=submit]")
    table = page.locator("#problems")
    text = table.inner_text()
    assert table.locator("tbody tr").count() >= 2
    assert "spaceship" in text
    assert "Nothing was imported" in page.locator(".error-summary").inner_text()
    with page.expect_download() as info:
        page.click("a[href^='/pmo/import/errors/']")
    saved = tmp_path / "errors.xlsx"
    info.value.save_as(saved)
    rows = list(load_workbook(saved).active.iter_rows(values_only=True))
    assert len(rows) >= 3 and any("spaceship" in str(r) for r in rows)
    assert _counts(live) == before
    with live.ws.session() as s:
        assert s.scalar(select(WorkItem.id).where(WorkItem.code == "WEB-OK-1")) is None
    page.goto(f"{live.url}/pmo/batches")
    assert "rejected" in page.locator("main table").inner_text()


def _wait_job(page: Any) -> str:
    page.wait_for_function(
        "() => ['done', 'failed'].includes(document.querySelector('#job-status')?.textContent)",
        timeout=60_000,
    )
    status = page.locator("#job-status").inner_text()
    assert status == "done", page.locator("#job").inner_text()
    return str(page.locator("#job-result").inner_text())


def test_portfolio_manager_reweights_reoptimises_and_commits(page: Any, live: Live) -> None:
    sign_in(page, live, "pmo")
    page.goto(f"{live.url}/portfolio")
    page.click("form[action='/portfolio/drivers'] button")
    page.click("form[action='/portfolio/weights'] button[type=submit]")
    assert "saved" in page.locator(".flash").inner_text()

    def optimise(name: str) -> str:
        page.goto(f"{live.url}/portfolio")
        page.fill("#name", name)
        page.fill("#year", "2028")
        page.click("form[action='/portfolio/optimise'] button[type=submit]")
        return _wait_job(page)

    assert "optimal" in optimise("WEB-EQUAL")
    page.goto(f"{live.url}/portfolio")
    page.fill("#w_0", "25")
    page.fill("#reason", "The board puts leakage first")
    page.click("form[action='/portfolio/weights'] button[type=submit]")
    assert "optimal" in optimise("WEB-LEAKAGE")

    page.goto(f"{live.url}/portfolio/scenarios/WEB-LEAKAGE?compare=WEB-EQUAL")
    assert page.locator("h1").inner_text() == "Scenario WEB-LEAKAGE"
    # why-in / why-out arrives after the page (HTMX), from the optimiser's own account
    page.wait_for_selector("#why table", timeout=30_000)
    assert page.locator("#why tbody tr").count() > 0
    page.wait_for_selector("#frontier svg", timeout=60_000)
    assert page.locator("#frontier-table tbody tr").count() >= 2
    page.fill("#node", MAIN_BOARD)
    page.click("form[action$='/commit'] button[type=submit]")
    assert "committed as the plan of record" in page.locator(".flash").inner_text()
    por = live.ws.portfolio.plan_of_record()
    assert por is not None and por.name == "WEB-LEAKAGE"
    versions = live.ws.portfolio.prioritisation("PRIO-WEB").versions
    assert len(versions) == 2
    assert versions[-1]["reason"] == "The board puts leakage first"
    with live.ws.session() as s:
        assert s.scalar(
            select(RaidItem.id).where(
                RaidItem.kind == RaidKind.DECISION, RaidItem.title.contains("WEB-LEAKAGE")
            )
        )
