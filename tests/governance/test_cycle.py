"""Cycles on the hand-built scenario of conftest.py: escalation, readiness, snapshots, versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from bigov.errors import ConflictError, NotFoundError
from bigov.finance.models import CostLine
from bigov.governance.cycle_models import Cycle, CycleException, CycleSnapshot, CycleStatus
from bigov.reports import render_html
from bigov.work.models import StatusReport, WorkItem
from bigov.workspace import Workspace


def _exceptions(ws: Workspace, code: str) -> dict[str, dict[str, object]]:
    doc = ws.governance.cycle_document(code)
    return {e["subject"] + ":" + e["rule"]: e for e in doc["exceptions"]}


def _path(e: dict[str, object]) -> list[str]:
    return [p["node"] for p in e["path"]]  # type: ignore[attr-defined]


def test_breach_inside_project_board_tolerance_stays_there(gov_ws: Workspace) -> None:
    gov_ws.governance.run_cycle("PB1", "2026-03")
    exc = _exceptions(gov_ws, "PB1/2026-03/v1")["PRJ-1:cost_over_budget"]
    assert exc["owner"] == "PB1"
    assert exc["role"] == "owned"
    assert _path(exc) == ["PB1"]
    assert exc["escalated"] is False


def test_larger_breach_escalates_to_programme(gov_ws: Workspace) -> None:
    gov_ws.governance.run_cycle("PB2", "2026-03")
    exc = _exceptions(gov_ws, "PB2/2026-03/v1")["PRJ-2:cost_over_budget"]
    assert exc["owner"] == "PG"
    assert exc["role"] == "escalated up"
    assert _path(exc) == ["PB2", "PG"]


def test_largest_breach_escalates_to_programme_then_portfolio(gov_ws: Workspace) -> None:
    for node in ("PB3", "PG", "PF"):
        gov_ws.governance.run_cycle(node, "2026-03")
    seen = {
        node: _exceptions(gov_ws, f"{node}/2026-03/v1")["PRJ-3:cost_over_budget"]
        for node in ("PB3", "PG", "PF")
    }
    assert _path(seen["PF"]) == ["PB3", "PG", "PF"]
    assert [p["outcome"] for p in seen["PF"]["path"]] == ["escalated", "escalated", "owned"]
    assert seen["PB3"]["role"] == "escalated up"
    assert seen["PG"]["role"] == "passed on"
    assert seen["PF"]["role"] == "owned"
    # raised once, owned by one node, whichever cycles saw it
    assert len({e["code"] for e in seen.values()}) == 1
    with gov_ws.session() as s:
        rows = s.scalars(
            select(CycleException).where(
                CycleException.subject_code == "PRJ-3", CycleException.rule == "cost_over_budget"
            )
        ).all()
        assert len(rows) == 1


def test_ownership_does_not_depend_on_run_order(gov_ws: Workspace) -> None:
    gov_ws.governance.run_cycle("PF", "2026-03")  # the top first this time
    gov_ws.governance.run_cycle("PB3", "2026-03")
    exc = _exceptions(gov_ws, "PB3/2026-03/v1")["PRJ-3:cost_over_budget"]
    assert exc["owner"] == "PF"
    assert _path(exc) == ["PB3", "PG", "PF"]


def test_escalated_exceptions_come_first_in_parent_pack(gov_ws: Workspace) -> None:
    gov_ws.governance.run_cycle("PG", "2026-03")
    doc = gov_ws.governance.cycle_document("PG/2026-03/v1")
    roles = [e["role"] for e in doc["exceptions"]]
    assert roles == sorted(roles, key=["owned", "passed on", "escalated up", "managed below"].index)
    assert doc["exceptions"][0]["subject"] == "PRJ-2"


def test_period_without_data_says_so_and_raises_readiness_exception(gov_ws: Workspace) -> None:
    result = gov_ws.governance.run_cycle("PG", "2026-05")
    assert result.has_data is False
    doc = gov_ws.governance.cycle_document(result.code)
    readiness = {r["code"]: r for r in doc["readiness"]}
    assert readiness["PG-I1"]["status"] == "missing"
    assert {m["code"] for m in readiness["PG-I1"]["missing_items"]} == {"PRJ-1", "PRJ-2", "PRJ-3"}
    data_exc = [e for e in doc["exceptions"] if e["rule"] == "missing_data"]
    assert {e["subject"] for e in data_exc} == {"PG:2026-05", "PG:PG-I1"}
    assert all(e["owner"] == "PG" for e in data_exc)
    html = render_html(doc).decode()
    assert "No data for this period" in html


def test_readiness_check_lists_who_owes_what(gov_ws: Workspace) -> None:
    rows = gov_ws.governance.check("PG", "2026-05")
    status = {r["code"]: r for r in rows}
    assert status["PG-I1"]["status"] == "missing"
    assert status["PG-I1"]["owed_by"] == "Sam Owner"
    ready = {r["code"]: r["status"] for r in gov_ws.governance.check("PG", "2026-03")}
    assert ready["PG-I1"] == "ready"


def test_stale_data_is_reported(gov_ws: Workspace) -> None:
    # as at 2026-06-30 the newest status report (2026-03-28) is older than 45 days
    rows = gov_ws.governance.check("PG", "2026-03", as_at=dt.date(2026, 6, 30))
    assert {r["code"]: r["status"] for r in rows}["PG-I1"] == "stale"


def test_snapshot_is_reproducible_and_next_cycle_shows_change(gov_ws: Workspace) -> None:
    first = gov_ws.governance.run_cycle("PB1", "2026-03")
    html_before = render_html(gov_ws.governance.cycle_document(first.code))
    with gov_ws.session() as s:
        item = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ-1"))
        assert item is not None
        for line in s.scalars(select(CostLine).where(CostLine.work_item_id == item.id)):
            line.forecast = Decimal("130")
        s.add(
            StatusReport(
                code="SR-PRJ-1-202604",
                work_item_id=item.id,
                period=dt.date(2026, 4, 1),
                confidence=None,
            )
        )
    # the stored pack is unchanged, byte for byte
    doc_after = gov_ws.governance.cycle_document(first.code)
    assert render_html(doc_after) == html_before
    with gov_ws.session() as s:
        stored = s.scalar(select(CycleSnapshot.sha256).join(Cycle).where(Cycle.code == first.code))
    assert stored == first.sha256
    # the next cycle shows the change: the outturn is the actuals of Jan–Mar (3 × 103) plus the
    # new forecast of Apr–Jun (3 × 130) = 699 against 600, +16.5 %: beyond PB1 (5) and PG (10),
    # within PF (20)
    nxt = gov_ws.governance.run_cycle("PB1", "2026-04")
    exc = _exceptions(gov_ws, nxt.code)["PRJ-1:cost_over_budget"]
    assert Decimal(exc["value"]) == Decimal("16.50")
    assert _path(exc) == ["PB1", "PG", "PF"]


def test_published_cycle_is_immutable_and_versions_are_kept(gov_ws: Workspace) -> None:
    v1 = gov_ws.governance.run_cycle("PB2", "2026-03")
    assert v1.status == "published"
    with pytest.raises(ConflictError, match="published"):
        gov_ws.governance.run_cycle("PB2", "2026-03")
    v2 = gov_ws.governance.run_cycle("PB2", "2026-03", new_version=True)
    assert (v1.version, v2.version) == (1, 2)
    codes = [c["code"] for c in gov_ws.governance.list_cycles(node="PB2")]
    assert codes == ["PB2/2026-03/v1", "PB2/2026-03/v2"]
    assert gov_ws.governance.cycle_document("PB2/2026-03/v1")["cycle"]["version"] == 1
    # a draft is replaced in place
    gov_ws.governance.run_cycle("PB1", "2026-03", publish=False)
    gov_ws.governance.run_cycle("PB1", "2026-03", publish=False)
    with gov_ws.session() as s:
        drafts = s.scalars(select(Cycle).where(Cycle.code.like("PB1/2026-03/%"))).all()
        assert [(c.version, c.status) for c in drafts] == [(1, CycleStatus.DRAFT)]
    gov_ws.governance.publish("PB1/2026-03/v1")
    with pytest.raises(ConflictError):
        gov_ws.governance.run_cycle("PB1", "2026-03")


def test_run_all_runs_nodes_due_by_cadence(gov_ws: Workspace) -> None:
    # fiscal year starts in April: May is not a quarter end, so the quarterly main board is not due
    may = {r.node for r in gov_ws.governance.run_all("2026-05")}
    assert may == {"PB1", "PB2", "PB3", "PG", "PF"}
    june = gov_ws.governance.run_all("2026-06")
    assert [r.node for r in june][-1] == "MB"  # lowest nodes first, the board last
    mb = gov_ws.governance.cycle_document("MB/2026-06/v1")
    assert mb["period"]["start"] == "2026-04-01"


def test_unknown_node_and_bad_period(gov_ws: Workspace) -> None:
    with pytest.raises(NotFoundError):
        gov_ws.governance.run_cycle("NOPE", "2026-03")
    from bigov.errors import ConfigError

    with pytest.raises(ConfigError, match="YYYY-MM"):
        gov_ws.governance.run_cycle("PB1", "March")
