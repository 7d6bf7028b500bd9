"""Mapping files: which column is which field, how master codes become bigov codes, formats.

A mapping is a small YAML file (see docs/importing.md)::

    kind: cost_line                      # or per sheet, under `sheets:`
    sheet: Costs                         # only this worksheet of an XLSX
    skip_rows: 2                         # rows above the header row
    columns:                             # source header -> bigov field (null: ignore column)
      Cost Centre: work_item
      Month: period
      Budget (£k): budget
    codes:                               # field -> {master-source code: bigov code}
      work_item: {CC100: PRJ-001}
    date_format: "%d/%m/%Y"              # or a list; tried before the built-in formats
    decimal: "."
    thousands: ","
    multiply: {budget: 1000}             # e.g. thousands of pounds -> pounds
    defaults: {expenditure: opex}        # for empty or absent values
    computed: {period: "month([Date])"}  # fields from expressions (bigov.ingest.expressions)
    period_round: month                  # dates of the ``period`` field -> their month start

Headers are matched after :func:`normalise_header` (case, line breaks, spacing and bracketed
notes ignored) on both sides; a ``columns`` key starting with ``re:`` is a regular expression
matched against the normalised header. Without a mapping the *default mapping* applies: a header
equal to a field name (``parent``, ``owner``; also ``parent_code``) is that field. With
``columns``, the columns it does not list are ignored, even one named like a field, unless
``unlisted: by_name`` keeps the default mapping for them.

``kinds:`` splits one flat file into several kinds (an agency, its projects, their costs), each
with its own ``columns``/``defaults``/``computed``; rows of a kind that repeat identically (the
agency on every project row) load once, and repeats that disagree are an error naming both rows.
Two rows that only ``period_round`` makes one (two invoices of one month) are such an error too:
they are compared on the dates as the file holds them, never merged.

Problems of single rows found here (a computed value that cannot be worked out, repeats that
disagree) do not stop the reading: they travel on the record set (:class:`RowProblem`) and are
reported by validation together with every other problem of the batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from bigov import safeload
from bigov.errors import ConfigError, Problem, ValidationError
from bigov.ingest.expressions import Context as ExpressionContext
from bigov.ingest.expressions import ExpressionError, as_cell, columns_of, evaluate
from bigov.ingest.expressions import parse as parse_expression
from bigov.ingest.parse import NumberFormat, ParseError, is_empty, parse_date
from bigov.ingest.readers import SourceTable
from bigov.ingest.spec import KindSpec, kind_spec, resolve_kind

_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def normalise_header(header: str) -> str:
    """Header text for matching: casefolded, line breaks and runs of blanks collapsed, bracketed
    notes removed (``Total Baseline Whole Life Costs (£m) (including non-government costs)`` →
    ``total baseline whole life costs``), trailing ``.:*`` dropped."""
    text = str(header).casefold().replace("\u00a0", " ")
    previous = None
    while previous != text:  # nested brackets: strip innermost first
        previous, text = text, _BRACKETS.sub(" ", text)
    text = " ".join(text.split())
    return text.strip(" .:*")


def field_key(header: str) -> str:
    """A header as a default-mapping field name: ``Baseline Start`` → ``baseline_start``."""
    return re.sub(r"[\s\-/]+", "_", normalise_header(header)).strip("_")


PeriodRound = Literal["month"]
Unlisted = Literal["ignore", "by_name"]


class SheetMapping(BaseModel):
    """What one worksheet (or a whole CSV) holds and how its columns map to fields."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    columns: dict[str, str | None] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    computed: dict[str, str] = Field(default_factory=dict)
    period_round: PeriodRound | None = None
    skip_rows: int | None = None


