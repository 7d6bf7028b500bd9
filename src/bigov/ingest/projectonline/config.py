"""The PMO-editable part of a Project Online migration: the ``options:`` of the ``projectonline``
mapping (the shipped preset ``presets/projectonline.yaml``, or a copy given with ``--mapping``).

Everything is keyed by what the PMO sees in PWA: enterprise project type names, custom field
names (compared without case, blanks or punctuation, so ``Strategic Theme`` and
``StrategicTheme`` agree) and their values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from bigov.errors import ConfigError
from bigov.ingest.mapping import Mapping
from bigov.ingest.projectonline.schema import header_key

Target = Literal[
    "portfolio",
    "programme",
    "org_unit",
    "nature",
    "category",
    "phase",
    "description",
]


class ProjectType(BaseModel):
    """What projects of one enterprise project type become."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["project", "programme", "workstream", "product"] = "project"
    nature: Literal["run", "change"] = "change"
    category: Literal["run", "grow", "transform"] = "transform"
    phase: (
        Literal["identification", "definition", "delivery", "closure", "closed", "cancelled"] | None
    ) = None
    portfolio: str | None = None  # a portfolio name (or code) every project of the type sits in


class MigrationConfig(BaseModel):
    """The ``options:`` of a ``projectonline`` mapping (documented in
    docs/migrate-project-online.md)."""

    model_config = ConfigDict(extra="forbid")

    currency: str = "GBP"
    date_order: Literal["dmy", "mdy"] = "dmy"
    project_code: str = "name"  # name | guid | field:<custom field>
    project_types: dict[str, ProjectType] = Field(default_factory=dict)
    unknown_project_type: str = "project"  # reject, or the name of an entry to fall back on
    custom_fields: dict[str, Target | None] = Field(default_factory=dict)
    values: dict[Target, dict[str, str]] = Field(default_factory=dict)
    resource_role_field: str | None = "Role"
    resource_org_field: str | None = "ResourceDepartments"
    default_org_unit: str = "Project Online"
    driver_ratings: dict[str, str] = Field(default_factory=dict)
    impact_scale: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "None": Decimal(0),
            "Low": Decimal(1),
            "Moderate": Decimal(2),
            "Strong": Decimal(3),
            "Extreme": Decimal(4),
        }
    )
    schedules: str | None = "schedules"  # folder of .mpp/.xml/.xer under SOURCE

    def custom_field_target(self, name: str) -> tuple[bool, Target | None]:
        """(mapped at all, target): ``(False, None)`` for a field the mapping does not name,
        ``(True, None)`` for one it names to ignore."""
        key = header_key(name)
        for field, target in self.custom_fields.items():
            if header_key(field) == key:
                return True, target
        for field in self.driver_ratings:
            if header_key(field) == key:
                return True, None
        return False, None

    def project_type(self, name: str | None) -> ProjectType | None:
        """The entry for an enterprise project type (by name, case and blanks ignored), the
        fall-back entry for an unknown one, or None when unknown types are rejected."""
        if name:
            key = header_key(name)
            for type_name, entry in self.project_types.items():
                if header_key(type_name) == key:
                    return entry
        fallback = self.unknown_project_type
        if header_key(fallback) == "reject":
            return None
        if header_key(fallback) == "project":
            return ProjectType()
        for type_name, entry in self.project_types.items():
            if header_key(type_name) == header_key(fallback):
                return entry
        return ProjectType()

    def value_for(self, target: Target, text: str) -> str:
        """A custom field's value translated through ``values`` (else as it is)."""
        table = self.values.get(target, {})
        key = header_key(text)
        for source, value in table.items():
            if header_key(source) == key:
                return value
        return text


def config_from(mapping: Mapping, source: str = "mapping") -> MigrationConfig:
    """The migration settings of a mapping.

    Raises:
        ConfigError: unknown or badly typed settings (the message names them).
    """
    if mapping.importer != "projectonline":
        raise ConfigError(
            f"{source}: not a Project Online mapping (importer: {mapping.importer})",
            hint="start from the preset: bigov migrate projectonline --help",
        )
    try:
        return MigrationConfig.model_validate(mapping.options)
    except PydanticError as exc:
        details = "; ".join(
            f"options.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{source}: {details}") from None
