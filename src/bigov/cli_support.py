"""What every CLI command shares: the ``--db`` option, opening the workspace, error translation,
progress bars and JSON output. Context sub-apps (``bigov metrics``, ``bigov portfolio``, ...) import
from here so every command behaves alike."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, HighlighterType
from rich.style import Style
from rich.table import Table as RichTable
from rich.text import Text
from typer.core import TyperGroup

from bigov.codes import safe_repr
from bigov.errors import BigovError, ConfigError, NotFoundError, ValidationError

# Start-up time is the CLI's first impression: SQLAlchemy, pydantic and the workspace (and so
# every model) load when a command first needs them, never for `--help` or a usage error
# (tests/test_startup.py pins this).
if TYPE_CHECKING:
    from rich.console import JustifyMethod
    from rich.progress import Progress
    from rich.table import Column, Table

    from bigov.workspace import Workspace

# Style tags the commands' own templates use. Only these are ever read as styling; everything
# else in a printed string ("[/x]", "[link=...]", data of any kind) is shown as typed.
_STYLE_WORD = r"(?:bold|dim|italic|underline|red|green|yellow|blue|cyan|magenta|white)"
_SAFE_TAG = re.compile(rf"(/?)({_STYLE_WORD}(?: {_STYLE_WORD})*)?")
# Anything shaped like a Rich tag, with the backslashes before it: Rich's own escaping
# (rich.markup.escape turns "[x]" into "\\[x]") is honoured, so a template may escape the
# values it interpolates and get them back exactly as typed.
_ANY_TAG = re.compile(r"(\\*)\[([a-z#/@][^\[]*?)\]")
# Characters a terminal would act on (escape sequences, bell, backspace, bidi reordering) are
# shown escaped instead, so stored data cannot drive the terminal.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(text: str) -> str:
    return _UNSAFE_CHARS.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


def safe_text(text: str, style: str | Style = "") -> Text:
    """``text`` as a Rich Text, reading only the known style tags and never raising.

    A tag styles only when it is one of the known style tags and is closed later in the same
    string (``[bold]…[/]``), as the commands' templates write them; a lone ``[bold]`` (a value
    someone typed), an unmatched ``[/x]``, an unknown tag, a ``[link=…]`` or any other bracket is
    shown as typed, and ``\\[`` (``rich.markup.escape``) is a literal bracket."""
    tags = list(_ANY_TAG.finditer(text))
    styles: dict[int, tuple[bool, str | None]] = {}  # candidate tags: (closing, style)
    for i, m in enumerate(tags):
        shape = _SAFE_TAG.fullmatch(m.group(2))
        if len(m.group(1)) % 2 == 0 and shape and (shape.group(1) or shape.group(2)):
            styles[i] = (bool(shape.group(1)), shape.group(2))
    paired: set[int] = set()
    stack: list[int] = []
    for i, (closing, name) in styles.items():
        if not closing:
            stack.append(i)
        elif stack and (name is None or name == styles[stack[-1]][1]):
            paired.update((stack.pop(), i))
    out = Text(style=style)
    open_styles: list[str] = []
    pos = 0
    for i, m in enumerate(tags):
        current = " ".join(open_styles) or None
        slashes = m.group(1)[: len(m.group(1)) // 2]
        out.append(_visible(text[pos : m.start()] + slashes), style=current)
        if i in paired:
            closing, name = styles[i]
            if closing:
                open_styles.pop()
            else:
                open_styles.append(name or "")
        else:
            out.append(_visible(f"[{m.group(2)}]"), style=current)
        pos = m.end()
    out.append(_visible(text[pos:]), style=" ".join(open_styles) or None)
    return out


def plain_text(text: str, style: str | Style = "") -> Text:
    """Untrusted ``text`` as Rich Text with no tag read at all (control characters escaped)."""
    return Text(_visible(text), style=style)


class SafeConsole(Console):
    """A Console on which no string is ever parsed as Rich markup.

    Every string Rich turns into text (printed, a table cell or title, a tree label) passes
    through :meth:`render_str`; here it is read by :func:`safe_text`, so a ``[/x]`` in a name
    cannot raise ``MarkupError`` and data cannot add links or drive the terminal. Emoji codes
    (``:smile:``) are left as typed for the same reason."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("emoji", False)
        super().__init__(**kwargs)

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: Any = None,
        overflow: Any = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: HighlighterType | None = None,
    ) -> Text:
        if markup is False or (markup is None and not self._markup):
            rich_text = plain_text(text, style)
        else:
            rich_text = safe_text(text, style)
        rich_text.justify = justify
        rich_text.overflow = overflow
        if highlight or (highlight is None and self._highlight):
            rich_text = (highlighter or self.highlighter)(rich_text)
        return rich_text


