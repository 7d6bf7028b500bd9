"""The importable shape of every entity kind, derived from the ORM models.

A *kind* is a table name (``work_item``, ``cost_line``, ...). Its *fields* are the table's columns
minus bookkeeping (``id``, audit columns, provenance); a foreign key column ``xxx_id`` becomes the
field ``xxx`` holding the referenced row's **code** (``parent``, ``owner``, ``work_item``, ...).

Fact kinds (cost lines, status reports, profiles, link tables) may arrive without a ``code``: it
is then derived from their natural key — the columns of their unique constraint, or the explicit
list in :data:`NATURAL_KEYS` — joined by ``/``, with dates written ``yyyy-mm`` (periods are month
starts) and empty optional parts left out, e.g. ``PRJ-1/2025-04/capex`` for a cost line.

Callers may rely on: :func:`kinds` in load order (referenced kinds first), :func:`kind_spec`
raising :class:`~bigov.errors.ConfigError` for an unknown kind, and field names being stable.
"""

from __future__ import annotations

import builtins
import datetime as dt
import enum
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, Numeric, String, Table, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.schema import Column, UniqueConstraint

from bigov.db.base import Base, Entity
from bigov.db.registry import load_models
from bigov.errors import ConfigError
from bigov.ingest.jsonvalue import CHECKS, Check

# Columns that the loader owns: never read from files, never exported.
BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "batch_id", "written_by"})

# The importable kinds, in preferred load order (ties of the dependency sort are broken by this
# list). A new entity becomes importable/exportable by adding its table here (see
# docs/importing.md, "adding an entity to the importer").
PREFERRED_ORDER: tuple[str, ...] = (
    "org_unit",
    "role",
    "person",
    "management_team",
    "governance_node",
    "work_item",
    "business_plan",
    "otig",
    "otc",
    "otc_version",
    "otig_otc",
    "business_plan_target",
    "key_result",
    "key_result_actual",
    "milestone",
    "dependency",
    "contribution",
    "gate_decision",
    "status_report",
    "benefit",
    "benefit_enabler",
    "benefit_contribution",
    "benefit_profile",
    "funding_source",
    "cost_line",
    "skill",
    "capacity",
    "demand",
    "raid_item",
    "decision_otc",
    "portfolio_exclusion",
    "portfolio_exclusion_item",
    "node_member",
    "node_scope",
    "tolerance",
    "agenda_item",
    "information_definition",
)

# Natural keys for kinds whose unique constraint is missing or not the best code.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "node_scope": ("node", "work_item", "org_unit", "otc"),
    "agenda_item": ("node", "sequence"),
    "information_definition": ("agenda_item", "title"),
    "otc_version": ("otc", "version"),
}

# Other spellings users type for a kind (the sheet name or ``--kind``).
KIND_ALIASES: dict[str, str] = {
    "work": "work_item",
    "work_items": "work_item",
    "project": "work_item",
    "projects": "work_item",
    "people": "person",
    "persons": "person",
    "cost": "cost_line",
    "costs": "cost_line",
    "risk": "raid_item",
    "risks": "raid_item",
    "raid": "raid_item",
    "node": "governance_node",
    "nodes": "governance_node",
    "exclusion": "portfolio_exclusion",
    "exclusions": "portfolio_exclusion",
    "exclusion_item": "portfolio_exclusion_item",
    "exclusion_items": "portfolio_exclusion_item",
}

FieldKind = str  # "str" | "int" | "decimal" | "date" | "bool" | "enum" | "ref" | "json"


