"""Migrating a Project Online export (issue 19), on SQLite and PostgreSQL.

The fixture PWA (``data/projectonline``, written by ``data/make_projectonline_fixtures.py``) is
one invented organisation under the published ProjectData names, saved twice: as OData JSON
pages (light and verbose, with ``odata.nextLink`` / ``__next``) and as CSV saved from Excel in a
European locale. The expected figures are worked out here from the source files themselves, not
taken from the report under test.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import DATA, dump
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.errors import ValidationError
from bigov.ingest.projectonline.report import MigrationReport, write_report_xlsx
from bigov.ingest.projectonline.schema import entity_set_for, header_key
from bigov.ingest.projectonline.service import migrate
from bigov.ingest.projectonline.source import parse_odata_date, read_source
from bigov.portfolio.builder import RoundOptions
from bigov.raid.models import RaidItem
from bigov.resources.models import Demand
from bigov.work.models import Milestone, WorkItem
from bigov.workspace import Workspace

PWA = DATA / "projectonline"
JSON_EXPORT, CSV_EXPORT = PWA / "json", PWA / "csv"
MAPPING, MAPPING_CSV = PWA / "mapping.yaml", PWA / "mapping-csv.yaml"
REJECTED_PROJECTS = {"Data Centre Exit", "Website Refresh"}
LAST = "PRI-FY2028-PORTFOLIO-692C87"  # "FY2028 Portfolio Priorities", modified last
IMPACT = {"None": 0, "Low": 1, "Moderate": 2, "Strong": 3, "Extreme": 4}


def _records(name: str) -> list[dict[str, Any]]:
    """Every record of an entity set in the JSON export, read with nothing but ``json``."""
    out: list[dict[str, Any]] = []
    for path in sorted(JSON_EXPORT.glob(f"{name}*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.extend(doc["value"] if "value" in doc else doc["d"]["results"])
    return out


def _source_sum(prop: str) -> Decimal:
    return sum(
        (
            Decimal(p[prop])
            for p in _records("Projects")
            if p["ProjectName"] not in REJECTED_PROJECTS and p.get(prop) is not None
        ),
        Decimal(0),
    )


def _migrate(ws: Workspace, export: Path = JSON_EXPORT, mapping: Path = MAPPING) -> MigrationReport:
    return migrate(ws, export, mapping=mapping, user="pmo")


def _totals(report: MigrationReport) -> dict[str, tuple[Decimal, Decimal]]:
    return {t.measure: (t.source_imported, t.bigov) for t in report.totals}


def test_json_pages_migrate_reconcile_and_rerun_changes_nothing(ingest_ws: Workspace) -> None:
    report = _migrate(ingest_ws)

    # totals reconcile to the cent, against sums taken from the files independently
    totals = _totals(report)
    assert totals["cost"] == (_source_sum("ProjectCost"), _source_sum("ProjectCost"))
    assert totals["cost"][1] == Decimal("3012346.17")
    assert totals["actual_cost"][1] == _source_sum("ProjectActualCost") == Decimal("585956.78")
    assert totals["baseline_cost"][1] == _source_sum("ProjectBaselineCost")
    assert totals["work"][1] == _source_sum("ProjectWork") == Decimal("1020.00")
    assert report.reconciled and all(p.reconciled for p in report.projects)
    everything = {t.measure: t.source_all_rows for t in report.totals}
    assert everything["cost"] == sum(
        (Decimal(p["ProjectCost"]) for p in _records("Projects")), Decimal(0)
    )

    # bad rows are reported with file, row, field and reason; the rest came in
    reasons = {(r.entity, r.column, r.reason.split(":")[0]) for r in report.rejects}
    unknown = "unknown enterprise project type 'Infrastructure Change Request'"
    assert ("Projects", "EnterpriseProjectTypeName", unknown) in reasons
    assert ("Projects", "ProjectCost", "ProjectCost is negative") in reasons
    bad_date = next(r for r in report.rejects if r.column == "TaskStartDate")
    assert (bad_date.file, bad_date.row, bad_date.value) == (
        "Tasks_page2.json",
        4,
        "31/02/2027 08:00",
    )
    orphan = next(r for r in report.rejects if r.entity == "Risks")
    assert "was rejected" in orphan.reason
    counts = {e.entity: (e.read, e.imported, e.rejected) for e in report.entities}
    assert counts["Projects"] == (6, 4, 2)
    assert counts["Tasks"] == (7, 5, 2)
    assert counts["Risks"] == (3, 2, 1)
    assert counts["AssignmentTimephasedDataSet"] == (74, 74, 0)

    # the Core P3M shape the mapping asked for
    with ingest_ws.session() as s:
        items = {w.code: w for w in s.scalars(select(WorkItem))}
        harbour = items["HARBOUR-WALL-UPGRADE"]
        assert harbour.parent is not None and harbour.parent.code == "PG-COASTAL-RESILIENCE"
        assert harbour.parent.parent is not None
        assert harbour.parent.parent.code == "PF-INFRASTRUCTURE"
        assert (harbour.nature, harbour.category, harbour.phase) == (
            "change",
            "transform",
            "delivery",
        )
        desk = items["SERVICE-DESK-OPERATIONS"]
        assert (desk.kind, desk.nature, desk.category) == ("workstream", "run", "run")
        portal = items["CUSTOMER-PORTAL"]
        assert portal.phase == "identification"
        assert str(portal.forecast_start) == "2027-09-06"  # from the project summary task
        assert "DATA-CENTRE-EXIT" not in items and "WEBSITE-REFRESH" not in items
        risk = s.scalar(select(RaidItem).where(RaidItem.title == "Winter storms stop work"))
        assert risk is not None and (risk.probability, risk.impact) == (3, 4)
        milestones = set(s.scalars(select(Milestone.name)))
        assert {"Design approved", "Wall handed over", "Go live", "Demo day"} <= milestones
        hours = s.scalars(select(Demand.hours)).all()
        assert sum(hours, Decimal(0)) == Decimal("1020.00")

    # schedules: one batch per file, matched by GUID or name, a broken one reported
    by_file = {f.file: f for f in report.schedules}
    assert by_file["harbour-wall.xml"].matched_by == "guid"
    assert set(by_file["harbour-wall.xml"].kept_from_feed) == {"milestone", "cost_line", "demand"}
    assert by_file["payroll.xml"].matched_by == "name"
    assert by_file["payroll.xml"].project == "PAYROLL-REPLACEMENT"
    assert by_file["broken.mpp"].status == "failed" and by_file["broken.mpp"].message
    assert report.schedules_without_project == ["skunkworks.xml"]
    assert report.projects_without_schedule == ["CUSTOMER-PORTAL", "SERVICE-DESK-OPERATIONS"]
    assert report.unmapped_custom_fields == {"Projects": ["SponsorNotes"]}

    # drivers and both prioritisations came across, weights intact
    prios = {p.code: p for p in ingest_ws.portfolio.prioritisations()}
    assert report.last_prioritisation == LAST
    for record in _records("Prioritizations"):
        code = next(c for c, p in prios.items() if p.name == record["PrioritizationName"])
        version = prios[code].versions[-1]
        assert version["effective_from"] == record["PrioritizationModifiedDate"][:10]
        given = {
            r["BusinessDriverName"]: Decimal(r["BusinessDriverPriority"])
            for r in _records("PrioritizationDrivers")
            if r["PrioritizationId"] == record["PrioritizationId"]
        }
        names = {d.code: d.name for d in ingest_ws.portfolio.drivers()}
        stored = {names[d]: w for d, w in version["weights"].items()}
        total = sum(given.values())
        assert stored == {n: pytest.approx(float(w / total), abs=1e-6) for n, w in given.items()}

    # migrating again changes nothing
    before = dump(ingest_ws)
    again = _migrate(ingest_ws)
    assert dump(ingest_ws) == before
    assert not again.changed and again.reconciled
    assert all(p.version == 1 and not p.written for p in again.prioritisations)


def test_csv_from_excel_gives_the_same_data_set(ingest_ws: Workspace, tmp_path: Path) -> None:
    """The same PWA as Excel saved it (BOM, `;`, decimal commas, dd/mm/yyyy text, view
    headers such as "Project Name" and "% Complete") migrates to the same rows."""
    report = _migrate(ingest_ws, CSV_EXPORT, MAPPING_CSV)
    assert report.reconciled
    assert _totals(report)["cost"] == (_source_sum("ProjectCost"),) * 2
    bad = next(r for r in report.rejects if r.column == "ProjectCost")
    assert (bad.file, bad.row) == ("Projects.csv", 6)  # the header is row 1

    reference = Workspace.open(f"sqlite:///{tmp_path / 'json.db'}")
    try:
        _migrate(reference)
        assert _business_rows(ingest_ws) == _business_rows(reference)
    finally:
        reference.close()


def _business_rows(ws: Workspace) -> dict[str, Any]:
    """Every migrated row by code, without ids, audit columns and provenance."""
    out: dict[str, Any] = {}
    skip = {"id", "created_at", "updated_at", "batch_id", "written_by"}
    with ws.engine.connect() as conn:
        from bigov.db.base import Base

        for name in ("work_item", "cost_line", "demand", "milestone", "raid_item", "capacity",
                     "skill", "person", "org_unit", "portfolio_driver_weight"):  # fmt: skip
            table = Base.metadata.tables[name]
            cols = [c for c in table.columns if c.name not in skip and not c.name.endswith("_id")]
            rows = conn.execute(select(*cols).order_by(table.c.code)).all()
            out[name] = [tuple(float(v) if isinstance(v, Decimal) else v for v in r) for r in rows]
    return out


def test_optimise_runs_on_the_migrated_prioritisation(ingest_ws: Workspace) -> None:
    _migrate(ingest_ws)
    options = RoundOptions(years=[2028], prioritisation=LAST)
    scenario = ingest_ws.portfolio.optimise("pwa-fy2028", options)
    assert scenario.status == "optimal"
    assert scenario.prioritisation_version == f"{LAST}/v1"

    # value = Σ over selected change items of Σ driver weight × impact rating, from the source
    # files, plus what the round gives running BAU work for keeping it (the builder's own rule,
    # not the prioritisation's: BAU has no driver scores)
    built = ingest_ws.portfolio.build_problem(options).problem
    run_value = {c.code: c.value for c in built.candidates if c.value is not None}
    weights = {
        r["BusinessDriverName"]: Decimal(r["BusinessDriverPriority"]) / 100
        for r in _records("PrioritizationDrivers")
        if r["PrioritizationName"] == "FY2028 Portfolio Priorities"
    }
    value = Decimal(0)
    for project in _records("Projects"):
        code = project["ProjectName"].upper().replace(" ", "-")
        if code not in scenario.selected:
            continue
        if code in run_value:
            value += Decimal(str(run_value[code]))
            continue
        value += weights["Increase Revenue"] * IMPACT[project["StrategicFitImpact"]]
        value += weights["Improve Customer Experience"] * IMPACT[project["CustomerImpact"]]
    assert scenario.value == pytest.approx(float(value))
    assert set(scenario.selected) >= {"HARBOUR-WALL-UPGRADE", "PAYROLL-REPLACEMENT"}


def test_cli_migrate_report_and_optimise(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"  # created by the migration, as `import` does
    xlsx = tmp_path / "report.xlsx"
    dry = runner.invoke(
        app, ["migrate", "projectonline", str(JSON_EXPORT), "-m", str(MAPPING), "--dry-run",
              "--db", db, "--json"],
    )  # fmt: skip
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True and planned["reconciled"] is True
    assert [b["status"] for b in planned["batches"]] == ["dry-run"]
    assert {f["file"]: f["matched_by"] for f in planned["schedules"]} == {
        "broken.mpp": None,
        "harbour-wall.xml": "guid",
        "payroll.xml": "name",
        "skunkworks.xml": None,
    }
    assert runner.invoke(app, ["batches", "--db", db, "--json"]).stdout.strip() == "[]"

    r = runner.invoke(
        app, ["migrate", "projectonline", str(JSON_EXPORT), "--mapping", str(MAPPING),
              "--report", str(xlsx), "--db", db],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Totals reconciled" in r.output and "skunkworks.xml" in r.output
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    assert wb.sheetnames[:3] == ["Summary", "Entities", "Rejected"]
    totals = {row[0]: row[1:] for row in wb["Totals"].iter_rows(min_row=2, values_only=True)}
    assert totals["cost"][2] == pytest.approx(3012346.17) and totals["cost"][4] == "yes"
    for ws in wb.worksheets:
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)

    problem = tmp_path / "round.yaml"
    r = runner.invoke(
        app, ["portfolio", "export-problem", str(problem), "--year", "2028",
              "--prioritisation", LAST, "--db", db],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["portfolio", "optimise", str(problem), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["value"] > 0


def test_bulk_schedule_folder_one_batch_per_file(tmp_path: Path) -> None:
    """`bigov import FOLDER`: every file its own batch; the broken one is reported (exit 6)
    and the others still import."""
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'bulk.db'}"
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    r = runner.invoke(app, ["import", str(JSON_EXPORT / "schedules"), "--db", db, "--json"])
    assert r.exit_code == 6, r.output
    files = {f["file"]: f for f in json.loads(r.stdout)["files"]}
    assert files["broken.mpp"]["status"] == "failed"
    assert {files[n]["status"] for n in ("harbour-wall.xml", "payroll.xml", "skunkworks.xml")} == {
        "committed"
    }
    batches = json.loads(runner.invoke(app, ["batches", "--db", db, "--json"]).stdout)
    assert sorted(b["file_name"] for b in batches if b["status"] == "committed") == [
        "harbour-wall.xml",
        "payroll.xml",
        "skunkworks.xml",
    ]


def test_bad_exports_are_refused_and_change_nothing(ingest_ws: Workspace, tmp_path: Path) -> None:
    _migrate(ingest_ws)
    before = dump(ingest_ws)

    missing_page = tmp_path / "missing"
    missing_page.mkdir()
    shutil.copy(JSON_EXPORT / "Projects-1.json", missing_page)  # says there is a next page
    with pytest.raises(ValidationError) as err:
        migrate(ingest_ws, missing_page, mapping=MAPPING)
    assert err.value.problems[0].file == "Projects-1.json"
    assert "nextLink" in err.value.problems[0].reason

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(JSON_EXPORT / "Risks.json", mixed)
    shutil.copy(CSV_EXPORT / "Risks.csv", mixed)
    with pytest.raises(ValidationError, match="problem"):
        migrate(ingest_ws, mixed, mapping=MAPPING)

    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="no ProjectData entity set"):
        migrate(ingest_ws, nothing, mapping=MAPPING)
    assert dump(ingest_ws) == before


def test_strict_preset_import_refuses_bad_rows(tmp_path: Path) -> None:
    """`bigov import EXPORT --preset projectonline` is one all-or-nothing batch."""
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'strict.db'}"
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    r = runner.invoke(app, ["import", str(JSON_EXPORT), "--preset", "projectonline", "--db", db])
    assert r.exit_code == 6 and "Traceback" not in r.output
    assert "2 row(s) rejected; nothing was imported" in r.output  # negative cost, bad date
    assert runner.invoke(app, ["batches", "--db", db, "--json"]).stdout.count("committed") == 0
    good = tmp_path / "good"
    good.mkdir()
    projects = json.loads((JSON_EXPORT / "Projects-1.json").read_text(encoding="utf-8"))
    del projects["odata.nextLink"]
    (good / "Projects.json").write_text(json.dumps(projects), encoding="utf-8")
    r = runner.invoke(app, ["import", str(good), "--preset", "projectonline", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    # the preset maps no portfolio field: three projects, no containers
    assert json.loads(r.stdout)["counts"]["work_item"]["inserted"] == 3


def test_formula_like_values_stay_text_in_the_report(tmp_path: Path, ingest_ws: Workspace) -> None:
    export = tmp_path / "pwa"
    export.mkdir()
    (export / "Projects.csv").write_text(
        "ProjectId,ProjectName,EnterpriseProjectTypeName,ProjectCost\n"
        "0f0f0f0f-0000-4000-8000-000000000001,Ok,Enterprise Project,\n"
        '0f0f0f0f-0000-4000-8000-000000000002,Bad,=HYPERLINK("http://x"),20\n',
        encoding="utf-8",
    )
    report = migrate(ingest_ws, export, mapping=MAPPING)
    assert [r.value for r in report.rejects] == ['=HYPERLINK("http://x")']
    assert report.notes == [] or all(isinstance(n, str) for n in report.notes)
    from openpyxl import load_workbook

    wb = load_workbook(write_report_xlsx(report, tmp_path / "r.xlsx"))
    cell = next(
        c for row in wb["Rejected"].iter_rows() for c in row if c.value == '=HYPERLINK("http://x")'
    )
    assert cell.data_type == "s"


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2027-01-04T08:00:00", "dmy", "2027-01-04"),
        ("/Date(1799049600000)/", "dmy", "2027-01-04"),
        ("04/01/2027 08:00", "dmy", "2027-01-04"),
        ("1/4/2027 8:00:00 AM", "mdy", "2027-01-04"),
        ("25.06.2027", "dmy", "2027-06-25"),
    ],
)
def test_odata_dates(text: str, order: str, expected: str) -> None:
    assert str(parse_odata_date(text, order)) == expected


def test_date_order_is_read_from_the_column(tmp_path: Path) -> None:
    (tmp_path / "Projects.csv").write_text(
        "ProjectId,ProjectName,ProjectStartDate\n"
        "0f0f0f0f-0000-4000-8000-000000000001,A,3/4/2027\n"
        "0f0f0f0f-0000-4000-8000-000000000002,B,6/25/2027\n",
        encoding="utf-8",
    )
    rows = read_source(tmp_path).sets["Projects"].rows
    assert [str(r.values["ProjectStartDate"]) for r in rows] == ["2027-03-04", "2027-06-25"]


def test_names_of_sets_and_headers() -> None:
    assert header_key("Project Name") == header_key("ProjectName") == "projectname"
    assert header_key("Projects.ProjectName") == "projectname"
    assert header_key("\ufeffProjectId") == "projectid"
    for name, expected in (
        ("Projects-2", "Projects"),
        ("Tasks_page1", "Tasks"),
        ("AssignmentTimephasedDataSet (3)", "AssignmentTimephasedDataSet"),
        ("ReportingData.Risk", "Risks"),
        ("Risk", "Risks"),
        ("notes", None),
    ):
        assert entity_set_for(name) == expected


def test_decimal_commas_are_read_without_being_told(tmp_path: Path) -> None:
    """The European CSV with the mapping that keeps the decimal point: columns that only read
    with a decimal comma are read so, and the report says so."""
    ws = Workspace.open(f"sqlite:///{tmp_path / 'eu.db'}")
    try:
        report = _migrate(ws, CSV_EXPORT, MAPPING)
        assert report.reconciled
        assert _totals(report)["cost"][1] == Decimal("3012346.17")
        assert any(
            "Projects.ProjectCost: numbers read with a decimal comma" in n for n in report.notes
        )
    finally:
        ws.close()


def test_a_project_center_view_export(tmp_path: Path) -> None:
    """A view exported to Excel: its own file name, display headers, no GUID column, US dates."""
    export = tmp_path / "pwa"
    export.mkdir()
    (export / "ProjectData - Projects.csv").write_text(
        "Project Name,Owner,Enterprise Project Type,Start,Finish,Cost,Actual Cost,Work,% Complete\n"
        'Alpha,Ana Smith,Enterprise Project,1/4/2027 8:00 AM,6/25/2027 5:00 PM,"1,000.10",0,10h,5%'
        "\n"
        "Beta,Bo Jones,Enterprise Project,2/1/2027 8:00 AM,3/31/2027 5:00 PM,500.05,100,0h,50%\n",
        encoding="utf-8",
    )
    (export / "readme.txt").write_text("exported from PWA\n", encoding="utf-8")
    ws = Workspace.open(f"sqlite:///{tmp_path / 'view.db'}")
    try:
        report = migrate(ws, export)
        assert [p.code for p in report.projects] == ["ALPHA", "BETA"]
        assert report.reconciled
        assert _totals(report)["cost"][1] == Decimal("1500.15")
        assert any("identified by ProjectName" in n for n in report.notes)
        assert any("readme.txt" in n for n in report.notes)
        with ws.session() as s:
            alpha = s.scalar(select(WorkItem).where(WorkItem.code == "ALPHA"))
            assert alpha is not None and str(alpha.forecast_finish) == "2027-06-25"
        # a second run finds the same projects by their (name-made) identity
        assert not migrate(ws, export).changed
    finally:
        ws.close()


def test_one_workbook_with_a_sheet_per_entity_set(tmp_path: Path) -> None:
    """Power Query loaded into one workbook: real Excel dates and numbers, a sheet per set."""
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name in ("Projects", "Tasks", "Assignments"):
        records = _records(name)
        headers = [h for h in records[0] if not h.startswith("__") and h != "Project"]
        sheet = wb.create_sheet(name)
        sheet.append(headers)
        for r in records:
            row: list[Any] = []
            for h in headers:
                v = r.get(h)
                if isinstance(v, str) and v.startswith("/Date("):
                    v = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(v[6:-2]))
                elif isinstance(v, str) and len(v) == 19 and v[4] == "-" and v[10] == "T":
                    v = dt.datetime.fromisoformat(v)
                elif isinstance(v, str) and v.replace(".", "", 1).lstrip("-").isdigit():
                    v = float(v)
                row.append(v)
            sheet.append(row)
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula, as Excel keeps it
    export = tmp_path / "pwa"
    export.mkdir()
    wb.save(export / "PWA export.xlsx")
    ws = Workspace.open(f"sqlite:///{tmp_path / 'xlsx.db'}")
    try:
        report = migrate(ws, export, mapping=MAPPING)
        assert report.reconciled
        assert _totals(report)["cost"][1] == _source_sum("ProjectCost")
        assert {e.entity for e in report.entities} == {"Projects", "Tasks", "Assignments"}
        bad = next(r for r in report.rejects if r.column == "TaskStartDate")
        assert (bad.sheet, bad.row) == ("Tasks", 8)
    finally:
        ws.close()


def test_a_later_export_replaces_moved_months_and_still_reconciles(tmp_path: Path) -> None:
    """Re-migrating a newer export where a project finishes earlier: the cost lines of the
    months it left are removed, so bigov still holds exactly the source figures."""
    ws = Workspace.open(f"sqlite:///{tmp_path / 'later.db'}")
    try:
        _migrate(ws)
        export = tmp_path / "later"
        shutil.copytree(JSON_EXPORT, export, ignore=shutil.ignore_patterns("schedules"))
        page = json.loads((export / "Projects-1.json").read_text(encoding="utf-8"))
        page["value"][0]["ProjectFinishDate"] = "2027-03-31T17:00:00"  # Harbour Wall, was June
        (export / "Projects-1.json").write_text(json.dumps(page), encoding="utf-8")
        report = _migrate(ws, export)
        assert report.reconciled
        assert any("no longer in the export" in n for n in report.notes)
        with ws.session() as s:
            from bigov.finance.models import CostLine

            months = s.scalars(
                select(CostLine.period)
                .join(WorkItem, WorkItem.id == CostLine.work_item_id)
                .where(WorkItem.code == "HARBOUR-WALL-UPGRADE", CostLine.forecast > 0)
            ).all()
        assert max(months).isoformat() == "2027-03-01"
    finally:
        ws.close()


def test_a_reweighted_prioritisation_becomes_a_new_version(tmp_path: Path) -> None:
    ws = Workspace.open(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        _migrate(ws)
        export = tmp_path / "later"
        shutil.copytree(JSON_EXPORT, export, ignore=shutil.ignore_patterns("schedules"))
        page = json.loads((export / "PrioritizationDrivers.json").read_text(encoding="utf-8"))
        for r in page["value"]:
            if r["PrioritizationName"] == "FY2028 Portfolio Priorities":
                r["BusinessDriverPriority"] = "25.000000"
        (export / "PrioritizationDrivers.json").write_text(json.dumps(page), encoding="utf-8")
        report = _migrate(ws, export)
        line = next(p for p in report.prioritisations if p.code == LAST)
        assert (line.version, line.written) == (2, True)
        versions = ws.portfolio.prioritisation(LAST).versions
        assert [v["version"] for v in versions] == [1, 2]
        assert set(versions[0]["weights"].values()) == {0.2, 0.15, 0.5}
        assert set(versions[1]["weights"].values()) == {0.25}
    finally:
        ws.close()
