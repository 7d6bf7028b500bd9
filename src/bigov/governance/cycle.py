"""Running a governance cycle: snapshot, rules, exceptions and escalation, publication, packs.

What callers may rely on:

* :func:`run_cycle` freezes the node's figures as at a date into one stored document; packs are
  rendered only from that document, so re-rendering a cycle later gives the same pack and data
  changed afterwards never alter it (the next cycle shows the change).
* An exception is raised once per rule, subject and period, whichever cycle sees it first, and is
  owned by exactly one node: the first node up the escalation path whose tolerance covers it. Its
  path (one row per step) is stored and shown in every pack that sees it.
* A published cycle is immutable: running it again raises :class:`ConflictError` unless
  ``new_version`` is asked for, which adds version N+1 and keeps N. A draft is replaced in place.
* :func:`run_all` runs every node due in a month by its cadence, lowest nodes first, loading the
  period's figures once per cycle window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from bigov.errors import ConfigError, ConflictError, NotFoundError
from bigov.figures.compute import compute as compute_figures
from bigov.figures.compute import governed as governed_figures
from bigov.governance.cycle_models import (
    Cycle,
    CycleArtefact,
    CycleDecision,
    CycleEscalation,
    CycleException,
    CycleExceptionLink,
    CycleSnapshot,
    CycleStatus,
)
from bigov.governance.decision_links import DecisionOtc
from bigov.governance.facts import Facts
from bigov.governance.figures import AnalysisFigures, MeasureView
from bigov.governance.models import Cadence
from bigov.governance.periods import (
    CyclePeriod,
    add_months,
    cycle_period,
    is_due,
    parse_period,
    period_label,
)
from bigov.governance.readiness import DEFAULT_AGENDA, assess
from bigov.governance.rules import RuleSettings, evaluate, route
from bigov.governance.snapshot import Doc, build_document, num
from bigov.governance.topology import Topology
from bigov.progress import SILENT, Reporter
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.strategy.models import Otc
from bigov.work.models import WorkItem

if TYPE_CHECKING:
    from bigov.workspace import Workspace


@dataclass
class CycleResult:
    """What a cycle run produced."""

    code: str
    node: str
    period: str
    version: int
    status: str
    has_data: bool
    exceptions: int
    owned_here: int
    escalated_up: int
    sha256: str
    artefacts: dict[str, str] = field(default_factory=dict)


def canonical_json(doc: Doc) -> str:
    """The document as canonical JSON (sorted keys, no spaces): what its hash is taken over."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)


def doc_hash(doc: Doc) -> str:
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


class _Run:
    """State shared by the cycles of one invocation (one topology, facts per window)."""

    def __init__(self, ws: Workspace, session: Session) -> None:
        self.ws = ws
        self.session = session
        self.topo = Topology(session)
        self.facts: dict[tuple[dt.date, dt.date, dt.date], Facts] = {}
        self.figures: dict[tuple[dt.date, dt.date], AnalysisFigures] = {}
        self.organisation = ws.setting("organisation_name")
        self.currency = ws.setting("currency")
        self.fy_start = ws.fiscal_year_start_month
        self.exceptions: dict[dt.date, dict[str, dict[str, Any]]] = {}
        self.on_path: dict[dt.date, dict[str, set[str]]] = {}
        from bigov.org.models import OrgUnit, Person

        self.people: dict[int, str] = dict(session.execute(select(Person.id, Person.name)).all())
        self.unit_codes: dict[int, str] = dict(
            session.execute(select(OrgUnit.id, OrgUnit.code)).all()
        )

    def rebind(self, session: Session) -> None:
        """Use the read-only inputs loaded so far (topology, facts, figures) in another unit of
        work; what other cycles change (the period's exceptions) is read afresh."""
        self.session = session
        self.exceptions = {}
        self.on_path = {}
        for facts in self.facts.values():
            facts.session = session
        for figures in self.figures.values():
            figures.session = session

    def fiscal_year_of(self, day: dt.date) -> int:
        """As :meth:`Workspace.fiscal_year_of`, without a settings query per cycle."""
        if self.fy_start == 1:
            return day.year
        return day.year + 1 if day.month >= self.fy_start else day.year

    def fiscal_bounds(self, fiscal_year: int) -> tuple[dt.date, dt.date]:
        if self.fy_start == 1:
            return dt.date(fiscal_year, 1, 1), dt.date(fiscal_year + 1, 1, 1)
        return dt.date(fiscal_year - 1, self.fy_start, 1), dt.date(fiscal_year, self.fy_start, 1)

    def figures_for(self, period: CyclePeriod) -> AnalysisFigures:
        """The analysis figures of a cycle's month and as-at date (shared by every window ending
        there: a monthly and a quarterly node of the same month read the same roll-up)."""
        key = (period.month, period.as_at)
        if key not in self.figures:
            self.figures[key] = AnalysisFigures(self.ws, self.session, period.month, period.as_at)
        return self.figures[key]

    def measures_for(
        self, node_id: int, period: CyclePeriod, agenda: list[dict[str, Any]]
    ) -> dict[str, MeasureView]:
        """Each ``metrics.*`` information definition of ``agenda`` read at the node's grain: the
        month for monthly (and more frequent) nodes, the fiscal quarter for quarterly ones, the
        fiscal year for annual ones; for the node's organisation unit unless it governs all."""
        node = self.topo.nodes[node_id]
        grain = {Cadence.QUARTERLY.value: "quarter", Cadence.ANNUAL.value: "year"}.get(
            node.cadence, "month"
        )
        history = {"month": 12, "quarter": 8, "year": 3}[grain]
        org = None
        if node.org_unit_id is not None and not self.topo.governs_everything(node_id):
            org = self.unit_codes.get(node.org_unit_id)
        out: dict[str, MeasureView] = {}
        figures = self.figures_for(period)
        for item in agenda:
            for d in item["information"]:
                source = str(d["source"])
                if not source.startswith("metrics."):
                    continue
                measure = source.removeprefix("metrics.").split(".")[0]
                out[d["code"]] = figures.measure(
                    measure, grain, org, period.start, d.get("freshness_days"), history
                )
        return out

    def facts_for(self, period: CyclePeriod) -> Facts:
        key = (period.start, period.month, period.as_at)
        if key not in self.facts:
            self.facts[key] = Facts(self.session, self.topo, period)
        return self.facts[key]


