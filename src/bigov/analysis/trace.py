"""Traceability both ways — from an OTIG or OTC down through the work that serves it to the
benefits and key results, and from any work item up to the strategy it serves — with money,
latest delivery confidence and benefit figures on every node; and the strategy map as SVG.

The graph is read in a fixed number of queries and assembled in memory; every walk carries the
path it came by, so a cycle in the data ends a branch instead of recursing forever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape  # quote=True by default: attribute-safe, unlike saxutils
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bigov.analysis._common import (
    cost_sums,
    latest_status,
    money,
    reporting_currency,
    work_closure,
)
from bigov.analysis.benefits import realisation
from bigov.analysis.rollups import CostFigures
from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitContribution,
    BenefitEnabler,
)
from bigov.errors import NotFoundError
from bigov.finance.models import CostLine
from bigov.strategy.models import KeyResult, KeyResultActual, Otc, OtcStatus, Otig, OtigOtc
from bigov.work.models import Confidence, Contribution, WorkItem, WorkKind


class BenefitFigures(BaseModel):
    """Planned (whole life), forecast (actual to date + forecast of the rest) and actual to date
    of a benefit as at the trace's date, dis-benefits negative (see
    :class:`~bigov.analysis.benefits.RealisationFigures`). Money figures
    are in the reporting currency and cover financial benefits only; a non-financial benefit's
    own node shows its own unit."""

    planned: Decimal
    forecast: Decimal
    actual: Decimal
    unit: str


class KpiFigures(BaseModel):
    """A key result: baseline, target and the latest actual on or before the as-at date."""

    baseline: Decimal | None
    target: Decimal | None
    target_date: dt.date | None
    latest: Decimal | None
    latest_period: dt.date | None
    unit: str | None


class TraceNode(BaseModel):
    """One node of a trace. ``relation`` says how it hangs from its parent node ("answered by",
    "served by", "includes", "enables", "measured by", "part of", "contributes to", "answers");
    ``weight`` is the contribution weight on a served-by / contributes-to edge."""

    kind: str  # otig, objective, target, challenge, portfolio, programme, ..., benefit, key_result
    code: str
    name: str
    relation: str | None = None
    weight: Decimal | None = None
    status: str | None = None
    cost: CostFigures | None = None
    confidence: str | None = None
    benefit: BenefitFigures | None = None
    kpi: KpiFigures | None = None
    cycle: bool = Field(False, description="the data loops back here; the branch stops")
    children: list[TraceNode] = Field(default_factory=list)

    def walk(self) -> Iterable[TraceNode]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, code: str) -> TraceNode | None:
        """The first node with ``code`` below (or at) this one."""
        return next((n for n in self.walk() if n.code == code), None)


class TraceResult(BaseModel):
    """``down``: what the code leads to; ``up``: for a work item, the strategy it serves."""

    code: str
    as_at: dt.date
    currency: str
    down: TraceNode
    up: TraceNode | None = None


@dataclass
class _Graph:
    """Everything a trace needs, read once."""

    items: dict[int, tuple[str, str, str, int | None, str]] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    cost: dict[int, CostFigures] = field(default_factory=dict)
    confidence: dict[int, str] = field(default_factory=dict)
    otcs: dict[int, tuple[str, str, str, str]] = field(default_factory=dict)
    otigs: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    otig_otcs: dict[int, list[int]] = field(default_factory=dict)
    otc_otigs: dict[int, list[int]] = field(default_factory=dict)
    served_by: dict[int, list[tuple[int, Decimal]]] = field(default_factory=dict)
    serves: dict[int, list[tuple[int, Decimal]]] = field(default_factory=dict)
    enables: dict[int, list[int]] = field(default_factory=dict)
    otc_benefits: dict[int, list[int]] = field(default_factory=dict)
    benefits: dict[int, tuple[str, str, str, str, bool]] = field(default_factory=dict)
    benefit_figures: dict[int, BenefitFigures] = field(default_factory=dict)
    key_results: dict[int, list[TraceNode]] = field(default_factory=dict)


def _load(session: Session, as_at: dt.date) -> _Graph:
    g = _Graph()
    currency = reporting_currency(session)
    for wid, code, name, kind, parent, phase in session.execute(
        select(
            WorkItem.id,
            WorkItem.code,
            WorkItem.name,
            WorkItem.kind,
            WorkItem.parent_id,
            WorkItem.phase,
        )
    ).all():
        g.items[wid] = (code, name, kind.value, parent, phase.value)
        if parent is not None:
            g.children.setdefault(parent, []).append(wid)
    closure = work_closure()
    for aid, b, f, a in session.execute(
        select(
            closure.c.ancestor_id,
            *cost_sums(as_at),
        )
        .join(CostLine, CostLine.work_item_id == closure.c.descendant_id)
        .where(CostLine.currency == currency)
        .group_by(closure.c.ancestor_id)
    ).all():
        g.cost[aid] = CostFigures.of(b, f, a)
    latest = latest_status(as_at)
    for wid, conf in session.execute(select(latest.c.work_item_id, latest.c.confidence)).all():
        if conf is not None:
            g.confidence[wid] = Confidence(conf).value
    for oid, code, title, otc_kind, status in session.execute(
        select(Otc.id, Otc.code, Otc.title, Otc.kind, Otc.status)
    ).all():
        g.otcs[oid] = (code, title, otc_kind.value, status.value)
    for oid, code, name, otig_kind in session.execute(
        select(Otig.id, Otig.code, Otig.name, Otig.kind)
    ).all():
        g.otigs[oid] = (code, name, otig_kind.value)
    for otig_id, otc_id in session.execute(select(OtigOtc.otig_id, OtigOtc.otc_id)).all():
        g.otig_otcs.setdefault(otig_id, []).append(otc_id)
        g.otc_otigs.setdefault(otc_id, []).append(otig_id)
    for wid, oid, weight in session.execute(
        select(Contribution.work_item_id, Contribution.otc_id, Contribution.weight)
    ).all():
        g.served_by.setdefault(oid, []).append((wid, Decimal(str(weight))))
        g.serves.setdefault(wid, []).append((oid, Decimal(str(weight))))
    for bid, wid in session.execute(
        select(BenefitEnabler.benefit_id, BenefitEnabler.work_item_id)
    ).all():
        g.enables.setdefault(wid, []).append(bid)
    for bid, oid in session.execute(
        select(BenefitContribution.benefit_id, BenefitContribution.otc_id)
    ).all():
        g.otc_benefits.setdefault(oid, []).append(bid)
    # benefit figures as at the date, as benefits realisation states them (actual to date,
    # forecast = actual to date + forecast of the rest, levels never summed)
    figures = {
        grp.key: grp.figures for grp in realisation(session, by="benefit", as_at=as_at).groups
    }
    for bid, code, name, bkind, category, unit in session.execute(
        select(Benefit.id, Benefit.code, Benefit.name, Benefit.kind, Benefit.category, Benefit.unit)
    ).all():
        financial = category != BenefitCategory.NON_FINANCIAL
        g.benefits[bid] = (code, name, bkind.value, category.value, financial)
        f = figures.get(code)
        g.benefit_figures[bid] = BenefitFigures(
            planned=money(f.planned if f else None),
            forecast=money(f.forecast if f else None),
            actual=money(f.actual if f else None),
            unit=currency if financial else (unit or ""),
        )
    latest_kr = (
        select(KeyResultActual.key_result_id, func.max(KeyResultActual.period).label("period"))
        .where(KeyResultActual.period <= as_at)
        .group_by(KeyResultActual.key_result_id)
        .subquery("latest_kr")
    )
    for oid, code, name, unit, baseline, target, target_date, period, value in session.execute(
        select(
            KeyResult.otc_id,
            KeyResult.code,
            KeyResult.name,
            KeyResult.unit,
            KeyResult.baseline,
            KeyResult.target,
            KeyResult.target_date,
            latest_kr.c.period,
            KeyResultActual.value,
        )
        .outerjoin(latest_kr, latest_kr.c.key_result_id == KeyResult.id)
        .outerjoin(
            KeyResultActual,
            (KeyResultActual.key_result_id == KeyResult.id)
            & (KeyResultActual.period == latest_kr.c.period),
        )
        .where(KeyResult.otc_id.is_not(None))
        .order_by(KeyResult.code)
    ).all():
        g.key_results.setdefault(oid, []).append(
            TraceNode(
                kind="key_result",
                code=code,
                name=name,
                relation="measured by",
                kpi=KpiFigures(
                    baseline=_dec(baseline),
                    target=_dec(target),
                    target_date=target_date,
                    latest=_dec(value),
                    latest_period=period,
                    unit=unit,
                ),
            )
        )
    return g


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize()


def _sum_benefits(g: _Graph, ids: Iterable[int], currency: str) -> BenefitFigures | None:
    chosen = [g.benefit_figures[b] for b in dict.fromkeys(ids) if g.benefits[b][4]]
    if not chosen:
        return None
    return BenefitFigures(
        planned=sum((f.planned for f in chosen), Decimal("0.00")),
        forecast=sum((f.forecast for f in chosen), Decimal("0.00")),
        actual=sum((f.actual for f in chosen), Decimal("0.00")),
        unit=currency,
    )


def _benefit_node(g: _Graph, bid: int, relation: str) -> TraceNode:
    code, name, kind, _category, _fin = g.benefits[bid]
    return TraceNode(
        kind=kind, code=code, name=name, relation=relation, benefit=g.benefit_figures[bid]
    )


def _work_node(
    g: _Graph,
    wid: int,
    relation: str,
    path: frozenset[int],
    currency: str,
    weight: Decimal | None = None,
) -> TraceNode:
    code, name, kind, _parent, phase = g.items[wid]
    node = TraceNode(
        kind=kind,
        code=code,
        name=name,
        relation=relation,
        weight=weight,
        status=phase,
        cost=g.cost.get(wid, CostFigures()),
        confidence=g.confidence.get(wid),
        benefit=_sum_benefits(g, g.enables.get(wid, []), currency),
    )
    if wid in path:
        node.cycle = True
        return node
    inner = path | {wid}
    for child in sorted(g.children.get(wid, []), key=lambda c: g.items[c][0]):
        node.children.append(_work_node(g, child, "includes", inner, currency))
    for bid in sorted(g.enables.get(wid, []), key=lambda b: g.benefits[b][0]):
        node.children.append(_benefit_node(g, bid, "enables"))
    return node


def _otc_node(
    g: _Graph, oid: int, relation: str | None, currency: str, *, down: bool = True
) -> TraceNode:
    code, title, kind, status = g.otcs[oid]
    served = g.served_by.get(oid, [])
    cost: CostFigures | None = None
    if served:
        # money of the serving work, each contributor's subtree once (not weighted)
        parts = [g.cost.get(w, CostFigures()) for w, _ in served]
        cost = CostFigures.of(
            sum((p.budget for p in parts), Decimal(0)),
            sum((p.forecast for p in parts), Decimal(0)),
            sum((p.actual for p in parts), Decimal(0)),
        )
    node = TraceNode(
        kind=kind,
        code=code,
        name=title,
        relation=relation,
        status=status,
        cost=cost,
        benefit=_sum_benefits(g, g.otc_benefits.get(oid, []), currency),
    )
    if down:
        node.children.extend(g.key_results.get(oid, []))
        for wid, weight in sorted(served, key=lambda s: g.items[s[0]][0]):
            node.children.append(_work_node(g, wid, "served by", frozenset(), currency, weight))
    return node


def trace(session: Session, code: str, *, as_at: dt.date | None = None) -> TraceResult:
    """Trace an OTIG, an OTC or a work item.

    * OTIG → the OTCs answering it → their key results and serving work (with every level of
      the work hierarchy below) → the benefits each item enables.
    * OTC → the same from the OTC.
    * Work item → ``down``: its subtree and benefits; ``up``: the item, then each ancestor
      ("part of"), with the OTCs each contributes to and the OTIGs those answer.

    Money on a work node is its subtree's total; on an OTC node the sum over its contributors'
    subtrees (unweighted); benefit figures on a work node are the benefits it enables directly,
    on an OTC the benefits contributing to it. A fixed number of queries.

    Raises:
        NotFoundError: the code is none of the three kinds.
    """
    as_at = as_at or dt.date.today()
    currency = reporting_currency(session)
    g = _load(session, as_at)
    for oid, (ocode, name, kind) in g.otigs.items():
        if ocode == code:
            root = TraceNode(kind="otig", code=ocode, name=name, status=kind)
            for otc_id in sorted(g.otig_otcs.get(oid, []), key=lambda o: g.otcs[o][0]):
                root.children.append(_otc_node(g, otc_id, "answered by", currency))
            return TraceResult(code=code, as_at=as_at, currency=currency, down=root)
    for oid, otc_row in g.otcs.items():
        if otc_row[0] == code:
            return TraceResult(
                code=code, as_at=as_at, currency=currency, down=_otc_node(g, oid, None, currency)
            )
    for wid, item_row in g.items.items():
        if item_row[0] == code:
            return TraceResult(
                code=code,
                as_at=as_at,
                currency=currency,
                down=_work_node(g, wid, "", frozenset(), currency),
                up=_up(g, wid, currency),
            )
    raise NotFoundError(
        f"no OTIG, OTC or work item with code {code!r}",
        hint="bigov trace takes the code of an OTIG, an OTC or a work item",
    )


def _up(g: _Graph, wid: int, currency: str) -> TraceNode:
    """The item, its chain of ancestors (each nested under the one below), and at each level the
    OTCs it contributes to with the OTIGs they answer."""
    root: TraceNode | None = None
    holder: TraceNode | None = None
    seen: set[int] = set()
    current: int | None = wid
    while current is not None and current in g.items:
        code, name, kind, parent, phase = g.items[current]
        node = TraceNode(
            kind=kind,
            code=code,
            name=name,
            relation=None if root is None else "part of",
            status=phase,
            cost=g.cost.get(current, CostFigures()),
            confidence=g.confidence.get(current),
            benefit=_sum_benefits(g, g.enables.get(current, []), currency),
        )
        if current in seen:
            node.cycle = True
        for oid, weight in sorted(g.serves.get(current, []), key=lambda s: g.otcs[s[0]][0]):
            otc = _otc_node(g, oid, "contributes to", currency, down=False)
            otc.weight = weight
            for otig_id in sorted(g.otc_otigs.get(oid, [])):
                ocode, oname, okind = g.otigs[otig_id]
                otc.children.append(
                    TraceNode(kind="otig", code=ocode, name=oname, relation="answers", status=okind)
                )
            node.children.append(otc)
        if holder is None:
            root = node
        else:
            holder.children.append(node)
        holder = node
        if current in seen:
            break
        seen.add(current)
        current = parent
    assert root is not None
    return root


# -- strategy map ---------------------------------------------------------------------------

_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _MARGIN = 170, 46, 24, 110, 30
# a layer wider than this wraps onto more rows, so a map stays legible on a page (A4 landscape)
# instead of growing one box wider per benefit
_PER_ROW, _ROW_GAP = 7, 18
_LAYER_TITLES = ("Drivers", "Objectives", "Work", "Benefits")
_TITLE_W = 110  # the column of layer titles left of the boxes
_FILL = {
    "otig": "#e8eaf6",
    "otc": "#e3f2fd",
    "withdrawn": "#eeeeee",
    "work": "#f1f8e9",
    "benefit": "#fff8e1",
}
_CONF_STROKE = {
    "green": "#2e7d32",
    "amber/green": "#9e9d24",
    "amber": "#ef6c00",
    "amber/red": "#d84315",
    "red": "#c62828",
}


def strategy_map_svg(
    session: Session, root: str | None = None, *, as_at: dt.date | None = None
) -> str:
    """The strategy map as a standalone SVG document: OTIGs → OTCs → the portfolios and
    programmes serving them → the benefits they enable, drawn in four layers.

    A project or workstream contributing directly is drawn at its nearest programme or portfolio
    ancestor (or itself when it has none); benefits enabled anywhere in a drawn item's subtree
    hang from it. Work nodes are outlined in the colour of their latest DCA; withdrawn OTCs are
    grey and dashed. ``root`` (an OTIG or OTC code) limits the map to what it reaches.

    Raises:
        NotFoundError: ``root`` is not an OTIG or OTC code.
    """
    return render_strategy_map(strategy_map_graph(session, as_at=as_at), root)


def strategy_map_graph(session: Session, *, as_at: dt.date | None = None) -> _Graph:
    """What :func:`strategy_map_svg` draws from, read once (as at ``as_at``, default today):
    pass it to :func:`render_strategy_map` to draw several maps of one date without re-reading."""
    return _load(session, as_at or dt.date.today())


def render_strategy_map(g: _Graph, root: str | None = None) -> str:
    """:func:`strategy_map_svg` drawn from a graph read by :func:`strategy_map_graph`.

    Raises:
        NotFoundError: ``root`` is not an OTIG or OTC code.
    """
    otig_ids = sorted(g.otigs, key=lambda i: g.otigs[i][0])
    otc_ids = sorted(g.otcs, key=lambda i: g.otcs[i][0])
    if root is not None:
        hit_otig = [i for i in otig_ids if g.otigs[i][0] == root]
        hit_otc = [i for i in otc_ids if g.otcs[i][0] == root]
        if hit_otig:
            otig_ids = hit_otig
            otc_ids = [o for o in otc_ids if o in set(g.otig_otcs.get(hit_otig[0], []))]
        elif hit_otc:
            otc_ids = hit_otc
            otig_ids = [i for i in otig_ids if hit_otc[0] in g.otig_otcs.get(i, [])]
        else:
            raise NotFoundError(f"no OTIG or OTC with code {root!r}")

    def anchor(wid: int) -> int:
        seen: set[int] = set()
        current: int | None = wid
        while current is not None and current in g.items and current not in seen:
            if g.items[current][2] in (WorkKind.PROGRAMME.value, WorkKind.PORTFOLIO.value):
                return current
            seen.add(current)
            current = g.items[current][3]
        return wid

    def subtree(wid: int) -> set[int]:
        out, todo = set(), [wid]
        while todo:
            w = todo.pop()
            if w in out:
                continue
            out.add(w)
            todo.extend(g.children.get(w, []))
        return out

    edges: list[tuple[str, str, bool]] = []
    work_ids: list[int] = []
    for oid in otc_ids:
        for otig_id in g.otc_otigs.get(oid, []):
            if otig_id in otig_ids:
                edges.append((f"i{otig_id}", f"o{oid}", False))
        for wid, _w in g.served_by.get(oid, []):
            a = anchor(wid)
            if a not in work_ids:
                work_ids.append(a)
            edges.append((f"o{oid}", f"w{a}", g.otcs[oid][3] == OtcStatus.WITHDRAWN.value))
    benefit_ids: list[int] = []
    for wid in work_ids:
        for member in sorted(subtree(wid)):
            for bid in g.enables.get(member, []):
                if bid not in benefit_ids:
                    benefit_ids.append(bid)
                edges.append((f"w{wid}", f"b{bid}", False))
    edges = list(dict.fromkeys(edges))

    layers: list[list[tuple[str, str, str, str, str | None]]] = [
        [(f"i{i}", g.otigs[i][0], g.otigs[i][1], "otig", None) for i in otig_ids],
        [
            (
                f"o{o}",
                g.otcs[o][0],
                g.otcs[o][1],
                "withdrawn" if g.otcs[o][3] == OtcStatus.WITHDRAWN.value else "otc",
                None,
            )
            for o in otc_ids
        ],
        [(f"w{w}", g.items[w][0], g.items[w][1], "work", g.confidence.get(w)) for w in work_ids],
        [(f"b{b}", g.benefits[b][0], g.benefits[b][1], "benefit", None) for b in benefit_ids],
    ]
    # order each layer by the mean position of its parents (barycentre) to cut crossings
    position: dict[str, float] = {}
    for depth, layer in enumerate(layers):
        if depth:

            def bary(node: tuple[str, str, str, str, str | None]) -> tuple[float, str]:
                ups = [position[a] for a, b, _d in edges if b == node[0] and a in position]
                return (sum(ups) / len(ups) if ups else float("inf"), node[1])

            layer.sort(key=bary)
        for i, node in enumerate(layer):
            position[node[0]] = float(i)

    widest = min(max((len(layer) for layer in layers), default=1) or 1, _PER_ROW)
    rows = [max(1, -(-len(layer) // _PER_ROW)) for layer in layers]
    tops: list[float] = []
    y = float(_MARGIN)
    for n_rows in rows:
        tops.append(y)
        y += n_rows * _BOX_H + (n_rows - 1) * _ROW_GAP + _GAP_Y
    width = 2 * _MARGIN + widest * _BOX_W + (widest - 1) * _GAP_X + _TITLE_W
    height = y - _GAP_Y + _MARGIN
    xy: dict[str, tuple[float, float]] = {}
    for depth, layer in enumerate(layers):
        for i, node in enumerate(layer):
            row, col = divmod(i, _PER_ROW)
            in_row = min(len(layer) - row * _PER_ROW, _PER_ROW)
            span = in_row * _BOX_W + max(in_row - 1, 0) * _GAP_X
            left = _TITLE_W + _MARGIN + (widest * _BOX_W + (widest - 1) * _GAP_X - span) / 2
            xy[node[0]] = (left + col * (_BOX_W + _GAP_X), tops[depth] + row * (_BOX_H + _ROW_GAP))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11">',
        "<title>Strategy map</title>",
    ]
    for depth, title in enumerate(_LAYER_TITLES):
        ty = tops[depth] + _BOX_H / 2 + 4
        out.append(f'<text x="{_MARGIN}" y="{ty:.0f}" font-weight="bold">{escape(title)}</text>')
    for src, dst, dashed in edges:
        if src not in xy or dst not in xy:
            continue
        (x1, y1), (x2, y2) = xy[src], xy[dst]
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(
            f'<line x1="{x1 + _BOX_W / 2:.0f}" y1="{y1 + _BOX_H:.0f}" '
            f'x2="{x2 + _BOX_W / 2:.0f}" y2="{y2:.0f}" stroke="#90a4ae"{dash}/>'
        )
    for layer in layers:
        for key, code, name, style, conf in layer:
            x, y = xy[key]
            stroke = _CONF_STROKE.get(conf or "", "#546e7a")
            dash = ' stroke-dasharray="5 3"' if style == "withdrawn" else ""
            label = name if len(name) <= 26 else name[:25] + "…"
            out.append(
                f'<g id="{escape(code)}"><title>{escape(code)}: {escape(name)}'
                f"{' — ' + escape(conf) if conf else ''}</title>"
                f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="6" '
                f'fill="{_FILL[style]}" stroke="{stroke}" stroke-width="1.5"{dash}/>'
                f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" font-weight="bold">{escape(code)}</text>'
                f'<text x="{x + 8:.0f}" y="{y + 34:.0f}">{escape(label)}</text></g>'
            )
    out.append("</svg>")
    return "\n".join(out)


__all__ = [
    "BenefitFigures",
    "KpiFigures",
    "TraceNode",
    "TraceResult",
    "render_strategy_map",
    "strategy_map_graph",
    "strategy_map_svg",
    "trace",
]
