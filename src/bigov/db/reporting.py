"""Where the reporting views for BI tools live (created by migration 0006; the contract is
docs/reporting-views.md): on PostgreSQL in the schema ``bigov_report`` beside a workspace in
``public`` (``<schema>_report`` beside one kept in a schema of its own), on SQLite as views
named ``bigov_report_<name>``."""

from __future__ import annotations

from sqlalchemy import Connection, text

VIEWS: tuple[str, ...] = (
    "work",
    "cost_by_month",
    "benefits_by_period",
    "status",
    "exceptions",
    "figures",
)


def report_schema(conn: Connection) -> str | None:
    """The reporting schema on PostgreSQL (None on SQLite, where the views are prefixed)."""
    if conn.dialect.name != "postgresql":
        return None
    current = str(conn.execute(text("SELECT current_schema()")).scalar())
    return "bigov_report" if current == "public" else f"{current}_report"


def view_name(conn: Connection, name: str) -> str:
    """The quoted, qualified name of reporting view ``name`` for a SELECT."""
    if name not in VIEWS:
        raise ValueError(f"no reporting view {name!r}")
    schema = report_schema(conn)
    if schema is None:
        return f"bigov_report_{name}"
    return '"' + schema.replace('"', '""') + f'".{name}'
