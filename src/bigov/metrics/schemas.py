"""Pydantic I/O of the metrics context: definitions in, load results and query rows out."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from bigov.metrics.calendar import Frequency, Grain
from bigov.metrics.models import MeasureDirection, OrgRollup, TimeAggregation


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class SeriesSpec(_Model):
    """A series of a measure for one organisation unit; ``code`` is what observation files use."""

    code: str = Field(min_length=1, max_length=64)
    org: str = Field(min_length=1, max_length=64)
    name: str | None = None


class TargetSpec(_Model):
    """A target at one grain: ``period`` (a period label or date) None = every period;
    ``org`` None = any unit. ``green_at`` defaults to ``value``, ``red_at`` to ``green_at``."""

    grain: Grain
    value: float
    period: str | None = None
    org: str | None = None
    green_at: float | None = None
    red_at: float | None = None


class MeasureSpec(_Model):
    """A measure definition as written in YAML or passed to ``define``."""

    code: str = Field(min_length=1, max_length=64)
    name: str
    unit: str | None = None
    owner: str | None = None
    entity_kind: str | None = None  # key_result, benefit, org_unit, ...
    entity_code: str | None = None
    frequency: Frequency = Frequency.DAILY
    time_aggregation: TimeAggregation = TimeAggregation.SUM
    org_rollup: OrgRollup = OrgRollup.SUM
    direction: MeasureDirection = MeasureDirection.HIGHER_IS_BETTER
    grains: list[Grain] = Field(
        default_factory=lambda: [Grain.DAY, Grain.WEEK, Grain.MONTH, Grain.QUARTER, Grain.YEAR]
    )
    description: str | None = None
    series: list[SeriesSpec] = Field(default_factory=list)
    targets: list[TargetSpec] = Field(default_factory=list)


class DefinitionsFile(_Model):
    """The top level of a definitions YAML file."""

    measures: list[MeasureSpec]


class LoadResult(_Model):
    """What one load did. ``computed_at`` is the as-at instant of every aggregate it wrote."""

    batch_id: int
    rows: int
    series: int
    min_ts: dt.datetime
    max_ts: dt.datetime
    grains: list[Grain]
    aggregates_written: int
    superseded: int
    recomputed_from_prior: bool  # earlier raw files overlapped (late or corrected data)
    computed_at: dt.datetime
    raw_file: str


class RecomputeResult(_Model):
    """What a rebuild of aggregates from the raw store did (:meth:`MetricsService.recompute`)."""

    batch_id: int
    measures: list[str]
    series: int
    raw_rows: int
    aggregates_written: int
    superseded: int
    computed_at: dt.datetime


class PeriodValue(_Model):
    """A measure's value for one period at one organisation level.

    ``partial`` is true when fewer observations arrived than expected or the period is not over;
    ``coverage`` = n / expected (None when the measure has no natural frequency). ``versions`` is
    how many times the period's figures were computed up to the as-at instant (more than one:
    late or corrected data restated it).
    """

    grain: Grain
    period_start: dt.datetime
    label: str
    value: float | None
    n: int
    expected: int | None
    coverage: float | None
    partial: bool
    series_count: int
    target: float | None = None
    variance: float | None = None
    variance_pct: float | None = None
    rag: str | None = None
    versions: int = 1
    batch_ids: list[int] = Field(default_factory=list)
    computed_at: dt.datetime | None = None


class CompletenessRow(_Model):
    """Observations received against expected for one series and period."""

    series: str
    org: str
    grain: Grain
    period_start: dt.datetime
    label: str
    n: int
    expected: int | None
    coverage: float | None
    partial: bool


class AttainmentRow(_Model):
    """A KPI's actual against its trajectory for one period.

    ``planned`` is the trajectory value at the period end; ``attainment`` = (actual − baseline) /
    (planned − baseline), i.e. the share of the planned improvement achieved so far; ``progress``
    = (actual − baseline) / (target − baseline), the share of the whole journey.
    """

    period_start: dt.datetime
    label: str
    actual: float | None
    planned: float
    target: float
    attainment: float | None
    progress: float | None
    on_track: bool | None


class PeriodChange(_Model):
    """A period whose figure differs between an earlier as-at instant and now."""

    label: str
    period_start: dt.datetime
    before: float | None
    after: float | None


__all__ = [
    "AttainmentRow",
    "CompletenessRow",
    "DefinitionsFile",
    "LoadResult",
    "MeasureSpec",
    "PeriodChange",
    "PeriodValue",
    "RecomputeResult",
    "SeriesSpec",
    "TargetSpec",
]
