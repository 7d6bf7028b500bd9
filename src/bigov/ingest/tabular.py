"""The ``tabular`` importer: CSV, XLSX (every sheet) and JSON through a mapping.

Without a mapping file the default mapping applies (headers are field names; a sheet named after a
kind holds that kind). See :mod:`bigov.ingest.mapping`.
"""

from __future__ import annotations

from pathlib import Path

from bigov.errors import Problem, ValidationError
from bigov.ingest.mapping import RecordSet, apply_mapping, split_mapping
from bigov.ingest.readers import TABULAR_SUFFIXES, read_tables
from bigov.ingest.registry import ImportOptions, register

SKIPPED_SHEETS = frozenset({"readme", "read me", "about", "notes", "instructions"})


@register
class TabularImporter:
    """CSV / XLSX / JSON rows of any kind, by a mapping or the default mapping."""

    name = "tabular"
    suffixes = tuple(sorted(TABULAR_SUFFIXES))

    def accepts(self, path: Path, options: ImportOptions) -> bool:
        return path.suffix.casefold() in TABULAR_SUFFIXES

    def read(self, path: Path, options: ImportOptions) -> list[RecordSet]:
        mapping = options.mapping
        tables = read_tables(
            path,
            sheet=mapping.sheet,
            skip_rows=mapping.skip_rows,
            encoding=mapping.encoding,
            delimiter=mapping.delimiter,
            max_bytes=options.max_bytes(),
        )
        out: list[RecordSet] = []
        problems: list[Problem] = []
        for table in tables:
            if table.sheet and table.sheet.casefold() in SKIPPED_SHEETS:
                continue
            try:
                if mapping.kinds:  # one flat file holding several kinds
                    out.extend(split_mapping(table, mapping))
                else:
                    out.append(apply_mapping(table, mapping, kind=options.kind))
            except ValidationError as err:
                problems.extend(err.problems)
        if problems:
            raise ValidationError(
                f"{path.name}: {len(problems)} problem(s) with the layout: nothing was imported",
                problems,
            )
        if not any(len(rs) for rs in out):
            raise ValidationError(
                f"{path.name}: no data rows to import",
                [Problem("every sheet is empty or holds only its header row", file=path.name)],
            )
        return [rs for rs in out if len(rs)]
