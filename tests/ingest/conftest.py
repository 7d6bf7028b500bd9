"""Fixtures of the ingest tests: a fresh workspace on SQLite (and PostgreSQL when
BIGOV_TEST_POSTGRES_URL is set), and a dump of the data set to prove "nothing changed"."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bigov.workspace import Workspace

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("BIGOV_TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def ingest_ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """An empty, migrated workspace; a PostgreSQL one lives in its own schema, dropped after."""
    if request.param == "sqlite":
        ws = Workspace.open(f"sqlite:///{tmp_path / 'ingest.db'}")
        yield ws
        ws.close()
        return
    url = os.environ["BIGOV_TEST_POSTGRES_URL"]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    ws = Workspace.open(url, schema=schema)
    try:
        yield ws
    finally:
        ws.close()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
