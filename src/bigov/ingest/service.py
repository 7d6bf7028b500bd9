"""The ingest facade: import a file (or rows) as one batch, list batches.

:func:`import_file` is what the CLI, the web app and tests call. Each call is one
:class:`~bigov.db.batch.ImportBatch`:

* everything is validated first; on any problem nothing is written, and the batch is recorded
  as ``rejected`` (in its own transaction) with the problem summary, then the
  :class:`~bigov.errors.ValidationError` is raised with every problem;
* otherwise all rows are written in **one** transaction together with the ``committed`` batch
  record; any database error rolls everything back;
* importing the same data again writes nothing but the batch record (every row "unchanged").
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bigov.db.base import utcnow
from bigov.db.batch import ImportBatch, current_user
from bigov.errors import ConfigError, ConflictError, DatabaseError, Problem, ValidationError
from bigov.ingest.load import execute_plan
from bigov.ingest.mapping import Mapping, RecordSet, load_mapping, load_preset
from bigov.ingest.registry import Importer, ImportOptions, choose_importer, get_importer
from bigov.ingest.revert import record_before
from bigov.ingest.schemas import BatchInfo
from bigov.ingest.validate import plan_import
from bigov.progress import SILENT, Reporter
from bigov.workspace import Workspace


class ImportResult(BaseModel):
    """What an import did (or, with ``dry_run``, would do)."""

    batch_id: int | None
    status: str  # committed | rejected | dry-run
    source: str
    file_name: str | None
    file_hash: str | None
    user: str | None
    counts: dict[str, dict[str, int]]
    problems: int = 0
    warnings: list[str] = []

    @property
    def totals(self) -> dict[str, int]:
        """inserted / updated / unchanged / rejected summed over kinds."""
        total: Counter[str] = Counter()
        for c in self.counts.values():
            total.update(c)
        return {k: total.get(k, 0) for k in ("inserted", "updated", "unchanged", "rejected")}


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_options(
    *,
    mapping: Path | None = None,
    preset: str | None = None,
    kind: str | None = None,
    extra: dict[str, Any] | None = None,
) -> ImportOptions:
    """Options from the CLI-level choices (a mapping file *or* a preset, a kind)."""
    if mapping is not None and preset is not None:
        raise ConfigError("give either --mapping or --preset, not both")
    loaded = load_mapping(mapping) if mapping else load_preset(preset) if preset else Mapping()
    return ImportOptions(mapping=loaded, kind=kind, extra=dict(extra or {}))


def import_file(
    ws: Workspace,
    path: Path,
    *,
    options: ImportOptions | None = None,
    importer: str | None = None,
    user: str | None = None,
    dry_run: bool = False,
    reporter: Reporter = SILENT,
) -> ImportResult:
    """Import ``path`` as one batch (see the module docstring for the guarantees).

    Raises:
        ValidationError: bad file or rows (every problem; nothing written).
        ConfigError: bad mapping, kind or importer name.
    """
    options = options or ImportOptions()
    # the workspace's currency is what a file that names none is in (importers warn when used)
    options.extra.setdefault("workspace_currency", ws.setting("currency"))
    chosen: Importer = get_importer(importer) if importer else choose_importer(path, options)
    name = path.name
    digest = file_hash(path) if path.is_file() else None
    user = user or current_user()
    reporter.start(f"reading {name}")
    try:
        recordsets = chosen.read(path, options)
    except ValidationError as err:
        reporter.finish()
        if not dry_run:
            _record_rejected(ws, chosen.name, name, digest, user, err, {})
        raise
    reporter.finish()
    return import_records(
        ws,
        recordsets,
        source=chosen.name,
        file_name=name,
        file_hash=digest,
        user=user,
        dry_run=dry_run,
        reporter=reporter,
        warnings=options.warnings,
    )


def import_records(
    ws: Workspace,
    recordsets: Sequence[RecordSet],
    *,
    source: str,
    file_name: str | None = None,
    file_hash: str | None = None,
    user: str | None = None,
    dry_run: bool = False,
    reporter: Reporter = SILENT,
    warnings: Sequence[str] = (),
) -> ImportResult:
    """Validate and load rows already read (importers, services, the demo generator).
    ``warnings`` (what the importer noticed) are returned and kept in the batch's message."""
    user = user or current_user()
    sizes: Counter[str] = Counter()
    for rs in recordsets:
        sizes[rs.kind] += len(rs)
    kind_label = ",".join(sorted(sizes))[:64] or None
    try:
        with ws.session() as s:
            reporter.start("validating")
            plan = plan_import(s, recordsets)
            reporter.finish()
            if dry_run:
                s.rollback()
                return ImportResult(
                    batch_id=None,
                    status="dry-run",
                    source=source,
                    file_name=file_name,
                    file_hash=file_hash,
                    user=user,
                    counts=plan.counts,
                    warnings=list(warnings),
                )
            batch_id = s.execute(
                insert(ImportBatch)
                .values(
                    source=source,
                    kind=kind_label,
                    file_name=file_name,
                    file_hash=file_hash,
                    user=user,
                    started_at=utcnow(),
                    status="running",
                    counts={},
                )
                .returning(ImportBatch.id)
            ).scalar_one()
            # what the batch replaces, so `bigov batches revert` can put it back
            record_before(s, plan, batch_id)
            execute_plan(s, plan, batch_id=batch_id, user=user, reporter=reporter)
            counts = plan.counts
            from bigov.datacall.service import record_batch

            # in the batch's own transaction: the data-call requests these rows satisfy
            record_batch(s, batch_id, user)
            s.execute(
                update(ImportBatch)
                .where(ImportBatch.id == batch_id)
                .values(
                    status="committed",
                    finished_at=utcnow(),
                    counts=counts,
                    message=(_totals_text(counts) + "".join(f"; warning: {w}" for w in warnings))[
                        :2000
                    ],
                )
            )
    except ValidationError as err:
        reporter.finish()
        if not dry_run:
            _record_rejected(ws, source, file_name, file_hash, user, err, dict(sizes))
        raise
    except IntegrityError as exc:
        if _unique_violation(exc):
            # Validation saw these codes as new, so another import wrote them since: two imports
            # of the same data at once. The transaction is rolled back; nothing was written.
            conflict = ConflictError(
                "another import of the same codes is in progress or committed first; "
                "nothing was imported",
                hint="run the import again: rows already stored count as unchanged or updated",
            )
            _record_rejected(
                ws,
                source,
                file_name,
                file_hash,
                user,
                ValidationError(conflict.message),
                dict(sizes),
            )
            raise conflict from None
        # A rule the validator does not know (e.g. a check constraint):
        # the transaction is rolled back, so nothing was written.
        refused = ValidationError(
            "the database refused the batch; nothing was imported",
            [Problem(f"constraint violated: {str(exc.orig).splitlines()[0]}", file=file_name)],
        )
        _record_rejected(ws, source, file_name, file_hash, user, refused, dict(sizes))
        raise refused from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"import failed and was rolled back: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    return ImportResult(
        batch_id=batch_id,
        status="committed",
        source=source,
        file_name=file_name,
        file_hash=file_hash,
        user=user,
        counts=counts,
        warnings=list(warnings),
    )


