"""The full cycle on the demo: open the 2026-10 call, submit part by the API, part by import and
part through the service the web form calls, return one, assure the rest — and readiness says
the same as the requests at every step."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import aliased

from bigov.auth.service import add_user, create_token
from bigov.benefits.models import Benefit, BenefitProfile
from bigov.datacall.models import DataRequest, DataSubmission
from bigov.datacall.schemas import BenefitSubmission, RequestOut, StatusSubmission
from bigov.governance.models import AgendaItem, GovernanceNode, InformationDefinition
from bigov.governance.sources import resolve_source
from bigov.ingest.registry import ImportOptions
from bigov.ingest.service import import_file
from bigov.server import ServerSettings, create_app
from bigov.work.models import Confidence, Phase, Rag, StatusReport, WorkItem, WorkKind
from bigov.workspace import Workspace

Child = aliased(WorkItem)
PERIOD = "2026-10"
MONTH = dt.date(2026, 10, 1)
TODAY = dt.date(2026, 11, 3)
NODE = "GOV-PPG"  # the portfolio progress group: monthly, governs most of the change portfolio


def _by_code(ws: Workspace) -> dict[str, RequestOut]:
    return {r.code: r for r in ws.datacall.requests(today=TODAY)}


def assert_readiness_agrees(ws: Workspace, nodes: set[str]) -> None:
    """For the monthly nodes named (each readiness check loads the period's facts, so a sample):
    readiness' missing status reports are exactly the status requests still requested, and a
    definition readiness calls missing is exactly one whose request is still requested."""
    requests = ws.datacall.requests(today=TODAY)
    with ws.session() as s:
        needs: dict[str, set[str]] = {}
        from bigov.datacall.models import DataNeed

        for code, node in s.execute(
            select(DataRequest.code, GovernanceNode.code)
            .join(DataNeed, DataNeed.request_id == DataRequest.id)
            .join(GovernanceNode, GovernanceNode.id == DataNeed.node_id)
        ):
            needs.setdefault(node, set()).add(code)
        monthly = [
            n
            for (n,) in s.execute(
                select(GovernanceNode.code).where(GovernanceNode.cadence == "monthly")
            )
        ]
    state = {r.code: r for r in requests}
    checked = 0
    for node in monthly:
        if node not in needs or node not in nodes:
            continue
        for row in ws.governance.check(node, PERIOD):
            spec = resolve_source(row["source"]).spec
            if spec is None or spec.raid_kind or not row["required"]:
                continue
            if spec.key == "work.status":
                owed = {
                    state[c].subject
                    for c in needs[node]
                    if state[c].kind == "status" and state[c].state == "requested"
                }
                assert row.get("missing_count", 0) == len(owed), (node, row, owed)
                assert {m["code"] for m in row["missing_items"]} <= owed
                checked += 1
            elif not spec.key.startswith("benefits.") and row["code"] in {
                state[c].definition for c in needs[node]
            }:
                (req,) = [state[c] for c in needs[node] if state[c].definition == row["code"]]
                assert (row["status"] == "missing") == (req.state == "requested"), (node, row, req)
                checked += 1
    assert checked >= len(nodes)


@pytest.mark.slow
def test_full_cycle_on_the_demo(demo: Workspace, tmp_path: Path) -> None:
    ws = demo
    # as if five projects had not reported October yet, and two benefits had no actual
    with ws.session() as s:
        items = list(
            s.scalars(
                select(WorkItem.code)
                .join(StatusReport, StatusReport.work_item_id == WorkItem.id)
                .where(
                    StatusReport.period == MONTH,
                    WorkItem.owner_id.is_not(None),
                    WorkItem.kind == WorkKind.PROJECT,
                    WorkItem.phase.not_in([Phase.CLOSED, Phase.CANCELLED]),
                    ~WorkItem.id.in_(select(Child.parent_id).where(Child.parent_id.is_not(None))),
                )
                .order_by(WorkItem.code)
            )
        )
        chosen = items[:5]
        s.execute(
            delete(StatusReport).where(
                StatusReport.period == MONTH,
                StatusReport.work_item_id.in_(select(WorkItem.id).where(WorkItem.code.in_(chosen))),
            )
        )
        # the board wants October's cost assured before it sits
        ppg = s.scalar(select(GovernanceNode.id).where(GovernanceNode.code == NODE))
        s.execute(
            update(InformationDefinition)
            .where(
                InformationDefinition.source == "finance.cost",
                InformationDefinition.agenda_item_id.in_(
                    select(AgendaItem.id).where(AgendaItem.node_id == ppg)
                ),
            )
            .values(assurance_required=True)
        )

    opened = ws.datacall.open(PERIOD, by="pmo@example.org")
    assert opened.created > 100 and opened.nodes
    again = ws.datacall.open(PERIOD, by="pmo@example.org")
    assert (again.created, again.updated, again.needs_added) == (0, 0, 0)
    assert again.unchanged == opened.created

    reqs = _by_code(ws)
    status_owed = sorted(
        c for c, r in reqs.items() if r.kind == "status" and r.state == "requested"
    )
    assert {reqs[c].subject for c in status_owed} >= set(chosen)
    benefit_owed = sorted(
        c for c, r in reqs.items() if r.kind == "benefit" and r.state == "requested"
    )
    assert benefit_owed, "the demo leaves some October benefit actuals missing"
    for r in reqs.values():
        assert r.owner and r.due_on and r.state in ("requested", "submitted")

    by_api, by_import, by_form = status_owed[0], status_owed[1:3], status_owed[3]
    touched = [by_api, *by_import, by_form, *benefit_owed]
    with ws.session() as s:
        from bigov.datacall.models import DataNeed

        sample = {NODE} | set(
            s.scalars(
                select(GovernanceNode.code)
                .join(DataNeed, DataNeed.node_id == GovernanceNode.id)
                .join(DataRequest, DataRequest.id == DataNeed.request_id)
                .where(DataRequest.code.in_(touched), GovernanceNode.cadence == "monthly")
            )
        )
        # and every node with a definition still owed, so "missing" is checked both ways
        sample |= {
            reqs[c].node
            for c, r in reqs.items()
            if r.kind == "definition" and r.state == "requested"
        }
    assert_readiness_agrees(ws, sample)

    # 1. the API, as the item's owner (a manager signed in with a token)
    owner = reqs[by_api].owner
    with ws.session() as s:
        add_user(s, owner, "manager", password="a long enough password")
        s.flush()
        token = create_token(s, owner, name="test")
    app = create_app(ServerSettings(secret_key="test-secret"), ws)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        mine = client.get("/api/v1/datacalls/mine", headers=auth).json()
        assert by_api in {r["code"] for r in mine}
        got = client.get(f"/api/v1/datacalls/requests/{by_api}", headers=auth)
        assert got.status_code == 200 and got.json()["state"] == "requested"
        put = client.post(
            f"/api/v1/datacalls/requests/{by_api}/submission",
            json={"confidence": "amber", "overall": "amber", "narrative": "on track, just"},
            headers=auth,
        )
        assert put.status_code == 200, put.text
        assert put.json()["state"] == "submitted"
        assert put.json()["submissions"][-1]["channel"] == "api"
        # replacing it needs the version read: without If-Match 428, a stale one 412
        again_put = client.post(
            f"/api/v1/datacalls/requests/{by_api}/submission", json={}, headers=auth
        )
        assert again_put.status_code == 428
        stale = client.post(
            f"/api/v1/datacalls/requests/{by_api}/submission",
            json={},
            headers={**auth, "If-Match": '"0123"'},
        )
        assert stale.status_code == 412
        audit = client.get("/api/v1/audit", headers=auth)
        assert audit.status_code == 403  # managers do not read the trail; the PMO does below

    # 2. an import batch of status reports, which records the requests it satisfies
    csv = tmp_path / "status.csv"
    lines = ["work_item,period,confidence,overall,narrative,reported_on"]
    for code in by_import:
        lines.append(f"{reqs[code].subject},2026-10,green,green,Imported return,2026-10-28")
    csv.write_text("\n".join(lines) + "\n")
    result = import_file(ws, csv, options=ImportOptions(kind="status_report"), user="pmo-feed")
    assert result.status == "committed" and result.batch_id
    with ws.session() as s:
        satisfied = set(
            s.scalars(
                select(DataRequest.code)
                .join(DataSubmission, DataSubmission.request_id == DataRequest.id)
                .where(
                    DataSubmission.batch_id == result.batch_id, DataSubmission.channel == "import"
                )
            )
        )
    assert satisfied == set(by_import)

    # 3. the service the web form calls: a status report and a benefit's actual
    detail = ws.datacall.submit_status(
        by_form,
        StatusSubmission(confidence=Confidence.RED, overall=Rag.RED, narrative="late supplier"),
        by=reqs[by_form].owner,
    )
    assert detail.state == "submitted" and detail.submissions[-1].channel == "form"
    for code in benefit_owed:
        b = ws.datacall.submit_benefit(
            code,
            BenefitSubmission(actual="1250.00"),
            by=reqs[code].owner,  # type: ignore[arg-type]
        )
        assert b.state == "submitted"
    with ws.session() as s:
        actual = s.scalar(
            select(BenefitProfile.actual)
            .join(Benefit, Benefit.id == BenefitProfile.benefit_id)
            .where(Benefit.code == reqs[benefit_owed[0]].subject, BenefitProfile.period == MONTH)
        )
    assert str(actual) == "1250.00"

    reqs = _by_code(ws)
    for code in [by_api, *by_import, by_form, *benefit_owed]:
        assert reqs[code].state == "submitted", code
    assert_readiness_agrees(ws, sample)

    # 4. the PMO returns one, with what to fix; it is owed again until resubmitted
    returned = ws.datacall.return_(by_form, by="pmo@example.org", comment="narrative too thin")
    assert returned.state == "returned" and returned.returned_comment == "narrative too thin"
    owed = ws.datacall.owed_by(reqs[by_form].owner, today=TODAY)
    assert by_form in {r.code for r in owed}
    resubmitted = ws.datacall.submit_status(
        by_form,
        StatusSubmission(
            confidence=Confidence.RED,
            overall=Rag.RED,
            narrative="late supplier: recovery plan agreed on 2 November",
        ),
        by=reqs[by_form].owner,
        if_version=returned.version,
    )
    assert resubmitted.state == "submitted" and resubmitted.version != returned.version

    # before assurance, the board's pack marks cost as unassured
    with ws.session() as s:
        from bigov.datacall.service import pack_section

        ppg = s.scalar(select(GovernanceNode.id).where(GovernanceNode.code == NODE))
        assert ppg is not None
        section = pack_section(s, ppg, MONTH, TODAY)
    assert section is not None and section["unassured"]
    cycle = ws.governance.run_cycle(NODE, PERIOD, out_dir=tmp_path / "packs", formats=("html",))
    html = (tmp_path / "packs" / f"{NODE}_{PERIOD}_v1.html").read_text()
    assert "unassured" in html and "Data call 2026-10" in html
    assert cycle.code == f"{NODE}/{PERIOD}/v1"

    # 5. assure the rest
    accepted = ws.datacall.accept_submitted(by="pmo@example.org")
    assert by_form in accepted and by_api in accepted
    final = _by_code(ws)
    assert final[by_form].state == "assured"
    assert {r.state for r in final.values()} <= {"assured", "requested"}
    assert_readiness_agrees(ws, sample)
    with ws.session() as s:
        after = pack_section(s, ppg, MONTH, TODAY)
    assert after is not None and not after["unassured"]

    # first time right: every request but the returned one was accepted at its first verdict
    rates = {r.key: r for r in ws.datacall.rates("owner", periods=[PERIOD], today=TODAY)}
    form_owner = rates[reqs[by_form].owner]
    assert form_owner.judged >= 1 and form_owner.first_time_right == form_owner.judged - 1
    by_node = ws.datacall.rates("node", periods=[PERIOD], today=TODAY)
    assert {r.key for r in by_node} >= {NODE}
    by_unit = ws.datacall.rates("unit", periods=[PERIOD], today=TODAY)
    assert sum(r.requests for r in by_unit) == len(final)


def test_a_resubmission_after_assurance_needs_assuring_again(demo: Workspace) -> None:
    demo.datacall.open(PERIOD, node="GOV-PG-CCM")
    code = next(r.code for r in demo.datacall.requests(today=TODAY) if r.kind == "status")
    first = demo.datacall.request(code, today=TODAY)
    if first.state == "requested":
        demo.datacall.submit_status(code, StatusSubmission(overall=Rag.GREEN), by="x@example.org")
    assured = demo.datacall.accept(code, by="pmo@example.org")
    assert assured.state == "assured"
    changed = demo.datacall.submit_status(
        code, StatusSubmission(overall=Rag.AMBER), by="x@example.org"
    )
    assert changed.state == "submitted"
    assert [v.verdict for v in changed.verdicts] == ["accepted"]


def _node_of(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(r for r in rows if r["code"] == code)
