"""The analysis commands through Typer's runner, on a small app built with ``register``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bigov.analysis.cli import register
from bigov.cli_support import ErrorHandlingGroup
from bigov.workspace import Workspace

runner = CliRunner()


@pytest.fixture
def cli(analysis_ws: Workspace) -> tuple[typer.Typer, str]:
    if analysis_ws.backend != "sqlite":
        pytest.skip("the CLI is exercised on the SQLite copy")
    app = typer.Typer(cls=ErrorHandlingGroup)
    register(app)
    return app, analysis_ws.url.render_as_string(hide_password=False)


@pytest.mark.parametrize(
    "args",
    [
        ["trace", "OTIG-1"],
        ["trace", "PRJ-B"],
        ["gaps"],
        ["attainment"],
        ["attainment", "OBJ-1"],
        ["benefits", "--by", "unit"],
        ["balance", "--grain", "year"],
        ["capacity", "--what-if", "PRJ-C"],
        ["rollup", "PG-1"],
        ["agility"],
        ["quality"],
    ],
)
def test_every_command_prints_a_table(cli: tuple[typer.Typer, str], args: list[str]) -> None:
    app, db = cli
    result = runner.invoke(
        app,
        [
            *args,
            "--db",
            db,
            *(
                ["--as-at", "2024-06-15"]
                if args[0]
                in ("trace", "gaps", "attainment", "benefits", "balance", "rollup", "agility")
                else []
            ),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip()


def test_json_output(cli: tuple[typer.Typer, str]) -> None:
    app, db = cli
    result = runner.invoke(app, ["rollup", "PF-1", "--db", db, "--as-at", "2024-06-15", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"]["budget"] == "530.00"
    gaps = json.loads(runner.invoke(app, ["gaps", "--db", db, "--json"]).output)
    assert [g["code"] for g in gaps["objectives_without_work"]] == ["OBJ-4"]


def test_errors_are_messages(cli: tuple[typer.Typer, str]) -> None:
    app, db = cli
    result = runner.invoke(app, ["trace", "NOPE", "--db", db])
    assert result.exit_code == 4
    assert "no OTIG, OTC or work item" in result.output
    assert runner.invoke(app, ["benefits", "--by", "colour", "--db", db]).exit_code == 2
    assert runner.invoke(app, ["rollup", "--db", db, "--as-at", "yesterday"]).exit_code == 2


def test_trace_writes_the_strategy_map(cli: tuple[typer.Typer, str], tmp_path: Path) -> None:
    app, db = cli
    out = tmp_path / "map.svg"
    result = runner.invoke(app, ["trace", "OTIG-1", "--db", db, "--map", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<svg")
