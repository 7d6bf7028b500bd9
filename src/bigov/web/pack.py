"""The live pack: the very HTML the PDF is printed from (:func:`bigov.reports.render_html` of the
frozen cycle document), made navigable. Every governed figure becomes a link to the rows behind
it, every exception a link to its item, escalation path and history; the charts become images
(their styles stay inside them, so the page's strict CSP holds) and the pack's stylesheet is
scoped under ``.pack-live``. The sections and the ``data-figure`` values are therefore the PDF's,
by construction, and a test holds them equal.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import quote

from bigov.figures.catalog import CATALOG
from bigov.reports import render_html

_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_FIG = re.compile(r'(<span class="fig" data-figure="([^"]+)"[^>]*>.*?</span>)', re.S)
_SVG = re.compile(r"<svg\b(.*?)</svg>", re.S)
_LABEL = re.compile(r'aria-label="([^"]*)"')
_EXC = re.compile(
    r'(data-exception="(X-[A-Za-z0-9]+)"[^>]*>)(.*?)(<strong>|<td>)(.*?)(</strong>|</td>)', re.S
)


def live_pack(doc: dict[str, Any], base: str) -> str:
    """The pack's body for ``doc`` with drill-down links under ``base`` (``/pack/NODE/PERIOD``)."""
    html = render_html(doc).decode("utf-8")
    match = _BODY.search(html)
    body = match.group(1) if match else ""

    def fig(m: re.Match[str]) -> str:
        key = m.group(2)
        return f'<a class="figlink" href="{base}/figure/{quote(key, safe="")}">{m.group(1)}</a>'

    def exc(m: re.Match[str]) -> str:
        code = m.group(2)
        link = f'<a href="{base}/exception/{quote(code, safe="")}">{m.group(5)}</a>'
        return f"{m.group(1)}{m.group(3)}{m.group(4)}{link}{m.group(6)}"

    def svg(m: re.Match[str]) -> str:
        source = "<svg" + m.group(1) + "</svg>"
        if "xmlns=" not in source[:300]:
            source = source.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
        found = _LABEL.search(source[:500])
        alt = found.group(1) if found else "chart"
        data = base64.b64encode(source.encode("utf-8")).decode("ascii")
        return f'<img class="chart" alt="{alt}" src="data:image/svg+xml;base64,{data}">'

    body = _SVG.sub(svg, body)
    # a region that scrolls sideways on a phone must be reachable from the keyboard
    body = body.replace(
        '<div class="table-wrap">',
        '<div class="table-wrap" tabindex="0" role="region" aria-label="table (scrolls sideways)">',
    ).replace(
        '<div class="map">',
        '<div class="map" tabindex="0" role="region" aria-label="strategy map">',
    )
    body = _FIG.sub(fig, body)
    body = _EXC.sub(exc, body)
    return body


@lru_cache(maxsize=1)
def pack_css() -> str:
    """The pack template's own stylesheet, every rule scoped under ``.pack-live`` (page rules
    dropped: the browser prints the web page with the app's print stylesheet)."""
    from bigov.reports.html import _env

    source = _env().loader.get_source(_env(), "pack.html.j2")[0]  # type: ignore[union-attr]
    found = _STYLE.search(source)
    return _scope(found.group(1) if found else "", ".pack-live")


