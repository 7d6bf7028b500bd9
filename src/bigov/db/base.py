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
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

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
