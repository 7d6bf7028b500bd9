"""Schema creation and migration through Alembic, run programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from bigov.errors import SchemaVersionError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at bigov's migrations (and at ``connection`` when given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision this version of bigov knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, or None for an unstamped database."""
    return MigrationContext.configure(connection).get_current_revision()


def check_compatible(connection: Connection) -> str | None:
    """Refuse databases this bigov cannot safely use; returns the current revision.

    Raises:
        SchemaVersionError: the database was written by a newer bigov, or holds tables but is not a
            bigov database.
    """
    current = current_revision(connection)
    script = ScriptDirectory.from_config(alembic_config())
    if current is None:
        names = set(inspect(connection).get_table_names())
        if names - {"alembic_version"}:
            raise SchemaVersionError(
                "this database holds tables but is not a bigov workspace",
                hint="point --db at an empty database or an existing bigov workspace",
            )
        return None
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaVersionError(
            f"the database schema (revision {current}) is newer than this bigov understands",
            hint="upgrade bigov (pip install -U bigov) before opening this workspace",
        )
    return current


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the head revision, in one transaction where the backend
    allows (PostgreSQL DDL is transactional: an interrupted migration leaves nothing half-done)."""
    with engine.begin() as conn:
        check_compatible(conn)
        command.upgrade(alembic_config(conn), "head")