class SharedInputs:
    """The read-only inputs of a month's cycles — topology, each window's facts and analysis
    figures — loaded by the first :func:`run_cycle` given this object and reused by the next
    ones, as :func:`run_all` reuses them within one run. A worker running a month one node per
    job keeps one per month run: the cycles then read the data as it stood when the first of
    them loaded it, as :func:`run_all` does. The period's exceptions are never shared: each
    cycle reads those that the cycles before it (on any worker) raised."""

    def __init__(self) -> None:
        self._run: _Run | None = None

    def bind(self, ws: Workspace, session: Session) -> _Run:
        if self._run is None or self._run.ws is not ws:
            self._run = _Run(ws, session)
        else:
            self._run.rebind(session)
        return self._run


def run_cycle(
    ws: Workspace,
    node: str,
    period: str,
    *,
    as_at: dt.date | None = None,
    new_version: bool = False,
    publish: bool = True,
    out_dir: Path | None = None,
    formats: Sequence[str] = ("html",),
    settings: RuleSettings | None = None,
    shared: SharedInputs | None = None,
) -> CycleResult:
    """Run ``node``'s cycle for ``period`` (``YYYY-MM``) and, with ``out_dir``, write its packs.

    The cycle is stored as a draft, its packs are written, and only then is it published (see
    :func:`_finish`), so a run killed part-way leaves a draft that the next run replaces — never a
    published cycle without its packs. A published cycle whose packs are missing (a run killed
    by an older version) has them written instead of being refused.

    Raises:
        NotFoundError: no such node.
        ConfigError: malformed period or unknown format.
        ConflictError: the cycle is published (with its packs) and ``new_version`` was not asked.
    """
    month = parse_period(period)
    with ws.session() as s:
        run = shared.bind(ws, s) if shared is not None else _Run(ws, s)
        node_info = run.topo.by_code.get(node)
        if node_info is None:
            raise NotFoundError(f"no governance node with code {node!r}")
        resumed = _resumable(s, node_info.id, month, new_version, out_dir, formats)
        if resumed is not None:
            result = resumed
        else:
            result, _doc = _run_one(run, node_info.id, month, as_at, new_version, settings)
        s.flush()
    _finish(ws, [result], publish, out_dir, formats, SILENT)
    return result


def run_all(
    ws: Workspace,
    period: str,
    *,
    as_at: dt.date | None = None,
    new_version: bool = False,
    publish: bool = True,
    out_dir: Path | None = None,
    formats: Sequence[str] = ("html",),
    settings: RuleSettings | None = None,
    reporter: Reporter = SILENT,
    skip_published: bool = False,
) -> list[CycleResult]:
    """Run the cycle of every node due in ``period`` by its cadence, lowest nodes first.

    Every cycle is stored as a draft in one transaction; then the packs are written and the
    cycles published (:func:`_finish`). A published cycle whose packs are missing has them
    written (finishing a killed run). With ``skip_published`` a node whose cycle is already
    published is left alone instead of raising :class:`ConflictError`.
    """
    month = parse_period(period)
    results: list[CycleResult] = []
    with ws.session() as s:
        run = _Run(ws, s)
        fy_start = ws.fiscal_year_start_month
        due = [n for n in run.topo.nodes.values() if is_due(Cadence(n.cadence), month, fy_start)]
        due.sort(key=lambda n: (-run.topo.depth(n.id), n.code))
        reporter.start(f"cycles {period_label(month)}", total=len(due))
        for n in due:
            resumed = _resumable(s, n.id, month, new_version, out_dir, formats)
            if resumed is not None:
                results.append(resumed)
                reporter.advance()
                continue
            if skip_published and not new_version:
                latest = _latest(s, n.id, month)
                if latest is not None and latest.status == CycleStatus.PUBLISHED:
                    reporter.advance()
                    continue
            result, _ = _run_one(run, n.id, month, as_at, new_version, settings)
            results.append(result)
            # flushed rows need not stay in the identity map; a small session keeps each flush
            # cheap however many cycles run
            s.flush()
            s.expunge_all()
            reporter.advance()
        reporter.finish()
    _finish(ws, results, publish, out_dir, formats, reporter)
    return results