@dataclass(frozen=True)
class FieldSpec:
    """One importable field of a kind."""

    name: str
    column: str
    type: FieldKind
    required: bool = False
    nullable: bool = True
    has_default: bool = False
    max_length: int | None = None
    scale: int | None = None  # decimals kept (Numeric scale)
    precision: int | None = None
    enum: builtins.type[enum.Enum] | None = None
    ref: str | None = None  # referenced kind, for type "ref"
    non_negative: bool = False
    default: Any = None  # the column's scalar default (what an absent value becomes on insert)
    # type "json": the column's own check of an object (bigov.ingest.jsonvalue.CHECKS)
    json_check: Check | None = None

    @property
    def choices(self) -> list[str]:
        """Allowed values of an enum field (the stored values, e.g. ``amber/green``)."""
        return [str(m.value) for m in self.enum] if self.enum is not None else []

    def describe(self) -> str:
        """A one-line human description: type, required, allowed values (template, docs)."""
        kind = {
            "str": "text",
            "int": "whole number",
            "decimal": "number",
            "date": "date (yyyy-mm-dd)",
            "bool": "true/false",
            "enum": "one of: " + ", ".join(self.choices),
            "ref": f"code of a {self.ref}",
            "json": 'a JSON object, e.g. {"name": 1}',
        }[self.type]
        if self.max_length and self.type == "str":
            kind += f", up to {self.max_length} characters"
        if self.non_negative:
            kind += ", not negative"
        return ("required; " if self.required else "optional; ") + kind


@dataclass(frozen=True)
class KindSpec:
    """The importable shape of one kind."""

    kind: str
    table: Table
    model: type[Entity]
    fields: dict[str, FieldSpec]
    natural_key: tuple[str, ...] = ()
    self_refs: tuple[str, ...] = field(default=())

    @property
    def code_required(self) -> bool:
        """True when rows must carry their own code (no natural key to derive one from)."""
        return not self.natural_key

    def field_names(self) -> list[str]:
        """``code`` first, then the fields in table order (the default-mapping header row)."""
        return ["code", *self.fields]


# Money columns that must never be negative (the rest may be: variances, dis-benefits, credits).
NON_NEGATIVE: frozenset[tuple[str, str]] = frozenset(
    {
        ("cost_line", "budget"),
        ("work_item", "whole_life_cost"),
        ("funding_source", "amount"),
        ("capacity", "fte"),
        ("demand", "fte"),
        ("demand", "actual_fte"),
        ("work_item", "percent_complete"),
        ("contribution", "weight"),
    }
)


def _field_for(kind: str, col: Column[Any]) -> FieldSpec:
    name = col.name
    nullable = bool(col.nullable)
    has_default = col.default is not None or col.server_default is not None
    required = not nullable and not has_default
    common: dict[str, Any] = {
        "column": name,
        "required": required,
        "nullable": nullable,
        "has_default": has_default,
        "non_negative": (kind, name) in NON_NEGATIVE,
        "default": _scalar_default(col),
    }
    fks = list(col.foreign_keys)
    if fks:
        target = fks[0].column.table.name
        fname = name[:-3] if name.endswith("_id") else name
        return FieldSpec(name=fname, type="ref", ref=target, **common)
    t = col.type
    if isinstance(t, JSON):  # held as its canonical JSON text (bigov.ingest.jsonvalue)
        return FieldSpec(name=name, type="json", json_check=CHECKS.get((kind, name)), **common)
    if isinstance(t, SAEnum) and t.enum_class is not None:
        return FieldSpec(name=name, type="enum", enum=t.enum_class, **common)
    if isinstance(t, Boolean):
        return FieldSpec(name=name, type="bool", **common)
    if isinstance(t, Numeric):
        return FieldSpec(
            name=name, type="decimal", scale=t.scale or 0, precision=t.precision, **common
        )
    if isinstance(t, Integer):
        return FieldSpec(name=name, type="int", **common)
    if isinstance(t, Date | DateTime):
        return FieldSpec(name=name, type="date", **common)
    if isinstance(t, String | Text):
        return FieldSpec(name=name, type="str", max_length=getattr(t, "length", None), **common)
    return FieldSpec(name=name, type="str", **common)


def _scalar_default(col: Column[Any]) -> Any:
    default = col.default
    if default is None or not getattr(default, "is_scalar", False):
        return None
    value = getattr(default, "arg", None)
    return value.value if isinstance(value, enum.Enum) else value


