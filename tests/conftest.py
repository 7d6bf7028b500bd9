"""Shared fixtures: a real workspace on SQLite always, and on PostgreSQL when
``BIGOV_TEST_POSTGRES_URL`` is set (CI sets it). Each test run's PostgreSQL workspaces live in a
schema of their own, dropped afterwards, so test runs never see each other's data; within a run
every test starts from that schema emptied (see ``postgres_schema``)."""

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
        # the reporting views live beside it (migration 0006)
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_report" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_pool() -> Iterator[dict[str, str]]:
    """This test run's PostgreSQL schema, migrated once (``schema``, and ``head``: its revision).

    Running the migrations took ~2 s per test, most of the suite's time on PostgreSQL; emptying
    the tables (``postgres_schema``) gives the same empty workspace in a few milliseconds."""
    if not POSTGRES_URL:
        pytest.skip("BIGOV_TEST_POSTGRES_URL is not set")
    pool = {"schema": new_schema_name(), "head": ""}
    try:
        yield pool
    finally:
        drop_schema(pool["schema"])


@pytest.fixture
def postgres_schema(postgres_pool: dict[str, str]) -> str:
    """The run's schema with every table emptied (identities restarted), or migrated afresh
    when it is missing or a test left it at another revision."""
    assert POSTGRES_URL
    schema = postgres_pool["schema"]
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            tables = (
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                )
                .scalars()
                .all()
            )
            version = (
                conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalar()
                if "alembic_version" in tables
                else None
            )
            if version and version == postgres_pool["head"]:
                # the data version's one row stays (it only ever moves forward)
                kept = ("alembic_version", "data_version")
                data = [f'"{schema}"."{t}"' for t in tables if t not in kept]
                if data:
                    conn.execute(text(f"TRUNCATE {', '.join(data)} RESTART IDENTITY CASCADE"))
                return schema
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()
    ws = Workspace.open(POSTGRES_URL, schema=schema)
    with ws.engine.connect() as conn:
        postgres_pool["head"] = str(
            conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalar()
        )
    ws.close()
    return schema


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
    schema = request.getfixturevalue("postgres_schema")
    ws = Workspace.open(POSTGRES_URL, schema=schema)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path, sqlite_template: Path) -> Iterator[Workspace]:
    """An empty SQLite workspace (for CLI tests that pass a file URL)."""
    ws = copy_sqlite_workspace(sqlite_template, tmp_path / "bigov.db")
    yield ws
    ws.close()
