"""The catalogue of governed figures: one definition per headline figure.

A governed figure is a number a board reads and may act on. Each has a stable ``key`` (what
``data-figure`` attributes, the XLSX ``Figures`` sheet, ``bigov figures`` and the API name it by),
a label, a unit, the grain it is measured at, what "as at" means for it, and a one-paragraph
definition. ``docs/figures.md`` is generated from this catalogue (:func:`glossary_markdown`), and a
test keeps the two the same, so the glossary a board member opens is the definition the code uses.

Values are computed in :mod:`bigov.figures.compute` and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from bigov.work.models import Confidence

# units: how a value is stored and shown
COUNT = "count"  # a whole number of things
MONEY = "money"  # the reporting currency, 2 decimal places
PCT = "pct"  # a percentage, 1 decimal place
FTE = "fte"  # full-time equivalents, 1 decimal place

# grains
WHOLE_LIFE = "whole life"
TO_DATE = "to date"
FISCAL_YEAR = "fiscal year"
AT_DATE = "at the as-at date"
CYCLE = "cycle period"


@dataclass(frozen=True)
class FigureDef:
    """One governed figure's definition."""

    key: str
    label: str
    unit: str
    grain: str
    as_at: str
    definition: str
    group: str


def _defs() -> list[FigureDef]:
    live = (
        "A live work item is one in the board's scope whose lifecycle phase is neither closed nor "
        "cancelled."
    )
    out = [
        FigureDef(
            "work.live_items",
            "Live work items",
            COUNT,
            AT_DATE,
            "phase as held when the cycle ran",
            f"{live} Portfolios, programmes, projects, workstreams and products all count, run and "
            "change alike.",
            "work",
        ),
        FigureDef(
            "work.reported_items",
            "Live items reporting this period",
            COUNT,
            CYCLE,
            "status reports for periods up to the as-at date",
            "Live work items with a status report for a month inside the cycle's period. The "
            "difference from live work items is what the board is flying blind on.",
            "work",
        ),
    ]
    for level in Confidence:
        slug = level.value.replace("/", "_")
        out.append(
            FigureDef(
                f"work.confidence.{slug}",
                f"Delivery confidence {level.value}",
                COUNT,
                CYCLE,
                "latest status report in the cycle's period, up to the as-at date",
                f"Live work items whose latest delivery confidence assessment in the period is "
                f"{level.value}. The confidence counts and 'not reported' add up to the live work "
                "items.",
                "work",
            )
        )
    out += [
        FigureDef(
            "work.confidence.not_reported",
            "Delivery confidence not reported",
            COUNT,
            CYCLE,
            "latest status report in the cycle's period, up to the as-at date",
            "Live work items with no delivery confidence assessment in the cycle's period.",
            "work",
        ),
        FigureDef(
            "cost.budget",
            "Whole-life budget",
            MONEY,
            WHOLE_LIFE,
            "cost lines as held when the cycle ran",
            "The approved budget of every cost line of the scope's work, all periods, in the "
            "reporting currency (lines in other currencies are a data-quality finding, not "
            "converted).",
            "money",
        ),
        FigureDef(
            "cost.forecast_outturn",
            "Forecast outturn",
            MONEY,
            WHOLE_LIFE,
            "actuals of periods up to the as-at month; forecasts of the rest",
            "What the scope's work is expected to cost over its whole life: actual cost of every "
            "period up to the as-at month plus the forecast of every later period.",
            "money",
        ),
        FigureDef(
            "cost.variance_pct",
            "Forecast over budget",
            PCT,
            WHOLE_LIFE,
            "as forecast outturn",
            "Forecast outturn against whole-life budget: (forecast outturn - budget) / budget. "
            "Positive is an overspend.",
            "money",
        ),
        FigureDef(
            "cost.actual_to_date",
            "Actual cost to date",
            MONEY,
            TO_DATE,
            "periods up to the as-at month",
            "Actual cost booked to the scope's work for every period up to and including the "
            "month of the as-at date.",
            "money",
        ),
        FigureDef(
            "cost.budget_to_date",
            "Budget to date",
            MONEY,
            TO_DATE,
            "periods up to the as-at month",
            "Budget of the scope's work for every period up to and including the month of the "
            "as-at date: what should have been spent by now.",
            "money",
        ),
        FigureDef(
            "balance.change_share_by_purpose",
            "Change share of the year's budget (grow + transform)",
            PCT,
            FISCAL_YEAR,
            "budget lines of the fiscal year of the cycle",
            "The share of the fiscal year's budget spent on work whose purpose is grow or "
            "transform (the run / grow / transform category of the work item). This is the share "
            "the board's target split constrains.",
            "balance",
        ),
        FigureDef(
            "balance.target_change_share",
            "Target change share (grow + transform)",
            PCT,
            FISCAL_YEAR,
            "workspace settings when the cycle ran",
            "The grow plus transform share of the board's target run / grow / transform split "
            "(settings target_split_run, target_split_grow, target_split_transform).",
            "balance",
        ),
        FigureDef(
            "balance.change_share_by_delivery",
            "Change-delivered share of the year's budget",
            PCT,
            FISCAL_YEAR,
            "budget lines of the fiscal year of the cycle",
            "The share of the fiscal year's budget spent on work delivered as change (projects "
            "and programmes flagged change) rather than business as usual. It differs from the "
            "share by purpose when business-as-usual teams deliver growth, or change work keeps "
            "the lights on; `bigov quality` lists items whose two flags disagree.",
            "balance",
        ),
    ]
    for cat in ("run", "grow", "transform"):
        out.append(
            FigureDef(
                f"balance.purpose_share.{cat}",
                f"Share of the year's budget: {cat}",
                PCT,
                FISCAL_YEAR,
                "budget lines of the fiscal year of the cycle",
                f"The share of the fiscal year's budget spent on work whose purpose is {cat}.",
                "balance",
            )
        )
    out += [
        FigureDef(
            "benefits.planned",
            "Planned benefits",
            MONEY,
            WHOLE_LIFE,
            "benefit profiles as held when the cycle ran",
            "Planned value of the scope's financial benefits over their whole profile, "
            "dis-benefits netted off.",
            "benefits",
        ),
        FigureDef(
            "benefits.forecast",
            "Forecast benefits",
            MONEY,
            WHOLE_LIFE,
            "actuals of periods up to the as-at month; forecasts of the rest",
            "What the scope's financial benefits are expected to deliver: realised value of every "
            "period up to the as-at month plus the forecast of every later period, dis-benefits "
            "netted off.",
            "benefits",
        ),
        FigureDef(
            "benefits.realised_to_date",
            "Benefits realised to date",
            MONEY,
            TO_DATE,
            "periods up to the as-at month",
            "Actual value realised by the scope's financial benefits up to the as-at month.",
            "benefits",
        ),
        FigureDef(
            "benefits.planned_to_date",
            "Benefits planned to date",
            MONEY,
            TO_DATE,
            "periods up to the as-at month",
            "Planned value of the scope's financial benefits up to the as-at month.",
            "benefits",
        ),
        FigureDef(
            "benefits.realised_pct",
            "Benefits realised against plan to date",
            PCT,
            TO_DATE,
            "periods up to the as-at month",
            "Benefits realised to date as a share of benefits planned to date.",
            "benefits",
        ),
        FigureDef(
            "benefits.at_risk",
            "Benefits at risk",
            COUNT,
            AT_DATE,
            "profiles and enabling work as at the date",
            "Benefits whose forecast falls short of plan by more than the board's benefit "
            "tolerance, or that are not yet realised and whose enabling work is late or red.",
            "benefits",
        ),
        FigureDef(
            "exceptions.owned",
            "Exceptions for this board",
            COUNT,
            CYCLE,
            "findings of the cycle's period",
            "Exceptions this board owns: beyond the delegated tolerance of every board below it "
            "and within its own authority, or at the top of the escalation path, or raised by "
            "its own rules (data, resources, balance).",
            "exceptions",
        ),
        FigureDef(
            "exceptions.escalated",
            "Exceptions escalated onward",
            COUNT,
            CYCLE,
            "findings of the cycle's period",
            "Exceptions this board saw but that are beyond its own tolerance, so passed to the "
            "board above it.",
            "exceptions",
        ),
        FigureDef(
            "exceptions.managed_below",
            "Exceptions managed below",
            COUNT,
            CYCLE,
            "findings of the cycle's period",
            "Exceptions in this board's scope that a board below it owns within its tolerance.",
            "exceptions",
        ),
        FigureDef(
            "exceptions.new",
            "New exceptions for this board",
            COUNT,
            CYCLE,
            "findings of the cycle's period",
            "Exceptions this board owns that were first raised in this period (the rest are "
            "breaches carried forward from earlier periods).",
            "exceptions",
        ),
        FigureDef(
            "actions.open",
            "Open actions",
            COUNT,
            AT_DATE,
            "actions raised up to the as-at date",
            "Actions on this board's own log or on the work it governs, raised on or before the "
            "as-at date and not closed.",
            "actions",
        ),
        FigureDef(
            "actions.overdue",
            "Overdue actions",
            COUNT,
            AT_DATE,
            "actions raised up to the as-at date",
            "Open actions whose due date is before the as-at date.",
            "actions",
        ),
        FigureDef(
            "decisions.earlier",
            "Earlier decisions followed up",
            COUNT,
            AT_DATE,
            "decisions of earlier cycles",
            "Decisions this board recorded at its last three sittings that took any, whose "
            "effect on the items they concern the pack reports.",
            "actions",
        ),
        FigureDef(
            "decisions.in_period",
            "Decisions recorded this period",
            COUNT,
            CYCLE,
            "decisions dated from the first day covered to the as-at date",
            "Decisions recorded on this board's own log or on the work it governs, dated inside "
            "the cycle's period.",
            "actions",
        ),
        FigureDef(
            "resources.skills_over_capacity",
            "Skills over capacity",
            COUNT,
            CYCLE,
            "demand and capacity of the cycle's months",
            "Skills whose committed demand in the scope averages more than the capacity "
            "available over the cycle's months.",
            "people",
        ),
        FigureDef(
            "resources.peak_utilisation_pct",
            "Highest skill utilisation",
            PCT,
            CYCLE,
            "demand and capacity of the cycle's months",
            "The highest demand-to-capacity ratio of any skill in the scope over the cycle's "
            "months.",
            "people",
        ),
        FigureDef(
            "risks.open",
            "Open risks and issues",
            COUNT,
            AT_DATE,
            "RAID items raised up to the as-at date",
            "Open risks and issues of the scope's work and of this board's own log.",
            "risks",
        ),
        FigureDef(
            "strategy.objectives",
            "Objectives, targets and challenges",
            COUNT,
            AT_DATE,
            "OTC versions effective at the as-at date",
            "OTCs this board governs or that its work serves.",
            "strategy",
        ),
        FigureDef(
            "strategy.changed",
            "Objectives changed this period",
            COUNT,
            CYCLE,
            "OTC versions effective inside the cycle's period",
            "OTCs this board governs or its work serves with a new version effective inside the "
            "cycle's period: strategy that moved since the last sitting and may need a rebalance.",
            "strategy",
        ),
        FigureDef(
            "strategy.off_track",
            "Objectives off track",
            COUNT,
            AT_DATE,
            "key results up to the as-at date",
            "OTCs whose attainment is red: behind trajectory and forecast to reach less than 90 % "
            "of the change by the target date.",
            "strategy",
        ),
        FigureDef(
            "readiness.not_ready",
            "Required information not ready",
            COUNT,
            CYCLE,
            "data held when the cycle ran",
            "Information this board requires for the sitting that is missing, incomplete or "
            "stale. Data not yet due (a benefit whose profile starts later) is not counted.",
            "readiness",
        ),
    ]
    return out


