"""CLI commands of the ingest context: ``import``, ``export``, ``template``, ``batches``.

Thin: each command unpacks its arguments and calls :mod:`bigov.ingest.service`; errors are
``bigov.errors`` exceptions that the root group turns into a message and an exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bigov.cli_support import (
    DbOption,
    JsonOption,
    RichReporter,
    console,
    open_workspace,
    print_json,
)
from bigov.errors import ConfigError, ValidationError


def _parse_options(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option {item!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def import_command(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, JSON or schedule file to import.")],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="Mapping file (YAML).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", help="Kind of rows (work_item, cost_line, ...).")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="A shipped mapping preset, e.g. gmpp.")
    ] = None,
    importer: Annotated[
        str | None, typer.Option("--importer", help="Force an importer: tabular, gmpp, mpxj.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; write nothing.")
    ] = False,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Write problems to this .xlsx/.csv.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Who imports (default: login name).")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", "-o", help="Importer option KEY=VALUE (e.g. period=2023-03 for gmpp)."
        ),
    ] = None,
    db: DbOption = None,
    no_settings: Annotated[
        bool,
        typer.Option(
            "--no-settings",
            help="Leave the workspace settings alone even if FILE.settings.yaml (written by "
            "bigov export) lies beside the file.",
        ),
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Import a file as one all-or-nothing batch (upsert by code); a CSV export folder
    (<kind>.csv files) as one batch; a folder of schedules as one batch per file. The settings
    that `bigov export` wrote beside a file (NAME.settings.yaml, or settings.yaml in an export
    folder) are applied too, after the data."""
    from bigov.ingest.export_folder import is_export_folder

    export_folder = is_export_folder(file)
    if export_folder and (kind or mapping or preset):
        # each file of an export folder is read by its own kind's layout: these options name
        # one file's layout, and would otherwise be dropped without a word
        raise ConfigError(
            f"{file.name} is an export folder (<kind>.csv files): --kind, --mapping and "
            "--preset apply to one file",
            hint="import the folder without them, or name one file of it",
        )
    if file.is_dir() and preset is None and mapping is None and not export_folder:
        from bigov.ingest.projectonline.cli import import_folder

        return import_folder(file, db=db, user=user, dry_run=dry_run, json_out=json_out)
    from bigov.ingest.service import import_file, resolve_options
    from bigov.ingest.template import write_error_report
    from bigov.ops.settings import sidecar

    options = resolve_options(
        mapping=mapping, preset=preset, kind=kind, extra=_parse_options(option)
    )
    beside = sidecar(file)
    with open_workspace(db) as ws:
        # checked before the data: a bad settings file refuses the import, and changes nothing
        settings = ws.settings.read(beside) if beside.is_file() and not no_settings else None
        try:
            result = import_file(
                ws,
                file,
                options=options,
                importer=importer,
                user=user,
                dry_run=dry_run,
                reporter=RichReporter(enabled=not json_out),
            )
        except ValidationError as err:
            if errors is not None:
                write_error_report(err.problems, errors)
                err.hint = f"problems written to {errors}"
            # under --json the error document (problems included) is the report on stdout
            err.details = {"status": "rejected", "file_name": file.name}
            raise
        applied = (
            ws.settings.set(settings, file=beside.name)
            if settings is not None and not dry_run and result.batch_id is not None
            else None
        )
    if json_out:
        from bigov.ingest.schemas import ImportReport

        # the same schema POST /api/v1/imports answers with (settings: applied from beside the
        # file, which an upload never has)
        report = ImportReport.of(result)
        report.settings = applied.model_dump() if applied else None
        print_json(report)
        return
    table = Table(
        "kind",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        title=f"{result.file_name}: {result.status}"
        + (f" (batch {result.batch_id})" if result.batch_id else ""),
    )
    for k, c in result.counts.items():
        table.add_row(
            k, *(str(c.get(x, 0)) for x in ("inserted", "updated", "unchanged", "rejected"))
        )
    console.print(table)
    if applied is not None:
        console.print(
            f"settings from {beside.name}: {len(applied.changed)} changed, "
            f"{len(applied.unchanged)} unchanged"
        )
        for note in applied.notes:
            console.print(note)
    for warning in result.warnings:
        console.print(f"[yellow]warning[/]: {escape(warning)}")


