"""The state every part of the builder shares, set up once from the seed, scale and as-of date."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from bigov.demo.common import (
    _FY_START_MONTH,
    SCALES,
    _add_months,
    _fiscal_year,
    _Item,
    _month,
    _months,
    _Region,
)
from bigov.demo.writer import _Writer
from bigov.governance.models import NodeKind
from bigov.progress import Reporter
from bigov.raid.models import RaidKind
from bigov.work.models import Nature


class _BuilderBase:
    """The seeded generator, the writer, the calendar window and the registers of ids built so far.

    The builder is one class assembled as a chain (base -> raid -> governance -> organisation ->
    work -> strategy -> benefits -> status -> money -> resources -> generator._Builder): each part
    may call the parts before it, which lets mypy check every call without protocols.
    """

    def __init__(
        self, w: _Writer, rng: random.Random, scale: str, as_of: dt.date, reporter: Reporter
    ) -> None:
        self.w = w
        self.rng = rng
        self.regions = SCALES[scale]
        self.as_of = as_of
        self.reporter = reporter
        self.now_month = _month(as_of)  # actuals exist for months before this one
        self.last_period = _add_months(self.now_month, -1)  # latest status report period
        self.fy = _fiscal_year(as_of)
        self.fys = (self.fy - 1, self.fy, self.fy + 1)
        self.window_start = dt.date(self.fy - 2, _FY_START_MONTH, 1)
        self.window_end = dt.date(self.fy + 1, _FY_START_MONTH, 1)
        self.window = _months(self.window_start, self.window_end)
        self.strategy_start = self.window_start
        self.used_names: set[str] = set()
        self.person_seq = 0
        self.raid_seq: dict[RaidKind, int] = defaultdict(int)
        self.benefit_seq = 0
        self.dep_seq = 0
        self.roles: dict[str, int] = {}
        self.skills: dict[str, int] = {}
        self.items: list[_Item] = []
        self.all_regions: list[_Region] = []
        self.funding: dict[tuple[int, Nature], int] = {}
        self.funding_root: dict[int, int] = {}
        self.funding_total: dict[tuple[int, Nature], float] = defaultdict(float)
        self.nodes: dict[str, int] = {}
        self.node_kind: dict[int, NodeKind] = {}
        self.node_parent: dict[int, int | None] = {}
        self.kr_ids: dict[str, int] = {}

    def _stage(self, task: str, total: int | None = None) -> None:
        self.reporter.finish()
        self.reporter.start(task, total)

    def day_between(self, start: dt.date, end: dt.date) -> dt.date:
        span = max((end - start).days, 0)
        return start + dt.timedelta(days=self.rng.randint(0, span))