console = SafeConsole()
err_console = SafeConsole(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="BIGOV_DB",
        help="Database URL: sqlite:///file.db (default ./bigov.db) or postgresql+psycopg://…",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


# Commands that bring data into a workspace and so may create one; every other command needs
# an existing workspace ("no workspace at …; run `bigov init`", exit 3) instead of silently
# leaving an empty database behind a mistyped --db.
CREATING_COMMANDS = frozenset(
    {
        "init",
        "demo",
        "import",
        "restore",
        "metrics load",
        "metrics define",
        "metrics import-definitions",
        "governance init",
        "governance import",
    }
)


def _current_command() -> str:
    # Typer vendors Click (typer._click); the running command's context lives there.
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    names: list[str] = []
    # the names below the root (the program name may be "python -m bigov.cli")
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def may_create() -> bool:
    """Whether the running command may create a workspace (see :data:`CREATING_COMMANDS`)."""
    return _current_command() in CREATING_COMMANDS


def require_code(ws: Workspace, what: str, code: str | None, *columns: Any) -> None:
    """Refuse a filter naming a code that exists in none of ``columns`` (exit 4), instead of
    answering an empty list that looks like "nothing happened".

    Raises:
        NotFoundError: ``code`` is given and unknown.
    """
    if code is None:
        return
    from sqlalchemy import select

    with ws.session() as s:
        for col in columns:
            if s.scalar(select(col).where(col == code).limit(1)) is not None:
                return
    raise NotFoundError(f"no {what} with code {safe_repr(code)}")


@contextmanager
def open_workspace(
    db: str | None, *, migrate_schema: bool = True, create: bool | None = None
) -> Iterator[Workspace]:
    """Open the workspace named by ``--db`` for the duration of a command.

    ``create`` defaults to whether the running command is one of :data:`CREATING_COMMANDS`."""
    from bigov.workspace import Workspace

    if create is None:
        create = may_create()
    ws = Workspace.open(db, migrate_schema=migrate_schema, create=create)
    try:
        yield ws
    finally:
        ws.close()


def print_json(data: Any) -> None:
    """Print pydantic models, dicts or lists as JSON (Decimals and dates as strings)."""
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
    else:
        text = json.dumps(_plain(data), indent=2, default=str)
    sys.stdout.write(text + "\n")


def _plain(data: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, dict):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def error_document(err: BigovError) -> dict[str, Any]:
    """The JSON form of an error, as ``--json`` commands print it on stdout."""
    doc: dict[str, Any] = {
        **err.details,
        "error": {
            "type": type(err).__name__,
            "message": err.message,
            "hint": err.hint,
            "exit_code": err.exit_code,
        },
    }
    if isinstance(err, ValidationError):
        doc["error"]["problems"] = [
            {
                "file": p.file,
                "sheet": p.sheet,
                "row": p.row,
                "column": p.column,
                "value": p.value,
                "reason": p.reason,
            }
            for p in err.problems
        ]
    conflict = getattr(err, "conflict", None)
    if conflict:
        doc["error"]["conflict"] = list(conflict)
    return doc


def report_error(err: BigovError, *, as_json: bool = False) -> None:
    """The one-line message (plus the problem table for validation errors) a user sees; with
    ``as_json`` the whole error as JSON on stdout instead, so a program reading the output of a
    ``--json`` command gets a document whether the command worked or not."""
    if as_json:
        sys.stdout.write(json.dumps(error_document(err), indent=2, default=str) + "\n")
    # messages and problems carry what the user typed or the file held: never read as tags
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", plain_text(str(err))),
        highlight=False,
        soft_wrap=True,
    )
    if isinstance(err, ValidationError) and err.problems and not as_json:
        from rich.table import Table

        table = Table("file", "sheet", "row", "column", "value", "reason", show_lines=False)
        for p in err.problems[:50]:
            table.add_row(
                plain_text(p.file or ""),
                plain_text(p.sheet or ""),
                "" if p.row is None else str(p.row),
                plain_text(p.column or ""),
                plain_text((p.value or "")[:40]),
                plain_text(p.reason),
            )
        err_console.print(table)
        if len(err.problems) > 50:
            err_console.print(f"… and {len(err.problems) - 50} more problems")