def export_command(
    out: Annotated[Path, typer.Argument(help="out.xlsx, out.json, a folder, or kind.csv")],
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="Only these kinds (repeat).")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="xlsx, csv or json (default: by suffix)")
    ] = None,
    csv_raw: Annotated[
        bool,
        typer.Option(
            "--csv-raw",
            help="CSV: write text starting with = + - @ as stored (no ' guard against formulas).",
        ),
    ] = False,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Export the data set (or some kinds) in the shape `bigov import` reads back. The whole
    data set carries the workspace settings beside it (NAME.settings.yaml, or settings.yaml
    in a folder), which `bigov import NAME` applies."""
    from bigov.ingest.export import export
    from bigov.ops.settings import sidecar

    with open_workspace(db) as ws:
        written = export(ws, out, only=kind or None, fmt=fmt, csv_raw=csv_raw)
        if not kind:
            written.append(ws.settings.export(sidecar(out)))
    if json_out:
        print_json({"files": [str(p) for p in written]})
    else:
        for p in written:
            console.print(f"wrote {p}")


def template_command(
    out: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx).")],
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="Only these kinds (repeat).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Write an empty, documented import workbook: one sheet per kind, plus a README."""
    from bigov.ingest.template import write_template

    if out.suffix.casefold() != ".xlsx":
        raise ConfigError("the template is an .xlsx workbook", hint="e.g. bigov template in.xlsx")
    write_template(out, only=kind or None)
    if json_out:
        print_json({"files": [str(out)]})
        return
    console.print(f"wrote {out}")


def batches_command(
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 20,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """List import batches: source, file, who, when, status and counts."""
    from bigov.ingest.service import batches

    with open_workspace(db) as ws:
        rows = batches(ws, limit=limit)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    from rich.text import Text

    from bigov.cli_support import code_column, fit_table, number_column, text_column

    table = fit_table(
        number_column("id"),
        "source",
        text_column("file"),
        text_column("user", min_width=8),
        code_column("started", ["2000-01-01 00:00"]),
        "status",
        text_column("summary", min_width=20),
        title=f"The {len(rows)} newest import batches",
    )
    for b in rows:
        table.add_row(
            str(b.id),
            b.source,
            Text(b.file_name or ""),
            Text(b.user or ""),
            b.started_at.strftime("%Y-%m-%d %H:%M"),
            b.status,
            Text((b.message or "")[:200]),
        )
    console.print(table)


batches_app = typer.Typer(
    name="batches",
    help="List import and metrics batches (newest first); `batches revert N` undoes one.",
    invoke_without_command=True,
)


@batches_app.callback()
def _batches(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 20,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """List import and metrics batches: source, file, who, when, status and counts."""
    if ctx.invoked_subcommand is None:
        batches_command(limit=limit, db=db, json_out=json_out)


@batches_app.command("revert")
def revert_command(
    batch: Annotated[int, typer.Argument(help="Batch id (see `bigov batches`).")],
    user: Annotated[
        str | None, typer.Option("--user", help="Who reverts (default: login name).")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Undo an import or metrics batch, all or nothing: restore what it replaced and remove
    what it added. Refused (exit 5), with every later change that depends on it listed, when
    something later does."""
    from bigov.db.batch import current_user
    from bigov.ingest.revert import RevertBlockedError, revert_batch

    with open_workspace(db) as ws:
        try:
            result = revert_batch(ws, batch, user=user or current_user())
        except RevertBlockedError as err:
            err.details = {
                "batch_id": batch,
                "status": "refused",
                "dependents_total": err.total,
                "dependents": [d.model_dump() for d in err.dependents],
            }
            raise
    if json_out:
        print_json(result)
        return
    parts = [f"{n} {t} restored" for t, n in sorted(result.restored.items()) if n]
    parts += [f"{n} {t} removed" for t, n in sorted(result.deleted.items()) if n]
    if result.superseded:
        parts.append(f"{result.superseded} aggregate version(s) retired")
    if result.raw_file:
        parts.append(f"raw file {result.raw_file} removed")
    console.print(
        f"Reverted batch {result.batch_id} ({escape(result.source)}): "
        + escape(", ".join(parts) or "nothing to undo")
    )


def register(app: typer.Typer) -> None:
    """Add ``import``, ``export``, ``template`` and ``batches`` to the root app."""
    app.command("import")(import_command)
    app.command("export")(export_command)
    app.command("template")(template_command)
    app.add_typer(batches_app)