class KindMapping(BaseModel):
    """One kind of a flat file split into several (``kinds:``): its columns, defaults and
    computed fields. Columns it does not list are not its business. The entry's name is its
    kind unless ``kind`` says otherwise (two entries of one kind: portfolios and projects)."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    columns: dict[str, str | None] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    computed: dict[str, str] = Field(default_factory=dict)
    period_round: PeriodRound | None = None


class Mapping(BaseModel):
    """A parsed mapping file (or the default mapping, with everything empty)."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    importer: str = "tabular"
    kind: str | None = None
    sheet: str | None = None
    sheets: dict[str, str | SheetMapping] = Field(default_factory=dict)
    skip_rows: int = 0
    columns: dict[str, str | None] = Field(default_factory=dict)
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    date_format: str | list[str] | None = None
    decimal: str = "."
    thousands: str = ","
    encoding: str | None = None
    delimiter: str | None = None
    multiply: dict[str, Decimal] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    computed: dict[str, str] = Field(default_factory=dict)
    period_round: PeriodRound | None = None
    unlisted: Unlisted = "ignore"
    kinds: dict[str, KindMapping] = Field(default_factory=dict)
    # importer-specific settings (e.g. the GMPP preset's rating scale)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _separators(self) -> Mapping:
        # A decimal comma makes the point the thousands separator unless another is named;
        # the same character for both could never be read unambiguously.
        if self.decimal not in (".", ","):
            raise ValueError(f'decimal must be "." or ",", got {self.decimal!r}')
        if self.thousands not in (",", ".", " ", "'", "\u00a0", ""):
            raise ValueError(f"thousands must be one of , . ' or a blank, got {self.thousands!r}")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character, got {self.delimiter!r}")
        sheet_columns = [e.columns for e in self.sheets.values() if isinstance(e, SheetMapping)]
        kind_columns = [e.columns for e in self.kinds.values()]
        for columns in (self.columns, *sheet_columns, *kind_columns):
            for source in columns:
                if source.startswith("re:"):
                    try:
                        re.compile(source[3:])
                    except re.error as exc:
                        raise ValueError(
                            f"columns: {source!r} is not a valid pattern: {exc}"
                        ) from None
        if self.decimal == self.thousands:
            if "thousands" in self.model_fields_set:
                raise ValueError("decimal and thousands separators must differ")
            self.thousands = "." if self.decimal == "," else ","
        return self

    @property
    def date_formats(self) -> list[str]:
        """The user's date formats, tried before the built-in ones."""
        if self.date_format is None:
            return []
        return [self.date_format] if isinstance(self.date_format, str) else self.date_format

    @property
    def number_format(self) -> NumberFormat:
        return NumberFormat(decimal=self.decimal, thousands=self.thousands)

    def sheet_mapping(self, sheet: str | None) -> SheetMapping | None:
        """The per-sheet entry for ``sheet`` (matched case-insensitively), if any."""
        if sheet is None:
            return None
        for name, entry in self.sheets.items():
            if name.casefold() == sheet.casefold():
                return SheetMapping(kind=entry) if isinstance(entry, str) else entry
        return None


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file.

    Raises:
        ConfigError: missing file, bad YAML, unknown keys or kinds (the message says which).
    """
    try:
        text = safeload.read_text(path, "yaml", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read mapping file {path}: {exc.strerror}") from exc
    return parse_mapping(text, str(path))


def parse_mapping(text: str, source: str = "mapping") -> Mapping:
    """A mapping from YAML text (see :func:`load_mapping`)."""
    try:
        data = safeload.load_yaml(text, source) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a mapping file is a YAML dictionary of settings")
    try:
        mapping = Mapping.model_validate(data)
    except PydanticError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{source}: {details}") from exc
    named = [mapping.kind]
    for sheet in mapping.sheets:
        entry = mapping.sheet_mapping(sheet)
        named.append(entry.kind if entry else None)
    for kind in named:
        if kind is not None and mapping.importer == "tabular":
            kind_spec(kind)  # raises ConfigError for an unknown kind
    if mapping.kinds and (mapping.kind or mapping.columns or mapping.sheets):
        raise ConfigError(
            f"{source}: `kinds:` splits a file into several kinds by itself",
            hint="move kind/columns/sheets into the entries under kinds:",
        )
    for name, part in mapping.kinds.items():
        spec = kind_spec(part.kind or name)
        _check_computed(spec, part.computed, part.columns, f"{source}: kinds.{name}")
    for name, sheet_entry in mapping.sheets.items():
        if isinstance(sheet_entry, SheetMapping):
            for expr in sheet_entry.computed.values():
                parse_expression(expr, f"{source}: sheets.{name}.computed")
    for field_name, expr in mapping.computed.items():
        parse_expression(expr, f"{source}: computed.{field_name}")
    return mapping


def _check_computed(
    spec: KindSpec, computed: dict[str, str], columns: dict[str, str | None], where: str
) -> None:
    """Every computed field is a field of the kind, not also mapped from a column, and its
    expression parses (ConfigError otherwise)."""
    mapped = {target for target in columns.values() if target}
    for name, expr in computed.items():
        if name not in spec.field_names():
            raise ConfigError(
                f"{where}.computed: {spec.kind} has no field {name!r}",
                hint="fields: " + ", ".join(spec.field_names()),
            )
        if name in mapped:
            raise ConfigError(f"{where}: field {name!r} is both mapped from a column and computed")
        parse_expression(expr, f"{where}.computed.{name}")


PRESET_PACKAGE = "bigov.ingest.presets"


def preset_names() -> list[str]:
    """Names of the mapping presets shipped with bigov (``gmpp``, ...)."""
    folder = resources.files(PRESET_PACKAGE)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def preset_path(name: str) -> Path:
    """The file of a shipped preset (copy it to adapt it).

    Raises:
        ConfigError: no preset of that name (the message lists the presets).
    """
    folder = resources.files(PRESET_PACKAGE)
    candidate = folder / f"{name.casefold()}.yaml"
    if not candidate.is_file():
        raise ConfigError(f"no preset named {name!r}", hint="presets: " + ", ".join(preset_names()))
    return Path(str(candidate))


def load_preset(name: str) -> Mapping:
    """A shipped preset, parsed."""
    return load_mapping(preset_path(name))


@dataclass(frozen=True)
class RowProblem:
    """A problem of one row found while mapping it, reported by validation with the batch's other
    problems so that one run lists them all (a mapping step that raised would hide every later
    problem until the next run).

    ``unset`` is the field the problem left empty (a computed field): validation does not also
    call it missing. ``repeat`` marks a row that repeats another row's key: validation does not
    also call it a duplicate code. ``echo`` marks a problem about a source cell that validation
    may report itself (a date column both mapped and read by an expression): it is dropped when
    the batch has another problem for the same cell.
    """

    problem: Problem
    unset: str | None = None
    repeat: bool = False
    echo: bool = False


class RecordSet:
    """Rows of one kind from one table, keyed by field, still raw (untyped).

    ``headers`` gives, per field, the column header as it appears in the file (for error
    messages); fields filled by defaults or by importers have no header.

    A record set is held either as row dicts (importers that :meth:`add` rows one by one) or as
    columns (the tabular importer, :meth:`from_columns`): validation types whole columns at once,
    so large files never pay for one dict per row. :meth:`columns` and :attr:`rows` convert on
    demand. A field missing from a row dict is *absent* (left as stored), which is not the same
    as an empty value; columns keep that difference in a per-field ``present`` mask.
    """

    __slots__ = (
        "_columns",
        "_present",
        "_rows",
        "file",
        "headers",
        "kind",
        "mapping",
        "row_numbers",
        "row_problems",
        "sheet",
    )

    def __init__(
        self,
        kind: str,
        file: str | None = None,
        sheet: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.file = file
        self.sheet = sheet
        self.headers: dict[str, str] = dict(headers or {})
        self._rows: list[dict[str, Any]] | None = []
        self._columns: dict[str, list[Any]] | None = None
        self._present: dict[str, list[bool] | None] = {}
        self.row_numbers: list[int | None] = []
        # formats, code translations and factors used to type the raw values
        self.mapping: Mapping | None = None
        # problems of single rows met while mapping, for validation to report with its own
        self.row_problems: list[RowProblem] = []

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts of the fields present in each (built from columns if needed)."""
        if self._rows is None:
            assert self._columns is not None
            names = list(self._columns)
            rows: list[dict[str, Any]] = []
            for i in range(len(self.row_numbers)):
                rows.append(
                    {
                        n: self._columns[n][i]
                        for n in names
                        if (mask := self._present.get(n)) is None or mask[i]
                    }
                )
            self._rows = rows
            self._columns = None
            self._present = {}
        return self._rows

    def add(self, values: dict[str, Any], row: int | None = None) -> None:
        """Append one row (raw values by field name)."""
        self.rows.append(values)
        self.row_numbers.append(row)

    def columns(self) -> tuple[dict[str, list[Any]], dict[str, list[bool] | None]]:
        """Raw values by field (None where absent) and, per field, which rows hold it (None:
        every row). Fields are in order of first appearance."""
        if self._columns is not None:
            return self._columns, self._present
        rows = self._rows or []
        names: dict[str, None] = {}
        for r in rows:
            for k in r:
                names.setdefault(k)
        cols: dict[str, list[Any]] = {}
        present: dict[str, list[bool] | None] = {}
        for name in names:
            cols[name] = [r.get(name) for r in rows]
            mask = [name in r for r in rows]
            present[name] = None if all(mask) else mask
        return cols, present

    @classmethod
    def from_columns(
        cls,
        kind: str,
        columns: dict[str, list[Any]],
        row_numbers: list[int | None],
        *,
        file: str | None = None,
        sheet: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> RecordSet:
        """Rows given as equally long columns, every field present in every row."""
        out = cls(kind, file, sheet, headers)
        out._rows = None
        out._columns = columns
        out._present = dict.fromkeys(columns)
        out.row_numbers = list(row_numbers)
        return out

    @classmethod
    def from_dicts(
        cls,
        kind: str,
        rows: list[dict[str, Any]],
        *,
        file: str | None = None,
        sheet: str | None = None,
    ) -> RecordSet:
        """Rows given as dicts by an importer (e.g. a schedule): row numbers are positions."""
        out = cls(kind, file, sheet)
        for i, row in enumerate(rows, start=1):
            out.add(dict(row), i)
        return out

    def __len__(self) -> int:
        return len(self.row_numbers)


def apply_mapping(table: SourceTable, mapping: Mapping, *, kind: str | None = None) -> RecordSet:
    """The rows of ``table`` as a RecordSet of one kind, by ``mapping``.

    The kind comes from, in order: the mapping's entry for the sheet, the ``kind`` argument
    (``--kind``), the mapping's ``kind``, the sheet's own name (``work_item``, ``Work items``).

    Raises:
        ValidationError: no kind can be told, unknown or duplicated columns (all problems).
    """
    sheet_map = mapping.sheet_mapping(table.sheet)
    resolved = (sheet_map.kind if sheet_map and sheet_map.kind else None) or kind or mapping.kind
    if resolved is None and table.sheet is not None:
        resolved = resolve_kind(table.sheet)
    if resolved is None:
        where = f"sheet {table.sheet!r}" if table.sheet else "the file"
        raise ValidationError(
            f"{table.file}: cannot tell what {where} holds",
            [
                Problem(
                    "unknown kind: name the sheet after a kind, pass --kind, or use a mapping",
                    file=table.file,
                    sheet=table.sheet,
                )
            ],
            hint="e.g. bigov import FILE --kind work_item",
        )
    spec = kind_spec(resolved)
    columns = {**mapping.columns, **(sheet_map.columns if sheet_map else {})}
    defaults = {**mapping.defaults, **(sheet_map.defaults if sheet_map else {})}
    computed = {**mapping.computed, **(sheet_map.computed if sheet_map else {})}
    period_round = (sheet_map.period_round if sheet_map else None) or mapping.period_round
    _check_computed(spec, computed, columns, table.file)
    rs, source = _apply(
        table,
        mapping,
        spec,
        columns=columns,
        defaults=defaults,
        computed=computed,
        period_round=period_round,
        by_name=not columns or mapping.unlisted == "by_name",
    )
    if source:
        # Rows of one file are never merged, but two rows that period rounding puts on one key
        # get the reason said (instead of a bare "duplicate code").
        rs = _dedupe(rs, spec, source, merge=False)
    return rs


def split_mapping(table: SourceTable, mapping: Mapping) -> list[RecordSet]:
    """The rows of one flat ``table`` as one RecordSet per kind of ``mapping.kinds``.

    A row counts for a kind when any column the kind lists holds a value. Rows of a kind that
    repeat identically (same code, same values: the agency on every project row) are kept once;
    repeats that disagree are problems naming both rows (:attr:`RecordSet.row_problems`, reported
    by validation with the rest).

    Raises:
        ValidationError: unknown or missing columns (every problem).
    """
    out: list[RecordSet] = []
    problems: list[Problem] = []
    for name, entry in mapping.kinds.items():
        spec = kind_spec(entry.kind or name)
        try:
            rs, source = _apply(
                table,
                mapping,
                spec,
                columns=entry.columns,
                defaults={**mapping.defaults, **entry.defaults},
                computed=entry.computed,
                period_round=entry.period_round or mapping.period_round,
                by_name=False,
                skip_blank=True,
            )
        except ValidationError as err:
            problems.extend(err.problems)
            continue
        out.append(_dedupe(rs, spec, source, merge=True))
    if problems:
        raise ValidationError(
            f"{table.file}: {len(problems)} problem(s) with the columns", problems
        )
    return out


def _apply(
    table: SourceTable,
    mapping: Mapping,
    spec: KindSpec,
    *,
    columns: dict[str, str | None],
    defaults: dict[str, Any],
    computed: dict[str, str],
    period_round: str | None,
    by_name: bool,
    skip_blank: bool = False,
) -> tuple[RecordSet, dict[str, list[Any]]]:
    """The record set of one kind, and the cells as the file holds them of the fields the mapping
    rewrote (``period`` under ``period_round``), so that repeats are compared on what the file
    says rather than on what rounding made of it.

    Raises:
        ValidationError: column problems only (unknown, duplicated or missing columns); problems
            of single rows are left on the record set for validation.
    """
    problems: list[Problem] = []
    index_of: dict[str, int] = {}
    header_of: dict[str, str] = {}
    for i, header in enumerate(table.headers):
        target = _target_field(header, columns, spec, explicit=bool(columns), by_name=by_name)
        if target is _IGNORE:
            continue
        if target is None:
            problems.append(
                Problem(
                    f"unknown column for {spec.kind}; expected one of: "
                    + ", ".join(spec.field_names()),
                    file=table.file,
                    sheet=table.sheet,
                    row=table.header_row,
                    column=header,
                )
            )
            continue
        assert isinstance(target, str)
        if target in computed:
            continue  # the expression wins over a column named like the field
        if target in index_of:
            problems.append(
                Problem(
                    f"second column for field {target!r} (first: {header_of[target]!r})",
                    file=table.file,
                    sheet=table.sheet,
                    row=table.header_row,
                    column=header,
                )
            )
            continue
        index_of[target] = i
        header_of[target] = header
    for source, target in columns.items():
        if target and target not in index_of and not source.startswith("re:") and skip_blank:
            problems.append(
                Problem(
                    f"no column {source!r} for {spec.kind}.{target}",
                    file=table.file,
                    sheet=table.sheet,
                    row=table.header_row,
                    column=source,
                )
            )
    trees = {name: parse_expression(expr, f"computed.{name}") for name, expr in computed.items()}
    by_header = {normalise_header(h): i for i, h in enumerate(table.headers)}
    for name, tree in trees.items():
        for ref in columns_of(tree):
            if normalise_header(ref) not in by_header:
                problems.append(
                    Problem(
                        f"computed field {name!r} reads column [{ref}], which the file lacks",
                        file=table.file,
                        sheet=table.sheet,
                        row=table.header_row,
                        column=ref,
                    )
                )
    if problems:
        raise ValidationError(f"{table.file}: {len(problems)} column problem(s)", problems)
    rows = table.rows
    row_numbers: list[int | None] = list(table.row_numbers)
    if skip_blank and index_of:
        # a flat file row brings this kind only when one of its columns holds something
        used = list(index_of.values())
        keep = [
            k for k, r in enumerate(rows) if any(i < len(r) and not is_empty(r[i]) for i in used)
        ]
        if len(keep) < len(rows):
            rows = [rows[k] for k in keep]
            row_numbers = [row_numbers[k] for k in keep]
    # Columns are cut with C-level itemgetter when every row is wide enough (the usual case);
    # short rows (ragged CSV lines) read as empty cells.
    need = max(index_of.values(), default=-1) + 1
    wide = min(map(len, rows), default=need) >= need
    cut: dict[str, list[Any]] = {}
    for f, i in index_of.items():
        cut[f] = (
            list(map(itemgetter(i), rows)) if wide else [r[i] if i < len(r) else None for r in rows]
        )
    row_problems: list[RowProblem] = []
    if trees:
        values, row_problems = _computed_columns(
            table, mapping, spec, trees, computed, rows, row_numbers, by_header
        )
        cut.update(values)
    as_read: dict[str, list[Any]] = {}
    if period_round is not None and "period" in spec.fields and "period" in cut:
        as_read["period"] = cut["period"]
        cut["period"] = _round_periods(cut["period"], mapping)
    for f, v in defaults.items():
        if f in cut:
            cut[f] = [v if (x is None or x == "") else x for x in cut[f]]
        else:
            cut[f] = [v] * len(rows)
    out = RecordSet.from_columns(
        spec.kind,
        cut,
        row_numbers,
        file=table.file,
        sheet=table.sheet,
        headers=header_of,
    )
    out.mapping = mapping
    out.row_problems = row_problems
    return out, as_read


def _computed_columns(
    table: SourceTable,
    mapping: Mapping,
    spec: KindSpec,
    trees: dict[str, Any],
    texts: dict[str, str],
    rows: list[list[Any]],
    row_numbers: list[int | None],
    by_header: dict[str, int],
) -> tuple[dict[str, list[Any]], list[RowProblem]]:
    """The computed fields' values (empty where an expression fails) and a problem per failure:
    against the source cell at fault when one is (its column and value), else against the
    computed field."""
    ctx = ExpressionContext(
        date_formats=tuple(mapping.date_formats), number_format=mapping.number_format
    )
    out: dict[str, list[Any]] = {}
    problems: list[RowProblem] = []
    for name, tree in trees.items():
        values: list[Any] = []
        for row, number in zip(rows, row_numbers, strict=True):

            def cell(header: str, row: list[Any] = row) -> Any:
                i = by_header[normalise_header(header)]
                return row[i] if i < len(row) else None

            try:
                values.append(as_cell(evaluate(tree, cell, ctx)))
            except ExpressionError as exc:
                values.append(None)
                if exc.column is None:
                    problem = Problem(
                        f"computed {spec.kind}.{name}: {exc}",
                        file=table.file,
                        sheet=table.sheet,
                        row=number,
                        column=name,
                    )
                else:
                    raw = cell(exc.column)
                    problem = Problem(
                        f"{exc}; needed to compute {spec.kind}.{name} = {texts[name]}",
                        file=table.file,
                        sheet=table.sheet,
                        row=number,
                        column=table.headers[by_header[normalise_header(exc.column)]],
                        value=None if raw is None else str(raw)[:500],
                    )
                # the cell may be mapped to a field too (a start date both stored and read by
                # the expression): validation then reports it, and this would say it twice
                problems.append(RowProblem(problem, unset=name, echo=exc.column is not None))
        out[name] = values
    return out, problems


def _round_periods(values: list[Any], mapping: Mapping) -> list[Any]:
    """Dates of a ``period`` column as their month's first day (``period_round: month``); what
    does not read as a date is left for validation to report."""
    out: list[Any] = []
    for value in values:
        try:
            day = parse_date(value, formats=mapping.date_formats)
        except ParseError:
            out.append(value)
            continue
        out.append(None if day is None else day.replace(day=1).isoformat())
    return out


def _dedupe(
    rs: RecordSet, spec: KindSpec, source: dict[str, list[Any]], *, merge: bool
) -> RecordSet:
    """``rs`` with the rows that repeat a code (or natural key) with the same values kept once
    (``merge``: a flat file repeats its reference rows); repeats with other values keep their row
    and get a problem naming both rows and the field.

    Values are compared as the file holds them (``source``): two invoices of one month share a
    key only because ``period_round`` made it so, and must never be merged into one line, even
    when their amounts agree; they get a problem saying so (with ``merge`` or without)."""
    cols, _ = rs.columns()
    by_code = "code" in cols
    key_fields = ["code"] if by_code else [n for n in spec.natural_key if n in cols]
    if not key_fields or not len(rs):
        return rs
    if not merge and (by_code or not source):
        return rs  # nothing to merge, and no key that rounding can have made
    names = list(cols)

    def cell(name: str, k: int) -> Any:
        return _same(source[name][k] if name in source else cols[name][k])

    first: dict[tuple[Any, ...], int] = {}
    keep: list[int] = []
    problems: list[Problem] = []
    dropped: dict[int | None, int | None] = {}  # row number -> the row it repeats
    for k in range(len(rs)):
        key = _key(cols, key_fields, k, spec, by_code=by_code)
        if key is None:
            keep.append(k)
            continue
        seen = first.setdefault(key, k)
        if seen == k:
            keep.append(k)
            continue
        here = rs.row_numbers[k]
        rounded = [] if by_code else [n for n in source if cell(n, seen) != cell(n, k)]
        if rounded:
            problems.append(_rounded_clash(rs, spec, key_fields, key, rounded[0], seen, k, cell))
            keep.append(k)
            continue
        if not merge:
            keep.append(k)  # the same key twice in a file of one kind: a duplicate code
            continue
        clashes = [n for n in names if cell(n, seen) != cell(n, k)]
        for name in clashes:
            a, b = _shown(cell(name, seen)), _shown(cell(name, k))
            shown = "/".join(str(p) for p in key)
            problems.append(
                Problem(
                    f"{spec.kind} {shown} repeats row {rs.row_numbers[seen]} with another "
                    f"{name}: {a!r} there, {b!r} here (repeated rows must agree)",
                    file=rs.file,
                    sheet=rs.sheet,
                    row=here,
                    column=rs.headers.get(name, name),
                    value=None if b is None else str(b)[:200],
                )
            )
        if not clashes and spec.kind in _FIGURE_KINDS:
            # a figure for a period (a cost, a benefit, a demand) repeated cell for cell may be
            # one line twice or two equal lines (two £8,000 invoices on one day): never merged
            # in silence, whichever it is (docs/importing.md: "nothing is summed")
            shown = _key_label(spec, key_fields, key)
            problems.append(
                Problem(
                    f"{spec.kind} {shown} repeats row {rs.row_numbers[seen]} cell for cell: two "
                    "equal figures for one period are not merged; sum them in the source, or "
                    "keep them apart by another key field",
                    file=rs.file,
                    sheet=rs.sheet,
                    row=here,
                    column=None,
                    value=None,
                )
            )
            keep.append(k)
        elif clashes:
            keep.append(k)  # still typed and checked: its other cells may have problems too
        else:
            dropped[here] = rs.row_numbers[seen]
    # validation reports these with its own problems, and does not call the repeats duplicates
    extra = [RowProblem(p, repeat=True) for p in problems]
    if len(keep) == len(rs):
        rs.row_problems.extend(extra)
        return rs
    out = RecordSet.from_columns(
        rs.kind,
        {n: [cols[n][k] for k in keep] for n in names},
        [rs.row_numbers[k] for k in keep],
        file=rs.file,
        sheet=rs.sheet,
        headers=rs.headers,
    )
    out.mapping = rs.mapping
    out.row_problems = [*_unrepeated(rs.row_problems, dropped), *extra]
    return out


def _unrepeated(
    problems: list[RowProblem], dropped: dict[int | None, int | None]
) -> list[RowProblem]:
    """``problems`` without those of a row loaded once (``dropped``: row -> the row it repeats)
    that its first row has too: an agency's bad cell on every project row is said once."""

    def what(rp: RowProblem) -> tuple[Any, ...]:
        p = rp.problem
        return (p.reason, p.column, p.value, rp.unset)

    firsts = set(dropped.values())
    said = {(rp.problem.row, what(rp)) for rp in problems if rp.problem.row in firsts}
    return [
        rp
        for rp in problems
        if rp.problem.row not in dropped or (dropped[rp.problem.row], what(rp)) not in said
    ]


def _key(
    cols: dict[str, list[Any]], fields: list[str], k: int, spec: KindSpec, *, by_code: bool
) -> tuple[Any, ...] | None:
    """Row ``k``'s code or natural key as compared between rows; None when it has none yet (a
    code left empty, a required part of the key missing: validation reports or derives it). An
    empty optional part is a value of the key (the derived code leaves it out), an empty part
    with a default counts as the default (the derived code uses it)."""
    parts: list[Any] = []
    for name in fields:
        value = _same(cols[name][k])
        if value is None:
            f = None if by_code else spec.fields[name]
            if f is None or f.required:
                return None
            if f.default is not None:
                value = str(getattr(f.default, "value", f.default))
        parts.append(value)
    return tuple(parts)


# kinds whose rows are amounts for a period: two equal rows may be two real amounts, so they are
# never merged (a status report or a reference row repeated on every line of a flat extract is one)
_FIGURE_KINDS = frozenset(
    {"cost_line", "benefit_profile", "key_result_actual", "capacity", "demand"}
)


def _key_label(spec: KindSpec, key_fields: list[str], key: tuple[Any, ...]) -> str:
    """The key as the derived code will read (docs/importing.md, "Codes of fact rows"):
    ``P012/2026-10/opex``."""
    given = dict(zip(key_fields, key, strict=True))
    parts: list[str] = []
    for f in spec.natural_key:
        default = spec.fields[f].default
        part = given.get(f, None if default is None else getattr(default, "value", default))
        if part is not None:
            text = str(part)
            parts.append(text[:7] if re.fullmatch(r"\d{4}-\d{2}-01", text) else text)
    return "/".join(parts)


def _rounded_clash(
    rs: RecordSet,
    spec: KindSpec,
    key_fields: list[str],
    key: tuple[Any, ...],
    name: str,
    seen: int,
    k: int,
    cell: Callable[[str, int], Any],
) -> Problem:
    """The problem of row ``k`` that rounding put on row ``seen``'s key (docs/importing.md:
    "Two lines that land in the same month are still the same cost line twice")."""
    shown = _key_label(spec, key_fields, key)
    apart = [
        n
        for n in spec.natural_key
        if n != name and (not spec.fields[n].required or spec.fields[n].default is not None)
    ]
    advice = "sum them in the source" + (
        ", or keep them apart by " + " or ".join(apart) if apart else ""
    )
    a, b = _shown(cell(name, seen)), _shown(cell(name, k))
    return Problem(
        f"{spec.kind} {shown}: rows {rs.row_numbers[seen]} and {rs.row_numbers[k]} are in one "
        f"month after period_round ({a!r} there, {b!r} here); {advice}",
        file=rs.file,
        sheet=rs.sheet,
        row=rs.row_numbers[k],
        column=rs.headers.get(name, name),
        value=None if b is None else str(b)[:200],
    )


def _shown(value: Any) -> Any:
    """A cell as quoted in a problem: a spreadsheet's date as the day it is, not a Python
    repr (``datetime.datetime(2026, 10, 14, 0, 0)``)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _same(value: Any) -> Any:
    """A cell as compared between repeated rows: blanks around text and empty markers do not
    make two rows disagree."""
    if isinstance(value, str):
        value = value.strip()
    return None if is_empty(value) else value


class _Ignore:
    pass


_IGNORE = _Ignore()


def _target_field(
    header: str,
    columns: dict[str, str | None],
    spec: KindSpec,
    *,
    explicit: bool,
    by_name: bool = True,
) -> str | _Ignore | None:
    norm = normalise_header(header)
    for source, target in columns.items():
        matched = (
            re.fullmatch(source[3:], norm) is not None
            if source.startswith("re:")
            else normalise_header(source) == norm
        )
        if matched:
            return _IGNORE if target in (None, "", "-") else target
    if explicit and not by_name:
        # `columns:` lists what the file means; a column it leaves out is not read, even one
        # that happens to be named like a field (a "Status" of the source's own meaning)
        return _IGNORE
    key = field_key(header)
    names = spec.field_names()
    if key in names:
        return key
    if key.endswith("_code") and key[:-5] in spec.fields and spec.fields[key[:-5]].ref:
        return key[:-5]
    if key.endswith("_id") and key[:-3] in spec.fields and spec.fields[key[:-3]].ref:
        return key[:-3]
    # With an explicit column list, other columns are the source's business: ignore them.
    return _IGNORE if explicit else None
