"""Schema creation and migration through Alembic, run programmatically.

Alembic (and the migration scripts it loads) costs a tenth of a second at every start, so a
workspace already at the newest revision is recognised without it: :func:`quick_head` reads the
revision ids from the scripts' text, and a database stamped with exactly that revision needs no
migration. Anything else (an older or unknown revision, an unstamped database, scripts that do not
read as plain assignments) goes through Alembic as before."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from bigov.errors import SchemaVersionError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


@functools.cache
def quick_head() -> str | None:
    """The newest revision, read from the scripts' ``revision = …`` and ``down_revision = …``
    lines without importing Alembic; None when they do not give exactly one head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = {m[1]: m[2] for m in _ASSIGNMENT.finditer(script.read_text("utf-8"))}
        if "revision" not in found:
            continue  # __init__.py and helpers
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
        except (ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):  # a merge revision
            parents.update(str(d) for d in down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stamped(connection: Connection) -> list[str] | None:
    """The revisions stamped in the database (None when it has no version table)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _at_quick_head(connection: Connection) -> bool:
    head = quick_head()
    return head is not None and _stamped(connection) == [head]


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at bigov's migrations (and at ``connection`` when given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision this version of bigov knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, or None for an unstamped database."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def check_compatible(connection: Connection) -> str | None:
    """Refuse databases this bigov cannot safely use; returns the current revision.

    Raises:
        SchemaVersionError: the database was written by a newer bigov, or holds tables but is not a
            bigov database.
    """
    if _at_quick_head(connection):
        return quick_head()
    from alembic.script import ScriptDirectory

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
    try:
        with engine.connect() as conn:
            if _at_quick_head(conn):
                return
    except SQLAlchemyError:
        pass  # whatever went wrong, Alembic below meets it again and it is reported from there
    from alembic import command

    with engine.begin() as conn:
        check_compatible(conn)
        command.upgrade(alembic_config(conn), "head")
