"""The declarative base and the few named mixins every model is built from.

Which model uses which mixin:

* :class:`Entity` (= code + audit + provenance, integer id) — every record of the Core P3M model:
  organisation units, OTCs, work items, benefits, cost lines, risks, governance nodes, ...
  The ``code`` is the common reference used by master sources; it is unique per kind (table).
* :class:`AuditMixin` alone — bookkeeping tables that are not reference data (import batches).
* :class:`VersionedMixin` — entities whose history must be kept (OTCs: a change of an objective is a
  new version with an effective date).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    event,
    func,
    inspect,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, declared_attr, mapped_column

from bigov.codes import check_code, has_control, is_fact_kind, strip_control

# Named constraints make Alembic migrations deterministic on every backend (SQLite batch mode
# needs names to drop or alter constraints).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money: 18 digits with 2 decimals holds any organisation's budget in minor-unit precision;
# Decimal end to end so totals never drift through binary floats.
Money = Annotated[Decimal, mapped_column(Numeric(18, 2))]
MoneyOpt = Annotated[Decimal | None, mapped_column(Numeric(18, 2))]
# Quantities that are not money (FTE, scores, percentages, measure values) keep more decimals.
Quantity = Annotated[Decimal, mapped_column(Numeric(18, 6))]
QuantityOpt = Annotated[Decimal | None, mapped_column(Numeric(18, 6))]
Code = Annotated[str, mapped_column(String(64))]
Name = Annotated[str, mapped_column(String(255))]
LongText = Annotated[str | None, mapped_column(Text)]
DateOpt = Annotated[dt.date | None, mapped_column(Date)]
JsonDict = Annotated[dict[str, Any], mapped_column(JSON)]


def utcnow() -> dt.datetime:
    """Timezone-aware now; stored as UTC everywhere."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every bigov table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: DateTime(timezone=True),
        dt.date: Date,
        int: Integer,
        str: String(255),
    }


class AuditMixin:
    """created/updated timestamps, set by the database layer, never by callers."""

    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True),
        default=utcnow,
        onupdate=utcnow,
        server_default=func.current_timestamp(),
    )


class ProvenanceMixin:
    """Who or what wrote the row: an import batch (``batch_id``) or a named user."""

    @declared_attr
    def batch_id(cls) -> Mapped[int | None]:  # noqa: N805 - SQLAlchemy declared_attr takes the class
        return mapped_column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("import_batch.id", ondelete="SET NULL"),
            index=True,
            nullable=True,
        )

    written_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Entity(AuditMixin, ProvenanceMixin, Base):
    """Abstract base of every Core P3M record: surrogate id, unique common-reference code."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    code: Mapped[str] = mapped_column(String(64), unique=True, index=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"


_TEXT_COLUMNS: dict[type[Any], list[tuple[str, bool]]] = {}


def text_columns(mapper: Mapper[Any]) -> list[tuple[str, bool]]:
    """(attribute, is long text) of every plain text column of a mapped class (enums excluded:
    their values are fixed by the code)."""
    cached = _TEXT_COLUMNS.get(mapper.class_)
    if cached is None:
        cached = []
        for attr in mapper.column_attrs:
            col = attr.columns[0]
            if attr.key == "code" or isinstance(col.type, SAEnum):
                continue
            if isinstance(col.type, Text) or (
                isinstance(col.type, String) and (col.type.length or 10_000) > 255
            ):
                cached.append((attr.key, True))
            elif isinstance(col.type, String):
                cached.append((attr.key, False))
        _TEXT_COLUMNS[mapper.class_] = cached
    return cached


def _check_entity(mapper: Mapper[Any], _conn: Connection, target: Any) -> None:
    # The door every ORM write of a Core P3M record goes through (CLI, API, design import,
    # cycles): a code that breaks the rule is refused here with a clear error before any SQL
    # runs, and control characters are stripped from text so no stored name can later stop an
    # export or a pack. Bulk imports are checked earlier, in ingest validation, row by row.
    state = inspect(target)
    # a stored code is checked when it is written, not on every later update of the row (codes
    # derived from natural keys by the importer may hold a title's spaces)
    if state.pending or state.transient or state.attrs.code.history.has_changes():
        check_code(
            target.code,
            getattr(target, "__tablename__", None),
            fact=is_fact_kind(getattr(target, "__tablename__", "")),
        )
    for key, long_text in text_columns(mapper):
        value = getattr(target, key, None)
        if isinstance(value, str) and has_control(value, long_text=long_text):
            setattr(target, key, strip_control(value, long_text=long_text))


event.listen(Entity, "before_insert", _check_entity, propagate=True)
event.listen(Entity, "before_update", _check_entity, propagate=True)


class VersionedMixin:
    """A current version number plus the date it took effect; history lives in a *_version table."""

    version: Mapped[int] = mapped_column(Integer, default=1)
    effective_from: Mapped[dt.date] = mapped_column(Date, default=dt.date.today)


def id_fk(target: str, *, nullable: bool = True, ondelete: str = "RESTRICT") -> Mapped[Any]:
    """A foreign key column to ``target`` (``table.id``) with the project's id type and an index."""
    return mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=True,
    )


__all__ = [
    "AuditMixin",
    "Base",
    "Code",
    "DateOpt",
    "Entity",
    "JsonDict",
    "LongText",
    "Money",
    "MoneyOpt",
    "Name",
    "ProvenanceMixin",
    "Quantity",
    "QuantityOpt",
    "VersionedMixin",
    "enum_type",
    "id_fk",
    "text_columns",
    "utcnow",
]


def enum_type(enum_cls: type[enum.Enum]) -> SAEnum:
    """A portable enum column type: VARCHAR of the enum *values* (not names), no native PG type.

    Values rather than names because the values are what users type in files ("amber/green").
    """
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        create_constraint=False,
    )
