"""Importers for real extracts as they come: one flat file split into several kinds with its
repeated reference rows loaded once, computed fields, period rounding, `columns:` that means
what it says, schedule currency, resource pools and self-contradicting schedules, and `--json`
output on refusal."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.errors import ConfigError, ValidationError
from bigov.finance.models import CostLine
from bigov.ingest.expressions import ExpressionError, evaluate, parse
from bigov.ingest.mapping import parse_mapping
from bigov.ingest.service import import_file, resolve_options
from bigov.org.models import OrgUnit
from bigov.work.models import WorkItem
from bigov.workspace import Workspace

DATA = Path(__file__).parent / "data"
FLAT = DATA / "flat_portfolio.csv"
MAPPING = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flat-portfolio-mapping.yaml"
SCHEDULES = Path(__file__).resolve().parents[3] / "shared" / "data" / "schedules"
# the shared schedule files sit beside the checkout (as in CI); a clone elsewhere skips, as
# tests/ingest/test_schedule.py does
needs_schedules = pytest.mark.skipif(
    not SCHEDULES.is_dir(), reason=f"shared schedule files not found at {SCHEDULES}"
)
runner = CliRunner()


def _work(ws: Workspace) -> dict[str, WorkItem]:
    with ws.session() as s:
        items = list(s.scalars(select(WorkItem)))
        s.expunge_all()
    return {w.code: w for w in items}


def test_flat_extract_in_one_import(ingest_ws: Workspace) -> None:
    result = import_file(ingest_ws, FLAT, options=resolve_options(mapping=MAPPING))
    # 36 project rows: 4 agencies and 12 investments repeated on them, loaded once each
    assert {k: c["inserted"] for k, c in result.counts.items()} == {
        "org_unit": 4,
        "work_item": 12 + 36,
        "cost_line": 36,
    }
    with ingest_ws.session() as s:
        units = {u.code: u.name for u in s.scalars(select(OrgUnit))}
        ids = {u.id: u.code for u in s.scalars(select(OrgUnit))}
    assert units["009"] == "Department of Health and Human Services"
    items = _work(ingest_ws)
    by_id = {w.id: w.code for w in items.values()}
    # first row of the file: 005, 005-660475952, project 101, 02/17/2025 + 270 days, $19.2m
    project = items["PRJ-005-101"]
    assert by_id[project.parent_id] == "INV-005-660475952"  # type: ignore[index]
    assert ids[project.org_unit_id] == "005"  # type: ignore[index]
    assert project.baseline_start == dt.date(2025, 2, 17)
    assert project.baseline_finish == dt.date(2025, 2, 17) + dt.timedelta(days=270)
    assert project.whole_life_cost == Decimal("19200000")
    assert items["INV-005-660475952"].kind.value == "programme"
    with ingest_ws.session() as s:
        periods = {c.period for c in s.scalars(select(CostLine))}
        line = s.scalar(select(CostLine).where(CostLine.code == "PRJ-005-101/2025-05/opex"))
    assert all(p.day == 1 for p in periods)  # full dates rounded to their month
    assert line is not None and line.forecast == Decimal("22710000") and line.currency == "USD"
    # the same file again changes nothing
    again = import_file(ingest_ws, FLAT, options=resolve_options(mapping=MAPPING))
    assert again.totals["inserted"] == again.totals["updated"] == 0


def test_repeated_rows_that_disagree_are_named(ingest_ws: Workspace, tmp_path: Path) -> None:
    lines = FLAT.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = lines[4].replace("Department of Agriculture", "Dept. of Agriculture")
    bad = tmp_path / "flat.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, bad, options=resolve_options(mapping=MAPPING))
    [problem] = info.value.problems
    assert (problem.row, problem.column, problem.value) == (
        5,
        "Agency Name",
        "Dept. of Agriculture",
    )
    assert problem.reason == (
        "org_unit 005 repeats row 2 with another name: 'Department of Agriculture' there, "
        "'Dept. of Agriculture' here (repeated rows must agree)"
    )
    assert _work(ingest_ws) == {}


def test_computed_fields_expressions() -> None:
    row = {
        "start": "15/03/2024",
        "days": "30",
        "id": "DFT_0040_2021-Q1",
        "empty": "",
        "cost": "1,234.567",
    }

    def cell(header: str) -> str:
        return row[header.lower()]

    cases = {
        "[Start] + [Days]": dt.date(2024, 4, 14),
        "[Start] - 15": dt.date(2024, 2, 29),
        "'PRJ-' & [Id]": "PRJ-DFT_0040_2021-Q1",
        "prefix([Id], '_')": "DFT",
        "prefix([Id], 8)": "DFT_0040",
        "month([Start])": dt.date(2024, 3, 1),
        "quarter([Start])": dt.date(2024, 1, 1),
        "year([Start])": dt.date(2024, 1, 1),
        "round([Cost], 1)": Decimal("1234.6"),
        "[Empty] + 1": None,
        "coalesce([Empty], 'n/a')": "n/a",
        "upper(prefix([Id], '-'))": "DFT_0040_2021",
        "'FY' & (2024 + 1)": "FY2025",
    }
    for text, want in cases.items():
        assert evaluate(parse(text), cell) == want, text
    with pytest.raises(ExpressionError, match="is not a date"):
        evaluate(parse("month([Id])"), cell)
    for bad in ("[a] +", "__import__('os')", "[a] [b]", "month(1, 2)", "'open", "1; 2"):
        with pytest.raises(ConfigError):
            parse(bad)


def test_mapping_refuses_bad_computed_fields() -> None:
    with pytest.raises(ConfigError, match="has no field 'nope'"):
        parse_mapping("kinds:\n  work_item:\n    computed: {nope: \"'x'\"}\n")
    with pytest.raises(ConfigError, match="both mapped from a column and computed"):
        parse_mapping("kinds:\n  org_unit:\n    columns: {A: code}\n    computed: {code: '[A]'}\n")
    with pytest.raises(ConfigError, match="unknown function 'eval'"):
        parse_mapping("kind: org_unit\ncomputed: {code: 'eval([A])'}\n")


def test_computed_value_problems_name_the_row(ingest_ws: Workspace, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "kind: work_item\ncolumns: {Ref: code, Title: name, Start: baseline_start}\n"
        "computed: {baseline_finish: '[Start] + [Days]'}\ndefaults: {kind: project}\n"
    )
    data = tmp_path / "w.csv"
    data.write_text("Ref,Title,Start,Days\nP1,One,2024-01-01,10\nP2,Two,soon,10\n")
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    # the bad start is said once, against its own column: not again by the finish computed from it
    [problem] = info.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "Start", "soon")
    assert problem.reason.startswith("expected a date, got 'soon'")
    # a cell only the expression reads is named with its column and value
    data.write_text("Ref,Title,Start,Days\nP1,One,2024-01-01,ten\n")
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    [problem] = info.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "Days", "ten")
    assert problem.reason == (
        "'ten' is neither a number nor a date; "
        "needed to compute work_item.baseline_finish = [Start] + [Days]"
    )


def test_unlisted_columns_are_ignored_under_columns(ingest_ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "w.csv"
    # "Phase" and "Status" are the source's own words, named like bigov fields
    data.write_text("Ref,Title,Phase,Status\nP1,One,Gate 2,On track\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "kind: work_item\ncolumns: {Ref: code, Title: name}\ndefaults: {kind: project}\n"
    )
    result = import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    assert result.counts["work_item"]["inserted"] == 1
    assert _work(ingest_ws)["P1"].phase.value == "identification"  # the default, not "Gate 2"
    # the old reading, by name for unlisted columns, when asked for
    mapping.write_text(
        "kind: work_item\ncolumns: {Ref: code, Title: name}\nunlisted: by_name\n"
        "defaults: {kind: project}\n"
    )
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    assert {p.column for p in info.value.problems} == {"Phase"}


def test_period_round_month_for_costs(ingest_ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "w.csv").write_text("code,name,kind\nP1,One,project\n")
    import_file(ingest_ws, tmp_path / "w.csv", options=resolve_options(kind="work_item"))
    data = tmp_path / "c.csv"
    data.write_text("Project,Invoice date,Amount\nP1,17/04/2024,10\nP1,30/04/2024,5\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "kind: cost_line\ncolumns: {Project: work_item, Invoice date: period, Amount: actual}\n"
        'date_format: "%d/%m/%Y"\nperiod_round: month\n'
    )
    # two invoices of one month are one cost line's key twice: the file must sum them first
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    [problem] = info.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "Invoice date", "30/04/2024")
    assert problem.reason == (
        "cost_line P1/2024-04/opex: rows 2 and 3 are in one month after period_round "
        "('17/04/2024' there, '30/04/2024' here); sum them in the source, or keep them apart "
        "by expenditure or funding_source"
    )
    data.write_text("Project,Invoice date,Amount\nP1,17/04/2024,10\nP1,02/05/2024,5\n")
    import_file(ingest_ws, data, options=resolve_options(mapping=mapping))
    with ingest_ws.session() as s:
        got = {(c.period, c.actual) for c in s.scalars(select(CostLine))}
    assert got == {(dt.date(2024, 4, 1), Decimal("10.00")), (dt.date(2024, 5, 1), Decimal("5.00"))}


def test_cli_json_on_refusal(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    data = tmp_path / "w.csv"
    data.write_text("code,name,kind\nP1,One,spaceship\n")
    out = runner.invoke(app, ["import", str(data), "--kind", "work_item", "--json", "--db", db])
    assert out.exit_code == 6
    report = json.loads(out.stdout)
    assert report["status"] == "rejected" and report["file_name"] == "w.csv"
    # the refusal is the one error document every --json command prints
    problem = report["error"]["problems"][0]
    assert report["error"]["type"] == "ValidationError"
    assert problem["row"] == 2 and problem["column"] == "kind"


# -- schedules (MPXJ, a Java runtime) -------------------------------------------------------------


def _schedule_copy(tmp_path: Path, name: str, edit: tuple[str, str] | None = None) -> Path:
    text = (SCHEDULES / name).read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    out = tmp_path / name
    out.write_text(text, encoding="utf-8")
    return out


@needs_schedules
@pytest.mark.skipif(shutil.which("java") is None, reason="MPXJ needs a Java runtime")
def test_schedule_currency_from_the_file_else_workspace(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    ingest_ws.set_setting("currency", "EUR")
    # PMXML naming its currency as Primavera writes it (Currency/Id); MPXJ passes only "$"
    usd = _schedule_copy(
        tmp_path,
        "percent-complete-8.4.pmxml",
        (
            "\t<OBS>",
            "\t<Currency><ExchangeRate>1</ExchangeRate><Id>USD</Id><Symbol>$</Symbol>"
            "</Currency>\n\t<OBS>",
        ),
    )
    from bigov.ingest.schedule import file_currency

    assert file_currency(usd) == "USD"
    assert file_currency(SCHEDULES / "resource-rates-test.xer") == "USD"  # CURRTYPE, rate 1
    result = import_file(ingest_ws, usd)
    assert not any("currency" in w for w in result.warnings)
    # a file stating none: the workspace's currency, with a warning
    plain = import_file(ingest_ws, SCHEDULES / "enterprise.xml")
    assert any(
        "states no currency code (symbol '$')" in w and "EUR, the workspace currency" in w
        for w in plain.warnings
    )


@needs_schedules
@pytest.mark.skipif(shutil.which("java") is None, reason="MPXJ needs a Java runtime")
def test_resource_pool_and_contradicting_progress(ingest_ws: Workspace, tmp_path: Path) -> None:
    pool = tmp_path / "pool.xml"
    pool.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Project xmlns="http://schemas.microsoft.com/project"><Name>Pool</Name>'
        "<CurrencyCode>USD</CurrencyCode><Resources>"
        "<Resource><UID>0</UID><ID>0</ID><Type>1</Type></Resource>"
        "<Resource><UID>1</UID><ID>1</ID><Name>Ada</Name><Type>1</Type>"
        "<Group>Data engineer</Group></Resource>"
        "<Resource><UID>2</UID><ID>2</ID><Name>Grace</Name><Type>1</Type>"
        "<Group>Software engineer</Group></Resource>"
        "<Resource><UID>3</UID><ID>3</ID><Name>Alan</Name><Type>1</Type>"
        "<Group>Software engineer</Group></Resource>"
        "</Resources></Project>\n",
        encoding="utf-8",
    )
    result = import_file(ingest_ws, pool)
    assert result.counts == {"skill": {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0}}
    assert any("resource-only file" in w for w in result.warnings)

    claims = _schedule_copy(
        tmp_path,
        "task-baselines-project2019-mspdi.xml",
        ("<PercentComplete>0</PercentComplete>", "<PercentComplete>99</PercentComplete>"),
    )
    warned = import_file(ingest_ws, claims)
    assert any(
        "top-level % complete is 99.0 % but its tasks' durations give 0.0 %" in w
        for w in warned.warnings
    )