FIGURES: tuple[FigureDef, ...] = tuple(_defs())
CATALOG: dict[str, FigureDef] = {f.key: f for f in FIGURES}
GROUPS = ("work", "money", "balance", "benefits", "exceptions", "actions", "people", "risks")


def glossary_markdown() -> str:
    """``docs/figures.md``: every governed figure with its definition."""
    lines = [
        "# Governed figures",
        "",
        "<!-- generated from src/bigov/figures/catalog.py by `bigov figures --glossary`; "
        "a test keeps them the same -->",
        "",
        "Every headline number in a pack, its spreadsheet, the CLI and the API is one of these "
        "figures, computed in one place (`bigov.figures`) and frozen in the cycle's snapshot. "
        'The HTML pack marks each with `data-figure="KEY"` and `data-value="RAW"`; the XLSX '
        "lists them on its `Figures` sheet; `bigov figures CYCLE` prints them.",
        "",
        "Scope: a board's figures cover the work it governs (whole subtrees), the benefits that "
        "work enables or its units own, and its own RAID log. As at: nothing booked, reported or "
        "decided after the cycle's as-at date is counted.",
        "",
    ]
    seen: list[str] = []
    for f in FIGURES:
        if f.group not in seen:
            seen.append(f.group)
            lines += [f"## {f.group.capitalize()}", ""]
        lines += [
            f"### `{f.key}` — {f.label}",
            "",
            f"*Unit:* {f.unit} · *grain:* {f.grain} · *as at:* {f.as_at}",
            "",
            f.definition,
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["CATALOG", "FIGURES", "FigureDef", "glossary_markdown"]
