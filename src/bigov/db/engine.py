"""Engines for the two supported backends: embedded SQLite (WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from bigov.errors import ConfigError

DEFAULT_DB_FILE = "bigov.db"


def default_url() -> str:
    """``$BIGOV_DB`` if set, else a SQLite file ``bigov.db`` in the working directory."""
    return os.environ.get("BIGOV_DB") or f"sqlite:///{DEFAULT_DB_FILE}"


def parse_url(url: str) -> URL:
    """Parse and check a database URL; a plain file path is taken as a SQLite file.

    Raises:
        ConfigError: the URL is malformed or names a backend bigov does not support.
    """
    text = url.strip()
    if not text:
        raise ConfigError(
            "empty database URL",
            hint="pass --db sqlite:///bigov.db or a postgresql+psycopg:// URL",
        )
    if "://" not in text:
        text = f"sqlite:///{text}"
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError) as exc:
        # the URL itself may hold a password: never echo it
        raise ConfigError(
            f"cannot parse database URL {_masked(text)}",
            hint="use sqlite:///path/to/file.db or postgresql+psycopg://user:pass@host:5432/db",
        ) from exc
    # "postgres://" (Heroku, many PaaS) and plain "postgresql://" mean PostgreSQL through the
    # psycopg driver bigov ships with
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            raise ConfigError(
                f"unsupported PostgreSQL driver {parsed.drivername!r}",
                hint="use postgresql+psycopg://",
            )
    elif backend != "sqlite":
        raise ConfigError(
            f"unsupported database backend {backend!r} in "
            f"{parsed.render_as_string(hide_password=True)}",
            hint="bigov runs on SQLite (embedded) or PostgreSQL",
        )
    return parsed


def _masked(text: str) -> str:
    """A URL that failed to parse, with anything between ``://`` and ``@`` (the credentials)
    replaced, for messages."""
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return repr(f"{scheme}{sep}{rest}")


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers (the web app, a second CLI) work while an import writes; foreign keys are
    # off by default in SQLite and the model relies on them; the busy timeout turns a brief lock
    # into a wait instead of an error.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: URL, *, schema: str | None = None, echo: bool = False) -> Engine:
    """Create an engine for ``url``. ``schema`` (PostgreSQL only) sets the search path, so one
    database can hold several workspaces (each test run uses its own schema)."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:":
            with engine.connect() as conn:
                # journal_mode is persistent in the file; set once per engine is enough.
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(url, echo=echo, connect_args=connect_args, pool_pre_ping=True)
