"""The contexts the API wraps without adding anything: metrics (measures, a harmonised series at
a grain), funding, capacity, and the portfolio optimiser (problems, scenarios, compare,
frontier) — each answer the service's own, organisation-wide reads refused to scoped roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bigov.analysis.resources import capacity
from bigov.auth.models import AuditEvent
from bigov.auth.service import add_user, create_token
from bigov.demo import generate
from bigov.org.models import OrgUnit
from bigov.server import ServerSettings, create_app
from bigov.workspace import Workspace

ROUND = {"years": [2028]}


@dataclass
class Demo:
    ws: Workspace
    client: TestClient
    tokens: dict[str, str]
    unit: str

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def demo(workspace: Workspace) -> Iterator[Demo]:
    generate(workspace, scale="small", seed=42)
    with workspace.session() as s:
        unit = s.scalar(select(OrgUnit.code).where(OrgUnit.parent_id.is_not(None)).limit(1))
        assert unit is not None
        add_user(s, "pmo@example.org", "pmo", password="a long enough password")
        add_user(s, "v@example.org", "viewer", password="a long enough password", units=[unit])
        s.flush()
        tokens = {
            "pmo": create_token(s, "pmo@example.org", name="t"),
            "viewer": create_token(s, "v@example.org", name="t"),
        }
    app = create_app(ServerSettings(secret_key="test-secret"), workspace)
    with TestClient(app) as client:
        yield Demo(workspace, client, tokens, unit)


def _json(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def _measure(demo: Demo, tmp_path: Path) -> str:
    from bigov.metrics.calendar import Frequency, Grain
    from bigov.metrics.models import TimeAggregation
    from bigov.metrics.schemas import MeasureSpec, SeriesSpec

    demo.ws.set_setting("metrics_store_dir", str(tmp_path / "metrics"))
    demo.ws.metrics.define(
        MeasureSpec(
            code="CALLS",
            name="Calls answered",
            frequency=Frequency.DAILY,
            time_aggregation=TimeAggregation.SUM,
            grains=[Grain.DAY, Grain.MONTH, Grain.QUARTER],
            series=[SeriesSpec(code="CALLS-U", org=demo.unit)],
        )
    )
    rows = "".join(
        f"CALLS-U,2026-0{m}-0{d}T12:00:00Z,{m * 10 + d}\n" for m in (4, 5, 6) for d in (1, 2)
    )
    source = tmp_path / "calls.csv"
    source.write_text("series,ts,value\n" + rows)
    demo.ws.metrics.load(source)
    return "CALLS"


def test_metrics_measures_and_series(demo: Demo, tmp_path: Path) -> None:
    code = _measure(demo, tmp_path)
    measures = demo.client.get("/api/v1/metrics/measures", headers=demo.auth("viewer")).json()
    assert [m["code"] for m in measures] == [code]
    path = f"/api/v1/metrics/measures/{code}/values"
    got = demo.client.get(path, params={"grain": "quarter"}, headers=demo.auth("pmo"))
    assert got.status_code == 200, got.text
    expected = [v.model_dump(mode="json") for v in demo.ws.metrics.values(code, grain="quarter")]
    assert got.json() == expected and expected
    # a viewer reads their unit's series, not the whole organisation's, nor another unit's
    mine = demo.client.get(
        path, params={"grain": "month", "org": demo.unit}, headers=demo.auth("viewer")
    )
    assert mine.status_code == 200
    assert [v["value"] for v in mine.json()] == [41.0 + 42, 51.0 + 52, 61.0 + 62]
    assert demo.client.get(path, headers=demo.auth("viewer")).status_code == 403
    assert (
        demo.client.get(path, params={"org": "NO-SUCH"}, headers=demo.auth("viewer")).status_code
        == 404
    )
    bad_grain = demo.client.get(path, params={"grain": "fortnight"}, headers=demo.auth("pmo"))
    assert bad_grain.status_code == 422
    missing = demo.client.get("/api/v1/metrics/measures/NOPE/values", headers=demo.auth("pmo"))
    assert missing.status_code == 404


def test_funding_and_budget_split(demo: Demo) -> None:
    sources = demo.client.get("/api/v1/finance/funding-sources", headers=demo.auth("pmo"))
    assert sources.status_code == 200 and sources.json()
    year, nature, category = demo.ws.finance.budget_split(None)
    split = demo.client.get("/api/v1/finance/budget-split", headers=demo.auth("pmo")).json()
    assert split == _json({"fiscal_year": year, "by_nature": nature, "by_category": category})
    for path in ("/api/v1/finance/funding-sources", "/api/v1/finance/budget-split"):
        assert demo.client.get(path, headers=demo.auth("viewer")).status_code == 403


def test_capacity_is_the_analysis_services(demo: Demo) -> None:
    got = demo.client.get("/api/v1/analysis/capacity", headers=demo.auth("pmo"))
    assert got.status_code == 200
    with demo.ws.session() as s:
        assert got.json() == capacity(s).model_dump(mode="json")
    assert (
        demo.client.get("/api/v1/analysis/capacity", headers=demo.auth("viewer")).status_code == 403
    )
    what_if = demo.client.get(
        "/api/v1/analysis/capacity/what-if", params={"work_item": "NOPE"}, headers=demo.auth("pmo")
    )
    assert what_if.status_code == 404


@pytest.mark.slow
def test_portfolio_round_scenarios_and_frontier(demo: Demo) -> None:
    pmo = demo.auth("pmo")
    built = demo.client.post("/api/v1/portfolio/problems", json=ROUND, headers=pmo)
    assert built.status_code == 200, built.text
    assert built.json()["problem"]["candidates"]
    body = {"name": "base", "options": ROUND, "time_limit": 20}
    assert (
        demo.client.post(
            "/api/v1/portfolio/scenarios", json=body, headers=demo.auth("viewer")
        ).status_code
        == 403
    )
    solved = demo.client.post("/api/v1/portfolio/scenarios", json=body, headers=pmo)
    assert solved.status_code == 201, solved.text
    again = demo.client.post("/api/v1/portfolio/scenarios", json=body, headers=pmo)
    assert again.status_code == 409
    stored = demo.ws.portfolio.scenario("base").model_dump(mode="json")
    # (the service's own summary of a new scenario carries its timestamp as written, with a zone)
    assert {**stored, "created_at": None} == {**solved.json(), "created_at": None}
    listed = demo.client.get("/api/v1/portfolio/scenarios", headers=pmo).json()
    assert [s["name"] for s in listed] == ["base"]
    assert demo.client.get("/api/v1/portfolio/scenarios/base", headers=pmo).json() == stored
    problem = demo.client.get("/api/v1/portfolio/scenarios/base/problem", headers=pmo).json()
    assert set(problem["plan"]) <= {c["code"] for c in problem["problem"]["candidates"]}
    compared = demo.client.get("/api/v1/portfolio/compare", params={"names": ["base"]}, headers=pmo)
    assert compared.status_code == 200
    frontier = demo.client.post(
        "/api/v1/portfolio/frontier",
        json={"scenario": "base", "points": 3, "time_limit": 5},
        headers=pmo,
    )
    assert frontier.status_code == 200, frontier.text
    assert len(frontier.json()["points"]) == 3
    assert (
        demo.client.post("/api/v1/portfolio/frontier", json={"points": 3}, headers=pmo).status_code
        == 422
    )
    assert (
        demo.client.get("/api/v1/portfolio/scenarios", headers=demo.auth("viewer")).status_code
        == 403
    )
    with demo.ws.session() as s:
        kinds = set(s.scalars(select(AuditEvent.entity_kind)))
    assert "portfolio_scenario" in kinds
