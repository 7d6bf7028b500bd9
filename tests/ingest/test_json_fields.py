"""JSON-valued fields (``governance_node.rules``) through import and export: canonical text in
every file format, a real JSON object in the database, "unchanged" by value, and bad cells
refused with a problem naming file, row and column — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import dump, write
from openpyxl import load_workbook
from sqlalchemy import func, select

from bigov.errors import ValidationError
from bigov.governance.models import GovernanceNode
from bigov.ingest.export import export
from bigov.ingest.jsonvalue import canonical, parse_cell
from bigov.ingest.parse import ParseError
from bigov.ingest.service import ImportResult, import_file, resolve_options
from bigov.ingest.spec import kind_spec
from bigov.workspace import Workspace

NODES = (
    "code,name,kind,rules\n"
    'MB,Main board,main_board,"{ ""resource_over_pct"": 125.0, ""data_cutoff_days"": 10 }"\n'
    'PB,Project board,project_board,"{""min_cost_pct"":7.5,""data_cutoff_days"":3}"\n'
    "FN,Finance,finance,\n"
)
MB_TEXT = '{"data_cutoff_days":10,"resource_over_pct":125}'
PB_TEXT = '{"data_cutoff_days":3,"min_cost_pct":7.5}'


def _import(ws: Workspace, path: Path, kind: str | None = "governance_node") -> ImportResult:
    return import_file(ws, path, options=resolve_options(kind=kind), user="tester")


def _rules(ws: Workspace) -> dict[str, Any]:
    with ws.session() as s:
        return {n.code: n.rules for n in s.scalars(select(GovernanceNode))}


def _json_kinds(ws: Workspace) -> dict[str, str | None]:
    """The type of each stored value as the database's own JSON functions see it."""
    fn = "json_typeof" if ws.engine.dialect.name == "postgresql" else "json_type"
    table = kind_spec("governance_node").table
    with ws.engine.connect() as conn:
        rows = conn.execute(select(table.c.code, getattr(func, fn)(table.c.rules))).all()
    return {str(r[0]): r[1] for r in rows}


def test_field_kind_is_json() -> None:
    f = kind_spec("governance_node").fields["rules"]
    assert f.type == "json" and f.json_check is not None
    assert "JSON object" in f.describe()


def test_canonical_text() -> None:
    assert canonical({"b": 1.0, "a": [2.5, {"z": "é", "y": None}]}) == (
        '{"a":[2.5,{"y":null,"z":"é"}],"b":1}'
    )
    assert parse_cell(' {"b": 2, "a": 1} ') == '{"a":1,"b":2}'
    assert parse_cell("") is None and parse_cell(None) is None
    with pytest.raises(ParseError, match="twice"):
        parse_cell('{"a": 1, "a": 2}')
    with pytest.raises(ParseError, match="not a JSON number"):
        parse_cell('{"a": NaN}')
    with pytest.raises(ParseError, match="too large"):
        parse_cell('{"a": 1e400}')
    with pytest.raises(ParseError, match="not a usable JSON value"):
        parse_cell('{"a": 1' + "0" * 5000 + "}")
    with pytest.raises(ParseError, match="nested deeper"):
        parse_cell('{"a":' * 20 + "1" + "}" * 20)
    with pytest.raises(ParseError, match="nested deeper"):
        parse_cell('{"a":' * 100_000 + "1" + "}" * 100_000)
    with pytest.raises(ParseError, match="got a string"):
        parse_cell('"text"')


def test_json_field_round_trip(ingest_ws: Workspace, tmp_path: Path) -> None:
    first = _import(ingest_ws, write(tmp_path / "nodes.csv", NODES))
    assert first.counts["governance_node"]["inserted"] == 3
    assert _rules(ingest_ws) == {
        "MB": {"data_cutoff_days": 10, "resource_over_pct": 125},
        "PB": {"data_cutoff_days": 3, "min_cost_pct": 7.5},
        "FN": None,
    }
    # an object in the database, not a JSON string holding the text; an empty cell is NULL
    assert _json_kinds(ingest_ws) == {"MB": "object", "PB": "object", "FN": None}

    # the exports hold the canonical text, a text cell in every format
    xlsx, folder, doc = tmp_path / "out.xlsx", tmp_path / "csv", tmp_path / "out.json"
    export(ingest_ws, xlsx, only=["governance_node"])
    export(ingest_ws, folder, only=["governance_node"])
    export(ingest_ws, doc, only=["governance_node"])
    sheet = load_workbook(xlsx)["governance_node"]
    header = [c.value for c in sheet[1]]
    cells = {r[0].value: r[header.index("rules")] for r in sheet.iter_rows(min_row=2)}
    assert cells["MB"].value == MB_TEXT and cells["MB"].data_type == "s"
    assert cells["PB"].value == PB_TEXT and cells["FN"].value is None
    with (folder / "governance_node.csv").open(encoding="utf-8-sig", newline="") as fh:
        by_code = {r["code"]: r["rules"] for r in csv.DictReader(fh)}
    assert by_code == {"FN": "", "MB": MB_TEXT, "PB": PB_TEXT}
    rows = json.loads(doc.read_text(encoding="utf-8"))["governance_node"]
    assert {r["code"]: r["rules"] for r in rows} == {"FN": None, "MB": MB_TEXT, "PB": PB_TEXT}

    # each re-imports as unchanged: nothing but the batch record is written
    before = dump(ingest_ws)
    for path, kind in (
        (xlsx, None),
        (folder / "governance_node.csv", "governance_node"),
        (doc, None),
    ):
        again = _import(ingest_ws, path, kind=kind)
        assert again.counts["governance_node"] == {
            "inserted": 0,
            "updated": 0,
            "unchanged": 3,
            "rejected": 0,
        }, path.name
    assert dump(ingest_ws) == before

    # the same object spelt otherwise (order, blanks, 10.0) is unchanged; a new value updates
    changed = write(
        tmp_path / "changed.csv",
        "code,rules\n"
        'MB,"{""resource_over_pct"" : 125, ""data_cutoff_days"": 10.0}"\n'
        'PB,"{""data_cutoff_days"":4,""min_cost_pct"":7.5}"\n'
        'FN,"{""run_change_pp"":2}"\n',
    )
    result = _import(ingest_ws, changed)
    assert result.counts["governance_node"] == {
        "inserted": 0,
        "updated": 2,
        "unchanged": 1,
        "rejected": 0,
    }
    assert _rules(ingest_ws) == {
        "MB": {"data_cutoff_days": 10, "resource_over_pct": 125},
        "PB": {"data_cutoff_days": 4, "min_cost_pct": 7.5},
        "FN": {"run_change_pp": 2},
    }
    assert _json_kinds(ingest_ws) == {"MB": "object", "PB": "object", "FN": "object"}


