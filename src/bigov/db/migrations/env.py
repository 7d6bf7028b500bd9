"""Alembic environment. bigov runs migrations programmatically (``bigov.db.migrate``), passing an
open connection in ``config.attributes['connection']``; the ``alembic`` CLI works too with
``-x url=...``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bigov.db.registry import load_models

config = context.config
target_metadata = load_models()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
            "sqlalchemy.url"
        )
        if not url:
            raise SystemExit("pass -x url=DATABASE_URL")
        engine = create_engine(url)
        with engine.begin() as conn:
            _configure_and_run(conn)
        return
    _configure_and_run(connection)


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
