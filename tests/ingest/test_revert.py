"""`bigov batches revert N`: an import or metrics batch undone when nothing later depends on it,
refused with the list of what does otherwise, all or nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db.base import utcnow
from bigov.db.batch import ImportBatch
from bigov.errors import ConflictError, NotFoundError
from bigov.finance.models import CostLine
from bigov.ingest.revert import RevertBlockedError, revert_batch
from bigov.ingest.service import import_file, resolve_options
from bigov.metrics.calendar import Grain
from bigov.metrics.models import MetricRawFile
from bigov.metrics.schemas import MeasureSpec, SeriesSpec
from bigov.metrics.service import MetricsService
from bigov.org.models import OrgUnit
from bigov.work.models import WorkItem
from bigov.workspace import Workspace

runner = CliRunner()

UNITS = "code,name,kind\nDEP-1,Operations,department\nDEP-2,Digital,department\n"
WORK = (
    "code,name,kind,org_unit\n"
    "PRJ-1,Billing replatform,project,DEP-1\n"
    "PRJ-2,Data lake,project,DEP-2\n"
)


def _import(ws: Workspace, path: Path, body: str, kind: str) -> int:
    path.write_text(body, encoding="utf-8")
    result = import_file(ws, path, options=resolve_options(kind=kind))
    assert result.batch_id is not None
    return result.batch_id


def _names(ws: Workspace) -> dict[str, str]:
    with ws.session() as s:
        return {str(c): str(n) for c, n in s.execute(select(WorkItem.code, WorkItem.name))}


def _status(ws: Workspace, batch_id: int) -> str:
    with ws.session() as s:
        return str(s.scalar(select(ImportBatch.status).where(ImportBatch.id == batch_id)))


def test_revert_restores_updates_and_removes_inserts(ingest_ws: Workspace, tmp_path: Path) -> None:
    ws = ingest_ws
    _import(ws, tmp_path / "units.csv", UNITS, "org_unit")
    first = _import(ws, tmp_path / "work.csv", WORK, "work_item")
    before = _names(ws)
    second = _import(
        ws,
        tmp_path / "work2.csv",
        "code,name,kind,org_unit\n"
        "PRJ-1,Billing replatform (phase 2),project,DEP-2\n"
        "PRJ-3,Chatbot,project,DEP-1\n",
        "work_item",
    )
    assert _names(ws)["PRJ-1"] == "Billing replatform (phase 2)"

    result = revert_batch(ws, second, user="analyst")
    assert result.restored == {"work_item": 1}
    assert result.deleted == {"work_item": 1}
    assert _names(ws) == before
    with ws.session() as s:
        row = s.scalars(select(WorkItem).where(WorkItem.code == "PRJ-1")).one()
        unit = s.get(OrgUnit, row.org_unit_id)
        assert unit is not None and unit.code == "DEP-1"
        assert row.batch_id == first  # provenance points back at the batch that wrote it
    assert _status(ws, second) == "reverted"
    with pytest.raises(ConflictError, match="reverted already"):
        revert_batch(ws, second)
    with pytest.raises(NotFoundError):
        revert_batch(ws, 999)


def test_revert_refused_while_later_batches_depend(ingest_ws: Workspace, tmp_path: Path) -> None:
    ws = ingest_ws
    _import(ws, tmp_path / "units.csv", UNITS, "org_unit")
    first = _import(ws, tmp_path / "work.csv", WORK, "work_item")
    costs = _import(
        ws,
        tmp_path / "cost.csv",
        "work_item,period,budget\nPRJ-1,2026-04-01,1000\n",
        "cost_line",
    )
    later = _import(
        ws,
        tmp_path / "work2.csv",
        "code,name,kind,org_unit\nPRJ-2,Data lake v2,project,DEP-2\n",
        "work_item",
    )
    names = _names(ws)
    with pytest.raises(RevertBlockedError) as info:
        revert_batch(ws, first)
    found = {(d.what, d.reason) for d in info.value.dependents}
    assert ("work_item PRJ-2", f"changed later by batch {later}") in found
    assert any(
        d.what.startswith("cost_line ") and "refers to work_item PRJ-1" in d.reason
        for d in info.value.dependents
    )
    assert "nothing was changed" in info.value.message
    assert _names(ws) == names  # all or nothing
    assert _status(ws, first) == "committed"

    # newest first, it unwinds
    revert_batch(ws, later)
    revert_batch(ws, costs)
    revert_batch(ws, first)
    assert _names(ws) == {}
    with ws.session() as s:
        assert s.scalars(select(CostLine)).all() == []


def test_revert_refused_after_a_user_edit(ingest_ws: Workspace, tmp_path: Path) -> None:
    ws = ingest_ws
    _import(ws, tmp_path / "units.csv", UNITS, "org_unit")
    first = _import(ws, tmp_path / "work.csv", WORK, "work_item")
    with ws.session() as s:
        s.scalars(select(WorkItem).where(WorkItem.code == "PRJ-2")).one().name = "Renamed by hand"
    with pytest.raises(RevertBlockedError) as info:
        revert_batch(ws, first)
    assert [(d.what, d.reason) for d in info.value.dependents] == [
        ("work_item PRJ-2", "edited since the batch")
    ]


def test_otc_revision_is_reverted_with_its_version(ingest_ws: Workspace, tmp_path: Path) -> None:
    ws = ingest_ws
    _import(
        ws,
        tmp_path / "otc.csv",
        "code,kind,title,effective_from,target_date\n"
        "OBJ-1,objective,Cut waiting times,2026-01-01,2026-12-31\n",
        "otc",
    )
    revision = _import(
        ws,
        tmp_path / "otc2.csv",
        "code,kind,title,effective_from,target_date,change_reason\n"
        "OBJ-1,objective,Cut waiting times,2026-06-01,2027-03-31,deadline moved by the board\n",
        "otc",
    )
    history = ws.strategy.history("OBJ-1")
    assert [(v.version, v.target_date, v.change_reason) for v in history] == [
        (1, dt.date(2026, 12, 31), "created"),
        (2, dt.date(2027, 3, 31), "deadline moved by the board"),
    ]
    revert_batch(ws, revision)
    history = ws.strategy.history("OBJ-1")
    assert [v.version for v in history] == [1]
    assert history[0].effective_to is None
    otc = ws.strategy.otcs()[0]
    assert (otc.version, str(otc.target_date)) == (1, "2026-12-31")


def test_cli_revert_json_on_refusal_and_success(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    (tmp_path / "units.csv").write_text(UNITS)
    (tmp_path / "work.csv").write_text(WORK)
    for name, kind in (("units.csv", "org_unit"), ("work.csv", "work_item")):
        out = runner.invoke(app, ["import", str(tmp_path / name), "--kind", kind, "--db", db])
        assert out.exit_code == 0, out.output
    refused = runner.invoke(app, ["batches", "revert", "1", "--json", "--db", db])
    assert refused.exit_code == 5
    report = json.loads(refused.stdout)
    assert report["status"] == "refused"
    assert {d["what"] for d in report["dependents"]} == {"work_item PRJ-1", "work_item PRJ-2"}
    assert all("refers to org_unit" in d["reason"] for d in report["dependents"])
    done = runner.invoke(app, ["batches", "revert", "2", "--db", db])
    assert done.exit_code == 0, done.output
    assert "Reverted batch 2" in done.output and "2 work_item removed" in done.output
    listed = runner.invoke(app, ["batches", "--json", "--db", db])
    assert [b["status"] for b in json.loads(listed.stdout)] == ["reverted", "committed"]


# -- metrics batches ---------------------------------------------------------------------------


@pytest.fixture
def metrics(ingest_ws: Workspace, tmp_path: Path) -> MetricsService:
    svc = MetricsService(ingest_ws, store_dir=tmp_path / "store", memory_limit="1GB", threads=2)
    svc.define(
        MeasureSpec(
            code="calls",
            name="Calls handled",
            grains=[Grain.DAY, Grain.MONTH],
            series=[SeriesSpec(code="calls-A", org="A")],
        )
    )
    return svc


def _month(svc: MetricsService, as_at: dt.datetime | None = None) -> list[float | None]:
    return [v.value for v in svc.values("calls", grain=Grain.MONTH, as_at=as_at)]


def test_metrics_correction_reverted_then_the_load(metrics: MetricsService, tmp_path: Path) -> None:
    first = tmp_path / "april.csv"
    first.write_text(
        "series,ts,value\ncalls-A,2025-04-01T09:00:00Z,10\ncalls-A,2025-04-02T09:00:00Z,20\n"
    )
    correction = tmp_path / "fix.csv"
    correction.write_text("series,ts,value\ncalls-A,2025-04-02T09:00:00Z,25\n")
    a = metrics.load(first).batch_id
    assert _month(metrics) == [30.0]
    b = metrics.load(correction).batch_id
    assert _month(metrics) == [35.0]
    known = utcnow()

    with pytest.raises(RevertBlockedError) as info:
        revert_batch(metrics.ws, a, metrics=metrics)
    assert [d.batch_id for d in info.value.dependents] == [b]
    assert _month(metrics) == [35.0]

    result = revert_batch(metrics.ws, b, metrics=metrics)
    assert result.superseded == result.restored["metric_aggregate"] > 0
    assert _month(metrics) == [30.0]
    days = metrics.values("calls", grain=Grain.DAY)
    assert [v.value for v in days] == [10.0, 20.0]
    assert not (metrics.store.root / metrics.store.relative_path(b)).exists()
    # what was known between the correction and its revert stays in as-at history
    assert _month(metrics, as_at=known) == [35.0]

    revert_batch(metrics.ws, a, metrics=metrics)
    assert _month(metrics) == []
    with metrics.ws.session() as s:
        assert s.scalars(select(MetricRawFile)).all() == []
    # a later load sees none of the reverted rows
    metrics.load(correction)
    assert _month(metrics) == [25.0]
