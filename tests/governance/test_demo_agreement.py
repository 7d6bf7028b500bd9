"""One truth on the demo: every node's cycles of the demo quarter (2026-07 .. 2026-09, as
``make demo`` runs them) show the same figures in the snapshot, the HTML pack (``data-figure``),
the XLSX (``Figures`` sheet) and ``bigov figures`` / ``bigov cycle exceptions``, figure by figure,
and every exception a board owns or passes on has its card in its pack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bigov.cli import app
from bigov.demo import generate
from bigov.figures.compute import level_slug
from bigov.metrics.demo import generate_observations
from bigov.workspace import Workspace
from tests.governance.test_governed_figures import assert_outputs_agree

QUARTER = ("2026-07", "2026-08", "2026-09")


@pytest.fixture(scope="module")
def demo_quarter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, str]]:
    """The demo enterprise (``bigov demo``) with a quarter of cycles for every node due, on
    SQLite — what ``make demo`` builds."""
    path: Path = tmp_path_factory.mktemp("demo-quarter") / "bigov.db"
    url = f"sqlite:///{path}"
    ws = Workspace.open(url)
    try:
        generate(ws)
        generate_observations(ws)  # as `bigov demo` does: the operational KPIs boards read
        for month in QUARTER:
            ws.governance.run_all(month)
        yield ws, url
    finally:
        ws.close()


def test_every_cycle_of_the_quarter_agrees_across_outputs(
    demo_quarter: tuple[Workspace, str],
) -> None:
    ws, url = demo_quarter
    cycles = ws.governance.list_cycles()
    assert {c["period"] for c in cycles} == set(QUARTER)
    assert len(cycles) > 100  # every node due in each month
    main = "GOV-BOARD/2026-09"
    for c in cycles:
        # the CLI is checked on the main board and three other boards; the rest in process
        cli = url if c["code"].rsplit("/", 1)[0] in (main, *_others(cycles)) else None
        assert_outputs_agree(ws, c["code"], cli)


def _others(cycles: list[dict[str, object]]) -> list[str]:
    """Three other boards of 2026-09: a portfolio, a programme and a management team."""
    picked: list[str] = []
    for prefix in ("GOV-PPG", "GOV-PG-", "GOV-MT-"):
        code = next(
            str(c["code"]).rsplit("/", 1)[0]
            for c in cycles
            if str(c["node"]).startswith(prefix) and c["period"] == "2026-09"
        )
        picked.append(code)
    return picked


def test_the_main_board_owns_a_handful_of_exceptions_that_tell_a_story(
    demo_quarter: tuple[Workspace, str],
) -> None:
    ws, _url = demo_quarter
    doc = ws.governance.cycle_document("GOV-BOARD/2026-09")
    g = doc["governed"]
    assert 5 <= g["exceptions.owned"] <= 15, g["exceptions.owned"]
    owned = [e for e in doc["exceptions"] if e["role"] == "owned"]
    rules = {e["rule"] for e in owned}
    # money, delivery and people all reach the board, not one kind of noise
    assert {"cost_over_budget", "resource_over_capacity", "run_change_split"} <= rules
    # the confidence tiles add up to the live items
    levels = [k for k in g if k.startswith("work.confidence.")]
    assert sum(g[k] for k in levels) == g["work.live_items"]


def test_status_and_the_main_board_pack_say_the_same(demo_quarter: tuple[Workspace, str]) -> None:
    ws, url = demo_quarter
    g = ws.governance.cycle_document("GOV-BOARD/2026-09")["governed"]
    out = CliRunner().invoke(
        app, ["status", "--db", url, "--as-at", "2026-09-30", "--fiscal-year", "2027", "--json"]
    )
    assert out.exit_code == 0, out.output
    status = json.loads(out.stdout)
    for level, n in status["confidence"].items():
        assert g[f"work.confidence.{level_slug(level)}"] == n, level
    purpose = {k: Decimal(v) for k, v in status["budget_by_category"].items()}
    delivery = {k: Decimal(v) for k, v in status["budget_by_nature"].items()}
    share = (purpose["grow"] + purpose["transform"]) * 100 / sum(purpose.values())
    assert round(share, 1) == Decimal(g["balance.change_share_by_purpose"])
    share = delivery["change"] * 100 / sum(delivery.values())
    assert round(share, 1) == Decimal(g["balance.change_share_by_delivery"])
