"""Metrics tables: measure definitions, series, targets, stored period aggregates (with as-at
history) and the catalogue of raw observation files.

Raw observations themselves are not in SQL: they are Parquet files, one per import batch, in the
raw store (see :mod:`bigov.metrics.store` and ``docs/metrics.md``). ``metric_raw_file`` is the
catalogue of those files; a file not listed there does not exist for bigov, which is what makes a
load atomic (the catalogue row commits with the aggregates).

Measured values are binary floats (``Float``): these are operational measurements at volume, not
money, and float keeps the engine vectorised end to end.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bigov.db.base import Base, Entity, enum_type, id_fk, utcnow
from bigov.metrics.calendar import Frequency, Grain, grains_of
from bigov.metrics.kinds import MeasureDirection, OrgRollup, TimeAggregation
from bigov.strategy.models import Aggregation

_ID = BigInteger().with_variant(Integer, "sqlite")


class MetricMeasure(Entity):
    """What a series is: unit, owner, the entity it belongs to, natural frequency and how it
    aggregates over time and across the organisation.

    ``entity_kind`` / ``entity_code`` name the owner record by common reference (``key_result``,
    ``benefit``, ``org_unit``, ...). ``grains`` lists the period grains stored at load time
    (comma-separated); a node's cadence picks among them.
    """

    __tablename__ = "metric_measure"

    name: Mapped[str] = mapped_column(String(255))
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    entity_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    entity_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    frequency: Mapped[Frequency] = mapped_column(enum_type(Frequency), default=Frequency.DAILY)
    time_aggregation: Mapped[TimeAggregation] = mapped_column(
        enum_type(TimeAggregation), default=TimeAggregation.SUM
    )
    org_rollup: Mapped[OrgRollup] = mapped_column(enum_type(OrgRollup), default=OrgRollup.SUM)
    direction: Mapped[MeasureDirection] = mapped_column(
        enum_type(MeasureDirection), default=MeasureDirection.HIGHER_IS_BETTER
    )
    grains: Mapped[str] = mapped_column(String(64), default="day,week,month,quarter,year")
    description: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def grain_set(self) -> frozenset[Grain]:
        """The stored grains as enum members."""
        return grains_of(self.grains)

    @property
    def aggregation(self) -> Aggregation:
        """Flow or level, read from how the engine already combines observations in a period:
        only a summed measure is a flow; last, mean, max and min describe a level, which no
        analysis may add up over periods either."""
        return aggregation_of(self.time_aggregation)


def aggregation_of(time_aggregation: TimeAggregation | str) -> Aggregation:
    """Flow for a summed measure, level for every other time aggregation."""
    return (
        Aggregation.FLOW
        if TimeAggregation(time_aggregation) is TimeAggregation.SUM
        else Aggregation.LEVEL
    )


class MetricSeries(Entity):
    """One measure for one organisation unit; observations name it by ``code``."""

    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("measure_id", "org_unit_code"),)

    measure_id: Mapped[int] = id_fk("metric_measure.id", nullable=False, ondelete="CASCADE")
    # common reference of an org unit (org_unit.code); a plain code so series can be defined
    # before the organisation is loaded
    org_unit_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)

    measure: Mapped[MetricMeasure] = relationship()


class MetricTarget(Base):
    """A target and RAG thresholds for a measure at one grain.

    ``period_start`` None = a standing target for every period of the grain; ``org_unit_code``
    None = for any unit. The most specific row wins (period, then org). RAG: green when the value
    is at or better than ``green_at`` (default: the target), red when worse than ``red_at``
    (default: ``green_at``, i.e. no amber band), amber in between; "better" follows the measure's
    direction.
    """

    __tablename__ = "metric_target"
    __table_args__ = (UniqueConstraint("measure_id", "org_unit_code", "grain", "period_start"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    measure_id: Mapped[int] = id_fk("metric_measure.id", nullable=False, ondelete="CASCADE")
    org_unit_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    grain: Mapped[Grain] = mapped_column(enum_type(Grain))
    period_start: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=False), nullable=True
    )
    target: Mapped[float] = mapped_column(Float)
    green_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    red_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    batch_id: Mapped[int | None] = mapped_column(
        _ID, ForeignKey("import_batch.id", ondelete="SET NULL"), nullable=True, index=True
    )


class MetricAggregate(Base):
    """One version of a series' aggregate for one period.

    A period is recomputed when observations for it arrive (late or corrected); the old row then
    gets ``superseded_at`` and a new row is added, so "as at T" is
    ``computed_at <= T and (superseded_at is null or superseded_at > T)`` and a restatement is
    visible. ``batch_ids`` lists (comma-separated, ascending) the import batches whose raw rows
    fed the figures; ``load_batch_id`` the batch whose load computed this version.
    ``period_start`` is local wall-clock time in the workspace time zone.
    """

    __tablename__ = "metric_aggregate"
    __table_args__ = (
        Index("ix_metric_aggregate_lookup", "series_id", "grain", "period_start", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("metric_series.id", ondelete="CASCADE"), nullable=False
    )
    grain: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    n: Mapped[int] = mapped_column(BigInteger)
    sum: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    last_value: Mapped[float] = mapped_column(Float)
    last_ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    weight_sum: Mapped[float] = mapped_column(Float)
    weighted_sum: Mapped[float] = mapped_column(Float)
    expected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    batch_ids: Mapped[str] = mapped_column(Text)
    load_batch_id: Mapped[int | None] = mapped_column(
        _ID, ForeignKey("import_batch.id", ondelete="SET NULL"), nullable=True, index=True
    )
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class MetricRawFile(Base):
    """Catalogue of the append-only raw observation files (one Parquet file per batch).

    ``path`` is relative to the raw store root. The time and series ranges let a late or corrected
    load read only the files that can overlap it.
    """

    __tablename__ = "metric_raw_file"

    batch_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("import_batch.id", ondelete="RESTRICT"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(512))
    rows: Mapped[int] = mapped_column(BigInteger)
    min_ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    max_ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    min_series_id: Mapped[int] = mapped_column(_ID)
    max_series_id: Mapped[int] = mapped_column(_ID)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


__all__ = [
    "Aggregation",
    "MeasureDirection",
    "MetricAggregate",
    "MetricMeasure",
    "MetricRawFile",
    "MetricSeries",
    "MetricTarget",
    "OrgRollup",
    "TimeAggregation",
    "aggregation_of",
]
