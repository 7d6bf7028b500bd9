"""Validation collects every problem; bad files get a clear error and change nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import dump, write
from sqlalchemy import select

from bigov.errors import ValidationError
from bigov.ingest.parse import ParseError, parse_bool, parse_date, parse_decimal, parse_int
from bigov.ingest.service import import_file, resolve_options
from bigov.ingest.template import write_error_report
from bigov.work.models import StatusReport
from bigov.workspace import Workspace

SEED = "code,name,kind\nP1,Portfolio,portfolio\nPRJ1,One,project\n"


def _seed(ws: Workspace, tmp_path: Path) -> None:
    import_file(ws, write(tmp_path / "seed.csv", SEED), options=resolve_options(kind="work"))


def _rejects(ws: Workspace, path: Path, **kw: object) -> ValidationError:
    before = dump(ws)
    with pytest.raises(ValidationError) as err:
        import_file(ws, path, options=resolve_options(**kw))  # type: ignore[arg-type]
    assert dump(ws) == before
    return err.value


def test_all_problems_are_collected(ingest_ws: Workspace, tmp_path: Path) -> None:
    _seed(ingest_ws, tmp_path)
    bad = write(
        tmp_path / "bad.csv",
        "code,name,kind,parent,baseline_start,baseline_finish,whole_life_cost,phase\n"
        "A,Alpha,projekt,P1,2024-01-01,2025-01-01,10,delivery\n"  # bad enum
        "B,,project,NOPE,2024-01-01,2023-01-01,-5,delivery\n"  # 4 problems
        "A,Again,project,P1,,,,\n"  # duplicate
        "C,Gamma,project,P1,31/02/2024,,abc,\n",
    )  # date, number
    err = _rejects(ingest_ws, bad, kind="work")
    reasons = {(p.row, p.column): p.reason for p in err.problems}
    assert "is not one of" in reasons[(2, "kind")]
    assert reasons[(3, "name")] == "name is required"
    assert reasons[(3, "parent")] == "unknown work_item code 'NOPE'"
    assert "before baseline_start" in reasons[(3, "baseline_finish")]
    assert reasons[(3, "whole_life_cost")] == "must not be negative"
    assert "duplicate work_item code" in reasons[(4, "code")]
    assert "expected a date" in reasons[(5, "baseline_start")]
    assert "expected a number" in reasons[(5, "whole_life_cost")]
    assert all(p.file == "bad.csv" for p in err.problems)
    # the error report a PMO hands back
    write_error_report(err.problems, tmp_path / "errors.csv")
    lines = (tmp_path / "errors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "file,sheet,row,column,value,reason" and len(lines) == 1 + len(err.problems)
    write_error_report(err.problems, tmp_path / "errors.xlsx")
    assert zipfile.is_zipfile(tmp_path / "errors.xlsx")


def test_enum_spelling_variants(ingest_ws: Workspace, tmp_path: Path) -> None:
    _seed(ingest_ws, tmp_path)
    data = write(
        tmp_path / "s.csv",
        "work_item,period,confidence,overall\n"
        "PRJ1,2024-01-01,Amber/Green,GREEN\nPRJ1,2024-02-01,AMBER GREEN,Red\n"
        "PRJ1,2024-03-01,amber - red,amber\n",
    )
    import_file(ingest_ws, data, options=resolve_options(kind="status_report"))
    with ingest_ws.session() as s:
        values = [
            r.value
            for r in s.scalars(select(StatusReport.confidence).order_by(StatusReport.period))
            if r
        ]
    assert values == ["amber/green", "amber/green", "amber/red"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n  \n", "no data"),
        ("corrupt.xlsx", b"PK\x03\x04 this is not really a zip", "not a readable XLSX"),
        ("binary.csv", b"\x00\x01\x02\x03" * 100, "binary"),
        ("data.pdf", b"%PDF-1.4", "unsupported file type"),
        ("old.xls", b"\xd0\xcf\x11\xe0", ".xls"),
        ("broken.json", b'{"work_item": [ {"code": "A"', "not valid JSON"),
        ("huge_field.csv", b'code,name\nA,"' + b"x" * 1_100_000 + b'"\n', "malformed CSV"),
    ],
)
def test_bad_files(
    ingest_ws: Workspace, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    err = _rejects(ingest_ws, path, kind="work_item")
    assert expected in str(err) or any(expected in p.reason for p in err.problems)


def test_partially_valid_file_writes_nothing(ingest_ws: Workspace, tmp_path: Path) -> None:
    rows = "".join(f"W{i},Item {i},project\n" for i in range(500))
    err = _rejects(
        ingest_ws,
        write(tmp_path / "p.csv", "code,name,kind\n" + rows + "W999,Bad,not-a-kind\n"),
        kind="work",
    )
    assert [p.row for p in err.problems] == [502]


def test_unknown_column_without_mapping(ingest_ws: Workspace, tmp_path: Path) -> None:
    err = _rejects(
        ingest_ws,
        write(tmp_path / "u.csv", "code,name,kind,colour\nA,B,project,red\n"),
        kind="work",
    )
    assert err.problems[0].column == "colour" and err.problems[0].row == 1


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_encodings(ingest_ws: Workspace, tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "e.csv", "code,name,kind\nA,Café £ project,project\n", encoding)
    import_file(ingest_ws, path, options=resolve_options(kind="work"))
    assert ingest_ws.work.item("A").name == "Café £ project"


def test_excel_cells(ingest_ws: Workspace, tmp_path: Path) -> None:
    """Real dates, serial numbers, text-typed numbers, cached formulas, merged headers."""
    from openpyxl import Workbook

    _seed(ingest_ws, tmp_path)
    wb = Workbook()
    ws = wb.active
    ws.title = "cost_line"
    ws.append(["work_item", "period", "Money", None, "expenditure"])
    ws.append([None, None, "budget", "forecast", None])
    ws.merge_cells("C1:D1")  # a group header over two sub-headers
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:B2")
    ws.merge_cells("E1:E2")
    ws.append(["PRJ1", dt.datetime(2024, 4, 1), "1,000.50", 900, "opex"])
    ws.append(["PRJ1", 45444, 10, "=C4*2", "capex"])  # 45444 = 2024-06-01
    wb.save(tmp_path / "cells.xlsx")
    mapping = write(
        tmp_path / "m.yaml",
        # the other headers are field names: read by name (unlisted columns are otherwise ignored)
        "columns: {Money budget: budget, Money forecast: forecast}\nunlisted: by_name\n",
    )
    # the formula was never calculated by Excel: no cached value -> error naming the cell
    err = _rejects(ingest_ws, tmp_path / "cells.xlsx", mapping=mapping)
    assert err.problems[0].column == "D4" and "cached value" in err.problems[0].reason
    _cache_formula_values(tmp_path / "cells.xlsx", {"D4": "20"})
    result = import_file(
        ingest_ws, tmp_path / "cells.xlsx", options=resolve_options(mapping=mapping)
    )
    assert result.counts["cost_line"]["inserted"] == 2
    with ingest_ws.session() as s:
        from bigov.finance.models import CostLine

        lines = {c.code: (c.budget, c.forecast) for c in s.scalars(select(CostLine))}
    assert lines == {"PRJ1/2024-04/opex": (1000.5, 900), "PRJ1/2024-06/capex": (10, 20)}


def _cache_formula_values(path: Path, values: dict[str, str]) -> None:
    """Write cached results into formula cells, as Excel does when it saves."""
    import re
    import shutil

    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, v in values.items():
                    text = re.sub(
                        rf'(<c r="{ref}"[^>]*>)<f>([^<]*)</f>(<v\s*/>|<v></v>)?',
                        rf"\1<f>\2</f><v>{v}</v>",
                        text,
                    )
                data = text.encode()
            dst.writestr(item, data)
    shutil.move(tmp, path)


values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.decimals(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_parsers_never_crash(value: object) -> None:
    for parser in (parse_decimal, parse_int, parse_bool, parse_date):
        with contextlib.suppress(ParseError):
            parser(value)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_decimal_text_round_trip(number: object) -> None:
    assert parse_decimal(f"{number:,}", scale=2) == parse_decimal(number, scale=2)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_date_spellings(day: dt.date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date((day - dt.date(1899, 12, 30)).days) == day
