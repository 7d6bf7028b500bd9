"""A real workspace per test: SQLite always, PostgreSQL too when BIGOV_TEST_POSTGRES_URL is set
(the run's own schema, emptied before each test: see ``postgres_schema`` in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bigov.db.registry import load_models
from bigov.metrics.service import MetricsService
from bigov.workspace import Workspace

PG_URL = os.environ.get("BIGOV_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    load_models()
    if request.param == "sqlite":
        # a copy of the run's migrated template (see tests/conftest.py), opened as users do
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "ws.db")
        workspace = Workspace.open(f"sqlite:///{tmp_path / 'ws.db'}")
    else:
        assert PG_URL
        workspace = Workspace.open(PG_URL, schema=request.getfixturevalue("postgres_schema"))
    yield workspace
    workspace.close()


@pytest.fixture
def svc(ws: Workspace, tmp_path: Path) -> MetricsService:
    # one store folder per test (PostgreSQL has no file to sit beside)
    return MetricsService(ws, store_dir=tmp_path / "store", memory_limit="1GB", threads=2)
