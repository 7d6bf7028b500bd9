"""Numbers and dates are never misread: through the real CLI on every backend.

A comma is a thousands separator only between groups of three digits (``1,5`` is refused, not
read as 15) unless the mapping declares ``decimal: ","``; money is refused beyond what every
backend stores exactly (below 10^13, 2 decimals) and round-trips exactly at the limit; dates
outside 1900-01-01..2200-12-31 (a ``9999-12`` period) are refused with a clear reason.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db.base import Base
from bigov.db.batch import ImportBatch
from bigov.ingest.parse import MONEY_LIMIT, NumberFormat, ParseError, parse_decimal
from bigov.work.models import WorkItem
from bigov.workspace import Workspace

runner = CliRunner()


def dump(ws: Workspace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with ws.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for name, table in sorted(Base.metadata.tables.items()):
            if name == "import_batch" or name not in present:
                continue
            order = list(table.primary_key.columns)
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def _url(ws: Workspace) -> str:
    return ws.describe(hide_password=False)


def _csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _import(ws: Workspace, path: Path, *extra: str) -> Any:
    return runner.invoke(app, ["import", str(path), "--db", _url(ws), *extra])


def _last_batch(ws: Workspace) -> tuple[str, str]:
    """Status and message of the newest batch (the message holds the first problems)."""
    with ws.session() as s:
        batch = s.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
        assert batch is not None
        return batch.status, batch.message or ""


def _costs(ws: Workspace) -> dict[str, Decimal | None]:
    with ws.session() as s:
        return {w.code: w.whole_life_cost for w in s.scalars(select(WorkItem))}


REFUSED = {
    "1,5": "thousands separator",
    "0,5": "thousands separator",
    "12,34": "thousands separator",
    "1.234,50": "thousands separator",
    "1,2345": "thousands separator",
    "1,23,456": "thousands separator",
    "12 34": "expected a number",
    "10000000000000": "too large",
    "99999999999999.99": "too large",
    "9999999999999999.99": "too large",
    "10000000000000.00": "too large",
    "1e14": "too large",
}


@pytest.mark.parametrize("value", sorted(REFUSED))
def test_ambiguous_or_unstorable_numbers_are_refused(
    workspace: Workspace, tmp_path: Path, value: str
) -> None:
    before = dump(workspace)
    data = _csv(
        tmp_path / "w.csv",
        "code,name,kind,whole_life_cost",
        "OK1,Plain,project,9999999999999.99",  # a plain cell (the vectorised path) beside it
        f'BAD,Hostile,project,"{value}"',
    )
    result = _import(workspace, data, "--kind", "work_item")
    assert result.exit_code == 6, result.output
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: 1 problem(s) in 1 row(s) of 2: nothing was imported")
    assert dump(workspace) == before
    status, message = _last_batch(workspace)
    assert status == "rejected"
    assert "whole_life_cost" in message and REFUSED[value] in message


def test_thousands_separators_in_groups_of_three_are_read(
    workspace: Workspace, tmp_path: Path
) -> None:
    data = _csv(
        tmp_path / "w.csv",
        "code,name,kind,whole_life_cost",
        'A,a,project,"1,234"',
        'B,b,project,"1,234,567.5"',
        "C,c,project,£2 500.75",
        "E,e,project,9999999999999.99",
    )
    result = _import(workspace, data, "--kind", "work_item")
    assert result.exit_code == 0, result.output
    assert _costs(workspace) == {
        "A": Decimal("1234.00"),
        "B": Decimal("1234567.50"),
        "C": Decimal("2500.75"),
        "E": Decimal("9999999999999.99"),
    }


def test_a_decimal_comma_is_read_when_the_mapping_says_so(
    workspace: Workspace, tmp_path: Path
) -> None:
    mapping = tmp_path / "eu.yaml"
    mapping.write_text('kind: work_item\ndecimal: ","\n', encoding="utf-8")
    data = _csv(
        tmp_path / "w.csv",
        "code;name;kind;whole_life_cost",
        "A;a;project;1.234,50",
        "B;b;project;1,5",
        "C;c;project;0,5",
        "D;d;project;1.234.567,25",
    )
    result = _import(workspace, data, "--mapping", str(mapping))
    assert result.exit_code == 0, result.output
    assert _costs(workspace) == {
        "A": Decimal("1234.50"),
        "B": Decimal("1.50"),
        "C": Decimal("0.50"),
        "D": Decimal("1234567.25"),
    }
    before = dump(workspace)
    bad = _csv(tmp_path / "x.csv", "code;name;kind;whole_life_cost", "X;x;project;1,234.5")
    result = _import(workspace, bad, "--mapping", str(mapping))
    assert result.exit_code == 6
    assert "expected a number" in _last_batch(workspace)[1]
    assert dump(workspace) == before


def test_a_mapping_cannot_make_both_separators_the_same(
    workspace: Workspace, tmp_path: Path
) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text('kind: work_item\ndecimal: ","\nthousands: ","\n', encoding="utf-8")
    data = _csv(tmp_path / "w.csv", "code,name,kind", "A,a,project")
    result = _import(workspace, data, "--mapping", str(mapping))
    assert result.exit_code == 2 and "must differ" in result.stderr


def test_money_at_the_documented_limit_round_trips_exactly(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Stored, read back and exported/re-imported without a cent of drift on SQLite (floats)
    and PostgreSQL (NUMERIC) alike."""
    values = {
        "MAX": "9999999999999.99",
        "CENT": "0.01",
        "ODD": "1234567890123.45",
        "NINES": "999999999999.99",
    }
    data = _csv(
        tmp_path / "w.csv",
        "code,name,kind,whole_life_cost",
        *(f"{c},n,project,{v}" for c, v in values.items()),
    )
    assert _import(workspace, data, "--kind", "work_item").exit_code == 0
    assert _costs(workspace) == {c: Decimal(v) for c, v in values.items()}
    out = tmp_path / "export.json"
    result = runner.invoke(
        app, ["export", str(out), "--kind", "work_item", "--db", _url(workspace)]
    )
    assert result.exit_code == 0, result.output
    exported = {r["code"]: r["whole_life_cost"] for r in json.loads(out.read_text())["work_item"]}
    assert {c: Decimal(str(v)) for c, v in exported.items()} == {
        c: Decimal(v) for c, v in values.items()
    }
    result = _import(workspace, out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["unchanged"] == len(values)


def test_xlsx_numbers_beyond_the_limit_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "work_item"
    ws.append(["code", "name", "kind", "whole_life_cost"])
    ws.append(["A", "a", "project", 1.5e13])
    ws.append(["B", "b", "project", 9_999_999_999_999.99])
    path = tmp_path / "w.xlsx"
    wb.save(path)
    before = dump(workspace)
    result = _import(workspace, path)
    assert result.exit_code == 6, result.output
    assert "Traceback" not in result.stderr
    assert dump(workspace) == before
    assert "too large" in _last_batch(workspace)[1]


BAD_DATES = ["9999-12", "9999-12-31", "1899-12-31", "2201-01-01", "31/12/9999", "Dec 9999"]


@pytest.mark.parametrize("value", BAD_DATES)
def test_dates_outside_the_range_are_refused(
    workspace: Workspace, tmp_path: Path, value: str
) -> None:
    seed = _csv(tmp_path / "w.csv", "code,name,kind", "P1,p,project")
    assert _import(workspace, seed, "--kind", "work_item").exit_code == 0
    before = dump(workspace)
    costs = _csv(
        tmp_path / "c.csv",
        "work_item,period,budget",
        "P1,2026-09,100",  # a plain period (the vectorised path) beside it
        f"P1,{value},100",
    )
    result = _import(workspace, costs, "--kind", "cost_line")
    assert result.exit_code == 6, result.output
    assert "Traceback" not in result.stderr
    assert dump(workspace) == before
    status, message = _last_batch(workspace)
    assert status == "rejected"
    assert "period: date" in message
    assert "outside the accepted range 1900-01-01 to 2200-12-31" in message


def test_dates_at_the_edges_of_the_range_are_accepted(workspace: Workspace, tmp_path: Path) -> None:
    data = _csv(
        tmp_path / "w.csv",
        "code,name,kind,baseline_start,baseline_finish",
        "P1,p,project,1900-01-01,2200-12-31",
    )
    result = _import(workspace, data, "--kind", "work_item")
    assert result.exit_code == 0, result.output


def test_parser_rules() -> None:
    """The rules themselves, on the per-value parser every unusual cell goes through."""
    assert parse_decimal("1,234") == Decimal(1234)
    assert parse_decimal("1'234'567") == Decimal(1234567)
    assert parse_decimal("1\u00a0234,5", fmt=NumberFormat(decimal=",", thousands=".")) == (
        Decimal("1234.5")
    )
    for bad in ("1,5", "1,23", ",5", "1,,234", "1,234,56", "1 ,234"):
        with pytest.raises(ParseError):
            parse_decimal(bad)
    assert Decimal(10) ** 13 == MONEY_LIMIT


@pytest.mark.parametrize("value", ["3000000000", "-2147483648", "99999999999999999999"])
def test_whole_numbers_beyond_32_bits_are_refused_not_a_database_error(
    workspace: Workspace, tmp_path: Path, value: str
) -> None:
    before = dump(workspace)
    data = _csv(
        tmp_path / "n.csv",
        "code,name,kind,sitting_day",
        "N1,Board,main_board,3",  # a plain cell (the vectorised path) beside it
        f"N2,Hostile,main_board,{value}",
    )
    result = _import(workspace, data, "--kind", "governance_node")
    assert result.exit_code == 6, result.output
    assert dump(workspace) == before
    status, message = _last_batch(workspace)
    assert status == "rejected" and "sitting_day" in message and "too large" in message


@pytest.mark.parametrize(
    "ts", ["9999-12-31T12:00:00Z", "9999-12-31 12:00:00", "1899-12-31T23:00:00Z", "1000-01-01"]
)
def test_observation_times_outside_the_range_are_refused(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ts: str
) -> None:
    """A year-9999 observation used to end in an OverflowError traceback (its period's end)."""
    monkeypatch.setenv("BIGOV_METRICS_STORE", str(tmp_path / "store"))
    url = _url(workspace)
    define = ["metrics", "define", "m", "--name", "M", "--series", "S1=ORG1", "--db", url]
    assert runner.invoke(app, define).exit_code == 0
    before = dump(workspace)
    obs = _csv(tmp_path / "obs.csv", "series,ts,value", "S1,2025-01-01T00:00:00Z,1", f"S1,{ts},2")
    result = runner.invoke(app, ["metrics", "load", str(obs), "--db", url])
    assert result.exit_code == 6, result.output
    assert "Traceback" not in result.stderr
    assert "timestamp outside the accepted range 1900-01-01 to 2200-12-31" in result.stderr
    assert dump(workspace) == before
    assert _last_batch(workspace)[0] == "rejected"