def _resumable(
    s: Session,
    node_id: int,
    month: dt.date,
    new_version: bool,
    out_dir: Path | None,
    formats: Sequence[str],
) -> CycleResult | None:
    """The published cycle of a node and month whose packs (in ``formats``) were never all
    written — what a killed run leaves — as a result to finish; None when there is none."""
    if new_version or out_dir is None:
        return None
    latest = _latest(s, node_id, month)
    if latest is None or latest.status != CycleStatus.PUBLISHED:
        return None
    written = set(
        s.scalars(select(CycleArtefact.format).where(CycleArtefact.cycle_id == latest.id))
    )
    if set(formats) <= written:
        return None
    summary = latest.summary or {}
    node_code = latest.code.split("/")[0]
    return CycleResult(
        code=latest.code,
        node=node_code,
        period=period_label(latest.period),
        version=latest.version,
        status=latest.status.value,
        has_data=bool(summary.get("has_data")),
        exceptions=int(summary.get("exceptions") or 0),
        owned_here=int(summary.get("owned_here") or 0),
        escalated_up=int(summary.get("escalated_up") or 0),
        sha256=str(summary.get("sha256") or ""),
    )


def _finish(
    ws: Workspace,
    results: list[CycleResult],
    publish: bool,
    out_dir: Path | None,
    formats: Sequence[str],
    reporter: Reporter,
) -> None:
    """Write the packs of stored cycles, then publish them: publication is the last step, so a
    published cycle always has its packs."""
    if out_dir is not None:
        reporter.start("packs", total=len(results))
        for r in results:
            r.artefacts = write_packs(ws, r.code, out_dir, formats)
            reporter.advance()
        reporter.finish()
    if not publish:
        return
    drafts = [r for r in results if r.status == CycleStatus.DRAFT.value]
    if not drafts:
        return
    with ws.session() as s:
        now = dt.datetime.now(dt.UTC)
        s.execute(
            update(Cycle)
            .where(Cycle.code.in_([r.code for r in drafts]), Cycle.status == CycleStatus.DRAFT)
            .values(status=CycleStatus.PUBLISHED, published_at=now)
        )
    for r in drafts:
        r.status = CycleStatus.PUBLISHED.value


def _latest(s: Session, node_id: int, month: dt.date) -> Cycle | None:
    return s.scalar(
        select(Cycle)
        .where(Cycle.node_id == node_id, Cycle.period == month)
        .order_by(Cycle.version.desc())
        .limit(1)
    )


def _run_one(
    run: _Run,
    node_id: int,
    month: dt.date,
    as_at: dt.date | None,
    new_version: bool,
    settings: RuleSettings | None,
) -> tuple[CycleResult, Doc]:
    """Build, evaluate and store one node's cycle as a draft (see :func:`_finish`)."""
    s, topo = run.session, run.topo
    node = topo.nodes[node_id]
    latest = _latest(s, node_id, month)
    version = 1
    if latest is not None:
        if new_version:
            version = latest.version + 1
        elif latest.status == CycleStatus.PUBLISHED:
            raise ConflictError(
                f"cycle {latest.code} is published and cannot be changed",
                hint="run it again with --new-version to add a new version (both are kept)",
            )
        else:
            version = latest.version
            s.execute(
                update(CycleException)
                .where(CycleException.first_cycle_id == latest.id)
                .values(first_cycle_id=None)
            )
            s.delete(latest)
            s.flush()
    period = cycle_period(Cadence(node.cadence), month, as_at)
    facts = run.facts_for(period)
    fiscal_year = run.fiscal_year_of(period.month)
    doc = build_document(
        facts,
        node_id,
        organisation=run.organisation,
        fiscal_year=fiscal_year,
        fiscal_bounds=run.fiscal_bounds(fiscal_year),
        currency=run.currency,
        figures=run.figures_for(period),
    )
    # A section the node's own agenda leaves empty takes the standard items, so every pack covers
    # preparation, progress, enablers, prediction and actions.
    doc["agenda"] = agenda_with_standard(doc["agenda"])
    measures = run.measures_for(node_id, period, doc["agenda"])
    doc["measures"] = [measure_view(code, m) for code, m in measures.items()]
    doc["readiness"] = assess(facts, topo, node_id, doc["agenda"], measures)
    from bigov.datacall.service import pack_section

    # the data call behind this sitting, if one was opened: what is assured, what is not
    calls = pack_section(s, node_id, month, period.as_at)
    if calls is not None:
        doc["data_calls"] = calls

    code = f"{node.code}/{period.label}/v{version}"
    cycle = Cycle(
        code=code,
        node_id=node_id,
        period=period.month,
        period_start=period.start,
        as_at=period.as_at,
        version=version,
        status=CycleStatus.DRAFT,
        summary={},
    )
    s.add(cycle)
    s.flush()
    doc["cycle"] = {"code": code, "version": version, "previous_versions": version - 1}

    _raise_exceptions(run, cycle, doc, settings or RuleSettings())
    _actions_and_decisions(run, cycle, doc)
    # the governed figures, computed once from the finished document: every output reads these
    doc["governed"] = compute_figures(doc)
    doc["previous"] = _previous_figures(s, node_id, month)

    sha = doc_hash(doc)
    s.add(CycleSnapshot(cycle_id=cycle.id, document=doc, sha256=sha))
    owned = sum(1 for e in doc["exceptions"] if e["role"] == "owned")
    up = sum(1 for e in doc["exceptions"] if e["role"] in ("escalated up", "passed on"))
    cycle.summary = {
        "exceptions": len(doc["exceptions"]),
        "owned_here": owned,
        "escalated_up": up,
        "has_data": doc["has_data"],
        "items": len(doc["work"]),
        "sha256": sha,
        # the governed figures again, small, so the next cycle's movements need not load this
        # cycle's whole document (megabytes for a board that governs everything)
        "governed": doc["governed"],
    }
    s.flush()
    return (
        CycleResult(
            code=code,
            node=node.code,
            period=period.label,
            version=version,
            status=cycle.status.value,
            has_data=doc["has_data"],
            exceptions=len(doc["exceptions"]),
            owned_here=owned,
            escalated_up=up,
            sha256=sha,
        ),
        doc,
    )


