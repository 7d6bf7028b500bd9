"""The entry point: :func:`generate` runs the builder in one transaction and reports what it
wrote."""

from __future__ import annotations

import datetime as dt
import random
import time

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bigov.db.base import utcnow
from bigov.db.batch import ImportBatch
from bigov.db.registry import load_models
from bigov.db.settings import Setting
from bigov.demo import names
from bigov.demo.common import _FY_START_MONTH, DEFAULT_AS_OF, SCALES, WRITTEN_BY, _Region
from bigov.demo.resources import _ResourcesBuilder
from bigov.demo.writer import _clear, _Writer
from bigov.errors import ConfigError, ConflictError
from bigov.progress import SILENT, Reporter
from bigov.workspace import Workspace


class DemoReport(BaseModel):
    """What :func:`generate` wrote."""

    organisation: str
    scale: str
    seed: int
    as_of: dt.date
    batch_id: int
    rows: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class _Builder(_ResourcesBuilder):
    """Builds the enterprise region by region; every choice comes from one seeded generator."""

    def build(self) -> None:
        self._stage("organisation")
        self.central()
        for index in range(self.regions):
            sfx = "" if index == 0 else f"-R{index + 1:02d}"
            nsfx = "" if index == 0 else f" (Region {index + 1:02d})"
            reg = _Region(index, sfx, nsfx)
            self.all_regions.append(reg)
            self.region_org(reg)
            self.reporter.advance()
        self._stage("strategy", self.regions)
        for reg in self.all_regions:
            self.region_strategy(reg)
            self.reporter.advance()
        self._stage("work and governance", self.regions)
        for reg in self.all_regions:
            self.region_work(reg)
            self.reporter.advance()
        self._stage("RAID, milestones and gates", len(self.items))
        for item in self.items:
            self.item_details(item)
            self.reporter.advance()
        self.node_raid()
        self._stage("benefits", self.regions)
        for reg in self.all_regions:
            self.region_benefits(reg)
            self.reporter.advance()
        self._stage("writing organisation, strategy and work")
        self.w.flush()
        self.w.streaming = True
        self._stage("status reports", len(self.items))
        self.status_reports()
        self._stage("costs", len(self.items))
        self.costs()
        self._stage("resources", len(self.items))
        self.resources()
        self._stage("key result actuals")
        self.key_result_actuals()
        self.w.flush()
        self.reporter.finish()


def generate(
    ws: Workspace,
    *,
    scale: str = "small",
    seed: int = 42,
    reporter: Reporter = SILENT,
    as_of: dt.date | None = None,
    force: bool = False,
) -> DemoReport:
    """Fill ``ws`` with the demo enterprise and return what was written.

    Args:
        scale: ``small`` (a mid-size organisation) or ``large`` (×25, for benchmarks).
        seed: the same seed (with the same scale and ``as_of``) gives the same data.
        reporter: receives start/advance/finish per stage.
        as_of: the "today" of the data (actuals before it, forecasts after); default 2026-11-15
            so the result never depends on the clock.
        force: replace existing data (every P3M table is cleared first, in the same transaction).

    Raises:
        ConfigError: unknown scale.
        ConflictError: the workspace holds data and ``force`` is False, or the demo's codes
            collide with rows that survived (nothing is written in either case).
    """
    if scale not in SCALES:
        raise ConfigError(f"unknown demo scale {scale!r}", hint=f"use one of {', '.join(SCALES)}")
    day = as_of or DEFAULT_AS_OF
    if not force and not ws.is_empty():
        raise ConflictError(
            f"{ws.describe()} already holds data; the demo will not overwrite it",
            hint="pass --force to replace it, or choose another --db",
        )
    load_models()
    started = time.perf_counter()
    try:
        with ws.session() as session:
            conn = session.connection()
            if force:
                reporter.start("clearing existing data")
                _clear(conn)
                reporter.finish()
            batch = ImportBatch(
                source="demo",
                kind="demo enterprise",
                user=WRITTEN_BY,
                status="running",
                counts={},
                message=f"scale={scale} seed={seed} as_of={day.isoformat()}",
            )
            session.add(batch)
            session.flush()
            writer = _Writer(conn, batch.id)
            _Builder(writer, random.Random(seed), scale, day, reporter).build()
            writer.fix_sequences()
            _settings(session)
            rows = dict(sorted(writer.counts.items()))
            batch.status = "committed"
            batch.finished_at = utcnow()
            batch.counts = {"inserted": sum(rows.values()), "tables": rows}
            batch_id = batch.id
    except IntegrityError as exc:
        raise ConflictError(
            "the demo's codes collide with data already in the workspace",
            hint="pass --force to replace everything, or use an empty --db",
        ) from exc
    return DemoReport(
        organisation=names.ORGANISATION_NAME,
        scale=scale,
        seed=seed,
        as_of=day,
        batch_id=batch_id,
        rows=rows,
        seconds=round(time.perf_counter() - started, 3),
    )


# -- tuning knob: the board's run / grow / transform target (%) ---------------------------------
# Northwind plans to spend 45 % of the year on change; the demo's budget puts about 54 % there, so
# the main board sees a run/change breach it must rebalance — not a target nobody could meet.
TARGET_SPLIT = {"run": "55", "grow": "30", "transform": "15"}


def _settings(session: Session) -> None:
    for key, value in (
        ("organisation_name", names.ORGANISATION_NAME),
        ("fiscal_year_start_month", str(_FY_START_MONTH)),
        ("currency", "GBP"),
        *((f"target_split_{cat}", share) for cat, share in TARGET_SPLIT.items()),
    ):
        session.merge(Setting(key=key, value=value))