def _is_data_error(err: BaseException) -> bool:
    # SQLAlchemy is only loaded once a command opened a workspace; before that no error can be
    # one of its own
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(err, exc.DataError)


class ErrorHandlingGroup(TyperGroup):
    """Turns a :class:`BigovError` anywhere below into a clear message and its exit code.

    Living on the group (not in ``main``) means the same translation applies under the test
    runner, so tests see exactly what users see."""

    def invoke(self, ctx: Any) -> Any:  # ctx: click.Context (vendored by newer Typer)
        # the words after this group, read before the command consumes them: `--json` there
        # asks for the error as JSON too
        words = [*getattr(ctx, "_protected_args", ()), *(ctx.args or ())]
        as_json = wants_json(words)
        try:
            return super().invoke(ctx)
        except BigovError as err:
            report_error(err, as_json=as_json)
            raise typer.Exit(err.exit_code) from err
        except OSError as err:
            # a path the user gave that cannot be read or written (missing folder, permission,
            # a directory where a file was expected): their fix, so a message, not a traceback
            where = f": {safe_repr(err.filename)}" if err.filename else ""
            config = ConfigError(f"{err.strerror or err.__class__.__name__}{where}")
            report_error(config, as_json=as_json)
            raise typer.Exit(config.exit_code) from err
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]: the current transaction was rolled back")
            raise typer.Exit(130) from None
        except Exception as err:
            if not _is_data_error(err):
                raise
            # a value the database cannot hold or compare (PostgreSQL refuses a NUL byte even
            # in a look-up); nothing was written, the transaction rolled back
            orig = getattr(err, "orig", None) or err
            first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
            invalid = ValidationError(f"invalid input: the database refused a value ({first})")
            report_error(invalid, as_json=as_json)
            raise typer.Exit(invalid.exit_code) from err


def wants_json(words: list[str]) -> bool:
    """Whether ``--json`` is among a command's words (before any ``--`` end of options)."""
    for word in words:
        if word == "--":
            return False
        if word == "--json":
            return True
    return False


class RichReporter:
    """A :class:`bigov.progress.Reporter` drawing a Rich progress bar on stderr."""

    def __init__(self, enabled: bool = True) -> None:
        self._progress: Progress | None = None
        self._task: Any = None
        self._enabled = enabled and err_console.is_terminal

    def start(self, task: str, total: int | None = None) -> None:
        if not self._enabled:
            return
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            )
            self._progress.start()
        self._task = self._progress.add_task(task, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, steps)

    def note(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message, highlight=False)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None


# -- output that fits a terminal -----------------------------------------------------------------
# Every table-printing command builds its tables from these, so that at 100 columns (and mostly
# at 80) codes are never cut — a code is what the user types next — while names wrap, money
# reads £1.2m (or in full with --exact), percentages have one decimal and numbers never show in
# scientific notation.

DetailOption = Annotated[bool, typer.Option("--detail", help="Show every row behind the summary.")]
LimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="Show at most this many detail rows (default: all)."),
]
ExactOption = Annotated[
    bool, typer.Option("--exact", help="Money in full (£1,234,567) instead of £1.23m.")
]


