"""Shared fixtures: a real workspace on SQLite always, and on PostgreSQL when
``BIGOV_TEST_POSTGRES_URL`` is set (CI sets it). Each PostgreSQL workspace lives in its own schema,
dropped afterwards, so test runs never see each other's data."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bigov.workspace import Workspace

POSTGRES_URL = os.environ.get("BIGOV_TEST_POSTGRES_URL")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def new_schema_name() -> str:
    """A fresh schema name for one PostgreSQL workspace."""
    return f"t_{uuid.uuid4().hex[:12]}"


def drop_schema(schema: str) -> None:
    """Drop a test schema and everything in it."""
    assert POSTGRES_URL
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One freshly migrated SQLite workspace per test session; tests get copies of it.

    Copying a file is about three times faster than running the migrations for every test, and
    every copy still goes through ``Workspace.open`` (so the version check runs each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    Workspace.open(f"sqlite:///{path}").close()
    return path


def copy_sqlite_workspace(template: Path, target: Path) -> Workspace:
    """Open a copy of the migrated template at ``target``."""
    shutil.copyfile(template, target)
    return Workspace.open(f"sqlite:///{target}")


@pytest.fixture(params=BACKENDS)
def workspace(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Workspace]:
    """An empty, migrated workspace on each backend under test."""
    if request.param == "sqlite":
        ws = copy_sqlite_workspace(sqlite_template, tmp_path / "bigov.db")
        yield ws
        ws.close()
        return
    assert POSTGRES_URL
    schema = new_schema_name()
    ws = Workspace.open(POSTGRES_URL, schema=schema)
    try:
        yield ws
    finally:
        ws.close()
        drop_schema(schema)


@pytest.fixture
def sqlite_workspace(tmp_path: Path, sqlite_template: Path) -> Iterator[Workspace]:
    """An empty SQLite workspace (for CLI tests that pass a file URL)."""
    ws = copy_sqlite_workspace(sqlite_template, tmp_path / "bigov.db")
    yield ws
    ws.close()
