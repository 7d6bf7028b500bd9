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
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": _not_the_job_queue}
        )
        diff = compare_metadata(ctx, metadata)
    summary = [_describe(d) for d in diff]
    assert summary == [], (
        "models and migrations disagree; run scripts/new_migration.py: " + "; ".join(summary[:10])
    )


def _not_the_job_queue(name: str | None, type_: str, _parent: object) -> bool:
    # procrastinate's queue tables (PostgreSQL) are the job engine's, created from its own SQL
    # by migration 0009, not from our models
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def _describe(change: object) -> str:
    # autogenerate yields tuples like ("add_table", Table) or lists of modify_* tuples
    if isinstance(change, list):
        return ", ".join(_describe(c) for c in change)
    if isinstance(change, tuple) and change:
        target = next((getattr(p, "name", None) for p in change[1:] if hasattr(p, "name")), "")
        return f"{change[0]} {target}".strip()
    return str(change)


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