def code_column(
    header: str, codes: Iterable[object] = (), *, justify: JustifyMethod = "left"
) -> Column:
    """A column of codes: never wrapped or cut, as wide as its longest code."""
    from rich.table import Column

    width = max([len(header), *(len(str(c)) for c in codes)])
    return Column(header, no_wrap=True, min_width=width, overflow="fold", justify=justify)


def text_column(header: str, *, min_width: int = 12) -> Column:
    """A column of names or descriptions: wraps at words, folds a word longer than the column."""
    from rich.table import Column

    return Column(header, overflow="fold", min_width=min_width)


def number_column(header: str) -> Column:
    """A right-aligned column of figures: its header may wrap, its figures never do (a
    :func:`fit_table` sets the column as wide as its widest figure when printed)."""
    from rich.table import Column

    return Column(header, justify="right", overflow="fold")


class _FitTable(RichTable):
    """A Rich table whose right-aligned (figure) columns keep their widest figure whole, so that
    squeezing a table to the terminal wraps its names instead of cutting its numbers."""

    def __rich_console__(self, console: Console, options: Any) -> Any:
        for column in self.columns:
            if column.justify == "right":
                widest = max(
                    (len(c.plain) if isinstance(c, Text) else len(str(c)) for c in column.cells),
                    default=0,
                )
                # nor a word of its header ("forecast", not "forecas" / "t")
                header = column.header.plain if isinstance(column.header, Text) else column.header
                word = max((len(w) for w in str(header).split()), default=0)
                column.min_width = max(column.min_width or 0, widest, word)
        return super().__rich_console__(console, options)


def fit_table(
    *columns: Column | str, title: str | Text | None = None, caption: str | Text | None = None
) -> Table:
    """A table with light rules (no vertical borders: three characters a column saved)."""
    from rich import box

    return _FitTable(
        *columns,
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        title_justify="left",
        caption_justify="left",
    )


def money_text(value: Any, currency: str = "GBP", *, exact: bool = False) -> str:
    """Money as a person reads it: ``£1.23m`` / ``£412k`` (figures.format), or in full."""
    from bigov.figures.format import DASH, SYMBOLS, money, to_decimal

    if not exact:
        return money(value, currency)
    d = to_decimal(value)
    if d is None:
        return DASH
    symbol = SYMBOLS.get(currency, currency + " ")
    places = 0 if d == d.to_integral_value() else 2
    return f"{'-' if d < 0 else ''}{symbol}{abs(d):,.{places}f}"


def pct_text(value: Any) -> str:
    """A percentage with one decimal (``52.2%``; ``—`` when missing)."""
    from bigov.figures.format import pct

    return pct(value)


def plain_number(value: Any, places: int = 1) -> str:
    """A number with separators and fixed decimals, never in scientific notation."""
    from bigov.figures.format import number

    return number(value, places)


def as_at_line(title: str, as_at: Any, *, extra: str = "") -> None:
    """The first line of every analysis: what it is and the date it is as at."""
    console.print(
        Text.assemble((title, "bold"), f" · as at {as_at}", f" · {extra}" if extra else "")
    )


def limited(rows: list[Any], limit: int | None) -> list[Any]:
    """The first ``limit`` rows (all when no limit)."""
    return rows if limit is None else rows[:limit]


def more_note(total: int, shown: int, *, how: str = "--limit N, or --json for all") -> None:
    """Say how many rows a table left out, and how to see them."""
    if total > shown:
        console.print(Text(f"… {total - shown:,} more ({how})", style="dim"))


def sort_rows(rows: list[Any], sort: str | None, keys: dict[str, Any]) -> list[Any]:
    """Rows ordered by one of ``keys`` (name → key function; a leading ``-`` reverses).

    Raises:
        ConfigError: ``sort`` names no key.
    """
    if not sort:
        return rows
    name = sort.removeprefix("-")
    if name not in keys:
        raise ConfigError(f"cannot sort by {sort!r}", hint=f"use one of: {', '.join(keys)}")
    return sorted(rows, key=keys[name], reverse=sort.startswith("-"))