def _scope(css: str, prefix: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out: list[str] = []
    i = 0
    while i < len(css):
        brace = css.find("{", i)
        if brace < 0:
            break
        head = css[i:brace].strip()
        depth, j = 1, brace + 1
        while j < len(css) and depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        inner = css[brace + 1 : j - 1]
        if head.startswith("@media"):
            out.append(f"{head} {{\n{_scope(inner, prefix)}\n}}")
        elif head.startswith("@"):
            pass  # @page and its margin boxes: for WeasyPrint only
        else:
            selectors = []
            for sel in head.split(","):
                sel = sel.strip()
                if sel in (":root", "body", "html"):
                    selectors.append(prefix)
                elif sel.startswith("body "):
                    selectors.append(prefix + sel[4:])
                else:
                    selectors.append(f"{prefix} {sel}")
            out.append(f"{', '.join(selectors)} {{{inner}}}")
        i = j
    return "\n".join(out)


def figure_rows(doc: dict[str, Any], key: str) -> tuple[str, list[str], list[list[Any]]]:
    """The rows of the frozen document behind a governed figure: (what they are, the column
    headings, the rows). Nothing is recomputed: these are the rows the figure was made from."""
    fam = key.split(".")[0]
    if fam == "exceptions":
        role = {
            "exceptions.owned": ("owned",),
            "exceptions.new": ("owned",),
            "exceptions.escalated": ("escalated up", "passed on"),
            "exceptions.managed_below": ("managed below",),
        }.get(key, ("owned", "escalated up", "passed on", "managed below"))
        rows = [e for e in doc["exceptions"] if e["role"] in role]
        if key == "exceptions.new":
            rows = [e for e in rows if (e.get("periods_open") or 1) == 1]
        return (
            "exceptions",
            ["exception", "subject", "raised at", "owner", "at stake", "open (months)"],
            [
                [
                    ("exception", e["code"], e["title"]),
                    ("item", e["subject"]) if e["subject_kind"] == "work_item" else e["subject"],
                    e["origin"],
                    e["owner"],
                    ("money", e.get("at_stake")),
                    e.get("periods_open") or 1,
                ]
                for e in rows
            ],
        )
    if fam in ("work", "cost"):
        rows = [w for w in doc["work"] if w.get("live")]
        if key.startswith("work.confidence."):
            level = key.rsplit(".", 1)[1].replace("_", "/")
            rows = [
                w
                for w in rows
                if (w.get("confidence") or "not/reported") == level
                or (level == "not/reported" and not w.get("confidence"))
            ]
        return (
            "live work items",
            ["item", "name", "confidence", "budget", "forecast", "actual to date"],
            [
                [
                    ("item", w["code"]),
                    w["name"],
                    ("dca", w.get("confidence")),
                    ("money", w.get("budget")),
                    ("money", w.get("forecast")),
                    ("money", w.get("actual_to_date")),
                ]
                for w in rows
            ],
        )
    if fam == "benefits":
        return (
            "benefits",
            ["benefit", "name", "owner", "plan", "forecast", "realised"],
            [
                [
                    b["code"],
                    b["name"],
                    b.get("owner"),
                    ("money", b.get("planned")),
                    ("money", b.get("forecast")),
                    ("money", b.get("actual_to_date")),
                ]
                for b in doc["benefits"]
            ],
        )
    if fam == "resources":
        return (
            "skills",
            ["skill", "demand FTE", "capacity FTE", "gap FTE", "utilisation %"],
            [
                [r["skill"], r["demand_fte"], r["capacity_fte"], r["gap_fte"], r["utilisation_pct"]]
                for r in doc["resources"]
            ],
        )
    if fam == "risks":
        return (
            "open risks and issues",
            ["code", "title", "kind", "item", "owner", "score"],
            [
                [
                    r["code"],
                    r["title"],
                    r["kind"],
                    ("item", r.get("work_item")),
                    r.get("owner"),
                    r.get("score"),
                ]
                for r in doc["risks"]
            ],
        )
    if fam == "actions":
        return (
            "open actions",
            ["code", "title", "item", "owner", "due", "overdue"],
            [
                [
                    a["code"],
                    a["title"],
                    ("item", a.get("work_item")),
                    a.get("owner"),
                    a.get("due_on"),
                    "overdue" if a.get("overdue") else "",
                ]
                for a in doc["actions"]
            ],
        )
    if fam == "decisions":
        return (
            "decisions dated in the period",
            ["code", "title", "item", "OTCs", "by", "date"],
            [
                [
                    d["code"],
                    d["title"],
                    ("item", d.get("work_item")),
                    ", ".join(d.get("otcs", [])) or None,
                    d.get("by"),
                    d.get("decided_on"),
                ]
                for d in doc.get("decisions_log", [])
            ],
        )
    if fam == "strategy":
        return (
            "objectives, targets and challenges",
            ["code", "title", "version", "attained %", "expected %", "RAG"],
            [
                [
                    o["code"],
                    o["title"],
                    o.get("version"),
                    o.get("attained_pct"),
                    o.get("expected_pct"),
                    o.get("rag"),
                ]
                for o in doc.get("objectives", [])
            ],
        )
    if fam == "readiness":
        return (
            "information owed to the board",
            ["information", "status", "detail", "owed by"],
            [[r["title"], r["status"], r["detail"], r.get("owed_by")] for r in doc["readiness"]],
        )
    if fam == "balance":
        rc = doc["run_change"]
        return (
            f"FY{rc.get('fiscal_year')} budget by purpose",
            ["purpose", "budget", "forecast", "actual", "share %", "target %"],
            [
                [
                    k,
                    ("money", rc["budget"].get(k)),
                    ("money", rc.get("forecast", {}).get(k)),
                    ("money", rc.get("actual", {}).get(k)),
                    rc.get("shares", {}).get(k),
                    rc.get("target", {}).get(k),
                ]
                for k in ("run", "grow", "transform")
            ],
        )
    return ("no rows", [], [])


# which traced source rows stand behind a family of figures (the provenance's "figure" names
# each row's use: "PRJ-1 cost", "PRJ-1 confidence", ...)
_TRACED = {
    "cost": ("cost",),
    "work": ("confidence", "schedule"),
    "benefits": ("benefit",),
    "risks": ("risk", "issue"),
}


def provenance_for(
    doc: dict[str, Any], codes: set[str], key: str = "", limit: int = 200
) -> list[dict[str, Any]]:
    """The source rows (table, code, import batch) the cycle traced for the given items, those
    of the figure's kind first."""
    uses = _TRACED.get(key.split(".")[0], ())
    if key.startswith("work.confidence."):
        uses = ("confidence",)
    rows = [p for p in doc.get("provenance", []) if p.get("code") in codes]
    if uses:
        rows = [p for p in rows if str(p.get("figure", "")).rsplit(" ", 1)[-1] in uses] or rows
    return rows[:limit]


def definition(key: str) -> dict[str, str]:
    d = CATALOG.get(key)
    if d is None:
        return {"label": key, "definition": "", "unit": "", "grain": "", "as_at": ""}
    return {
        "label": d.label,
        "definition": d.definition,
        "unit": d.unit,
        "grain": d.grain,
        "as_at": d.as_at,
    }


def safe_attr(value: str) -> str:
    return escape(value, quote=True)
