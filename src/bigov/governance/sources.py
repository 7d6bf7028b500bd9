"""The catalogue of information sources an information definition may name.

An information definition's ``source`` names a part of the data model: a catalogue key such as
``finance.cost`` or ``work.status``, optionally followed by a field (``finance.cost.forecast``), or
a table name of the model with an optional column (``cost_line.forecast``). ``governance.*`` sources
are derived by the cycle itself (exceptions, readiness, decisions) and ``metrics.*`` name measures
of the metrics context; neither is checked against tables.

Callers may rely on :func:`resolve_source` raising :class:`ValueError` with a readable reason for
any source that does not exist, and on :data:`SOURCES` keys being stable.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table

from bigov.db.base import Base


@dataclass(frozen=True)
class SourceSpec:
    """How to find a source's rows: ``table``; ``period`` column (month start) if any; the column
    linking a row to a work item (``item``) if any; ``fresh`` the date/time column that says how
    current a row is; ``raid_kind`` filters the RAID log; ``via_benefit`` scopes by enablers."""

    key: str
    table: str
    title: str
    period: str | None = None
    item: str | None = None
    fresh: str = "updated_at"
    raid_kind: str | None = None
    via_benefit: bool = False


SOURCES: dict[str, SourceSpec] = {
    s.key: s
    for s in (
        SourceSpec("work.items", "work_item", "Work items", item="id"),
        SourceSpec(
            "work.status",
            "status_report",
            "Status reports",
            "period",
            "work_item_id",
            "reported_on",
        ),
        SourceSpec("work.milestones", "milestone", "Milestones", None, "work_item_id"),
        SourceSpec("work.balance", "work_item", "Run / change balance", item="id"),
        SourceSpec(
            "finance.cost", "cost_line", "Cost (budget, forecast, actual)", "period", "work_item_id"
        ),
        SourceSpec("finance.funding", "funding_source", "Funding sources"),
        SourceSpec("benefits.benefits", "benefit", "Benefits", via_benefit=True),
        SourceSpec(
            "benefits.profile", "benefit_profile", "Benefit profiles", "period", via_benefit=True
        ),
        SourceSpec("resources.demand", "demand", "Resource demand", "period", "work_item_id"),
        SourceSpec("resources.capacity", "capacity", "Resource capacity", "period"),
        SourceSpec("raid.risks", "raid_item", "Risks", None, "work_item_id", raid_kind="risk"),
        SourceSpec("raid.issues", "raid_item", "Issues", None, "work_item_id", raid_kind="issue"),
        SourceSpec(
            "raid.actions", "raid_item", "Actions", None, "work_item_id", raid_kind="action"
        ),
        SourceSpec(
            "raid.decisions", "raid_item", "Decisions", None, "work_item_id", raid_kind="decision"
        ),
        SourceSpec("strategy.otigs", "otig", "Drivers (OTIGs)"),
        SourceSpec("strategy.otcs", "otc", "Objectives, targets and challenges"),
        SourceSpec("strategy.key_results", "key_result", "Key results"),
        SourceSpec("strategy.actuals", "key_result_actual", "Key result actuals", "period"),
        SourceSpec("strategy.attainment", "key_result", "Objective and target attainment"),
    )
}
# singular spellings are accepted too ("raid.risk" = "raid.risks")
for _kind in ("risk", "issue", "action", "decision"):
    _spec = SOURCES[f"raid.{_kind}s"]
    SOURCES[f"raid.{_kind}"] = SourceSpec(
        f"raid.{_kind}", _spec.table, _spec.title, _spec.period, _spec.item, raid_kind=_kind
    )

# Produced by the cycle itself: always "present".
DERIVED_PREFIXES = ("governance.", "metrics.")


@dataclass(frozen=True)
class ResolvedSource:
    """A source resolved against the model: its spec (None when derived) and field, if any."""

    text: str
    spec: SourceSpec | None
    field: str | None

    @property
    def key(self) -> str:
        return self.spec.key if self.spec else self.text


def _tables() -> dict[str, Table]:
    from bigov.db.registry import load_models

    load_models()
    return dict(Base.metadata.tables)


def resolve_source(text: str) -> ResolvedSource:
    """Resolve ``text`` to a catalogue entry or a model table, checking any field named.

    Raises:
        ValueError: unknown source or unknown field; the message says which and lists choices.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty source")
    if text.startswith(DERIVED_PREFIXES):
        return ResolvedSource(text, None, None)
    tables = _tables()
    spec: SourceSpec | None = None
    rest = ""
    for key in sorted(SOURCES, key=len, reverse=True):
        if text == key or text.startswith(key + "."):
            spec, rest = SOURCES[key], text[len(key) + 1 :]
            break
    if spec is None:
        name, _, rest = text.partition(".")
        if name not in tables:
            raise ValueError(
                f"unknown source {text!r}: use one of {', '.join(sorted(SOURCES))}, "
                "a table name, or governance.* / metrics.*"
            )
        spec = SourceSpec(name, name, name.replace("_", " ").capitalize())
        cols = tables[name].c
        if "period" in cols:
            spec = SourceSpec(name, name, spec.title, period="period")
        if "work_item_id" in cols:
            spec = SourceSpec(name, name, spec.title, period=spec.period, item="work_item_id")
    field = rest or None
    if field is not None and field not in tables[spec.table].c:
        raise ValueError(
            f"source {text!r} names field {field!r}, which {spec.table} does not have "
            f"(fields: {', '.join(c.name for c in tables[spec.table].c)})"
        )
    return ResolvedSource(text, spec, field)


__all__ = ["DERIVED_PREFIXES", "SOURCES", "ResolvedSource", "SourceSpec", "resolve_source"]