def _previous_figures(s: Session, node_id: int, month: dt.date) -> dict[str, Any] | None:
    """The governed figures of the node's last cycle before ``month`` (its latest version), for
    the movements a pack reports; None at a node's first cycle."""
    row = s.execute(
        select(Cycle.id, Cycle.code, Cycle.period, Cycle.summary)
        .where(Cycle.node_id == node_id, Cycle.period < month)
        .order_by(Cycle.period.desc(), Cycle.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    cycle_id, code, period, summary = row
    figures = (summary or {}).get("governed")
    if not figures:  # a cycle run before the summary kept them: read its document
        document = s.scalar(
            select(CycleSnapshot.document).where(CycleSnapshot.cycle_id == cycle_id)
        )
        figures = governed_figures(document or {})
    return {"cycle": code, "period": period_label(period), "governed": figures}


def measure_view(code: str, m: MeasureView) -> dict[str, Any]:
    """A measure as the cycle document stores it (under ``measures``, by definition code)."""
    return {
        "code": code,
        "measure": m.measure,
        "grain": m.grain,
        "org": m.org,
        "status": m.status,
        "detail": m.detail,
        "values": m.values,
    }


def thread_code(key: str) -> str:
    """The code of a breach across periods (``X-`` and ten hex digits of its key): a breach that
    persists keeps its code and grows older instead of being raised again under a new one."""
    return f"X-{hashlib.sha1(key.encode()).hexdigest()[:10].upper()}"


def _exception_code(key: str, month: dt.date) -> str:
    """The stored row of a breach in one period: its thread code and the period."""
    return f"{thread_code(key)}/{month:%Y-%m}"


# a breach not seen for longer than this (a quarterly board's gap) starts a new thread
CARRY_MONTHS = 3


def _first_periods(s: Session, month: dt.date, keys: list[str]) -> dict[str, dt.date]:
    """For each key raised in a recent earlier period, the first period of its thread."""
    if not keys:
        return {}
    since = add_months(month, -CARRY_MONTHS)
    out: dict[str, dt.date] = {}
    rows = s.execute(
        select(CycleException.key, CycleException.period, CycleException.first_period)
        .where(
            CycleException.key.in_(keys),
            CycleException.period < month,
            CycleException.period >= since,
        )
        .order_by(CycleException.period)
    )
    for key, period, first in rows:
        out[key] = first or period
    return out


def _age(first: dt.date | None, month: dt.date) -> int:
    """Periods (months) a breach has been open, this one included."""
    if first is None:
        return 1
    return (month.year - first.year) * 12 + month.month - first.month + 1


def _period_exceptions(run: _Run, month: dt.date) -> dict[str, dict[str, Any]]:
    """Every exception of the period by key, with its path — loaded once per run and period and
    kept up to date as cycles raise new ones (so ``--all`` does not re-read them per node)."""
    cached = run.exceptions.get(month)
    if cached is not None:
        return cached
    s, topo = run.session, run.topo
    out: dict[str, dict[str, Any]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for e in s.execute(select(CycleException.__table__).where(CycleException.period == month)):
        view = _exception_view(
            e.id,
            e.code,
            e.key,
            e.rule,
            e.dimension,
            e.subject_kind,
            e.subject_code,
            e.title,
            e.message,
            e.value,
            topo.nodes[e.origin_node_id].code,
            topo.nodes[e.owner_node_id].code,
            e.escalated,
            [],
            e.first_period or e.period,
            e.at_stake,
            e.period,
        )
        out[e.key] = view
        by_id[e.id] = view
    if by_id:
        for esc in s.execute(
            select(CycleEscalation.__table__)
            .join(CycleException, CycleException.id == CycleEscalation.exception_id)
            .where(CycleException.period == month)
            .order_by(CycleEscalation.exception_id, CycleEscalation.step)
        ):
            if esc.exception_id not in by_id:
                # raised by a cycle on another worker between the two reads: not one this
                # cycle's path depends on (those ran in an earlier stage), so it is left out
                continue
            by_id[esc.exception_id]["path"].append(
                {
                    "node": topo.nodes[esc.node_id].code,
                    "outcome": esc.outcome,
                    "reason": esc.reason,
                    "limit": num(esc.limit, 2) if esc.limit is not None else None,
                }
            )
    run.exceptions[month] = out
    return out


def _on_path(run: _Run, month: dt.date, known: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Index of the period's exceptions by node on their path (built once, kept up to date)."""
    index = run.on_path.get(month)
    if index is None:
        index = {}
        for key, view in known.items():
            for p in view["path"]:
                index.setdefault(p["node"], set()).add(key)
        run.on_path[month] = index
    return index


def _exception_view(
    exc_id: int,
    code: str,
    key: str,
    rule: str,
    dimension: str | None,
    subject_kind: str,
    subject: str,
    title: str,
    message: str,
    value: Any,
    origin: str,
    owner: str,
    escalated: bool,
    path: list[dict[str, Any]],
    first_period: dt.date,
    at_stake: Any,
    month: dt.date,
) -> dict[str, Any]:
    return {
        "id": exc_id,
        "code": thread_code(key),
        "ref": code,
        "key": key,
        "rule": rule,
        "dimension": dimension,
        "subject_kind": subject_kind,
        "subject": subject,
        "title": title,
        "message": message,
        "value": num(value, 2) if value is not None else None,
        "origin": origin,
        "owner": owner,
        "escalated": bool(escalated),
        "path": path,
        "first_period": first_period.isoformat(),
        "periods_open": _age(first_period, month),
        "at_stake": num(at_stake, 2) if at_stake is not None else None,
    }


def _raise_exceptions(run: _Run, cycle: Cycle, doc: Doc, settings: RuleSettings) -> None:
    """Evaluate the rules; raise new exceptions (once per key and period) with their escalation
    path; link every exception this cycle sees; put them, most important first, in ``doc``."""
    s, topo = run.session, run.topo
    node_code = doc["node"]["code"]
    month = cycle.period
    known = _period_exceptions(run, month)
    seen: dict[str, dict[str, Any]] = {}
    fresh: list[tuple[Any, list[Any]]] = []  # (finding, steps) raised by this cycle
    for f in evaluate(doc, settings):
        if f.key in seen:
            continue
        view = known.get(f.key)
        if view is None:
            steps = route(f, f.origin or node_code, doc)
            fresh.append((f, steps))
            seen[f.key] = {}  # placeholder until inserted below
        else:
            seen[f.key] = view
    firsts = _first_periods(s, month, [f.key for f, _ in fresh])
    if fresh:
        # one multi-row insert for the cycle's new exceptions, ids back in parameter order
        ids = list(
            s.scalars(
                insert(CycleException).returning(CycleException.id, sort_by_parameter_order=True),
                [
                    {
                        "code": _exception_code(f.key, month),
                        "key": f.key,
                        "period": month,
                        "rule": f.rule,
                        "dimension": f.dimension,
                        "subject_kind": f.subject_kind,
                        "subject_code": f.subject_code[:128],
                        "work_item_id": (
                            topo.item_by_code[f.work_item].id
                            if f.work_item in topo.item_by_code
                            else None
                        ),
                        "title": f.title[:255],
                        "message": f.message,
                        "value": f.value,
                        "limit": steps[-1].limit,
                        "origin_node_id": topo.by_code[steps[0].node].id,
                        "owner_node_id": topo.by_code[steps[-1].node].id,
                        "escalated": len(steps) > 1,
                        "first_cycle_id": cycle.id,
                        "first_period": firsts.get(f.key, month),
                        "at_stake": f.at_stake,
                    }
                    for f, steps in fresh
                ],
            )
        )
        s.execute(
            insert(CycleEscalation),
            [
                {
                    "exception_id": exc_id,
                    "step": i,
                    "node_id": topo.by_code[st.node].id,
                    "limit": st.limit,
                    "outcome": st.outcome,
                    "reason": st.reason,
                }
                for exc_id, (_, steps) in zip(ids, fresh, strict=True)
                for i, st in enumerate(steps)
            ],
        )
        index = _on_path(run, month, known)
        for exc_id, (f, steps) in zip(ids, fresh, strict=True):
            view = _exception_view(
                exc_id,
                _exception_code(f.key, month),
                f.key,
                f.rule,
                f.dimension,
                f.subject_kind,
                f.subject_code[:128],
                f.title[:255],
                f.message,
                f.value,
                steps[0].node,
                steps[-1].node,
                len(steps) > 1,
                [
                    {
                        "node": st.node,
                        "outcome": st.outcome,
                        "reason": st.reason,
                        "limit": num(st.limit, 2) if st.limit is not None else None,
                    }
                    for st in steps
                ],
                firsts.get(f.key, month),
                f.at_stake,
                month,
            )
            known[f.key] = view
            seen[f.key] = view
            for p in view["path"]:
                index.setdefault(p["node"], set()).add(f.key)
    # exceptions escalated to this node by cycles of other nodes that this cycle did not see
    for key in sorted(_on_path(run, month, known).get(node_code, ())):
        if key not in seen:
            seen[key] = known[key]
    if seen:
        s.execute(
            insert(CycleExceptionLink),
            [{"cycle_id": cycle.id, "exception_id": v["id"]} for v in seen.values()],
        )
    out: list[dict[str, Any]] = []
    for view in seen.values():
        on_path = [p["node"] for p in view["path"]]
        if view["owner"] == node_code:
            role = "owned"
        elif on_path and on_path[0] == node_code:
            role = "escalated up"
        elif node_code in on_path:
            role = "passed on"
        else:
            role = "managed below"
        row = {k: v for k, v in view.items() if k not in ("id", "key")}
        row["role"] = role
        out.append(row)
    order = {"owned": 0, "passed on": 1, "escalated up": 2, "managed below": 3}
    out.sort(key=lambda x: (order[x["role"]], *materiality(x)))
    doc["exceptions"] = out


def materiality(e: dict[str, Any]) -> tuple[Any, ...]:
    """Sort key of exceptions within a role, most material first: money at stake, then how far
    the value lies beyond the owner's tolerance (as a multiple of it), then age."""
    stake = abs(Decimal(e["at_stake"])) if e.get("at_stake") is not None else Decimal(-1)
    value = Decimal(e["value"]) if e.get("value") is not None else None
    limits = [p.get("limit") for p in e.get("path", []) if p.get("limit") is not None]
    beyond = Decimal(0)
    if value is not None and limits:
        limit = Decimal(limits[-1])
        beyond = abs(value) / abs(limit) if limit else abs(value)
    return (-stake, -beyond, -int(e.get("periods_open") or 1), e["rule"], e["subject"])


def _actions_and_decisions(run: _Run, cycle: Cycle, doc: Doc) -> None:
    """Open actions of the node's log, and decisions of its earlier cycles with their effect on the
    items they concern (figures then, from that cycle's snapshot, against figures now)."""
    s, topo = run.session, run.topo
    node_id = cycle.node_id
    origin_cycle: dict[int, str] = dict(
        s.execute(
            select(CycleDecision.raid_item_id, Cycle.code)
            .join(Cycle, Cycle.id == CycleDecision.cycle_id)
            .where(Cycle.node_id == node_id)
        ).all()
    )
    people_rows = s.execute(
        select(
            RaidItem.id,
            RaidItem.code,
            RaidItem.title,
            RaidItem.status,
            RaidItem.due_on,
            RaidItem.owner_id,
            RaidItem.kind,
            RaidItem.raised_on,
        )
        .where(RaidItem.node_id == node_id)
        .where(RaidItem.kind.in_([RaidKind.ACTION, RaidKind.DECISION]))
        .order_by(RaidItem.code)
    ).all()
    people = run.people
    as_at = cycle.as_at
    actions = []
    for r in people_rows:
        if r.kind != RaidKind.ACTION or r.status == RaidStatus.CLOSED:
            continue
        if r.raised_on is not None and r.raised_on > as_at:
            continue
        actions.append(
            {
                "code": r.code,
                "title": r.title,
                "status": r.status.value,
                "owner": people.get(r.owner_id) if r.owner_id else None,
                "due_on": r.due_on.isoformat() if r.due_on else None,
                "overdue": bool(r.due_on and r.due_on < as_at),
                "from_cycle": origin_cycle.get(r.id),
                "work_item": None,
            }
        )
    # the board's own log first, then open actions on the work it governs; overdue first
    actions.extend(doc.pop("item_actions", []))
    actions.sort(key=lambda a: (not a["overdue"], a["work_item"] is not None, a["due_on"] or ""))
    doc["actions"] = actions
    doc["decisions_log"] = _decisions_in_period(run, cycle)

    # decisions taken at this node's earlier cycles (the latest three cycles that took any)
    rows = s.execute(
        select(
            CycleDecision,
            Cycle.code,
            Cycle.id,
            RaidItem.code,
            RaidItem.title,
            RaidItem.kind,
            func.coalesce(RaidItem.decided_on, RaidItem.raised_on),
        )
        .join(Cycle, Cycle.id == CycleDecision.cycle_id)
        .join(RaidItem, RaidItem.id == CycleDecision.raid_item_id)
        .where(Cycle.node_id == node_id, Cycle.period < cycle.period)
        .order_by(Cycle.period.desc(), RaidItem.code)
    ).all()
    if not rows:
        return
    keep_cycles = list(dict.fromkeys(r[2] for r in rows))[:3]
    snaps: dict[int, dict[str, Any]] = dict(
        s.execute(
            select(CycleSnapshot.cycle_id, CycleSnapshot.document).where(
                CycleSnapshot.cycle_id.in_(keep_cycles)
            )
        ).all()
    )
    now_rows = {w["code"]: w for w in doc["work"]}
    item_codes = {i.id: i.code for i in topo.items.values()}
    grouped: dict[str, dict[str, Any]] = {}
    for link, cycle_code, cid, rcode, title, kind, raised_on in rows:
        if cid not in keep_cycles or kind != RaidKind.DECISION:
            continue
        entry = grouped.setdefault(
            rcode,
            {
                "code": rcode,
                "title": title,
                "cycle": cycle_code,
                "decided_on": raised_on.isoformat() if raised_on else None,
                "effects": [],
            },
        )
        wcode = item_codes.get(link.work_item_id) if link.work_item_id else None
        if wcode is None:
            continue
        then_rows = {w["code"]: w for w in snaps.get(cid, {}).get("work", [])}
        entry["effects"].append(_effect(wcode, then_rows.get(wcode), now_rows.get(wcode)))
    doc["decisions"] = list(grouped.values())


def _decisions_in_period(run: _Run, cycle: Cycle) -> list[dict[str, Any]]:
    """Decisions recorded in the cycle's window (first day covered .. as-at date) on the board's
    own log or on the work it governs: what was decided since the board last sat."""
    s, topo = run.session, run.topo
    scope = topo.scope(cycle.node_id)
    # a decision's day is its decided_on (an imported one may lack it: then the day it was raised)
    day = func.coalesce(RaidItem.decided_on, RaidItem.raised_on)
    rows = s.execute(
        select(
            RaidItem.code,
            RaidItem.title,
            day,
            RaidItem.work_item_id,
            RaidItem.node_id,
            RaidItem.owner_id,
            RaidItem.id,
        )
        .where(
            RaidItem.kind == RaidKind.DECISION,
            day >= cycle.period_start,
            day <= cycle.as_at,
        )
        .order_by(day.desc(), RaidItem.code)
    ).all()
    # the OTCs each answers, at the version it was decided against (as `bigov decision list`)
    otcs: dict[int, list[str]] = {}
    ids = sorted(r[6] for r in rows)
    for rid, ocode, version in (
        s.execute(
            select(DecisionOtc.raid_item_id, Otc.code, DecisionOtc.otc_version)
            .join(Otc, Otc.id == DecisionOtc.otc_id)
            .where(DecisionOtc.raid_item_id.in_(ids))
            .order_by(DecisionOtc.id)
        )
        if ids
        else ()
    ):
        otcs.setdefault(rid, []).append(f"{ocode}@v{version}")
    out = []
    for code, title, raised_on, item_id, node_id, owner_id, rid in rows:
        if node_id != cycle.node_id and item_id not in scope:
            continue
        out.append(
            {
                "code": code,
                "title": title,
                "decided_on": raised_on.isoformat() if raised_on else None,
                "work_item": topo.items[item_id].code if item_id in topo.items else None,
                "by": topo.nodes[node_id].code if node_id in topo.nodes else None,
                "owner": run.people.get(owner_id) if owner_id else None,
                "otcs": otcs.get(rid, []),
            }
        )
    return out


def _effect(code: str, then: dict[str, Any] | None, now: dict[str, Any] | None) -> dict[str, Any]:
    """How an item's headline figures moved between the deciding cycle and this one."""
    out: dict[str, Any] = {"item": code, "changes": []}
    if then is None or now is None:
        out["changes"].append("not in both snapshots")
        return out
    for key, label in (
        ("forecast", "forecast cost"),
        ("cost_variance_pct", "cost variance %"),
        ("slip_days", "schedule slip (days)"),
        ("confidence", "delivery confidence"),
        ("phase", "phase"),
    ):
        a, b = then.get(key), now.get(key)
        if a != b:
            out["changes"].append(
                f"{label}: {a if a is not None else '—'} → {b if b is not None else '—'}"
            )
    if not out["changes"]:
        out["changes"].append("no change in headline figures")
    return out


# -- reading cycles -------------------------------------------------------------------------
def get_cycle(s: Session, code: str) -> Cycle:
    """A cycle by code (``NODE/YYYY-MM/vN``; ``NODE/YYYY-MM`` means the latest version)."""
    from bigov.governance.models import GovernanceNode

    cyc = s.scalar(select(Cycle).where(Cycle.code == code))
    if cyc is None and code.count("/") == 1:
        # Exact look-up by node code and period, never a pattern: a '%' or '_' in what the
        # user typed must not pick a cycle nobody named.
        node, _, period = code.partition("/")
        try:
            month = parse_period(period)
        except ConfigError:
            month = None
        if month is not None and period_label(month) == period:
            cyc = s.scalar(
                select(Cycle)
                .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
                .where(GovernanceNode.code == node, Cycle.period == month)
                .order_by(Cycle.version.desc())
                .limit(1)
            )
    if cyc is None:
        raise NotFoundError(f"no cycle {code!r}", hint="see bigov cycle list")
    return cyc


def cycle_document(ws: Workspace, code: str) -> Doc:
    """The stored snapshot document of a cycle."""
    with ws.session() as s:
        cyc = get_cycle(s, code)
        doc = s.scalar(select(CycleSnapshot.document).where(CycleSnapshot.cycle_id == cyc.id))
        if doc is None:
            raise NotFoundError(f"cycle {code!r} has no snapshot")
        return dict(doc)


def publish(ws: Workspace, code: str) -> str:
    """Publish a draft cycle (after which it cannot change); returns its code.

    Raises:
        ConflictError: already published.
    """
    with ws.session() as s:
        cyc = get_cycle(s, code)
        if cyc.status == CycleStatus.PUBLISHED:
            raise ConflictError(f"cycle {cyc.code} is already published")
        cyc.status = CycleStatus.PUBLISHED
        cyc.published_at = dt.datetime.now(dt.UTC)
        return cyc.code


def agenda_with_standard(own: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The node's agenda, plus the standard items of every section it leaves empty."""
    sections = {a["section"] for a in own}
    return list(own) + [
        {**a, "standard": True} for a in DEFAULT_AGENDA if a["section"] not in sections
    ]


def check_readiness(
    ws: Workspace, node: str, period: str, as_at: dt.date | None = None
) -> list[dict[str, Any]]:
    """Readiness of every information definition of ``node`` for ``period`` (nothing is stored).

    Raises:
        NotFoundError: no such node.
    """
    month = parse_period(period)
    with ws.session() as s:
        run = _Run(ws, s)
        info = run.topo.by_code.get(node)
        if info is None:
            raise NotFoundError(f"no governance node with code {node!r}")
        cp = cycle_period(Cadence(info.cadence), month, as_at)
        facts = run.facts_for(cp)
        agenda = agenda_with_standard(facts.agenda.get(info.id, []))
        return assess(facts, run.topo, info.id, agenda, run.measures_for(info.id, cp, agenda))


def write_packs(ws: Workspace, code: str, out_dir: Path, formats: Sequence[str]) -> dict[str, str]:
    """Render a cycle's packs from its snapshot into ``out_dir`` and record them as artefacts.

    Raises:
        ConfigError: an unknown format.
    """
    from bigov.reports import RENDERERS, render_formats, safe_filename

    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        raise ConfigError(f"unknown pack format {unknown[0]!r}; choose from {', '.join(RENDERERS)}")
    doc = cycle_document(ws, code)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_filename(code)  # codes are data: no separators, control or bidi characters
    written: dict[str, str] = {}
    with ws.session() as s:
        cyc = get_cycle(s, code)
        for fmt, data in render_formats(doc, formats).items():
            path = out_dir / f"{stem}.{fmt}"
            path.write_bytes(data)
            s.execute(
                delete(CycleArtefact).where(
                    CycleArtefact.cycle_id == cyc.id, CycleArtefact.format == fmt
                )
            )
            s.add(
                CycleArtefact(
                    cycle_id=cyc.id,
                    format=fmt,
                    path=str(path),
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                )
            )
            written[fmt] = str(path)
    return written


def list_cycles(
    ws: Workspace, node: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    """Cycles (newest period first), optionally of one node and/or period."""
    from bigov.governance.models import GovernanceNode

    with ws.session() as s:
        q = (
            select(Cycle, GovernanceNode.code)
            .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
            .order_by(Cycle.period.desc(), GovernanceNode.code, Cycle.version)
        )
        if node:
            q = q.where(GovernanceNode.code == node)
        if period:
            q = q.where(Cycle.period == parse_period(period))
        return [
            {
                "code": c.code,
                "node": ncode,
                "period": period_label(c.period),
                "version": c.version,
                "status": c.status.value,
                "as_at": c.as_at.isoformat(),
                **{
                    k: c.summary.get(k)
                    for k in ("exceptions", "owned_here", "escalated_up", "has_data")
                },
            }
            for c, ncode in s.execute(q)
        ]


def exception_counts(ws: Workspace, period: str) -> dict[str, int]:
    """Number of exceptions owned by each node in a period."""
    from bigov.governance.models import GovernanceNode

    with ws.session() as s:
        return {
            code: int(n)
            for code, n in s.execute(
                select(GovernanceNode.code, func.count())
                .join(CycleException, CycleException.owner_node_id == GovernanceNode.id)
                .where(CycleException.period == parse_period(period))
                .group_by(GovernanceNode.code)
            )
        }


def _work_item_id(s: Session, code: str) -> int:
    wid = s.scalar(select(WorkItem.id).where(WorkItem.code == code))
    if wid is None:
        raise NotFoundError(f"no work item with code {code!r}")
    return wid


__all__ = [
    "CycleResult",
    "SharedInputs",
    "canonical_json",
    "check_readiness",
    "cycle_document",
    "doc_hash",
    "exception_counts",
    "get_cycle",
    "list_cycles",
    "publish",
    "run_all",
    "run_cycle",
    "write_packs",
]
