"""CLI commands of the ingest context: ``import``, ``export``, ``template``, ``batches``.

Thin: each command unpacks its arguments and calls :mod:`bigov.ingest.service`; errors are
``bigov.errors`` exceptions that the root group turns into a message and an exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
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
    json_out: JsonOption = False,
) -> None:
    """Import a file as one all-or-nothing batch (upsert by code)."""
    from bigov.ingest.service import import_file, resolve_options
    from bigov.ingest.template import write_error_report

    options = resolve_options(
        mapping=mapping, preset=preset, kind=kind, extra=_parse_options(option)
    )
    with open_workspace(db) as ws:
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
            raise
    if json_out:
        from bigov.ingest.schemas import ImportReport

        # the same schema POST /api/v1/imports answers with
        print_json(ImportReport.of(result))
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
    """Export the data set (or some kinds) in the shape `bigov import` reads back."""
    from bigov.ingest.export import export

    with open_workspace(db) as ws:
        written = export(ws, out, only=kind or None, fmt=fmt, csv_raw=csv_raw)
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
) -> None:
    """Write an empty, documented import workbook: one sheet per kind, plus a README."""
    from bigov.ingest.template import write_template

    if out.suffix.casefold() != ".xlsx":
        raise ConfigError("the template is an .xlsx workbook", hint="e.g. bigov template in.xlsx")
    write_template(out, only=kind or None)
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
    table = Table("id", "source", "file", "user", "started", "status", "summary")
    for b in rows:
        table.add_row(
            str(b.id),
            b.source,
            b.file_name or "",
            b.user or "",
            b.started_at.strftime("%Y-%m-%d %H:%M"),
            b.status,
            (b.message or "")[:80],
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``import``, ``export``, ``template`` and ``batches`` to the root app."""
    app.command("import")(import_command)
    app.command("export")(export_command)
    app.command("template")(template_command)
    app.command("batches")(batches_command)
