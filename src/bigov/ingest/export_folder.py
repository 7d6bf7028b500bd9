"""The ``export-folder`` importer: a folder written by ``bigov export OUT --format csv`` (one
``<kind>.csv`` per kind, and ``settings.yaml``) read back as one all-or-nothing batch.

Each file is read with the default mapping of the kind its name gives, in load order (a kind
after the kinds it references), so the folder imports as its XLSX twin does: every kind in one
batch. A CSV in the folder that is named after no kind is refused rather than skipped, so a file
a person added by hand is never silently left out. ``settings.yaml`` is not data: the CLI applies
it after the batch, as it does a file's ``NAME.settings.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from bigov.errors import Problem, ValidationError
from bigov.ingest.mapping import RecordSet
from bigov.ingest.registry import ImportOptions, register

__all__ = ["ExportFolderImporter", "is_export_folder"]

# what the tabular importer says of a file with a header and no rows
_HEADER_ONLY = "every sheet is empty or holds only its header row"


def _kinds() -> list[str]:
    from bigov.ingest.spec import kinds

    return kinds()


def is_export_folder(path: Path) -> bool:
    """Whether ``path`` is a folder holding at least one ``<kind>.csv`` (an export), rather than
    a folder of schedule files."""
    if not path.is_dir():
        return False
    known = set(_kinds())
    return any(f.suffix.casefold() == ".csv" and f.stem in known for f in path.iterdir())


@register
class ExportFolderImporter:
    """Every ``<kind>.csv`` of a folder, by each kind's default mapping, in one batch."""

    name = "export-folder"
    suffixes: tuple[str, ...] = ()

    def accepts(self, path: Path, options: ImportOptions) -> bool:
        return not options.mapping.kinds and is_export_folder(path)

    def read(self, path: Path, options: ImportOptions) -> list[RecordSet]:
        from bigov.ingest.service import resolve_options
        from bigov.ingest.tabular import TabularImporter

        order = _kinds()
        csvs = {f.stem: f for f in sorted(path.iterdir()) if f.suffix.casefold() == ".csv"}
        problems = [
            Problem(
                f"{name}.csv is named after no kind (expected <kind>.csv, e.g. work_item.csv)",
                file=f"{path.name}/{name}.csv",
            )
            for name in csvs
            if name not in order
        ]
        out: list[RecordSet] = []
        tabular = TabularImporter()
        for kind in order:
            file = csvs.get(kind)
            if file is None:
                continue
            kind_options = resolve_options(kind=kind)
            kind_options.extra.update(options.extra)
            try:
                out.extend(tabular.read(file, kind_options))
            except ValidationError as err:
                # a kind exported with no rows (`export --kind risk` with no risks) is a header
                # alone: nothing to import, not a fault of the folder
                if not all(p.reason == _HEADER_ONLY for p in err.problems):
                    problems.extend(err.problems)
        if not out and not problems:
            problems.append(Problem("every <kind>.csv holds only its header row", file=path.name))
        if problems:
            raise ValidationError(
                f"{path.name}: {len(problems)} problem(s) in the export folder: nothing was "
                "imported",
                problems,
            )
        return out
