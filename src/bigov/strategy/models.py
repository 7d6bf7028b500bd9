"""Strategy: OTIGs seen by the board, the OTCs it hands down (versioned), key results / KPIs."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bigov.db.base import Entity, VersionedMixin, enum_type, id_fk


class OtigKind(enum.StrEnum):
    OPPORTUNITY = "opportunity"
    THREAT = "threat"
    IMPERATIVE = "imperative"
    GOAL = "goal"


class OtcKind(enum.StrEnum):
    OBJECTIVE = "objective"  # for change: delegated to portfolios
    TARGET = "target"  # for operations: delegated to management teams' business plans
    CHALLENGE = "challenge"  # for innovation


class OtcStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ACHIEVED = "achieved"
    WITHDRAWN = "withdrawn"


class Direction(enum.StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class Trajectory(enum.StrEnum):
    """How a key result is expected to move from baseline to target over time."""

    LINEAR = "linear"
    FRONT_LOADED = "front_loaded"
    BACK_LOADED = "back_loaded"
    STEP = "step"  # nothing until the target date


class Aggregation(enum.StrEnum):
    """How a measure's values combine over time.

    A **flow** (cases handled, money saved, incidents) adds up over periods; a **level** (a
    percentage, an index, a score, a satisfaction rating, a maturity level) is a state at a
    point in time: over several periods it is the latest value or the mean, never the sum.
    """

    FLOW = "flow"
    LEVEL = "level"


class KrWindow(enum.StrEnum):
    """The span of time a key result's actual covers, ending with its latest period.

    ``period``: the latest period's value alone. ``ytd``: the fiscal year to date. ``r12``: the
    twelve months to date (rolling). A flow adds its periods up over the window; a level takes
    their mean (for ``period``: the latest value).
    """

    PERIOD = "period"
    YTD = "ytd"
    R12 = "r12"


# Units read as levels when a measure does not say (lower case, as users type them).
LEVEL_UNITS = frozenset(
    {"%", "percent", "pct", "pp", "index", "score", "points", "level", "rating", "nps", "csat"}
)
# Units of whole things: their values are whole numbers, never "2.3 systems".
COUNT_UNITS = frozenset(
    {
        "count",
        "number",
        "no.",
        "#",
        "items",
        "systems",
        "meters",
        "calls",
        "bills",
        "complaints",
        "incidents",
        "cases",
        "people",
        "sites",
    }
)


def aggregation_for_unit(unit: str | None) -> Aggregation:
    """The default aggregation of a measure in ``unit``: level for percentages, indices, scores
    and points; flow for everything else (money, counts, volumes)."""
    return Aggregation.LEVEL if (unit or "").strip().lower() in LEVEL_UNITS else Aggregation.FLOW


def is_count_unit(unit: str | None) -> bool:
    """Whether values in ``unit`` count whole things (shown and compared as whole numbers)."""
    return (unit or "").strip().lower() in COUNT_UNITS


class Otig(Entity):
    """An Opportunity, Threat, Imperative or Goal: a driver seen by the main board."""

    __tablename__ = "otig"

    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[OtigKind] = mapped_column(enum_type(OtigKind))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[int | None] = id_fk("person.id")
    raised_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Otc(VersionedMixin, Entity):
    """An Objective, Target or Challenge. The row holds the *current* version; every version
    (including the current one) is kept in :class:`OtcVersion`, so strategy history is never lost.
    """

    __tablename__ = "otc"

    kind: Mapped[OtcKind] = mapped_column(enum_type(OtcKind))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[OtcStatus] = mapped_column(enum_type(OtcStatus), default=OtcStatus.ACTIVE)
    owner_id: Mapped[int | None] = id_fk("person.id")
    # delegation: objectives → a portfolio (work item), targets → a management team,
    # challenges → an innovation unit
    portfolio_id: Mapped[int | None] = id_fk("work_item.id")
    management_team_id: Mapped[int | None] = id_fk("management_team.id")
    innovation_unit_id: Mapped[int | None] = id_fk("org_unit.id")
    priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the deadline of the current version; a change of deadline is a new version (its reason in
    # ``change_reason``, as the version row keeps it)
    target_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    change_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    versions: Mapped[list[OtcVersion]] = relationship(
        back_populates="otc", order_by="OtcVersion.version", cascade="all, delete-orphan"
    )


class OtcVersion(Entity):
    """One version of an OTC as it stood from ``effective_from`` to ``effective_to`` (exclusive)."""

    __tablename__ = "otc_version"
    __table_args__ = (UniqueConstraint("otc_id", "version"),)

    otc_id: Mapped[int] = id_fk("otc.id", nullable=False, ondelete="CASCADE")
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[OtcStatus] = mapped_column(enum_type(OtcStatus))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    change_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    target_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    otc: Mapped[Otc] = relationship(back_populates="versions")


class OtigOtc(Entity):
    """Many-to-many: which OTIGs an OTC answers."""

    __tablename__ = "otig_otc"
    __table_args__ = (UniqueConstraint("otig_id", "otc_id"),)

    otig_id: Mapped[int] = id_fk("otig.id", nullable=False, ondelete="CASCADE")
    otc_id: Mapped[int] = id_fk("otc.id", nullable=False, ondelete="CASCADE")


class KeyResult(Entity):
    """A key result / KPI of an OTC (or of a management team): baseline → target on a trajectory."""

    __tablename__ = "key_result"

    name: Mapped[str] = mapped_column(String(255))
    otc_id: Mapped[int | None] = id_fk("otc.id", ondelete="CASCADE")
    management_team_id: Mapped[int | None] = id_fk("management_team.id")
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), nullable=True)
    baseline_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), nullable=True)
    target_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    direction: Mapped[Direction] = mapped_column(
        enum_type(Direction), default=Direction.HIGHER_IS_BETTER
    )
    trajectory: Mapped[Trajectory] = mapped_column(enum_type(Trajectory), default=Trajectory.LINEAR)
    # the operational measure (metrics context) that supplies actuals, when there is one
    measure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the span the actual covers; "period" keeps the behaviour of key results written before
    # windows existed (the latest value)
    window: Mapped[KrWindow] = mapped_column(
        enum_type(KrWindow), default=KrWindow.PERIOD, server_default=KrWindow.PERIOD.value
    )
    # flow or level; None = the measure's own (metrics) or the default of the unit
    aggregation: Mapped[Aggregation | None] = mapped_column(enum_type(Aggregation), nullable=True)
    # relative weight among the key results of the same OTC or team (None: weighs like the others)
    weight: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), nullable=True)

    @property
    def effective_aggregation(self) -> Aggregation:
        """The declared aggregation, else the default of the unit (see
        :func:`aggregation_for_unit`); a metrics measure's own kind is applied by the analysis."""
        return self.aggregation or aggregation_for_unit(self.unit)


class KeyResultActual(Entity):
    """A reported value of a key result for a period (used when no metrics series feeds it)."""

    __tablename__ = "key_result_actual"
    __table_args__ = (UniqueConstraint("key_result_id", "period"),)

    key_result_id: Mapped[int] = id_fk("key_result.id", nullable=False, ondelete="CASCADE")
    period: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 6))