def _natural_key(kind: str, table: Table, fields: dict[str, FieldSpec]) -> tuple[str, ...]:
    if kind in NATURAL_KEYS:
        return NATURAL_KEYS[kind]
    by_column = {f.column: f.name for f in fields.values()}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            cols = [c.name for c in constraint.columns]
            if cols == ["code"] or not all(c in by_column for c in cols):
                continue
            return tuple(by_column[c] for c in cols)
    return ()


@cache
def _specs() -> dict[str, KindSpec]:
    load_models()
    found: dict[str, KindSpec] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if not issubclass(cls, Entity) or not isinstance(mapper, Mapper):
            continue
        table = mapper.local_table
        if not isinstance(table, Table):
            continue
        kind = table.name
        if kind not in PREFERRED_ORDER:  # an entity becomes importable when listed there
            continue
        fields: dict[str, FieldSpec] = {}
        for col in table.columns:
            if col.name in BOOKKEEPING or col.name == "code":
                continue
            spec = _field_for(kind, col)
            fields[spec.name] = spec
        self_refs = tuple(f.name for f in fields.values() if f.ref == kind)
        found[kind] = KindSpec(
            kind=kind,
            table=table,
            model=cls,
            fields=fields,
            natural_key=_natural_key(kind, table, fields),
            self_refs=self_refs,
        )
    return _ordered(found)


def _ordered(found: dict[str, KindSpec]) -> dict[str, KindSpec]:
    rank = {k: i for i, k in enumerate(PREFERRED_ORDER)}
    pending = sorted(found, key=lambda k: (rank.get(k, len(rank)), k))
    out: dict[str, KindSpec] = {}
    while pending:
        for kind in pending:
            deps = {f.ref for f in found[kind].fields.values() if f.ref and f.ref != kind} & set(
                found
            )
            if deps <= set(out):
                out[kind] = found[kind]
                pending.remove(kind)
                break
        else:  # a reference cycle between kinds: keep the preferred order for the rest
            for kind in pending:
                out[kind] = found[kind]
            pending = []
    return out


def kinds() -> list[str]:
    """Every importable kind, in load order (a kind comes after the kinds it references)."""
    return list(_specs())


def kind_spec(kind: str) -> KindSpec:
    """The spec of ``kind`` (aliases such as ``work`` accepted).

    Raises:
        ConfigError: unknown kind (the message lists the known ones).
    """
    resolved = resolve_kind(kind)
    if resolved is None:
        raise ConfigError(f"unknown kind {kind!r}", hint="use one of: " + ", ".join(kinds()))
    return _specs()[resolved]


def resolve_kind(name: str) -> str | None:
    """The kind a sheet name or ``--kind`` value means, or None (case and spacing ignored)."""
    key = re.sub(r"[\s\-]+", "_", name.strip().casefold())
    specs = _specs()
    if key in specs:
        return key
    if key in KIND_ALIASES:
        return KIND_ALIASES[key]
    if key.endswith("s") and key[:-1] in specs:
        return key[:-1]
    return None


def derive_code(spec: KindSpec, values: dict[str, Any]) -> str | None:
    """The code of a fact row from its natural key, or None when a key part is missing.

    Dates are written ``yyyy-mm`` when they are month starts (periods), else ``yyyy-mm-dd``;
    optional parts that are empty are left out.
    """
    parts: list[str] = []
    for name in spec.natural_key:
        value = values.get(name)
        f = spec.fields[name]
        if value is None or value == "":
            value = f.default
        if value is None or value == "":
            if f.required:
                return None
            continue
        if isinstance(value, dt.date):
            parts.append(value.strftime("%Y-%m") if value.day == 1 else value.isoformat())
        elif isinstance(value, enum.Enum):
            parts.append(str(value.value))
        else:
            parts.append(str(value))
    return "/".join(parts) if parts else None
