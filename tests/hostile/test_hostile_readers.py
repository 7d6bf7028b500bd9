"""Hostile files through the real CLI, on every backend: each is refused with exit 6 and a
one-line message, no traceback, and the stored data unchanged (row counts and rows).

Payloads: YAML alias bombs (billion laughs), Python tags, recursive aliases, YAML and JSON
nested 100k deep, a JSON cell nested past the limit, an XLSX zip bomb (over 1 GB uncompressed,
about 1 MB on disk), an XLSX with a high compression ratio, XLSX parts declaring a DOCTYPE or
entities (UTF-8 and UTF-16), oversize files of each kind, and bad shapes of ratings files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db.base import Base
from bigov.db.batch import ImportBatch
from bigov.workspace import Workspace
from tests.hostile import payloads as pl

runner = CliRunner()


def dump(ws: Workspace) -> dict[str, Any]:
    """Every row of every table but the batch log (which records the refusal)."""
    out: dict[str, Any] = {}
    with ws.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for name, table in sorted(Base.metadata.tables.items()):
            if name == "import_batch" or name not in present:
                continue
            order = list(table.primary_key.columns)
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def batch_statuses(ws: Workspace) -> list[str]:
    with ws.session() as s:
        return list(s.scalars(select(ImportBatch.status).order_by(ImportBatch.id)))


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def seeded(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace holding a few rows (so "unchanged" means something) and a metrics store."""
    monkeypatch.setenv("BIGOV_METRICS_STORE", str(tmp_path / "store"))
    seed = write(tmp_path / "seed.csv", "code,name,kind\nP1,Alpha,project\nP2,Beta,programme\n")
    r = runner.invoke(app, ["import", str(seed), "--kind", "work_item", "--db", _url(workspace)])
    assert r.exit_code == 0, r.output
    return workspace


def _url(ws: Workspace) -> str:
    return ws.describe(hide_password=False)


# --- the payloads: (name, builder of the command line after "bigov", imports a data file) ---

Build = Callable[[Path], list[str]]


def _import(name: str, make: Callable[[Path], Path], *extra: str) -> Build:
    def build(tmp: Path) -> list[str]:
        return ["import", str(make(tmp / name)), "--kind", "work_item", *extra]

    return build


def _with_mapping(text: str) -> Build:
    def build(tmp: Path) -> list[str]:
        data = write(tmp / "rows.csv", "code,name,kind\nW1,Alpha,project\n")
        mapping = write(tmp / "map.yaml", text)
        return ["import", str(data), "--mapping", str(mapping)]

    return build


def _file_command(command: list[str], name: str, text: str) -> Build:
    def build(tmp: Path) -> list[str]:
        return [*command, str(write(tmp / name, text))]

    return build


def _rate(name: str, text: str) -> Build:
    def build(tmp: Path) -> list[str]:
        return ["portfolio", "rate", "--file", str(write(tmp / name, text))]

    return build


