"""Portfolio prioritisation as stored data: drivers, versioned prioritisations and their weights,
candidate ratings, scenarios (a solved selection round) and the plan of record.

Every table is prefixed ``portfolio_`` and built on :class:`bigov.db.base.Entity` (id, unique
``code``, audit, provenance). Link rows (weights, ratings, scenario items) get generated codes so
that they too can be referenced from imports and exports.

How the pieces fit:

* a :class:`Driver` is what candidates are rated against; it usually stands for an OTC
  (``otc_id``), so when the OTC is withdrawn the driver stops counting;
* a :class:`Prioritisation` belongs to a board (governance node) or a department (org unit); its
  weights live in :class:`PrioritisationVersion` rows — a re-weighting adds a version and keeps the
  old one, so a scenario always says which weights it was solved with;
* a :class:`Scenario` is one solved round: the exact problem it was solved on (JSON, in the
  documented file format), the solver's verdict, and one :class:`ScenarioItem` per candidate;
* a :class:`PlanOfRecord` row commits a scenario for a round through a recorded decision (a RAID
  item of kind decision); committing another scenario for the same round supersedes it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bigov.db.base import Entity, id_fk

__all__ = [
    "Driver",
    "DriverWeight",
    "Exclusion",
    "ExclusionItem",
    "PlanOfRecord",
    "Prioritisation",
    "PrioritisationVersion",
    "Rating",
    "Scenario",
    "ScenarioItem",
]


class Driver(Entity):
    """A business driver candidates are rated against; ``otc_id`` when it stands for an OTC."""

    __tablename__ = "portfolio_driver"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    otc_id: Mapped[int | None] = id_fk("otc.id", ondelete="SET NULL")


class Prioritisation(Entity):
    """A named set of driver weights owned by a board or a department; versioned.

    ``current_version`` is the number of the version in force (the highest one).
    """

    __tablename__ = "portfolio_prioritisation"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    node_id: Mapped[int | None] = id_fk("governance_node.id", ondelete="SET NULL")
    org_unit_id: Mapped[int | None] = id_fk("org_unit.id", ondelete="SET NULL")
    current_version: Mapped[int] = mapped_column(Integer, default=0)


class PrioritisationVersion(Entity):
    """One version of a prioritisation's weights, as set from ``effective_from``.

    ``method`` is ``direct`` (weights typed in) or ``pairwise`` (analytic hierarchy process); for
    pairwise the judgements are kept in ``pairwise`` (``{"drivers": [...], "matrix": [...]}``) with
    the consistency ratio they produced, so the weights can be re-derived and audited.
    """

    __tablename__ = "portfolio_prioritisation_version"
    __table_args__ = (UniqueConstraint("prioritisation_id", "version"),)

    prioritisation_id: Mapped[int] = id_fk(
        "portfolio_prioritisation.id", nullable=False, ondelete="CASCADE"
    )
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16), default="direct")
    pairwise: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    consistency_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class DriverWeight(Entity):
    """The normalised weight of one driver in one prioritisation version (weights sum to 1)."""

    __tablename__ = "portfolio_driver_weight"
    __table_args__ = (UniqueConstraint("version_id", "driver_id"),)

    version_id: Mapped[int] = id_fk(
        "portfolio_prioritisation_version.id", nullable=False, ondelete="CASCADE"
    )
    driver_id: Mapped[int] = id_fk("portfolio_driver.id", nullable=False, ondelete="CASCADE")
    weight: Mapped[Decimal] = mapped_column(Numeric(18, 6))


class Rating(Entity):
    """How well a work item serves a driver (any non-negative scale; the problem's score)."""

    __tablename__ = "portfolio_rating"
    __table_args__ = (UniqueConstraint("work_item_id", "driver_id"),)

    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
    driver_id: Mapped[int] = id_fk("portfolio_driver.id", nullable=False, ondelete="CASCADE")
    score: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Scenario(Entity):
    """One solved (or imported) selection round.

    ``problem`` is the problem exactly as solved (the documented file format, as JSON), so that a
    scenario can be re-solved, compared and rebalanced without depending on later data changes.
    ``planning_round`` names the round (e.g. ``FY2028``); plans of record are kept per round.
    """

    __tablename__ = "portfolio_scenario"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    planning_round: Mapped[str] = mapped_column(String(64), index=True)
    origin: Mapped[str] = mapped_column(String(16), default="solved")  # solved|imported|rebalance
    prioritisation_version_id: Mapped[int | None] = id_fk(
        "portfolio_prioritisation_version.id", ondelete="SET NULL"
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problem: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # optimal | time_limit | interrupted | given
    proven_optimal: Mapped[bool] = mapped_column(Boolean, default=False)
    gap: Mapped[float] = mapped_column(Float, default=0.0)
    value: Mapped[float] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class ScenarioItem(Entity):
    """One candidate of a scenario: selected or not, start shift (periods) and funded fraction.

    ``candidate`` is the candidate's code in the problem; ``work_item_id`` links it to the work
    item of that code when there is one (an imported problem may name items the database lacks).
    """

    __tablename__ = "portfolio_scenario_item"
    __table_args__ = (UniqueConstraint("scenario_id", "candidate"),)

    scenario_id: Mapped[int] = id_fk("portfolio_scenario.id", nullable=False, ondelete="CASCADE")
    candidate: Mapped[str] = mapped_column(String(64))
    work_item_id: Mapped[int | None] = id_fk("work_item.id", ondelete="SET NULL")
    selected: Mapped[bool] = mapped_column(Boolean)
    start_shift: Mapped[int] = mapped_column(Integer, default=0)
    fraction: Mapped[Decimal] = mapped_column(Numeric(10, 6), default=Decimal("1"))
    value: Mapped[float] = mapped_column(Float, default=0.0)


class PlanOfRecord(Entity):
    """A scenario committed as the plan of record of its round, by a recorded decision.

    The current plan of record of a round is the row whose ``superseded_on`` is empty; earlier
    commitments stay as history.
    """

    __tablename__ = "portfolio_plan_of_record"

    planning_round: Mapped[str] = mapped_column(String(64), index=True)
    scenario_id: Mapped[int] = id_fk("portfolio_scenario.id", nullable=False)
    decision_id: Mapped[int] = id_fk("raid_item.id", nullable=False)
    committed_on: Mapped[dt.date] = mapped_column(Date)
    committed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    superseded_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Exclusion(Entity):
    """A mutual exclusion: at most one of its work items may be selected (alternatives for the
    same need). Its members are :class:`ExclusionItem` rows; a planning round keeps the members
    that are candidates of the round, when at least two are."""

    __tablename__ = "portfolio_exclusion"

    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExclusionItem(Entity):
    """One work item of a mutual exclusion."""

    __tablename__ = "portfolio_exclusion_item"
    __table_args__ = (UniqueConstraint("exclusion_id", "work_item_id"),)

    exclusion_id: Mapped[int] = id_fk("portfolio_exclusion.id", nullable=False, ondelete="CASCADE")
    work_item_id: Mapped[int] = id_fk("work_item.id", nullable=False, ondelete="CASCADE")
