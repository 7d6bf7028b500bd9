"""The Typer sub-app, driven with the workspace in ``ctx.obj`` as the root app passes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bigov.errors import NotFoundError
from bigov.metrics.cli import app
from bigov.metrics.service import MetricsService
from bigov.workspace import Workspace

DEFS = """
measures:
  - code: calls
    name: Calls handled
    frequency: daily
    grains: [day, month, quarter]
    series: [{code: calls-A, org: A}]
    targets: [{grain: month, value: 5, red_at: 2}]
"""


@pytest.fixture
def cli_ws(svc: MetricsService, tmp_path: Path) -> Workspace:
    """The workspace with its store folder set (as users configure PostgreSQL) and the
    definitions imported through the CLI."""
    svc.store.root.mkdir(parents=True, exist_ok=True)
    svc.ws.set_setting("metrics_store_dir", str(svc.store.root))
    (tmp_path / "defs.yaml").write_text(DEFS)
    res = CliRunner().invoke(app, ["import-definitions", str(tmp_path / "defs.yaml")], obj=svc.ws)
    assert res.exit_code == 0, res.output
    return svc.ws


def test_import_load_show(cli_ws: Workspace, tmp_path: Path) -> None:
    runner, ws = CliRunner(), cli_ws
    (tmp_path / "obs.csv").write_text("series,ts,value\ncalls-A,2025-04-01T12:00:00Z,3\n")
    res = runner.invoke(app, ["load", str(tmp_path / "obs.csv")], obj=ws)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["show", "calls", "--grain", "month", "--json"], obj=ws)
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.output)
    assert (row["label"], row["value"], row["rag"]) == ("2025-04", 3.0, "amber")
    text = runner.invoke(app, ["show", "calls", "--grain", "month"], obj=ws).output
    head, _, first = text.splitlines()[:3]
    assert head.startswith("calls by month · as at 20")  # what and when, first
    # value and target in one format (the variance column has its own)
    decimals = {len(cell.split(".")[1]) if "." in cell else 0 for cell in first.split()[1:3]}
    assert len(decimals) == 1, first


def test_completeness_and_changes(cli_ws: Workspace, svc: MetricsService, tmp_path: Path) -> None:
    runner, ws = CliRunner(), cli_ws
    (tmp_path / "a.csv").write_text(
        "series,ts,value\ncalls-A,2025-04-01T12:00:00Z,3\ncalls-A,2025-04-02T12:00:00Z,4\n"
    )
    first = svc.load(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("series,ts,value\ncalls-A,2025-04-02T12:00:00Z,9\n")
    svc.load(tmp_path / "b.csv")

    res = runner.invoke(app, ["completeness", "calls", "--grain", "month", "--json"], obj=ws)
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.output)
    assert (row["label"], row["n"], row["expected"], row["partial"]) == ("2025-04", 2, 30, True)
    res = runner.invoke(app, ["completeness", "calls", "--grain", "day", "--partial"], obj=ws)
    assert res.exit_code == 0 and "2025-04" not in res.output  # whole days are complete

    since = first.computed_at.isoformat(timespec="microseconds")  # with its +00:00 offset
    res = runner.invoke(
        app, ["changes", "calls", "--since", since, "--grain", "day", "--json"], obj=ws
    )
    assert res.exit_code == 0, res.output
    assert [(c["label"], c["before"], c["after"]) for c in json.loads(res.output)] == [
        ("2025-04-02", 4.0, 9.0)
    ]
    res = runner.invoke(app, ["changes", "calls", "--since", since], obj=ws)
    assert res.exit_code == 0 and "restated" in res.output and "2025-04" in res.output


def test_recompute(cli_ws: Workspace, tmp_path: Path) -> None:
    runner, ws = CliRunner(), cli_ws
    (tmp_path / "obs.csv").write_text("series,ts,value\ncalls-A,2025-04-01T12:00:00Z,3\n")
    assert runner.invoke(app, ["load", str(tmp_path / "obs.csv")], obj=ws).exit_code == 0
    res = runner.invoke(app, ["recompute"], obj=ws)
    assert res.exit_code == 0, res.output
    assert "1 raw rows of 1 series (calls) -> 3 period aggregates" in res.output
    assert "3 earlier versions superseded" in res.output
    # (the root app turns this into one line and exit code; the sub-app passes it up)
    res = runner.invoke(app, ["recompute", "nope"], obj=ws)
    assert isinstance(res.exception, NotFoundError) and "nope" in str(res.exception)


def test_column_format_keeps_small_differences_visible() -> None:
    from bigov.metrics.cli import _column_format

    values = _column_format([0.9995, 0.999])
    variance = _column_format([0.0005])
    assert (values(0.9995), values(0.999), variance(0.0005)) == ("1.000", "0.999", "0.0005")
    whole = _column_format([33016.0, 34687.0, None])
    assert (whole(33016.0), whole(None)) == ("33,016", "")
    assert _column_format([33016.4, 34687.3])(33016.4) == "33,016"
