"""A flat extract through a `kinds:` mapping as a tester sent it: two invoices of one month
under `period_round: month` are refused naming both rows (never merged into one cost line),
identical repeated reference rows still load once, and one run lists every problem of the
batch — each bad cell against its own column, not again through the field computed from it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from ingest_helpers import dump, write
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db.batch import ImportBatch
from bigov.errors import ValidationError
from bigov.finance.models import CostLine
from bigov.ingest.service import import_file, resolve_options
from bigov.workspace import Workspace

runner = CliRunner()

HEADER = (
    "Agency Code,Agency Name,Project Code,Project Name,Start Date,Duration (days),"
    "Cost Date,Cost (£)\n"
)
MAPPING = """\
description: flat portfolio extract (agency on every row)
date_format: "%d/%m/%Y"
kinds:
  org_unit:
    columns: {Agency Code: code, Agency Name: name}
    defaults: {kind: department}
  work_item:
    columns:
      Project Code: code
      Project Name: name
      Start Date: baseline_start
      Agency Code: org_unit
    computed:
      baseline_finish: "[Start Date] + [Duration (days)]"
    defaults: {kind: project}
  cost_line:
    columns: {Project Code: work_item, Cost Date: period, Cost (£): actual}
    defaults: {currency: GBP, expenditure: opex}
    period_round: month
