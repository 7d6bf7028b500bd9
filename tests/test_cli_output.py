"""Output for people and for programs, on the demo enterprise: every table-printing command fits
100 columns with its codes whole, opens with its as-at date, shows money as £1.2m (in full with
--exact) and never a number in scientific notation; every command takes --json, and an error
under --json is a JSON document on stdout."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from bigov.cli import app
from bigov.cli_support import console, money_text, sort_rows
from bigov.errors import ConfigError

runner = CliRunner()

# commands without --json, and why: serve runs a server; decision add and metrics load are being
# reworked with their model (issue 17, the importers and model part) and get it there
NO_JSON = {"serve", "worker"}  # long-running processes, not answers

# a code cut by Rich ends in an ellipsis: "PRJ-CUST-0…", "GOV-BOARD/2026…"
CUT_CODE = re.compile(r"\b[A-Z][A-Z0-9]*-[A-Z0-9/-]*…")
SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E[+-]\d")

# (command, words that must appear whole): the codes a new analyst would type next
ANALYSES: list[tuple[list[str], list[str]]] = [
    (["status"], []),
    (["rollup"], ["PF-CUST", "PG-SMART", "PRD-TARIFF"]),
    (["rollup", "--detail"], ["WS-DIG-SERVICEDESK", "PRJ-CUST-002"]),
    (["capacity"], ["SK-DATA", "Data Engineer"]),
    (["capacity", "--detail", "--limit", "5", "--sort", "gap"], ["SK-DATA"]),
    (["benefits"], ["BEN-0082"]),
    (["benefits", "--by", "portfolio"], ["PF-NET"]),
    (["attainment"], ["OTC-C-01", "KR-C-01-1"]),
    (["trace", "OTC-C-01"], ["OTC-C-01", "PRJ-NET-001", "BEN-0085"]),
    (["gaps"], ["OTC-O-06", "PRJ-CUST-002"]),
    (["balance"], ["BU-DIGITAL", "BU-WASTEWATER"]),
    (["agility"], ["OTC-O-03"]),
    (["quality"], []),
    (["cycle", "list"], ["GOV-BOARD/2026-09/v1"]),
    (["cycle", "show", "GOV-BOARD/2026-09"], []),
    (["cycle", "exceptions", "GOV-BOARD/2026-09"], []),
    (["cycle", "check", "--node", "GOV-BOARD", "--period", "2026-09"], []),
    (["governance", "show"], ["GOV-BOARD", "GOV-MT-DIGITAL"]),
    (["batches"], []),
    (["figures", "GOV-BOARD/2026-09"], []),
]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    made = runner.invoke(app, ["demo", "--db", db])
    assert made.exit_code == 0, made.output
    ran = runner.invoke(
        app,
        ["cycle", "run", "--node", "GOV-BOARD", "--period", "2026-09", "--no-packs", "--db", db],
    )
    assert ran.exit_code == 0, ran.output
    return db


@pytest.fixture
def width(request: pytest.FixtureRequest) -> Iterator[int]:
    columns: int = request.param
    # the width as configured (None: follow the terminal), not as measured now: restoring a
    # measured width would pin it for every later test in this worker
    before = console._width
    console.width = columns
    try:
        yield columns
    finally:
        console._width = before


def _walk(cmd: object, path: list[str]) -> Iterator[tuple[str, object]]:
    subs = getattr(cmd, "commands", None)
    if subs:
        for name, sub in subs.items():
            yield from _walk(sub, [*path, name])
    else:
        yield " ".join(path), cmd


def test_every_command_takes_json() -> None:
    root = typer.main.get_command(app)
    missing = [
        name
        for name, cmd in _walk(root, [])
        if "--json" not in {o for p in getattr(cmd, "params", []) for o in getattr(p, "opts", [])}
    ]
    assert sorted(missing) == sorted(NO_JSON)


@pytest.mark.parametrize("width", [100, 80], indirect=True)
@pytest.mark.parametrize(("words", "codes"), ANALYSES, ids=lambda w: " ".join(w) or "-")
def test_tables_fit_and_codes_are_whole(
    demo_db: str, width: int, words: list[str], codes: list[str]
) -> None:
    result = runner.invoke(app, [*words, "--db", demo_db])
    assert result.exit_code in (0, 1), result.output  # cycle check exits 1 when not ready
    lines = result.stdout.splitlines()
    assert lines, "no output"
    too_wide = [line for line in lines if len(line) > width]
    if width == 100:
        assert too_wide == []
    for code in codes:
        assert re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", result.stdout), code
    assert CUT_CODE.findall(result.stdout) == []
    assert SCIENTIFIC.findall(result.stdout) == []


@pytest.mark.parametrize(
    "words",
    [["rollup"], ["capacity"], ["benefits"], ["attainment"], ["gaps"], ["balance"], ["agility"]],
)
def test_every_analysis_opens_with_its_as_at_date(demo_db: str, words: list[str]) -> None:
    # capacity is a plan over months, not judged as at a date: it is as at today
    as_at = [] if words[0] == "capacity" else ["--as-at", "2026-09-30"]
    result = runner.invoke(app, [*words, "--db", demo_db, *as_at])
    assert result.exit_code == 0, result.output
    assert re.search(r"as at \d{4}-\d\d-\d\d", result.stdout.splitlines()[0])
    if words[0] != "capacity":
        assert "as at 2026-09-30" in result.stdout.splitlines()[0]


def test_money_reads_short_or_in_full(demo_db: str) -> None:
    short = runner.invoke(app, ["rollup", "--db", demo_db]).stdout
    exact = runner.invoke(app, ["rollup", "--exact", "--db", demo_db]).stdout
    assert re.search(r"£\d+\.\d\dm", short)
    assert not re.search(r"£\d{1,3}(,\d{3}){2,}", short)
    assert re.search(r"£\d{1,3}(,\d{3}){2,}", exact)
    assert money_text(1_234_567, "GBP") == "£1.23m"
    assert money_text(1_234_567, "GBP", exact=True) == "£1,234,567"
    assert money_text(12.5, "EUR", exact=True) == "€12.50"
    assert money_text(None, "GBP") == "—"


@pytest.mark.parametrize("by", ["benefit", "owner", "unit", "otc", "portfolio"])
def test_benefits_at_risk_read_in_money_or_their_unit_whatever_the_grouping(
    demo_db: str, by: str
) -> None:
    out = runner.invoke(app, ["benefits", "--by", by, "--detail", "--db", demo_db]).stdout
    risk = out[out.index("Benefits at risk") :].splitlines()
    rows = [line.split() for line in risk if line.startswith("BEN-")]
    assert rows
    # planned and forecast: £68k, or a figure with its unit ("4.08 %"), never a bare 68,267
    number = re.compile(r"-?[\d,.]+")
    for cells in rows:
        money = cells[1].startswith("£")
        assert money or (number.fullmatch(cells[1]) and not number.fullmatch(cells[2])), cells


def test_rollup_detail_draws_the_hierarchy_in_tree_order(demo_db: str) -> None:
    # each indented item sits under its own parent: the nearest row above it, one level up
    data = json.loads(runner.invoke(app, ["rollup", "--json", "--db", demo_db]).stdout)
    parent = {r["code"]: r["parent_code"] for r in data["rows"]}
    out = runner.invoke(app, ["rollup", "--detail", "--db", demo_db]).stdout
    above: list[str] = []  # the chain of codes from the top down to the last row
    checked = 0
    for line in out.splitlines():
        code = line.strip().split(" ")[0] if line.strip() else ""
        if code not in parent:
            continue
        level = (len(line) - len(line.lstrip(" "))) // 2
        del above[level:]
        if level:
            assert parent[code] == above[-1], (code, above)
            checked += 1
        above.append(code)
    assert checked > 50


def test_trace_of_an_otc_lists_its_versions_with_reasons(demo_db: str) -> None:
    out = runner.invoke(app, ["trace", "OTC-O-03", "--db", demo_db]).stdout
    versions = out[out.index("Versions") :]
    assert "v1" in versions and "v2" in versions
    assert "regulator" in versions  # the change reason of v2, readable without --json


def test_attainment_has_rag_and_no_long_decimals(demo_db: str) -> None:
    out = runner.invoke(app, ["attainment", "--db", demo_db]).stdout
    header = next(line for line in out.splitlines() if line.startswith("code"))
    assert "RAG" in header
    assert re.search(r"\b(green|amber|red)\b", out)
    # no figure with more than two decimals (the issue saw 161.39009250…)
    assert not re.search(r"\d+\.\d{3,}", out)
    data = json.loads(runner.invoke(app, ["attainment", "--db", demo_db, "--json"]).stdout)
    assert data and "key_results" in data[0]


def test_balance_prints_budget_and_forecast(demo_db: str) -> None:
    out = runner.invoke(app, ["balance", "--db", demo_db]).stdout
    assert "Budget split" in out and "Forecast split" in out
    one = runner.invoke(app, ["balance", "--db", demo_db, "--measure", "actual"]).stdout
    assert "Actual split" in one and "Budget split" not in one
    unit = runner.invoke(app, ["balance", "--db", demo_db, "--unit", "BU-DIGITAL", "--detail"])
    assert unit.exit_code == 0
    assert "BU-WATER" not in unit.stdout
    assert re.search(r"^\d{4}-\d\d BU-DIGITAL", unit.stdout, re.MULTILINE)
    bad = runner.invoke(app, ["balance", "--db", demo_db, "--unit", "NOPE"])
    assert bad.exit_code == 4


def test_long_lists_are_summarised_then_limited(demo_db: str) -> None:
    summary = runner.invoke(app, ["capacity", "--db", demo_db]).stdout
    detail = runner.invoke(app, ["capacity", "--db", demo_db, "--detail"]).stdout
    assert len(summary.splitlines()) < 40 < len(detail.splitlines())
    limited = runner.invoke(app, ["benefits", "--db", demo_db, "--limit", "3"]).stdout
    assert "more (" in limited
    everything = runner.invoke(app, ["benefits", "--db", demo_db, "--detail"]).stdout
    assert "BEN-0001" in everything
    filtered = runner.invoke(app, ["benefits", "--db", demo_db, "--filter", "BEN-0082"]).stdout
    assert "BEN-0082" in filtered and "BEN-0080" not in filtered.split("Benefits at risk")[0]
    one_skill = runner.invoke(app, ["capacity", "--db", demo_db, "--skill", "data engineer"])
    assert "SK-DATA" in one_skill.stdout and "SK-ARCH" not in one_skill.stdout
    sorted_gap = runner.invoke(app, ["capacity", "--db", demo_db, "--detail", "--sort", "nonsense"])
    assert sorted_gap.exit_code == 2


def test_trace_never_shows_scientific_notation(demo_db: str) -> None:
    out = runner.invoke(app, ["trace", "OTC-C-01", "--db", demo_db]).stdout
    assert "12 → 50" in out
    assert "E+" not in out


def test_an_error_under_json_is_a_json_document(demo_db: str) -> None:
    result = runner.invoke(app, ["rollup", "NOPE-1", "--db", demo_db, "--json"])
    assert result.exit_code == 4
    doc = json.loads(result.stdout)
    assert doc["error"]["type"] == "NotFoundError"
    assert doc["error"]["exit_code"] == 4
    assert "NOPE-1" in doc["error"]["message"]
    nested = runner.invoke(app, ["cycle", "show", "GOV-NOPE/2026-09", "--db", demo_db, "--json"])
    assert nested.exit_code == 4
    assert json.loads(nested.stdout)["error"]["type"] == "NotFoundError"
    plain = runner.invoke(app, ["rollup", "NOPE-1", "--db", demo_db])
    assert plain.exit_code == 4 and plain.stdout == ""


def test_a_refused_import_under_json_reports_its_problems(demo_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "work_item.csv"
    bad.write_text("code,name,kind\nBAD CODE,,nonsense\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", str(bad), "--kind", "work_item", "--db", demo_db, "--json"]
    )
    assert result.exit_code == 6, result.output
    doc = json.loads(result.stdout)
    assert doc["error"]["type"] == "ValidationError"
    problems = doc["error"]["problems"]
    assert problems and all(p["reason"] for p in problems)
    assert any(p["row"] is not None for p in problems)


def test_sort_rows_names_the_keys() -> None:
    rows = [3, 1, 2]
    assert sort_rows(rows, None, {"n": lambda r: r}) == [3, 1, 2]
    assert sort_rows(rows, "n", {"n": lambda r: r}) == [1, 2, 3]
    assert sort_rows(rows, "-n", {"n": lambda r: r}) == [3, 2, 1]
    with pytest.raises(ConfigError, match="use one of: n"):
        sort_rows(rows, "x", {"n": lambda r: r})


def test_the_working_month_draft_then_publish(demo_db: str, tmp_path: Path) -> None:
    """cycle run --no-packs leaves a draft with no packs, re-runnable; its exceptions can be read
    on their own; cycle publish --out writes the packs and then publishes."""
    out = tmp_path / "packs"
    words = ["cycle", "run", "--node", "GOV-INVEST", "--period", "2026-09", "--db", demo_db]
    first = runner.invoke(app, [*words, "--no-packs", "--out", str(out), "--json"])
    assert first.exit_code == 0, first.output
    (run,) = json.loads(first.stdout)
    assert run["status"] == "draft" and run["artefacts"] == {}
    assert not out.exists()
    again = runner.invoke(app, [*words, "--no-packs"])
    assert again.exit_code == 0, again.output
    assert "draft" in again.stdout and "no packs written" in again.stdout
    exceptions = runner.invoke(app, ["cycle", "exceptions", run["code"], "--db", demo_db, "--json"])
    assert exceptions.exit_code == 0
    assert set(json.loads(exceptions.stdout)) >= {"cycle", "as_at", "owned", "passed_on"}
    published = runner.invoke(
        app,
        [
            "cycle",
            "publish",
            run["code"],
            "--out",
            str(out),
            "-f",
            "html",
            "--db",
            demo_db,
            "--json",
        ],
    )
    assert published.exit_code == 0, published.output
    doc = json.loads(published.stdout)
    assert doc["published"] == run["code"] and Path(doc["packs"]["html"]).is_file()
    listed = json.loads(
        runner.invoke(
            app, ["cycle", "list", "--node", "GOV-INVEST", "--db", demo_db, "--json"]
        ).stdout
    )
    assert listed[0]["status"] == "published"
    # published: no longer re-runnable without --new-version
    refused = runner.invoke(app, [*words, "--no-packs", "--json"])
    assert refused.exit_code == 5
    assert json.loads(refused.stdout)["error"]["type"] == "ConflictError"
