"""``bigov backup OUT`` / ``bigov restore IN``: one archive holding a workspace.

The archive is a ``.tar.gz`` with:

* ``manifest.json`` — format and version, backend, bigov version, schema revision, when, and
  every other member's path, size and SHA-256 (checked before anything is restored);
* ``database/bigov.db`` (SQLite, taken with SQLite's online backup API, so a workspace in use
  is copied consistently) or ``database/workspace.dump`` (PostgreSQL, ``pg_dump -Fc`` of the
  workspace's schema);
* ``metrics/raw/…`` — the metrics raw store files the backed-up catalogue lists. The database
  is copied first and the files after: raw files are append-only, so every file the copy
  catalogues is on disk; files of loads committed in between are simply not included.

Restore refuses a target that already holds a workspace unless ``force``; on PostgreSQL the
workspace's schema is recreated under its own name in the target database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from bigov import __version__
from bigov.db import migrate
from bigov.db.engine import parse_url
from bigov.errors import ConfigError, ConflictError, DatabaseError, ValidationError

if TYPE_CHECKING:
    from bigov.workspace import Workspace

FORMAT = "bigov-backup"
VERSION = 1
SQLITE_MEMBER = "database/bigov.db"
PG_MEMBER = "database/workspace.dump"


class BackupResult(BaseModel):
    """What a backup or restore wrote."""

    archive: str
    backend: str
    revision: str | None
    files: int
    raw_files: int
    bytes: int


# -- backup ----------------------------------------------------------------------------------
def backup(ws: Workspace, out: Path) -> BackupResult:
    """Write the workspace (database and metrics raw store) to the archive ``out``.

    Raises:
        ConfigError: ``out`` exists, or ``pg_dump`` is not installed (PostgreSQL).
        DatabaseError: the database cannot be read.
    """
    if out.exists():
        raise ConfigError(f"{out} exists; choose a new file name for the backup")
    with tempfile.TemporaryDirectory(prefix="bigov-backup-") as tmp:
        work = Path(tmp)
        members: dict[str, Path] = {}
        if ws.backend == "sqlite":
            src = ws.path
            if src is None:
                raise ConfigError("an in-memory workspace cannot be backed up")
            copy = work / "bigov.db"
            _sqlite_backup(src, copy)
            members[SQLITE_MEMBER] = copy
            catalogue = _sqlite_catalogue(copy)
        else:
            dump = work / "workspace.dump"
            _pg_dump(ws.url, ws.schema, dump)
            members[PG_MEMBER] = dump
            with ws.engine.connect() as conn:
                catalogue = _catalogue(conn)
        raw_root = _raw_root(ws) if catalogue else None
        for rel in catalogue:
            assert raw_root is not None
            path = raw_root / rel
            if not path.is_file():
                raise DatabaseError(
                    f"catalogued raw file {rel} is missing from {raw_root}",
                    hint="run `bigov doctor` to see what is inconsistent",
                )
            members[f"metrics/{rel}"] = path
        with ws.engine.connect() as conn:
            revision = migrate.current_revision(conn)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "backend": ws.backend,
            "schema": ws.schema,
            "bigov": __version__,
            "revision": revision,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "files": [
                {"path": name, "size": path.stat().st_size, "sha256": _sha256(path)}
                for name, path in sorted(members.items())
            ],
        }
        partial = out.with_name(out.name + ".part")
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with tarfile.open(partial, "w:gz") as tar:
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
                for name, path in sorted(members.items()):
                    tar.add(path, arcname=name, recursive=False)
            os.replace(partial, out)  # a half-written archive never carries the final name
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(
        archive=str(out),
        backend=ws.backend,
        revision=revision,
        files=len(members),
        raw_files=len(catalogue),
        bytes=out.stat().st_size,
    )


def _sqlite_backup(src: Path, dst: Path) -> None:
    # The online backup API copies a consistent snapshot even while other connections write
    # (WAL content included), unlike copying the file.
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot back up {src}: {exc}") from exc
    finally:
        target.close()
        source.close()


def _sqlite_catalogue(path: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return _catalogue(conn)
    finally:
        engine.dispose()


def _catalogue(conn: Any) -> list[str]:
    from bigov.metrics.models import MetricRawFile

    if not inspect(conn).has_table(MetricRawFile.__tablename__):
        return []
    return sorted(conn.execute(select(MetricRawFile.path)).scalars())


def _raw_root(ws: Workspace) -> Path:
    return ws.metrics.store.root


# -- PostgreSQL tools --------------------------------------------------------------------------
def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigError(
            f"{name} is not installed; it is needed to back up or restore a PostgreSQL workspace",
            hint="install the PostgreSQL client tools (Debian/Ubuntu: apt-get install "
            "postgresql-client) matching the server's major version",
        )
    return found


def _pg_env(url: URL) -> dict[str, str]:
    # Connection details go through the libpq environment, so the password never appears on a
    # command line (visible to other users in the process list) or in a message.
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[key] = str(value)
    return env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout or "").strip().splitlines()
        detail = lines[0] if lines else f"exit code {done.returncode}"
        raise DatabaseError(f"{what} failed: {detail}")


def _pg_dump(url: URL, schema: str | None, out: Path) -> None:
    _run(
        [
            _pg_tool("pg_dump"),
            "-Fc",
            "--no-owner",
            "--no-privileges",
            "-n",
            schema or "public",
            "-f",
            str(out),
        ],
        _pg_env(url),
        "pg_dump",
    )


# -- restore ---------------------------------------------------------------------------------
def read_manifest(archive: Path) -> dict[str, Any]:
    """The archive's manifest, after checking every member against its size and hash.

    Raises:
        ValidationError: not a bigov backup, or a member is missing or damaged.
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            try:
                member = tar.extractfile("manifest.json")
                manifest = json.loads(member.read()) if member else None
            except KeyError:
                manifest = None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise ValidationError(f"{archive}: not a bigov backup (no bigov manifest)")
            if manifest.get("version") != VERSION:
                raise ValidationError(
                    f"{archive}: backup format version {manifest.get('version')!r} is not "
                    f"supported by this bigov"
                )
            _check_entries(archive, manifest)
            for entry in manifest["files"]:
                try:
                    fh = tar.extractfile(entry["path"])
                except KeyError:
                    fh = None
                if fh is None:
                    raise ValidationError(f"{archive}: {entry['path']} is missing")
                digest = hashlib.sha256()
                for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023 - read at once
                    digest.update(block)
                if digest.hexdigest() != entry["sha256"]:
                    raise ValidationError(f"{archive}: {entry['path']} is damaged (hash differs)")
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{archive}: cannot read the backup: {exc}") from exc
    return manifest


