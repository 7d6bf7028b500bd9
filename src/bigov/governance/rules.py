"""Exception rules: small named functions over a cycle document, on a plug-in list.

Each rule reads the frozen cycle document (see :mod:`bigov.governance.snapshot`) and returns
:class:`Finding` objects; it never touches the database, so a stored cycle can be re-evaluated and
each rule is tested on a hand-built document. Which node *owns* a finding is not the rule's job:
findings with a tolerance ``dimension`` are routed up the escalation path by
:func:`route` (owned by the first node whose tolerance covers the value); findings without one
belong to the node whose cycle raised them.

Add a rule by writing ``def my_rule(doc, settings) -> list[Finding]`` and calling
:func:`register` (or appending a :class:`Rule` to :data:`RULES`); the built-ins are registered the
same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from bigov.figures.format import money
from bigov.governance.models import ToleranceDimension as Dim
from bigov.governance.snapshot import dec, num

Doc = Mapping[str, Any]


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of the rules that are not node tolerances (workspace-wide)."""

    # findings smaller than these are noise, not exceptions
    min_cost_pct: Decimal = Decimal("0")
    min_schedule_days: int = 0
    min_benefit_pct: Decimal = Decimal("0")
    default_risk_appetite: Decimal = Decimal("12")
    red_confidence_score: int = 2  # amber/red (2) and red (1) are always findings
    run_change_pp: Decimal = Decimal("5")  # allowed gap to the target change %, percentage points
    resource_over_pct: Decimal = Decimal("100")  # demand above this % of capacity
    # node kinds that own the organisation's run/change balance
    balance_node_kinds: tuple[str, ...] = (
        "main_board",
        "board_subgroup",
        "portfolio_direction",
        "finance",
    )

    @classmethod
    def for_node(cls, base: RuleSettings, overrides: Mapping[str, Any] | None) -> RuleSettings:
        """``base`` with a node's own rule settings (from its governance design) applied."""
        if not overrides:
            return base
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            current = getattr(base, key, None)
            if current is None or key == "balance_node_kinds":
                continue  # unknown keys are refused when the design is imported
            values[key] = (
                type(current)(Decimal(str(value)))
                if not isinstance(current, Decimal)
                else Decimal(str(value))
            )
        return replace(base, **values)


@dataclass(frozen=True)
class Finding:
    """One thing a rule found. ``key`` identifies it across nodes within a period, which is how an
    exception is raised once however many cycles see it. ``origin`` is the code of the lowest node
    governing the subject (None: the evaluating node)."""

    rule: str
    subject_kind: str
    subject_code: str
    title: str
    message: str
    value: Decimal | None = None
    dimension: str | None = None
    origin: str | None = None
    work_item: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # money at stake in the reporting currency (overspend, benefit shortfall), for materiality
    at_stake: Decimal | None = None

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject_kind}:{self.subject_code}"


