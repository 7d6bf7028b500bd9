"""A real workspace per test: SQLite always, PostgreSQL too when BIGOV_TEST_POSTGRES_URL is set
(each run in a fresh schema ``t_<random>``, dropped at the end)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bigov.db.engine import make_engine
from bigov.db.registry import load_models
from bigov.metrics.service import MetricsService
from bigov.workspace import Workspace

PG_URL = os.environ.get("BIGOV_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    schema = f"t_{secrets.token_hex(4)}"
    admin = make_engine(make_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def ws(
    request: pytest.FixtureRequest, tmp_path: Path, pg_schema: str | None
) -> Iterator[Workspace]:
    load_models()
    # Workspaces opened the way users open them: migrations, not create_all.
    if request.param == "sqlite":
        workspace = Workspace.open(f"sqlite:///{tmp_path / 'ws.db'}")
    else:
        assert PG_URL and pg_schema
        engine = make_engine(make_url(PG_URL), schema=pg_schema)
        with engine.begin() as conn:  # every test starts from an empty schema of its own
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{pg_schema}" CASCADE'))
        engine.dispose()
        workspace = Workspace.open(PG_URL, schema=pg_schema)
    yield workspace
    workspace.close()


@pytest.fixture
def svc(ws: Workspace, tmp_path: Path) -> MetricsService:
    # one store folder per test (PostgreSQL has no file to sit beside)
    return MetricsService(ws, store_dir=tmp_path / "store", memory_limit="1GB", threads=2)