def _unique_violation(exc: IntegrityError) -> bool:
    """True when the database refused a duplicate *code* (PostgreSQL SQLSTATE 23505 on a code
    index, SQLite's "UNIQUE constraint failed: <table>.code"): validation checked codes against
    what was stored, so only a concurrent writer can cause it."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":
        diag = getattr(orig, "diag", None)
        name = str(getattr(diag, "constraint_name", "") or "")
        return name.endswith("_code")
    text = str(orig)
    return "UNIQUE constraint failed" in text and text.rstrip().endswith(".code")


def _totals_text(counts: dict[str, dict[str, int]]) -> str:
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    return ", ".join(f"{total.get(k, 0)} {k}" for k in ("inserted", "updated", "unchanged"))


def _record_rejected(
    ws: Workspace,
    source: str,
    file_name: str | None,
    digest: str | None,
    user: str | None,
    err: ValidationError,
    sizes: dict[str, int],
) -> None:
    rows_with_problems = len({(p.file, p.sheet, p.row) for p in err.problems if p.row})
    counts: dict[str, Any] = {
        k: {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": n} for k, n in sizes.items()
    }
    counts["_problems"] = {"problems": len(err.problems), "rows": rows_with_problems}
    first = "; ".join(
        f"{p.sheet + ' ' if p.sheet else ''}row {p.row} {p.column or ''}: {p.reason}".strip()
        for p in err.problems[:5]
    )
    message = f"{err.message}" + (f" — {first}" if first else "")
    now = utcnow()
    try:
        with ws.session() as s:
            s.execute(
                insert(ImportBatch).values(
                    source=source,
                    kind=",".join(sorted(sizes))[:64] or None,
                    file_name=file_name,
                    file_hash=digest,
                    user=user,
                    started_at=now,
                    finished_at=now,
                    status="rejected",
                    counts=counts,
                    message=message[:2000],
                )
            )
    except SQLAlchemyError:  # recording the rejection must never hide the real error
        pass


def batches(ws: Workspace, *, limit: int = 50) -> list[BatchInfo]:
    """The most recent import batches, newest first."""
    with ws.session() as s:
        rows = s.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit))
        return [
            BatchInfo(
                id=b.id,
                source=b.source,
                kind=b.kind,
                file_name=b.file_name,
                file_hash=b.file_hash,
                user=b.user,
                started_at=b.started_at,
                finished_at=b.finished_at,
                status=b.status,
                counts=b.counts or {},
                message=b.message,
            )
            for b in rows
        ]
