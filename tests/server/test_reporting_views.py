"""The reporting views for BI tools (docs/reporting-views.md) give the same numbers as the API
and the cycles' stored governed figures, on PostgreSQL (schema ``<schema>_report``) and SQLite
(``bigov_report_*``)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text

from bigov.benefits.models import Benefit, BenefitProfile
from bigov.db.reporting import VIEWS, report_schema, view_name
from bigov.finance.models import CostLine
from bigov.work.models import StatusReport, WorkItem
from tests.server.conftest import Org

# the contract: each view's columns, in order (docs/reporting-views.md lists the same)
COLUMNS = {
    "work": [
        "code", "name", "kind", "nature", "category", "phase", "parent_code", "owner_code",
        "owner_name", "org_unit_code", "org_unit_name", "governing_node_code",
        "baseline_start", "baseline_finish", "forecast_start", "forecast_finish",
        "actual_start", "actual_finish", "percent_complete", "whole_life_cost",
        "status_period", "status_confidence", "status_overall", "updated_at",
    ],
    "cost_by_month": [
        "work_item_code", "nature", "category", "org_unit_code", "period", "currency",
        "budget", "forecast", "actual", "cost_lines",
    ],
    "benefits_by_period": [
        "benefit_code", "benefit_name", "kind", "category", "status", "owner_code",
        "owner_unit_code", "period", "planned", "forecast", "actual", "currency", "unit",
    ],
    "status": [
        "work_item_code", "period", "confidence", "overall", "schedule", "cost", "scope",
        "benefits", "risk", "resources", "reported_on", "narrative", "is_latest",
    ],
    "exceptions": [
        "code", "breach_key", "period", "rule", "dimension", "subject_kind", "subject_code",
        "work_item_code", "title", "value", "limit_value", "origin_node_code",
        "owner_node_code", "escalated", "status", "first_period", "at_stake",
    ],
    "figures": [
        "cycle_code", "node_code", "period", "version", "status", "as_at", "figure_key",
        "value_text", "value_number",
    ],
}  # fmt: skip


def _rows(org: Org, name: str) -> list[dict[str, Any]]:
    with org.ws.engine.connect() as conn:
        result = conn.execute(text(f"SELECT * FROM {view_name(conn, name)}"))
        return [dict(r._mapping) for r in result]


def _day(value: Any) -> str:
    # SQLite hands dates in views back as text, PostgreSQL as dates
    return value if isinstance(value, str) else value.isoformat()


def _more_data(org: Org) -> None:
    with org.ws.session() as s:
        ben = s.scalar(select(Benefit).where(Benefit.code == "BEN-A"))
        item = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ-A1"))
        assert ben is not None and item is not None
        for month, planned, actual in ((8, "100.00", "90.00"), (9, "200.00", None)):
            s.add(
                BenefitProfile(
                    code=f"BP-A-{month}",
                    benefit_id=ben.id,
                    period=dt.date(2026, month, 1),
                    planned=Decimal(planned),
                    forecast=Decimal(planned),
                    actual=Decimal(actual) if actual else None,
                    currency="GBP",
                )
            )
        s.add(StatusReport(code="SR-PRJ-A1-AUG", work_item_id=item.id, period=dt.date(2026, 8, 1)))
        s.add(
            CostLine(
                code="C-PRJ-A1-CAPEX",
                work_item_id=item.id,
                period=dt.date(2026, 9, 1),
                expenditure="capex",
                budget=Decimal("250.00"),
                forecast=Decimal("300.00"),
                actual=Decimal("120.00"),
            )
        )


def test_views_exist_with_the_documented_columns(org: Org) -> None:
    with org.ws.engine.connect() as conn:
        schema = report_schema(conn)
        names = set(inspect(conn).get_view_names(schema=schema))
    expected = {n if schema else f"bigov_report_{n}" for n in VIEWS}
    assert expected <= names
    for name in VIEWS:
        with org.ws.engine.connect() as conn:
            result = conn.execute(text(f"SELECT * FROM {view_name(conn, name)} WHERE 1 = 0"))
            assert list(result.keys()) == COLUMNS[name], name


def test_views_agree_with_the_api(org: Org) -> None:
    _more_data(org)
    admin = org.auth("admin")
    items = org.client.get("/api/v1/work-items?limit=500", headers=admin).json()["items"]
    work = {r["code"]: r for r in _rows(org, "work")}
    assert set(work) == {i["code"] for i in items}
    for item in items:
        row = work[item["code"]]
        for api_field, view_field in (
            ("name", "name"),
            ("kind", "kind"),
            ("parent", "parent_code"),
            ("owner", "owner_code"),
            ("org_unit", "org_unit_code"),
            ("governing_node", "governing_node_code"),
            ("phase", "phase"),
        ):
            assert row[view_field] == item[api_field], (item["code"], view_field)
    # the latest report of PRJ-A1 is September's (August's was added later, but is older)
    assert _day(work["PRJ-A1"]["status_period"]) == "2026-09-01"
    assert work["PRJ-A1"]["status_confidence"] == "amber"

    lines = org.client.get("/api/v1/finance/cost-lines?limit=500", headers=admin).json()["items"]
    by_month: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for line in lines:
        sums = by_month[(line["work_item"], line["period"])]
        sums[0] += Decimal(line["budget"])
        sums[1] += Decimal(line["forecast"])
        sums[2] += Decimal(line["actual"] or 0)
    cost = {(r["work_item_code"], _day(r["period"])): r for r in _rows(org, "cost_by_month")}
    assert set(cost) == set(by_month)
    for key, (budget, forecast, actual) in by_month.items():
        row = cost[key]
        assert Decimal(str(row["budget"])) == budget, key
        assert Decimal(str(row["forecast"])) == forecast, key
        assert Decimal(str(row["actual"] or 0)) == actual, key
    assert cost[("PRJ-A1", "2026-09-01")]["cost_lines"] == 2

    detail = org.client.get("/api/v1/benefits/BEN-A", headers=admin).json()
    profile = [r for r in _rows(org, "benefits_by_period") if r["benefit_code"] == "BEN-A"]
    assert sorted(
        (_day(r["period"]), Decimal(str(r["planned"])), r["owner_code"]) for r in profile
    ) == [(p["period"], Decimal(p["planned"]), detail["owner"]) for p in detail["profile"]]

    reports = org.client.get("/api/v1/status-reports?limit=500", headers=admin).json()["items"]
    status = {(r["work_item_code"], _day(r["period"])): r for r in _rows(org, "status")}
    assert set(status) == {(r["work_item"], r["period"]) for r in reports}
    for r in reports:
        assert status[(r["work_item"], r["period"])]["confidence"] == r["confidence"]
    assert status[("PRJ-A1", "2026-08-01")]["is_latest"] == 0
    assert status[("PRJ-A1", "2026-09-01")]["is_latest"] == 1


def test_figures_and_exceptions_are_the_cycles_own(org: Org) -> None:
    org.ws.governance.run_cycle("N-FIN", "2026-09")
    org.ws.governance.run_cycle("N-PB-A", "2026-09")
    admin = org.auth("admin")
    figures = _rows(org, "figures")
    for code in ("N-FIN/2026-09", "N-PB-A/2026-09"):
        api = org.client.get(f"/api/v1/cycles/{code}/figures", headers=admin).json()
        mine = {r["figure_key"]: r for r in figures if r["cycle_code"] == api["cycle"]}
        assert set(mine) == {f["key"] for f in api["figures"]}
        for fig in api["figures"]:
            row = mine[fig["key"]]
            value = fig["value"]
            if value is None:
                assert row["value_text"] is None and row["value_number"] is None
            else:
                assert row["value_text"] == str(value), fig["key"]
                assert Decimal(str(row["value_number"])) == Decimal(str(value)), fig["key"]
        assert {r["status"] for r in mine.values()} == {"published"}

    exceptions = {(r["code"]) for r in _rows(org, "exceptions")}
    api = org.client.get("/api/v1/cycles/N-FIN/2026-09/exceptions?all=true", headers=admin).json()
    from_api = {e["code"] for part in api.values() if isinstance(part, list) for e in part}
    assert from_api, "the small organisation's overspends raise exceptions"
    # the view holds one row per exception and period: the API names each by its thread code
    assert from_api <= {code.split("/")[0] for code in exceptions}


def test_the_documented_contract_names_every_column() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reporting-views.md").read_text()
    for name, columns in COLUMNS.items():
        section = doc.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        documented = [
            col
            for line in section.splitlines()
            if line.startswith("| `")
            for col in re.findall(r"`([a-z_]+)`", line.split("|")[1])
        ]
        assert documented == columns, name
