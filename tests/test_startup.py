"""Start-up: `bigov --help` loads no heavy library, a command builds only itself, and a workspace
at the newest revision opens without Alembic. Each check runs a fresh interpreter, because what
matters is what one process imports from nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bigov.cli import app, app_for
from bigov.db import migrate
from bigov.workspace import Workspace

HEAVY = ("duckdb", "pyarrow", "polars", "numpy", "matplotlib", "weasyprint", "highspy", "jpype")
# also kept out of help: the database layer and the web stack
NOT_FOR_HELP = (*HEAVY, "sqlalchemy", "alembic", "fastapi", "pydantic")

_PROBE = """
import contextlib, io, json, sys
sys.argv = ["bigov", *json.loads(sys.argv[1])]
from bigov.cli import main
out = io.StringIO()
try:
    with contextlib.redirect_stdout(out):
        main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"exit": code, "modules": sorted(sys.modules), "out": out.getvalue()}))
"""


def _probe(*words: str) -> dict[str, object]:
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(words))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def _loaded(modules: object, names: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return [n for n in names if n in modules or any(m.startswith(n + ".") for m in modules)]


def test_help_imports_no_heavy_library() -> None:
    result = _probe("--help")
    assert result["exit"] == 0
    assert "status" in str(result["out"])
    assert _loaded(result["modules"], NOT_FOR_HELP) == []


@pytest.mark.parametrize("words", [["cycle", "--help"], ["rollup", "--help"], ["nope"]])
def test_sub_help_and_usage_errors_import_no_heavy_library(words: list[str]) -> None:
    result = _probe(*words)
    assert _loaded(result["modules"], HEAVY) == []


def test_a_query_command_loads_no_analytics_stack(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    Workspace.open(db).close()
    result = _probe("status", "--db", db)
    assert result["exit"] == 0, result["out"]
    assert "workspace is empty" in str(result["out"])
    assert _loaded(result["modules"], (*HEAVY, "alembic", "fastapi")) == []


def test_app_for_builds_only_the_command_asked_for() -> None:
    only = app_for(["status", "--db", "x"])
    assert [c.callback.__name__ for c in only.registered_commands if c.callback] == ["status"]
    assert only.registered_groups == []
    cycle = app_for(["cycle", "list"])
    assert cycle.registered_commands == [] and len(cycle.registered_groups) == 1
    # help, root options and unknown names keep the whole app (its suggestions and list)
    for words in ([], ["--help"], ["--version"], ["statsu"]):
        assert app_for(words) is app
    # the original app is untouched
    assert len(app.registered_commands) > 10


def test_pruned_app_runs_like_the_whole(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    Workspace.open(db).close()
    runner = CliRunner()
    words = ["status", "--db", db, "--json"]
    whole = runner.invoke(app, words)
    pruned = runner.invoke(app_for(words), words)
    assert whole.exit_code == pruned.exit_code == 0
    assert json.loads(whole.stdout) == json.loads(pruned.stdout)


def test_quick_head_agrees_with_alembic() -> None:
    assert migrate.quick_head() is not None
    assert migrate.quick_head() == migrate.head_revision()


def test_a_workspace_at_head_opens_without_alembic(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    Workspace.open(db).close()
    code = (
        "import sys; from bigov.workspace import Workspace; "
        f"Workspace.open({db!r}, create=False).close(); "
        "Workspace.open(" + repr(db) + ").close(); "
        "print(any(m == 'alembic' or m.startswith('alembic.') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"


def test_an_older_workspace_is_still_migrated(tmp_path: Path) -> None:
    """The quick path only recognises the head; anything older goes through Alembic."""
    import sqlite3

    db_file = tmp_path / "ws.db"
    Workspace.open(f"sqlite:///{db_file}").close()
    head = migrate.head_revision()
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'not-a-revision'")
    from bigov.errors import SchemaVersionError

    with pytest.raises(SchemaVersionError):
        Workspace.open(f"sqlite:///{db_file}")
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (head,))
    Workspace.open(f"sqlite:///{db_file}").close()


# Model modules a portfolio summary has no business mapping: each service imports its own models,
# so a command maps only the tables it touches (mapping all ~75 classes was half of `status`).
NOT_FOR_STATUS = (
    "bigov.portfolio.models",
    "bigov.jobs.models",
    "bigov.metrics.models",
    "bigov.datacall.models",
    "bigov.auth.models",
    "bigov.governance.cycle_models",
    "bigov.ingest.projectonline.models",
)


def test_a_query_command_maps_only_the_models_it_reads(tmp_path: Path) -> None:
    from bigov.demo import generate

    db = f"sqlite:///{tmp_path / 'ws.db'}"
    with Workspace.open(db) as ws:
        generate(ws, scale="small", seed=3)
    result = _probe("status", "--db", db, "--json")
    assert result["exit"] == 0, result["out"]
    summary = json.loads(str(result["out"]))
    assert sum(summary["by_kind"].values()) > 0
    # the row counts still cover every table of the workspace, read from the database itself
    assert summary["counts"]["job"] == 0 and summary["counts"]["work_item"] > 0
    assert not any(name.startswith("procrastinate_") for name in summary["counts"])
    assert _loaded(result["modules"], NOT_FOR_STATUS) == []


def _model_modules() -> list[str]:
    from bigov.db.registry import MODEL_MODULES, OPTIONAL_MODEL_MODULES

    return [*MODEL_MODULES, *OPTIONAL_MODEL_MODULES]


_MAP_ALONE = """
import importlib, sys
from sqlalchemy import select
from sqlalchemy.orm import configure_mappers
from bigov.db.base import Base
importlib.import_module(sys.argv[1])
configure_mappers()
for mapper in Base.registry.mappers:
    str(select(mapper.class_))
print(len(list(Base.registry.mappers)))
"""


@pytest.mark.parametrize("module", _model_modules())
def test_each_model_module_maps_on_its_own(module: str) -> None:
    """Since a command imports only the models it uses, each model module must map (its
    relationships resolve) with nothing else imported: a fresh interpreter per module."""
    done = subprocess.run(
        [sys.executable, "-c", _MAP_ALONE, module],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 1


def test_the_mount_table_names_what_each_context_registers() -> None:
    """A run mounts only the context CLI its first word names (bigov.cli.MOUNTS); a name missing
    from the table would make that command unknown to a run, though help still lists it."""
    import typer
    from typer.main import get_command_name, solve_typer_info_defaults

    from bigov.cli import MOUNTS

    for mount, names in MOUNTS:
        alone = typer.Typer()
        mount(alone)
        registered = [
            c.name or get_command_name(c.callback.__name__)
            for c in alone.registered_commands
            if c.callback is not None
        ] + [solve_typer_info_defaults(g).name for g in alone.registered_groups]
        assert sorted(registered) == sorted(names)


@pytest.mark.parametrize("words", [["cycle", "list"], ["jobs", "kinds"], ["settings", "show"]])
def test_a_run_imports_only_its_own_context_cli(words: list[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ws.db'}"
    Workspace.open(db).close()
    result = _probe(*words, "--db", db)
    assert result["exit"] == 0, result["out"]
    clis = ("bigov.analysis.cli", "bigov.portfolio.cli", "bigov.metrics.cli", "bigov.server.cli")
    assert _loaded(result["modules"], clis) == []
