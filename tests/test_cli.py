"""The CLI as a user meets it: commands, help, and one-line errors for bad input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db import migrate
from bigov.workspace import Workspace

runner = CliRunner()


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ws.db'}"


def test_help_everywhere() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "demo", "status"):
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, sub.output
        assert "--db" in sub.output


def test_init_sets_settings(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "init",
            "--db",
            _db(tmp_path),
            "--organisation",
            "Acme Water",
            "--fiscal-year-start",
            "1",
            "--currency",
            "eur",
        ],
    )
    assert result.exit_code == 0, result.output
    with Workspace.open(_db(tmp_path)) as ws:
        assert ws.setting("organisation_name") == "Acme Water"
        assert ws.fiscal_year_start_month == 1
        assert ws.setting("currency") == "EUR"


def test_status_on_empty_workspace(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", "--db", _db(tmp_path)]).exit_code == 0
    result = runner.invoke(app, ["status", "--db", _db(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "workspace is empty" in result.output
    as_json = runner.invoke(app, ["status", "--db", _db(tmp_path), "--json"])
    assert as_json.exit_code == 0
    assert '"by_kind"' in as_json.output


@pytest.mark.parametrize(
    ("url", "code", "needle"),
    [
        ("mysql://u@h/db", 2, "unsupported database backend"),
        ("postgresql+asyncpg://u@h/db", 2, "unsupported PostgreSQL driver"),
        ("postgresql+psycopg://nobody:x@127.0.0.1:1/none", 3, "cannot open database"),
    ],
)
def test_bad_db_urls_give_one_line_errors(url: str, code: int, needle: str) -> None:
    result = runner.invoke(app, ["status", "--db", url])
    assert result.exit_code == code
    assert needle in result.output
    assert "Traceback" not in result.output


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ws.db"
    Workspace.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'fffffffffff9'")
    before = path.read_bytes()
    result = runner.invoke(app, ["status", "--db", f"sqlite:///{path}"])
    assert result.exit_code == 3
    assert "newer than this bigov" in result.output
    assert "upgrade bigov" in result.output
    assert path.read_bytes() == before


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    result = runner.invoke(app, ["status", "--db", str(path)])
    assert result.exit_code == 3
    assert "not a bigov workspace" in result.output
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names == {"customers"}


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database at all" * 100)
    result = runner.invoke(app, ["status", "--db", str(path)])
    assert result.exit_code == 3
    assert "cannot open database" in result.output
    assert path.read_bytes() == b"this is not a database at all" * 100


def test_head_revision_known() -> None:
    assert migrate.head_revision() is not None


def test_schema_in_the_url_names_the_workspace(workspace: Workspace) -> None:
    # Another process (here the CLI) reaches the same workspace from the one URL string.
    workspace.org.add_unit("U-SCHEMA", "Unit in its own schema")
    result = runner.invoke(
        app, ["status", "--json", "--db", workspace.describe(hide_password=False)]
    )
    assert result.exit_code == 0, result.output
    assert '"org_unit": 1' in result.output


def test_changing_the_fiscal_year_start_asks_for_a_metrics_recompute(tmp_path: Path) -> None:
    from bigov.metrics.calendar import Frequency, Grain
    from bigov.metrics.schemas import MeasureSpec, SeriesSpec

    db = _db(tmp_path)
    with Workspace.open(db) as ws:
        ws.metrics.define(
            MeasureSpec(
                code="k",
                name="k",
                frequency=Frequency.DAILY,
                grains=[Grain.QUARTER],
                series=[SeriesSpec(code="k-A", org="A")],
            )
        )
        (tmp_path / "k.csv").write_text("series,ts,value\nk-A,2025-04-01T12:00:00Z,1\n")
        ws.metrics.load(tmp_path / "k.csv")
    same = runner.invoke(app, ["init", "--db", db, "--fiscal-year-start", "4"])
    assert same.exit_code == 0 and "recompute" not in same.output
    moved = runner.invoke(app, ["init", "--db", db, "--fiscal-year-start", "1"])
    assert moved.exit_code == 0, moved.output
    assert "run bigov metrics recompute" in " ".join(moved.output.split())
