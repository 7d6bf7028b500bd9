"""The Alembic migrations and the models must agree, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bigov.db import migrate
from bigov.db.registry import load_models
from bigov.workspace import Workspace


def test_migrations_match_models(workspace: Workspace) -> None:
    metadata = load_models()
    with workspace.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"models and migrations disagree; generate a migration: {diff}"


def test_schema_is_at_head(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
        tables = set(inspect(conn).get_table_names())
    assert set(load_models().tables) <= tables


def test_reopening_is_idempotent(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn:
        before = migrate.current_revision(conn)
    migrate.upgrade(workspace.engine)
    with workspace.engine.connect() as conn:
        assert migrate.current_revision(conn) == before