PAYLOADS: dict[str, tuple[Build, bool]] = {
    # data files given to `bigov import`
    "json-100k-deep": (_import("deep.json", lambda p: write(p, pl.deep_json())), True),
    "json-cell-200-deep": (_import("cell.json", lambda p: write(p, pl.deep_json_cell())), True),
    "json-200k-distinct-keys": (
        _import(
            "keys.json",
            lambda p: write(
                p, '{"work_item": [{' + ",".join(f'"k{i}": 1' for i in range(200_000)) + "}]}"
            ),
        ),
        True,
    ),
    "json-5000-digit-number": (
        _import("n.json", lambda p: write(p, '{"work_item": [{"code": ' + "9" * 5000 + "}]}")),
        True,
    ),
    "xlsx-zip-bomb-1.1GB": (_import("bomb.xlsx", pl.zip_bomb), True),
    "xlsx-ratio-bomb": (
        _import("ratio.xlsx", lambda p: pl.zip_bomb(p, uncompressed=100 * 1024**2)),
        True,
    ),
    "xlsx-doctype": (_import("doctype.xlsx", pl.doctype_xlsx), True),
    "xlsx-20k-parts": (_import("parts.xlsx", pl.many_parts_xlsx), True),
    "xlsx-stray-cell-17G-cells": (_import("sparse.xlsx", pl.sparse_xlsx), True),
    "xlsx-doctype-utf16": (
        _import("doctype16.xlsx", lambda p: pl.doctype_xlsx(p, encoding="utf-16")),
        True,
    ),
    "csv-oversize": (
        _import(
            "big.csv",
            lambda p: write(p, "code,name,kind\n" + "W1,Alpha,project\n" * 200),
            "--option",
            "max_bytes=1000",
        ),
        True,
    ),
    # YAML mappings given to `bigov import --mapping`
    "mapping-billion-laughs": (_with_mapping(pl.BILLION_LAUGHS), False),
    "mapping-python-tag": (_with_mapping(pl.PYTHON_TAG), False),
    "mapping-100k-deep": (_with_mapping(pl.deep_yaml()), False),
    "mapping-recursive-alias": (_with_mapping(pl.RECURSIVE_ALIAS), False),
    "mapping-5000-digit-number": (_with_mapping("skip_rows: " + "9" * 5000 + "\n"), False),
    # portfolio problem, pairwise and ratings files
    "optimise-billion-laughs": (
        _file_command(["portfolio", "optimise"], "p.yaml", pl.BILLION_LAUGHS),
        False,
    ),
    "optimise-json-100k-deep": (
        _file_command(["portfolio", "optimise"], "p.json", pl.deep_json()),
        False,
    ),
    "optimise-python-tag": (
        _file_command(["portfolio", "optimise"], "p.yaml", pl.PYTHON_TAG),
        False,
    ),
    "ahp-billion-laughs": (_file_command(["portfolio", "ahp"], "m.yaml", pl.BILLION_LAUGHS), False),
    "ahp-100k-deep": (_file_command(["portfolio", "ahp"], "m.yaml", pl.deep_yaml()), False),
    "rate-list": (_rate("r.yaml", "- 1\n- 2\n"), False),
    "rate-row-list": (_rate("r.yaml", "P1: [1, 2]\n"), False),
    "rate-score-text": (_rate("r.json", '{"P1": {"value": "high"}}'), False),
    "rate-billion-laughs": (_rate("r.yaml", pl.BILLION_LAUGHS), False),
    # governance designs
    "design-billion-laughs": (
        _file_command(["governance", "import"], "d.yaml", pl.BILLION_LAUGHS),
        False,
    ),
    "design-month-13-timestamp": (
        _file_command(["governance", "import"], "d.yaml", "nodes:\n  - since: 2025-13-45\n"),
        False,
    ),
    "design-100k-deep": (_file_command(["governance", "import"], "d.yaml", pl.deep_yaml()), False),
    "design-doctype-xlsx": (
        lambda tmp: ["governance", "import", str(pl.doctype_xlsx(tmp / "d.xlsx"))],
        False,
    ),
    "design-stray-cell-xlsx": (
        lambda tmp: [
            "governance",
            "import",
            str(pl.sparse_xlsx(tmp / "d.xlsx", sheet="Nodes", kind="main_board")),
        ],
        False,
    ),
    "design-zip-bomb-xlsx": (
        lambda tmp: ["governance", "import", str(pl.zip_bomb(tmp / "d.xlsx"))],
        False,
    ),
    # metrics definitions
    "definitions-billion-laughs": (
        _file_command(["metrics", "import-definitions"], "m.yaml", pl.BILLION_LAUGHS),
        False,
    ),
    "definitions-python-tag": (
        _file_command(["metrics", "import-definitions"], "m.yaml", pl.PYTHON_TAG),
        False,
    ),
}


# payloads refused for their rows or columns (the message is followed by the problem table)
TABLES = {"json-200k-distinct-keys"}
# commands that read a file and no workspace
NO_DB = {("portfolio", "ahp"), ("portfolio", "optimise")}


def assert_clean_refusal(result: Any, *, lines: int | None = 1) -> str:
    """Exit 6, an ``error:`` message (``lines`` lines of it when given), no traceback."""
    err = result.stderr
    assert result.exit_code == 6, (result.exit_code, result.output, err)
    assert "Traceback" not in result.output + err
    assert result.exception is None or isinstance(result.exception, SystemExit)
    shown = [line for line in err.splitlines() if line.strip()]
    assert shown and shown[0].startswith("error: "), err
    if lines is not None:
        assert len(shown) == lines, err
    return shown[0]


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_hostile_file_is_refused_cleanly(seeded: Workspace, tmp_path: Path, name: str) -> None:
    build, records_batch = PAYLOADS[name]
    argv = build(tmp_path)
    before, statuses = dump(seeded), batch_statuses(seeded)
    if tuple(argv[:2]) not in NO_DB:
        argv += ["--db", _url(seeded)]
    # a refusal of the whole file is one line; row and column problems add their table
    assert_clean_refusal(runner.invoke(app, argv), lines=None if name in TABLES else 1)
    assert dump(seeded) == before
    after = batch_statuses(seeded)
    if records_batch:  # a data file: the refusal is recorded as a rejected batch
        assert after == [*statuses, "rejected"]
    else:
        assert after == statuses
    assert not Path("/tmp/bigov-owned").exists()