def test_stored_float_matches_whole_number_text(ingest_ws: Workspace, tmp_path: Path) -> None:
    """The governance design import stores settings as floats (125.0); the export writes 125
    and its re-import is unchanged."""
    _import(ingest_ws, write(tmp_path / "nodes.csv", NODES))
    with ingest_ws.session() as s:
        node = s.scalar(select(GovernanceNode).where(GovernanceNode.code == "MB"))
        assert node is not None
        node.rules = {"resource_over_pct": 125.0, "min_cost_pct": 2.5}
        s.commit()
    out = export(ingest_ws, tmp_path / "nodes-out.csv", only=["governance_node"])[0]
    assert '"{""min_cost_pct"":2.5,""resource_over_pct"":125}"' in out.read_text("utf-8-sig")
    again = _import(ingest_ws, out)
    assert again.counts["governance_node"]["unchanged"] == 3


BAD = (
    "code,name,kind,rules\n"
    'A,Good,finance,"{""min_cost_pct"": 5}"\n'
    'B,Broken,finance,"{""min_cost_pct"": 5"\n'
    'C,List,finance,"[1, 2]"\n'
    'D,Unknown,finance,"{""cost_pct"": 5}"\n'
    'E,Range,finance,"{""resource_over_pct"": 2000, ""data_cutoff_days"": 61}"\n'
    'F,Text,finance,"{""min_cost_pct"": ""5""}"\n'
    "G,Plain,finance,resource_over_pct=125\n"
)


def test_bad_json_cells_are_refused(ingest_ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "bad-nodes.csv", BAD)
    before = dump(ingest_ws)
    with pytest.raises(ValidationError) as err:
        _import(ingest_ws, path)
    assert dump(ingest_ws) == before  # nothing written, not even the good row
    problems = err.value.problems
    assert {(p.file, p.column) for p in problems} == {("bad-nodes.csv", "rules")}
    by_row = {p.row: p.reason for p in problems}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8]  # row 2 (A) is fine
    assert by_row[3].startswith("not valid JSON")
    assert by_row[4] == "expected a JSON object, got an array"
    assert by_row[5].startswith("unknown rule setting 'cost_pct'; use min_cost_pct")
    assert "rule setting resource_over_pct is 2000: out of range 0–1000" in by_row[6]
    assert "rule setting data_cutoff_days is 61: out of range 0–60" in by_row[6]
    assert by_row[7] == 'rule setting min_cost_pct must be a number, got "5"'
    assert by_row[8].startswith("not valid JSON")
    assert next(p for p in problems if p.row == 8).value == "resource_over_pct=125"


def test_bad_json_cell_in_xlsx(ingest_ws: Workspace, tmp_path: Path) -> None:
    """A number typed into the rules column of a workbook is not an object."""
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "governance_node"
    sheet.append(["code", "name", "kind", "rules"])
    sheet.append(["A", "Board", "main_board", 125])
    path = tmp_path / "nodes.xlsx"
    wb.save(path)
    before = dump(ingest_ws)
    with pytest.raises(ValidationError) as err:
        _import(ingest_ws, path, kind=None)
    assert dump(ingest_ws) == before
    (problem,) = err.value.problems
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "nodes.xlsx",
        "governance_node",
        2,
        "rules",
    )
    assert problem.reason.startswith("expected a JSON object")


def test_json_file_may_nest_the_object(ingest_ws: Workspace, tmp_path: Path) -> None:
    """A JSON import file may give the rules as an object rather than its text."""
    doc = {
        "governance_node": [
            {"code": "MB", "name": "Main board", "kind": "main_board", "rules": {"b": 1}},
        ]
    }
    path = write(tmp_path / "nodes.json", json.dumps(doc))
    with pytest.raises(ValidationError) as err:  # "b" is no rule setting: the check still runs
        _import(ingest_ws, path, kind=None)
    assert err.value.problems[0].reason.startswith("unknown rule setting 'b'")
    doc["governance_node"][0]["rules"] = {"resource_over_pct": 150, "min_cost_pct": 1}
    _import(ingest_ws, write(path, json.dumps(doc)), kind=None)
    assert _rules(ingest_ws) == {"MB": {"min_cost_pct": 1, "resource_over_pct": 150}}
