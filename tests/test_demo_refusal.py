"""`bigov demo` on a workspace that cannot keep its KPIs refuses before writing the enterprise."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.metrics.store import STORE_ENV
from bigov.work.models import WorkItem
from bigov.workspace import Workspace
from tests.conftest import POSTGRES_URL


def test_demo_without_a_raw_store_refuses_and_writes_nothing(
    postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL keeps raw observations in a folder it must be told of (SQLite puts it beside
    # the file); without one the demo used to write the enterprise and then fail at its KPIs
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert POSTGRES_URL
    db = f"{POSTGRES_URL}?schema={postgres_schema}"
    result = CliRunner().invoke(app, ["demo", "--db", db, "--scale", "small", "--json"])
    assert result.exit_code != 0
    error = json.loads(result.stdout)
    assert "raw metric observations" in json.dumps(error)
    with Workspace.open(POSTGRES_URL, schema=postgres_schema) as ws, ws.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkItem)) == 0
