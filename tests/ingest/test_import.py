"""Batches, upsert by code, idempotence, references, OTC versions — through the public facade."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from ingest_helpers import dump, write
from sqlalchemy import func, select

from bigov.db.batch import ImportBatch
from bigov.errors import ValidationError
from bigov.finance.models import CostLine
from bigov.ingest.registry import IMPORTERS, load_builtins
from bigov.ingest.service import batches, import_file, resolve_options
from bigov.strategy.models import Otc, OtcVersion
from bigov.work.models import WorkItem
from bigov.workspace import Workspace

WORK = """code,name,kind,parent,owner,baseline_start,baseline_finish,whole_life_cost,phase
PRJ1,Project one,project,P1,JS,2024-01-01,2025-03-31,"1,200.50",Delivery
P1,Portfolio,portfolio,,,,,,
PRJ2,Project two,Project,P1,,31/01/2024,2024-12-31,100,DELIVERY
"""
PEOPLE = "code,name,email\nJS,Jo Smith,jo@example.org\n"


def _import(ws: Workspace, path: Path, **kw: object):  # type: ignore[no-untyped-def]
    return import_file(ws, path, options=resolve_options(**kw), user="tester")  # type: ignore[arg-type]


def test_registry_holds_the_builtins() -> None:
    load_builtins()
    assert {"tabular", "gmpp", "mpxj"} <= set(IMPORTERS)


def test_import_upsert_and_idempotence(ingest_ws: Workspace, tmp_path: Path) -> None:
    _import(ingest_ws, write(tmp_path / "people.csv", PEOPLE), kind="person")
    first = _import(ingest_ws, write(tmp_path / "w.csv", WORK), kind="work")
    assert first.counts["work_item"]["inserted"] == 3
    before = dump(ingest_ws)
    again = _import(ingest_ws, tmp_path / "w.csv", kind="work_item")
    assert again.counts["work_item"] == {"inserted": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert dump(ingest_ws) == before  # nothing but the batch record was written
    newer = write(
        tmp_path / "w2.csv",
        WORK.replace("Project two", "Project 2") + "PRJ3,Project three,project,P1,,,,,\n",
    )
    result = _import(ingest_ws, newer, kind="work")
    assert result.counts["work_item"] == {
        "inserted": 1,
        "updated": 1,
        "unchanged": 2,
        "rejected": 0,
    }
    with ingest_ws.session() as s:
        prj1 = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ1"))
        assert prj1 is not None and prj1.parent is not None and prj1.parent.code == "P1"
        assert prj1.whole_life_cost == Decimal("1200.50")
        assert prj1.batch_id == first.batch_id and prj1.written_by == "tester"
        prj2 = s.scalar(select(WorkItem).where(WorkItem.code == "PRJ2"))
        assert prj2 is not None and prj2.baseline_start == dt.date(2024, 1, 31)
        assert prj2.batch_id == result.batch_id
    listed = batches(ingest_ws)
    assert [b.status for b in listed][:3] == ["committed"] * 3
    assert listed[0].file_hash and len(listed[0].file_hash) == 64
    assert listed[0].user == "tester"


def test_fact_rows_get_derived_codes(ingest_ws: Workspace, tmp_path: Path) -> None:
    _import(ingest_ws, write(tmp_path / "w.csv", WORK.replace(",JS,", ",,")), kind="work")
    costs = write(
        tmp_path / "c.csv",
        "work_item,period,budget,forecast,expenditure\n"
        "PRJ1,2024-04,100,110,capex\nPRJ1,2024-05-01,100,90,\nPRJ2,Apr-24,50,50,opex\n",
    )
    assert _import(ingest_ws, costs, kind="costs").counts["cost_line"]["inserted"] == 3
    with ingest_ws.session() as s:
        codes = set(s.scalars(select(CostLine.code)))
    assert codes == {"PRJ1/2024-04/capex", "PRJ1/2024-05/opex", "PRJ2/2024-04/opex"}
    assert _import(ingest_ws, costs, kind="cost_line").counts["cost_line"]["unchanged"] == 3


def test_references_within_one_workbook(ingest_ws: Workspace, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "work_item"  # refers to a person defined on a later sheet
    ws.append(["code", "name", "kind", "owner"])
    ws.append(["A", "Alpha", "project", "P9"])
    people = wb.create_sheet("People")
    people.append(["code", "name"])
    people.append(["P9", "Pat Nine"])
    wb.save(tmp_path / "book.xlsx")
    result = _import(ingest_ws, tmp_path / "book.xlsx")
    assert result.counts["person"]["inserted"] == 1
    assert result.counts["work_item"]["inserted"] == 1


def test_otc_change_creates_a_version(ingest_ws: Workspace, tmp_path: Path) -> None:
    base = "code,kind,title,status,effective_from,priority\n"
    _import(
        ingest_ws,
        write(tmp_path / "o1.csv", base + "O1,objective,Grow revenue,active,2024-01-01,1\n"),
        kind="otc",
    )
    # priority only: a plain update, no new version
    r = _import(
        ingest_ws,
        write(tmp_path / "o2.csv", base + "O1,objective,Grow revenue,active,2024-01-01,2\n"),
        kind="otc",
    )
    assert r.counts["otc"]["updated"] == 1
    r = _import(
        ingest_ws,
        write(tmp_path / "o3.csv", base + "O1,objective,Grow revenue 10%,active,2024-07-01,2\n"),
        kind="otc",
    )
    assert r.counts["otc"]["updated"] == 1
    history = ingest_ws.strategy.history("O1")
    assert [(v.version, v.title, v.effective_to) for v in history] == [
        (1, "Grow revenue", dt.date(2024, 7, 1)),
        (2, "Grow revenue 10%", None),
    ]
    # a title change without a later effective date is refused
    with pytest.raises(ValidationError) as err:
        _import(
            ingest_ws,
            write(tmp_path / "o4.csv", base + "O1,objective,Other,active,2024-07-01,2\n"),
            kind="otc",
        )
    assert "effective_from" in err.value.problems[0].reason
    with ingest_ws.session() as s:
        assert s.scalar(select(func.count()).select_from(OtcVersion)) == 2
        otc = s.scalar(select(Otc))
        assert otc is not None and otc.version == 2


def test_rejected_batch_is_recorded_and_writes_nothing(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    before = dump(ingest_ws)
    bad = write(tmp_path / "bad.csv", WORK.replace("2024-12-31", "2023-12-31"))
    with pytest.raises(ValidationError):
        _import(ingest_ws, bad, kind="work")
    assert dump(ingest_ws) == before
    with ingest_ws.session() as s:
        batch = s.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
        assert batch is not None and batch.status == "rejected"
        assert batch.message and "before" in batch.message


def test_dry_run_writes_nothing(ingest_ws: Workspace, tmp_path: Path) -> None:
    _import(ingest_ws, write(tmp_path / "people.csv", PEOPLE), kind="person")
    before = dump(ingest_ws, skip=())
    result = import_file(
        ingest_ws,
        write(tmp_path / "w.csv", WORK),
        options=resolve_options(kind="work"),
        dry_run=True,
    )
    assert result.status == "dry-run" and result.counts["work_item"]["inserted"] == 3
    assert dump(ingest_ws, skip=()) == before


def test_mapping_file(ingest_ws: Workspace, tmp_path: Path) -> None:
    _import(ingest_ws, write(tmp_path / "w.csv", WORK.replace(",JS,", ",,")), kind="work")
    mapping = write(
        tmp_path / "finance.yaml",
        """
kind: cost_line
skip_rows: 1
columns:
  Cost Centre: work_item
  Month: period
  "Budget (£k)": budget
  Forecast (£k): forecast
  Notes: null
codes:
  work_item: {CC100: PRJ1, CC200: PRJ2}
date_format: "%m/%Y"
decimal: ","
thousands: "."
multiply: {budget: 1000, forecast: 1000}
defaults: {expenditure: capex}
""",
    )
    data = write(
        tmp_path / "fin.csv",
        "Finance extract;;;;\n"
        "Cost Centre;Month;Budget (£k);Forecast (£k);Notes\n"
        "CC100;04/2024;1.234,5;1.300;x\nCC200;05/2024;10;12;\n",
    )
    result = import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    assert result.counts["cost_line"]["inserted"] == 2
    with ingest_ws.session() as s:
        line = s.scalar(select(CostLine).where(CostLine.code == "PRJ1/2024-04/capex"))
        assert line is not None and line.budget == Decimal("1234500.00")
