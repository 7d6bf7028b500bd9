"""The ``projectonline`` importer: ``bigov import EXPORT --preset projectonline`` as one strict
batch (any rejected row stops it, with every problem). ``bigov migrate projectonline`` is the
forgiving, batch-by-batch route that also brings drivers, prioritisations and schedules."""

from __future__ import annotations

from pathlib import Path

from bigov.errors import ValidationError
from bigov.ingest.mapping import RecordSet
from bigov.ingest.projectonline.config import config_from
from bigov.ingest.projectonline.source import SourceOptions, read_source
from bigov.ingest.projectonline.transform import plan_migration
from bigov.ingest.registry import ImportOptions, register


@register
class ProjectOnlineImporter:
    """A Project Online export folder (or one entity set file) chosen by its preset."""

    name = "projectonline"
    suffixes = (".json", ".csv", ".xlsx")

    def accepts(self, path: Path, options: ImportOptions) -> bool:
        return options.mapping.importer == self.name

    def read(self, path: Path, options: ImportOptions) -> list[RecordSet]:
        config = config_from(options.mapping)
        data = read_source(
            path,
            SourceOptions(
                number_format=options.mapping.number_format,
                date_order=config.date_order,
                date_formats=options.mapping.date_formats,
            ),
        )
        plan = plan_migration(data.sets, config, codes=options.mapping.codes)
        if plan.rejects:
            raise ValidationError(
                f"{path.name}: {len(plan.rejects)} row(s) rejected; nothing was imported",
                [r.problem for r in plan.rejects],
                hint="bigov migrate projectonline imports the good rows and reports the others",
            )
        return [rs for sets in plan.batches.values() for rs in sets]