# the only members a restore writes: the database and raw files named as the store names them
_MEMBER = re.compile(r"^(database/(bigov\.db|workspace\.dump)|metrics/raw/batch-\d{8}\.parquet)$")


def _check_entries(archive: Path, manifest: dict[str, Any]) -> None:
    files = manifest.get("files")
    ok = isinstance(files, list) and all(
        isinstance(f, dict)
        and isinstance(f.get("path"), str)
        and isinstance(f.get("sha256"), str)
        and _MEMBER.match(f["path"])
        for f in files
    )
    expected = {"sqlite": SQLITE_MEMBER, "postgresql": PG_MEMBER}.get(str(manifest.get("backend")))
    if not ok or not isinstance(files, list) or expected not in [f["path"] for f in files]:
        # a hand-made manifest could name paths outside the store ("metrics/../../x")
        raise ValidationError(f"{archive}: the backup manifest is malformed")


def restore(archive: Path, db: str, *, force: bool = False) -> BackupResult:
    """Restore the archive into the workspace named by ``db``.

    Raises:
        ValidationError: the archive is not a valid bigov backup (exit 6).
        ConflictError: the target already holds a workspace and ``force`` is not given (exit 5).
        ConfigError: the archive's backend differs from the target's, or pg_restore is missing.
    """
    manifest = read_manifest(archive)
    url = parse_url(db)
    schema: str | None = None
    if "schema" in url.query:
        value = url.query["schema"]
        schema = value if isinstance(value, str) else value[0]
        url = url.difference_update_query(["schema"])
    backend = url.get_backend_name()
    if manifest["backend"] != backend:
        raise ConfigError(
            f"this backup is of a {manifest['backend']} workspace; the target is {backend}",
            hint="restore into the same kind of database (use bigov export/import to move)",
        )
    names = [f["path"] for f in manifest["files"]]
    raw = [n for n in names if n.startswith("metrics/")]
    with tempfile.TemporaryDirectory(prefix="bigov-restore-") as tmp:
        work = Path(tmp)
        raw_root: Path | None
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(work, members=[tar.getmember(n) for n in names], filter="data")
        if backend == "sqlite":
            target = _restore_sqlite(work / SQLITE_MEMBER, url, force=force)
            raw_root = target.with_name(target.name + ".metrics")
        else:
            schema = manifest.get("schema") or schema
            _restore_pg(work / PG_MEMBER, url, manifest.get("schema"), force=force)
            raw_root = _pg_raw_root(url, schema) if raw else None
        if raw:
            assert raw_root is not None
            (raw_root / "raw").mkdir(parents=True, exist_ok=True)
            for name in raw:
                rel = name.removeprefix("metrics/")
                dest = raw_root / rel
                tmp_dest = dest.with_name(dest.name + ".part")
                shutil.copyfile(work / name, tmp_dest)
                os.replace(tmp_dest, dest)
    return BackupResult(
        archive=str(archive),
        backend=backend,
        revision=manifest.get("revision"),
        files=len(names),
        raw_files=len(raw),
        bytes=archive.stat().st_size,
    )