def test_size_limits_per_kind_from_the_environment(
    seeded: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = dump(seeded)
    cases = {
        "xlsx": tmp_path / "ok.xlsx",
        "json": write(tmp_path / "ok.json", '{"work_item": [{"code": "W9", "name": "n"}]}'),
    }
    cases["xlsx"].write_bytes(pl.workbook_bytes())
    for kind, path in cases.items():
        monkeypatch.setenv(f"BIGOV_MAX_{kind.upper()}_BYTES", "10")
        result = runner.invoke(
            app, ["import", str(path), "--kind", "work_item", "--db", _url(seeded)]
        )
        line = assert_clean_refusal(result)
        assert f"over the limit of 10 for {kind} files" in line
    monkeypatch.setenv("BIGOV_MAX_YAML_BYTES", "10")
    problem = write(tmp_path / "p.yaml", "periods: 1\ncandidates: []\n")
    line = assert_clean_refusal(runner.invoke(app, ["portfolio", "optimise", str(problem)]))
    assert "over the limit of 10 for yaml files" in line
    monkeypatch.setenv("BIGOV_MAX_METRICS_BYTES", "10")
    obs = write(tmp_path / "obs.csv", "series,ts,value\nS1,2025-01-01T00:00:00Z,1\n")
    result = runner.invoke(app, ["metrics", "load", str(obs), "--db", _url(seeded)])
    assert "over the limit of 10 for metrics files" in assert_clean_refusal(result)
    assert dump(seeded) == before


def test_a_bad_size_option_is_a_clear_usage_error(seeded: Workspace, tmp_path: Path) -> None:
    data = write(tmp_path / "rows.csv", "code,name,kind\nW1,Alpha,project\n")
    result = runner.invoke(
        app, ["import", str(data), "--option", "max_bytes=lots", "--db", _url(seeded)]
    )
    assert result.exit_code == 2 and "max_bytes" in result.stderr
    assert "Traceback" not in result.stderr


def test_legitimate_aliases_and_workbooks_still_load(seeded: Workspace, tmp_path: Path) -> None:
    """The limits leave ordinary files alone: YAML anchors and merge keys in a mapping, and a
    workbook from openpyxl."""
    data = write(tmp_path / "rows.csv", "Ref,Title,Type\nW1,Alpha,project\n")
    mapping = write(
        tmp_path / "map.yaml",
        "base: &cols {Ref: code, Title: name}\n"
        "kind: work_item\ncolumns:\n  <<: *cols\n  Type: kind\n",
    )
    # `base` is not a mapping key bigov knows: it must be refused as such, after a safe load
    result = runner.invoke(
        app, ["import", str(data), "--mapping", str(mapping), "--db", _url(seeded)]
    )
    assert result.exit_code == 2 and "base" in result.stderr
    mapping.write_text("kind: work_item\ncolumns: &cols {Ref: code, Title: name, Type: kind}\n")
    result = runner.invoke(
        app, ["import", str(data), "--mapping", str(mapping), "--db", _url(seeded)]
    )
    assert result.exit_code == 0, result.output
    book = tmp_path / "book.xlsx"
    book.write_bytes(pl.workbook_bytes())
    result = runner.invoke(app, ["import", str(book), "--db", _url(seeded)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "mapping",
    [
        'kind: work_item\ncolumns:\n  "re:(": code\n',
        'sheets:\n  S: {kind: work_item, columns: {"re:[": code}}\n',
        'kind: work_item\ndelimiter: "ab"\n',
        'kind: work_item\ndecimal: "x"\n',
    ],
)
def test_a_broken_mapping_is_a_one_line_settings_error(
    seeded: Workspace, tmp_path: Path, mapping: str
) -> None:
    """Bad settings in a mapping (a pattern that does not compile, a delimiter of two
    characters) were a re.error / TypeError traceback: exit 2 (bad settings), nothing stored."""
    data = write(tmp_path / "rows.csv", "code,name,kind\nW1,Alpha,project\n")
    before = dump(seeded)
    path = write(tmp_path / "map.yaml", mapping)
    result = runner.invoke(app, ["import", str(data), "--mapping", str(path), "--db", _url(seeded)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    assert dump(seeded) == before