RuleFn = Callable[[Doc, RuleSettings], list[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    fn: RuleFn


RULES: list[Rule] = []


def register(name: str, title: str) -> Callable[[RuleFn], RuleFn]:
    """Decorator: add a rule function to :data:`RULES` under ``name``."""

    def deco(fn: RuleFn) -> RuleFn:
        RULES[:] = [r for r in RULES if r.name != name]
        RULES.append(Rule(name, title, fn))
        return fn

    return deco


def _live(doc: Doc) -> list[dict[str, Any]]:
    return [w for w in doc["work"] if w.get("live", True)]


@register("cost_over_budget", "Cost forecast over budget")
def cost_over_budget(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """A work item whose whole-life cost forecast exceeds its budget (value: % over budget;
    at stake: the overspend)."""
    out = []
    cur = doc.get("currency", "GBP")
    for w in _live(doc):
        variance = dec(w.get("cost_variance_pct"))
        if variance is None or variance <= settings.min_cost_pct:
            continue
        over = (dec(w.get("forecast")) or Decimal(0)) - (dec(w.get("budget")) or Decimal(0))
        out.append(
            Finding(
                "cost_over_budget",
                "work_item",
                w["code"],
                f"{w['name']}: forecast {num(variance, 1)}% over budget",
                f"Forecast outturn {money(w['forecast'], cur)} against a budget of "
                f"{money(w['budget'], cur)}: {money(over, cur)} ({num(variance, 1)}%) over.",
                variance,
                Dim.COST_PCT.value,
                w.get("origin"),
                w["code"],
                at_stake=over,
            )
        )
    return out


@register("schedule_slip", "Forecast finish later than baseline")
def schedule_slip(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """A work item forecast to finish later than its baseline (value: days late)."""
    out = []
    for w in _live(doc):
        slip = w.get("slip_days")
        if slip is None or slip <= settings.min_schedule_days:
            continue
        out.append(
            Finding(
                "schedule_slip",
                "work_item",
                w["code"],
                f"{w['name']}: finish forecast {slip} days late",
                f"Forecast finish {w['forecast_finish']} against a baseline of "
                f"{w['baseline_finish']} ({slip} days late).",
                Decimal(slip),
                Dim.SCHEDULE_DAYS.value,
                w.get("origin"),
                w["code"],
            )
        )
    return out


@register("benefit_shortfall", "Benefit forecast short of plan")
def benefit_shortfall(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """A benefit whose forecast (realised to date + forecast of the rest) is below its plan
    (value: % short; at stake: the shortfall, for financial benefits)."""
    out = []
    cur = doc.get("currency", "GBP")
    for b in doc["benefits"]:
        short = dec(b.get("shortfall_pct"))
        if short is None or short <= settings.min_benefit_pct:
            continue
        financial = b.get("unit", cur) == cur
        planned, forecast = dec(b.get("planned")), dec(b.get("forecast"))
        gap = abs(planned or Decimal(0)) - abs(forecast or Decimal(0))
        if b.get("kind") == "disbenefit":
            gap = -gap
        unit = "" if financial else str(b.get("unit") or "")

        def shown(v: Any, unit: str = unit, fin: bool = financial) -> str:
            return money(v, cur) if fin else f"{num(dec(v), 1)} {unit}".strip()

        out.append(
            Finding(
                "benefit_shortfall",
                "benefit",
                b["code"],
                f"{b['name']}: forecast {num(short, 1)}% short of plan",
                f"Forecast {shown(b['forecast'])} against a plan of {shown(b['planned'])} "
                f"({num(short, 1)}% short); owner {b.get('owner') or 'unassigned'}.",
                short,
                Dim.BENEFIT_PCT.value,
                b.get("origin"),
                b.get("enabler"),
                at_stake=gap if financial else None,
            )
        )
    return out


@register("confidence", "Delivery confidence falling or at Red / Amber-Red")
def confidence(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """A work item whose DCA fell since its previous report, or stands at Amber/Red or Red
    (value: the DCA score, 5 green .. 1 red; a node tolerates scores at or above its limit)."""
    from bigov.governance.facts import confidence_score

    out = []
    for w in _live(doc):
        now = confidence_score(w.get("confidence"))
        if now is None:
            continue
        before = confidence_score(w.get("confidence_prev"))
        falling = before is not None and now < before
        if not falling and now > settings.red_confidence_score:
            continue
        what = "fell from " + str(w["confidence_prev"]) + " to " if falling else "stands at "
        out.append(
            Finding(
                "confidence",
                "work_item",
                w["code"],
                f"{w['name']}: delivery confidence {what}{w['confidence']}".replace("  ", " "),
                f"Delivery confidence {what}{w['confidence']}"
                + (f" ({w['narrative']})." if w.get("narrative") else "."),
                Decimal(now),
                Dim.CONFIDENCE.value,
                w.get("origin"),
                w["code"],
                {"falling": falling},
            )
        )
    return out


@register("risk_above_appetite", "Risk above appetite")
def risk_above_appetite(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """An open risk scoring above the appetite (risk_score tolerance) of the node where it arises
    (value: probability × impact)."""
    nodes = doc["nodes"]
    out = []
    for r in doc["risks"]:
        if r["kind"] != "risk" or r.get("score") is None:
            continue
        origin = r.get("origin")
        limit = dec(nodes.get(origin, {}).get("tolerances", {}).get(Dim.RISK_SCORE.value))
        appetite = limit if limit is not None else settings.default_risk_appetite
        if Decimal(r["score"]) <= appetite:
            continue
        out.append(
            Finding(
                "risk_above_appetite",
                "risk",
                r["code"],
                f"{r['title']}: risk score {r['score']} above appetite {num(appetite, 0)}",
                f"{r['title']} (owner {r.get('owner') or 'unassigned'}) scores {r['score']}, "
                f"above the appetite of {num(appetite, 0)}.",
                Decimal(r["score"]),
                Dim.RISK_SCORE.value,
                origin,
                r.get("work_item"),
            )
        )
    return out


@register("resource_over_capacity", "Resource demand over capacity")
def resource_over_capacity(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """A skill whose demand over the cycle window exceeds capacity (value: utilisation %).
    Owned by the node whose cycle raised it."""
    out = []
    node = doc["node"]["code"]
    for r in doc["resources"]:
        demand, capacity = dec(r["demand_fte"]) or Decimal(0), dec(r["capacity_fte"]) or Decimal(0)
        if demand <= 0:
            continue
        util = dec(r.get("utilisation_pct"))
        if capacity > 0 and util is not None and util <= settings.resource_over_pct:
            continue
        out.append(
            Finding(
                "resource_over_capacity",
                "skill",
                f"{node}:{r['skill']}",
                f"{r['skill']}: demand at {num(util, 0)}% of capacity"
                if util is not None
                else f"{r['skill']}: demand with no capacity",
                f"Demand for {r['skill']} averages {num(dec(r['demand_fte']), 1)} FTE a month "
                f"against {num(dec(r['capacity_fte']), 1)} FTE available "
                f"(short by {num(dec(r['gap_fte']), 1)} FTE).",
                util,
            )
        )
    return out


@register("run_change_split", "Run / change split off target")
def run_change_split(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """The change (grow + transform) share of the year's budget differs from the board's target
    split (:func:`bigov.analysis.balance.target_split`) by more than ``run_change_pp``
    percentage points; only for nodes that own the balance."""
    if doc["node"]["kind"] not in settings.balance_node_kinds:
        return []
    rc = doc["run_change"]
    actual, target = dec(rc.get("change_pct")), dec(rc.get("target_change_pct"))
    if actual is None or target is None:
        return []
    gap = actual - target
    if abs(gap) <= settings.run_change_pp:
        return []
    node = doc["node"]["code"]
    return [
        Finding(
            "run_change_split",
            "balance",
            f"{node}:FY{rc['fiscal_year']}",
            f"Change share (grow + transform) of the FY{rc['fiscal_year']} budget "
            f"{num(actual, 1)}% against a target of {num(target, 1)}%",
            f"FY{rc['fiscal_year']} budget puts {num(actual, 1)}% into change; the target is "
            f"{num(target, 1)}% ({num(gap, 1)} points off).",
            gap,
        )
    ]


@register("missing_data", "Missing or late data")
def missing_data(doc: Doc, settings: RuleSettings) -> list[Finding]:
    """A required information definition with no data, incomplete or stale data for the period,
    and a period with no data at all. Owned by the node whose cycle raised it."""
    node = doc["node"]["code"]
    out = []
    if not doc.get("has_data", True):
        out.append(
            Finding(
                "missing_data",
                "period",
                f"{node}:{doc['period']['label']}",
                f"No data reported for {doc['period']['label']}",
                "No status report, actual cost or actual benefit was found for the period; the "
                "pack shows plans only.",
            )
        )
    for r in doc["readiness"]:
        if not r["required"] or r["status"] == "ready":
            continue
        out.append(
            Finding(
                "missing_data",
                "information",
                f"{node}:{r['code']}",
                f"{r['title']}: data {r['status']}",
                f"{r['title']} ({r['source']}) is {r['status']}: {r['detail']} "
                f"Owed by {r.get('owed_by') or 'no named owner'}.",
            )
        )
    return out


def within(dimension: str, value: Decimal, limit: Decimal) -> bool:
    """Whether ``value`` is inside a tolerance ``limit`` on ``dimension``. Confidence is a floor
    (a score at or above the limit is tolerated); every other dimension is a ceiling."""
    if dimension == Dim.CONFIDENCE.value:
        return value >= limit
    return value <= limit


@dataclass(frozen=True)
class Step:
    node: str
    limit: Decimal | None
    outcome: str  # "escalated" | "owned"
    reason: str


def route(finding: Finding, origin: str, doc: Doc) -> list[Step]:
    """The escalation path of a finding from ``origin``: each node up the parent chain either owns
    it (its tolerance on the finding's dimension covers the value) or passes it on. A node without
    a tolerance on the dimension has no delegated authority and passes it on; the top node owns
    whatever reaches it. Findings without a dimension are owned at ``origin``."""
    nodes = doc["nodes"]
    steps: list[Step] = []
    seen: set[str] = set()
    cur: str | None = origin
    while cur is not None and cur in nodes and cur not in seen:
        seen.add(cur)
        parent = nodes[cur].get("parent")
        if finding.dimension is None or finding.value is None:
            return [Step(cur, None, "owned", "owned where raised")]
        limit = dec(nodes[cur]["tolerances"].get(finding.dimension))
        if limit is not None and within(finding.dimension, finding.value, limit):
            steps.append(Step(cur, limit, "owned", f"within tolerance {num(limit, 1)}"))
            return steps
        if parent is None or parent not in nodes or parent in seen:
            reason = "top of the escalation path"
            steps.append(Step(cur, limit, "owned", reason))
            return steps
        reason = (
            f"beyond tolerance {num(limit, 1)}" if limit is not None else "no delegated tolerance"
        )
        steps.append(Step(cur, limit, "escalated", reason))
        cur = parent
    return steps or [Step(origin, None, "owned", "owned where raised")]


def evaluate(
    doc: Doc, settings: RuleSettings | None = None, rules: list[Rule] | None = None
) -> list[Finding]:
    """Every finding of every rule on ``doc``, in rule order then subject order."""
    settings = RuleSettings.for_node(
        settings or RuleSettings(), (doc.get("node") or {}).get("rules")
    )
    out: list[Finding] = []
    for rule in rules if rules is not None else RULES:
        out.extend(sorted(rule.fn(doc, settings), key=lambda f: f.subject_code))
    return out


__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "RuleSettings",
    "Step",
    "evaluate",
    "register",
    "route",
    "within",
]
