"""The job engine's queue schema on PostgreSQL (procrastinate's tables, types and functions),
created and dropped by the Alembic migration that adds jobs, in the workspace's own schema.

procrastinate owns this SQL: it is applied as procrastinate ships it, never edited here. A later
procrastinate release that changes it comes with its own migration files, applied by an Alembic
migration of ours when the pinned version range moves."""

from __future__ import annotations

import re

from sqlalchemy import Connection

_OBJECT = re.compile(r"^CREATE (TABLE|TYPE|FUNCTION) (\w+)", re.MULTILINE)


def queue_schema_sql() -> str:
    """procrastinate's schema, as the installed version ships it."""
    from procrastinate.schema import SchemaManager

    return str(SchemaManager.get_schema())


def create_queue_schema(conn: Connection) -> None:
    """Create the queue in the connection's search path, inside its transaction."""
    raw = conn.connection.driver_connection
    assert raw is not None
    # several statements in one call: psycopg sends them as one simple query when no
    # parameters are given, which is how procrastinate applies its own schema
    raw.execute(queue_schema_sql())


def drop_queue_schema(conn: Connection) -> None:
    """Drop every object :func:`create_queue_schema` made."""
    found = _OBJECT.findall(queue_schema_sql())
    tables = [name for kind, name in found if kind == "TABLE"]
    functions = [name for kind, name in found if kind == "FUNCTION"]
    types = [name for kind, name in found if kind == "TYPE"]
    statements = [f"DROP TABLE IF EXISTS {', '.join(tables)} CASCADE"]
    statements += [f"DROP FUNCTION IF EXISTS {name} CASCADE" for name in functions]
    statements += [f"DROP TYPE IF EXISTS {name} CASCADE" for name in types]
    for statement in statements:
        conn.exec_driver_sql(statement)


__all__ = ["create_queue_schema", "drop_queue_schema", "queue_schema_sql"]