def _holds_workspace(conn: Any) -> bool:
    return bool(set(inspect(conn).get_table_names()))


def _restore_sqlite(copy: Path, url: URL, *, force: bool) -> Path:
    database = url.database or ""
    if not database or database == ":memory:":
        raise ConfigError("restore needs a SQLite file, not an in-memory database")
    target = Path(database).expanduser().resolve()
    if target.exists() and target.stat().st_size > 0:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                busy = _holds_workspace(conn)
        except SQLAlchemyError:  # not a database at all still counts as "not empty"
            busy = True
        finally:
            engine.dispose()
        if busy and not force:
            raise ConflictError(
                f"{target} already holds data; nothing was restored",
                hint="pass --force to replace it, or restore to a new file",
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".restore.part")
    shutil.copyfile(copy, staged)
    # the old file's WAL and shared-memory files belong to the old database
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(staged, target)
    raw = target.with_name(target.name + ".metrics") / "raw"
    if force and raw.is_dir():
        shutil.rmtree(raw)  # the archive's store replaces the old one, as its database does
    return target


def _restore_pg(dump: Path, url: URL, schema: str | None, *, force: bool) -> None:
    name = schema or "public"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tables = inspect(conn).get_table_names(schema=name)
            if tables and not force:
                raise ConflictError(
                    f"schema {name} of the target database already holds a workspace; "
                    "nothing was restored",
                    hint="pass --force to replace it",
                )
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{_ident(name)}" CASCADE'))
            if name == "public":
                conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    _run(
        # one transaction: a restore that fails leaves the schema absent, never half-filled
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "-d",
            url.database or "",
            str(dump),
        ],
        _pg_env(url),
        "pg_restore",
    )


def _pg_raw_root(url: URL, schema: str | None) -> Path:
    from bigov.workspace import Workspace

    ws = Workspace.open(
        url.render_as_string(hide_password=False), schema=schema, migrate_schema=False
    )
    try:
        return ws.metrics.store.root
    finally:
        ws.close()


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ConfigError(f"invalid schema name {name!r}", hint="use letters, digits and _")
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["BackupResult", "backup", "read_manifest", "restore"]
