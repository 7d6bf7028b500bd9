"""The governed figure layer on the hand-built scenario (tests/governance/conftest.py): one value
per figure in the snapshot, the HTML pack, the XLSX, and the CLI; exceptions a board owns all
shown, carried forward with their age; rule settings per node; publication only after packs."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bigov.cli import app
from bigov.errors import ConflictError
from bigov.figures import CATALOG, compute, figure_rows, glossary_markdown
from bigov.governance.cycle_models import Cycle, CycleStatus
from bigov.reports import render_html, render_xlsx
from bigov.workspace import Workspace

DOCS = Path(__file__).resolve().parents[2] / "docs" / "figures.md"
FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]*)"')
EXCEPTION = re.compile(r'data-exception="([^"]+)"')


def html_figures(html: str) -> dict[str, str]:
    """Every ``data-figure`` of a pack with its raw value; a key shown twice must agree."""
    out: dict[str, str] = {}
    for key, value in FIGURE.findall(html):
        assert out.setdefault(key, value) == value, f"{key} shown as {out[key]} and {value}"
    return out


def xlsx_figures(data: bytes) -> dict[str, Any]:
    wb = load_workbook(io.BytesIO(data))
    rows = list(wb["Figures"].iter_rows(values_only=True))
    assert rows[0] == ("key", "label", "value", "unit", "as at", "definition")
    return {r[0]: r[2] for r in rows[1:]}


def same(a: Any, b: Any) -> bool:
    """A figure value equal across outputs (JSON string or int vs a spreadsheet number)."""
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    return Decimal(str(a)) == Decimal(str(b))


def assert_outputs_agree(ws: Workspace, code: str, db_url: str | None = None) -> dict[str, Any]:
    """The snapshot's governed figures equal the HTML's data-figure values, the XLSX Figures
    sheet and (with ``db_url``) ``bigov figures --json``, figure by figure; and every exception
    the cycle owns or passed on has its card in the HTML and is listed by the CLI."""
    doc = ws.governance.cycle_document(code)
    snapshot = doc["governed"]
    assert set(snapshot) == set(CATALOG)
    assert compute(doc) == snapshot  # frozen values are the layer's own computation
    html = render_html(doc).decode()
    shown = html_figures(html)
    assert set(shown) == set(CATALOG)  # every figure is in the pack (appendix F at least)
    sheet = xlsx_figures(render_xlsx(doc))
    for key, value in snapshot.items():
        assert same(shown[key], value), (code, key, shown[key], value)
        assert same(sheet[key], value), (code, key, sheet[key], value)
    cards = set(EXCEPTION.findall(html))
    owned = {e["code"] for e in doc["exceptions"] if e["role"] == "owned"}
    passed = {e["code"] for e in doc["exceptions"] if e["role"] in ("passed on", "escalated up")}
    assert owned | passed <= cards
    if db_url is not None:
        runner = CliRunner()
        out = runner.invoke(app, ["figures", code, "--db", db_url, "--json"])
        assert out.exit_code == 0, out.output
        listed = {r["key"]: r["value"] for r in json.loads(out.stdout)["figures"]}
        assert listed == snapshot
        out = runner.invoke(app, ["cycle", "exceptions", code, "--db", db_url, "--json"])
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert {e["code"] for e in data["owned"]} == owned
        assert {e["code"] for e in data["passed_on"]} == passed
    return doc


def test_glossary_is_generated_from_the_catalogue() -> None:
    assert DOCS.read_text(encoding="utf-8") == glossary_markdown(), (
        "docs/figures.md is stale: bigov figures --glossary > docs/figures.md"
    )
    for f in CATALOG.values():
        assert f.label and f.definition and f.unit in ("count", "money", "pct", "fte")


def test_every_output_shows_the_same_figures(gov_ws: Workspace) -> None:
    gov_ws.governance.run_all("2026-03")
    for node in ("PB1", "PB3", "PG", "PF", "MB"):
        assert_outputs_agree(gov_ws, f"{node}/2026-03")


def test_cli_agrees_with_the_snapshot(tmp_path: Path) -> None:
    from tests.governance.conftest import build_scenario

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ws = Workspace.open(url)
    try:
        build_scenario(ws)
        ws.governance.run_all("2026-03")
        for node in ("PG", "PF", "MB"):
            assert_outputs_agree(ws, f"{node}/2026-03", url)
    finally:
        ws.close()


def test_confidence_counts_add_up_to_live_items(gov_ws: Workspace) -> None:
    gov_ws.governance.run_all("2026-03")
    g = gov_ws.governance.cycle_document("PG/2026-03")["governed"]
    levels = [k for k in g if k.startswith("work.confidence.")]
    assert sum(g[k] for k in levels) == g["work.live_items"] == 4  # PROG and its three projects
    assert g["work.confidence.amber"] == 1  # PRJ-3 amber in March
    assert g["work.confidence.not_reported"] == 1  # the programme reports through its projects


def test_cost_figures_are_the_worked_answers(gov_ws: Workspace) -> None:
    gov_ws.governance.run_all("2026-03")
    g = gov_ws.governance.cycle_document("PG/2026-03")["governed"]
    assert Decimal(g["cost.budget"]) == Decimal("1800.00")  # 3 projects × 6 months × 100
    assert Decimal(g["cost.forecast_outturn"]) == Decimal("1956.00")  # 618 + 648 + 690
    assert Decimal(g["cost.variance_pct"]) == Decimal("8.7")


def test_owned_exceptions_are_all_shown_most_material_first(gov_ws: Workspace) -> None:
    gov_ws.governance.run_all("2026-03")
    doc = gov_ws.governance.cycle_document("PF/2026-03")
    owned = [e for e in doc["exceptions"] if e["role"] == "owned"]
    assert doc["governed"]["exceptions.owned"] == len(owned) >= 1
    stakes = [Decimal(e["at_stake"]) for e in owned if e["at_stake"] is not None]
    assert stakes == sorted(stakes, reverse=True)
    prj3 = next(e for e in owned if e["subject"] == "PRJ-3")
    assert Decimal(prj3["at_stake"]) == Decimal("90.00")  # 690 forecast against 600 budget
    html = render_html(doc).decode()
    exceptions = html[html.index('id="exceptions"') : html.index('id="strategy"')]
    for e in owned:
        assert f'data-exception="{e["code"]}"' in exceptions
    # internal codes stay off the cards: the item is named
    assert prj3["title"].startswith("Project 3:") and "PRJ-3" not in prj3["title"]


def test_a_persisting_breach_keeps_its_code_and_grows_older(gov_ws: Workspace) -> None:
    for month in ("2026-01", "2026-02", "2026-03"):
        gov_ws.governance.run_all(month)
    codes, ages = [], []
    for month in ("2026-01", "2026-02", "2026-03"):
        doc = gov_ws.governance.cycle_document(f"PF/{month}")
        e = next(
            x
            for x in doc["exceptions"]
            if x["rule"] == "cost_over_budget" and x["subject"] == "PRJ-3"
        )
        codes.append(e["code"])
        ages.append((e["first_period"], e["periods_open"]))
    assert len(set(codes)) == 1
    assert ages == [("2026-01-01", 1), ("2026-01-01", 2), ("2026-01-01", 3)]
    march = gov_ws.governance.cycle_document("PF/2026-03")
    assert march["governed"]["exceptions.new"] < march["governed"]["exceptions.owned"]
    # the movements since the last sitting compare with February's governed figures
    february = gov_ws.governance.cycle_document("PF/2026-02")
    assert march["previous"] == {
        "cycle": "PF/2026-02/v1",
        "period": "2026-02",
        "governed": february["governed"],
    }
    # a decision can name the breach by the code the pack shows
    gov_ws.governance.add_decision("PF/2026-03", "Re-baseline PRJ-3", exception=codes[0])
    listed = gov_ws.governance.decisions(node="PF")
    assert listed[0]["exception"] == codes[0]


def test_node_rule_settings_raise_the_thresholds_of_that_node(
    gov_ws: Workspace, tmp_path: Path
) -> None:
    design = tmp_path / "design.yaml"
    gov_ws.governance.export_design(design)
    import yaml

    data = yaml.safe_load(design.read_text())
    for n in data["nodes"]:
        if n["code"] == "PB2":
            # PRJ-2 is 8 % over: with a 10 % floor, PB2's rule finds nothing to raise
            n["rules"] = {"min_cost_pct": 10}
    design.write_text(yaml.safe_dump(data))
    gov_ws.governance.import_design(design)
    again = tmp_path / "again.yaml"
    gov_ws.governance.export_design(again)
    assert {n["code"]: n.get("rules") for n in yaml.safe_load(again.read_text())["nodes"]}[
        "PB2"
    ] == {"min_cost_pct": 10.0}
    gov_ws.governance.run_all("2026-03")
    pb2 = gov_ws.governance.cycle_document("PB2/2026-03")
    assert pb2["node"]["rules"] == {"min_cost_pct": 10.0}
    assert not [
        e for e in pb2["exceptions"] if e["rule"] == "cost_over_budget" and e["subject"] == "PRJ-2"
    ]


def test_a_bad_rule_setting_is_refused_with_its_place(gov_ws: Workspace, tmp_path: Path) -> None:
    from bigov.errors import ValidationError

    design = tmp_path / "design.yaml"
    gov_ws.governance.export_design(design)
    import yaml

    data = yaml.safe_load(design.read_text())
    data["nodes"][0]["rules"] = {"min_cost_pct": 5000, "no_such_rule": 1}
    design.write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationError) as err:
        gov_ws.governance.import_design(design)
    text = str(err.value) + " ".join(str(p) for p in err.value.problems)
    assert "min_cost_pct" in text and "no_such_rule" in text


def test_a_cycle_is_published_only_after_its_packs_are_written(
    gov_ws: Workspace, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the packs should go")
    with pytest.raises(FileExistsError):
        gov_ws.governance.run_all("2026-03", out_dir=blocked)
    with gov_ws.session() as s:
        statuses = {c.status for c in s.query(Cycle).all()}
    assert statuses == {CycleStatus.DRAFT}  # nothing published without its packs
    out = tmp_path / "packs"
    results = gov_ws.governance.run_all("2026-03", out_dir=out)
    assert {r.status for r in results} == {"published"}
    assert all(Path(p).exists() for r in results for p in r.artefacts.values())


def test_a_published_cycle_missing_its_packs_is_finished_not_refused(
    gov_ws: Workspace, tmp_path: Path
) -> None:
    gov_ws.governance.run_cycle("PG", "2026-03")  # published, no packs asked for
    with pytest.raises(ConflictError):
        gov_ws.governance.run_cycle("PG", "2026-03")
    out = tmp_path / "packs"
    result = gov_ws.governance.run_cycle("PG", "2026-03", out_dir=out, formats=["html", "xlsx"])
    assert result.code == "PG/2026-03/v1" and result.status == "published"
    assert sorted(Path(p).suffix for p in result.artefacts.values()) == [".html", ".xlsx"]
    with pytest.raises(ConflictError):  # now complete: running it again is refused as before
        gov_ws.governance.run_cycle("PG", "2026-03", out_dir=out, formats=["html", "xlsx"])


def test_figure_rows_name_label_unit_and_as_at(gov_ws: Workspace) -> None:
    gov_ws.governance.run_all("2026-03")
    doc = gov_ws.governance.cycle_document("PG/2026-03")
    rows = figure_rows(doc)
    assert [r["key"] for r in rows] == list(CATALOG)
    assert {r["as_at"] for r in rows} == {doc["period"]["as_at"]}
    live = next(r for r in rows if r["key"] == "work.live_items")
    assert live["label"] == "Live work items" and live["unit"] == "count"
