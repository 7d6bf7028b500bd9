"""``bigov settings show|set|export|import``: the workspace settings, checked
(:mod:`bigov.ops.settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from bigov.cli_support import (
    DbOption,
    ErrorHandlingGroup,
    JsonOption,
    code_column,
    console,
    fit_table,
    open_workspace,
    print_json,
    text_column,
)

settings_app = typer.Typer(
    name="settings",
    cls=ErrorHandlingGroup,
    no_args_is_help=True,
    help="Workspace settings: organisation, fiscal year, currency, time zone, run/change target.",
)


@settings_app.command("show")
def settings_show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every setting: its value, its default and what it means."""
    with open_workspace(db) as ws:
        rows = ws.settings.show()
    if as_json:
        print_json({r.key: r.value for r in rows} | {"_details": [r.model_dump() for r in rows]})
        return
    table = fit_table(
        code_column("setting", (r.key for r in rows)),
        # small minimums: at 80 columns Rich would crop what does not fit, silently
        text_column("value", min_width=10),
        text_column("meaning", min_width=20),
    )
    for r in rows:
        value = Text(r.value or "(empty)", style="bold" if r.changed else "")
        table.add_row(r.key, value, Text(r.description))
    console.print(table)
    console.print(
        Text("Bold: changed from the default. Change one: bigov settings set KEY VALUE.", "dim")
    )


@settings_app.command("set")
def settings_set(
    key: Annotated[str, typer.Argument(help="A setting (bigov settings show lists them).")],
    value: Annotated[str, typer.Argument(help="Its new value, e.g. Europe/London or 70/20/10.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change one setting; the value is checked first (a time zone must exist, a fiscal year
    start is a month 1–12, a currency an ISO 4217 code, the target split adds up to 100)."""
    with open_workspace(db) as ws:
        change = ws.settings.set({key: value})
    if as_json:
        print_json(change)
        return
    for k, v in change.changed.items():
        console.print(Text(f"{k} = {v}"))
    for k in change.unchanged:
        console.print(Text(f"{k} unchanged"))
    for note in change.notes:
        console.print(Text(note, style="yellow"))


@settings_app.command("export")
def settings_export(
    path: Annotated[Path, typer.Argument(help="YAML file to write.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the settings as YAML, to edit or to carry to another workspace."""
    with open_workspace(db) as ws:
        written = ws.settings.export(path)
    if as_json:
        print_json({"files": [str(written)]})
        return
    console.print(Text(f"wrote {written}"))


@settings_app.command("import")
def settings_import(
    path: Annotated[Path, typer.Argument(help="YAML file of `key: value` lines.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set the settings of a YAML file: every value checked first, all or nothing."""
    with open_workspace(db) as ws:
        change = ws.settings.set(ws.settings.read(path), file=path.name)
    if as_json:
        print_json(change)
        return
    console.print(
        Text(f"{path.name}: {len(change.changed)} changed, {len(change.unchanged)} unchanged")
    )
    for note in change.notes:
        console.print(Text(note, style="yellow"))


def register(app: typer.Typer) -> None:
    """Mount ``bigov settings`` on the root app."""
    app.add_typer(settings_app)


__all__ = ["register", "settings_app"]