"""


def _files(tmp_path: Path, rows: str) -> tuple[Path, Path]:
    return (
        write(tmp_path / "portfolio.csv", HEADER + rows),
        write(tmp_path / "portfolio-map.yaml", MAPPING),
    )


def _refused(ws: Workspace, data: Path, mapping: Path) -> ValidationError:
    before = dump(ws)
    with pytest.raises(ValidationError) as info:
        import_file(ws, data, options=resolve_options(mapping=mapping))
    assert dump(ws) == before  # all or nothing
    return info.value


def _costs(ws: Workspace) -> list[tuple[str, str]]:
    with ws.session() as s:
        return sorted((c.code, str(c.actual)) for c in s.scalars(select(CostLine)))


def test_two_invoices_of_one_month_are_refused_naming_both_rows(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    # the tester's file: equal amounts, which used to make the second row an "identical repeat"
    data, mapping = _files(
        tmp_path,
        'AG-TRN,Transport Agency,P012,Project number 12,28/02/2026,60,14/10/2026,"8,000.00"\n'
        'AG-TRN,Transport Agency,P012,Project number 12,28/02/2026,60,20/10/2026,"8,000.00"\n',
    )
    err = _refused(ingest_ws, data, mapping)
    [problem] = err.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "portfolio.csv",
        3,
        "Cost Date",
        "20/10/2026",
    )
    assert problem.reason == (
        "cost_line P012/2026-10/opex: rows 2 and 3 are in one month after period_round "
        "('14/10/2026' there, '20/10/2026' here); sum them in the source, or keep them apart "
        "by expenditure or funding_source"
    )
    assert "layout" not in err.message
    with ingest_ws.session() as s:
        batch = s.scalars(select(ImportBatch)).one()
        assert batch.status == "rejected"
    # the CLI says the same, exit 6
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    out = runner.invoke(app, ["import", str(data), "--mapping", str(mapping), "--json", "--db", db])
    assert out.exit_code == 6
    [shown] = json.loads(out.stdout)["error"]["problems"]
    assert shown["row"] == 3 and "rows 2 and 3 are in one month" in shown["reason"]


def test_two_equal_invoices_of_one_day_are_refused_not_merged(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    # the same cells twice: one line twice, or two equal invoices; a figure is never merged away
    data, mapping = _files(
        tmp_path,
        'AG-TRN,Transport Agency,P012,Project number 12,28/02/2026,60,14/10/2026,"8,000.00"\n'
        'AG-TRN,Transport Agency,P012,Project number 12,28/02/2026,60,14/10/2026,"8,000.00"\n',
    )
    err = _refused(ingest_ws, data, mapping)
    [problem] = err.problems
    assert problem.row == 3
    assert problem.reason.startswith("cost_line P012/2026-10/opex repeats row 2 cell for cell")
    assert _costs(ingest_ws) == []


def test_identical_reference_rows_still_load_once(ingest_ws: Workspace, tmp_path: Path) -> None:
    data, mapping = _files(
        tmp_path,
        'AG-TRN,Transport Agency,P012,Project number 12,28/02/2026,60,14/10/2026,"8,000.00"\n'
        'AG-TRN,Transport Agency,P012,Project number 12,28/02/2026,60,20/11/2026,"8,000.00"\n'
        'AG-TRN,Transport Agency,P013,Project number 13,01/03/2026,30,02/11/2026,"1,500.50"\n',
    )
    result = import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    assert {k: c["inserted"] for k, c in result.counts.items()} == {
        "org_unit": 1,
        "work_item": 2,
        "cost_line": 3,
    }
    assert _costs(ingest_ws) == [
        ("P012/2026-10/opex", "8000.00"),
        ("P012/2026-11/opex", "8000.00"),
        ("P013/2026-11/opex", "1500.50"),
    ]


def test_every_problem_in_one_run_each_against_its_own_column(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    data, mapping = _files(
        tmp_path,
        # row 2: a start date that does not exist (the finish is computed from it)
        'AG-TRN,Transport Agency,P012,Project number 12,31/02/2026,60,14/10/2026,"8,000.00"\n'
        # row 3: the same project again (loaded once) with a cost written the European way
        'AG-TRN,Transport Agency,P012,Project number 12,31/02/2026,60,14/11/2026,"1,5"\n'
        # row 4: a duration only the computed finish reads
        'AG-TRN,Transport Agency,P013,Project number 13,01/03/2026,soon,02/11/2026,"5.00"\n'
        # row 5: an agency named otherwise than on row 2
        'AG-TRN,Transport Agcy,P014,Project number 14,01/03/2026,30,02/11/2026,"5.00"\n',
    )
    err = _refused(ingest_ws, data, mapping)
    # (problems come out kind by kind: org units first)
    problems = sorted(err.problems, key=lambda p: p.row or 0)
    got = [(p.file, p.row, p.column, p.value) for p in problems]
    assert got == [
        ("portfolio.csv", 2, "Start Date", "31/02/2026"),
        ("portfolio.csv", 3, "Cost (£)", "1,5"),
        ("portfolio.csv", 4, "Duration (days)", "soon"),
        ("portfolio.csv", 5, "Agency Name", "Transport Agcy"),
    ]
    start, cost, duration, agency = (p.reason for p in problems)
    assert start == "expected a date, got '31/02/2026' (expected %d/%m/%Y)"
    assert cost.startswith("expected a number, got '1,5'")
    assert duration == (
        "'soon' is neither a number nor a date (dates as %d/%m/%Y); "
        "needed to compute work_item.baseline_finish = [Start Date] + [Duration (days)]"
    )
    assert agency.startswith("org_unit AG-TRN repeats row 2 with another name")
    # data problems are not headed as problems of the layout
    assert err.message.startswith("4 problem(s) in 4 row(s) of ")
    # --errors writes the same four for the data owner
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    report = tmp_path / "problems.csv"
    out = runner.invoke(
        app,
        ["import", str(data), "--mapping", str(mapping), "--errors", str(report), "--db", db],
    )
    assert out.exit_code == 6
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted((r["row"], r["column"]) for r in rows) == [
        ("2", "Start Date"),
        ("3", "Cost (£)"),
        ("4", "Duration (days)"),
        ("5", "Agency Name"),
    ]


def test_a_field_left_empty_by_a_bad_cell_is_not_also_missing(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    write(tmp_path / "w.csv", "code,name,kind\nP1,One,project\n")
    import_file(ingest_ws, tmp_path / "w.csv", options=resolve_options(kind="work_item"))
    before = dump(ingest_ws)
    # the period is computed: its bad input is one problem, not also "period is required" and
    # "cannot derive a code: missing period"
    mapping = write(
        tmp_path / "m.yaml",
        "kind: cost_line\ncolumns: {Project: work_item, Amount: actual}\n"
        "computed: {period: 'month([Invoice date])'}\n",
    )
    data = write(
        tmp_path / "c.csv", 'Project,Invoice date,Amount\nP1,soon,10\nP1,2024-05-02,"1,5"\n'
    )
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    assert [(p.row, p.column, p.value) for p in info.value.problems] == [
        (2, "Invoice date", "soon"),
        (3, "Amount", "1,5"),
    ]
    assert info.value.problems[0].reason == (
        "month(): 'soon' is not a date; needed to compute cost_line.period = month([Invoice date])"
    )
    # the same for a period typed from its own column
    plain = write(tmp_path / "p.csv", "work_item,period,actual\nP1,soon,10\n")
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, plain, options=resolve_options(kind="cost_line"))
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "period")]
    assert dump(ingest_ws) == before
