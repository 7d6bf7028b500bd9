"""The Typer sub-app, driven with the workspace in ``ctx.obj`` as the root app passes it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bigov.metrics.cli import app
from bigov.metrics.service import MetricsService

DEFS = """
measures:
  - code: calls
    name: Calls handled
    frequency: daily
    grains: [day, month, quarter]
    series: [{code: calls-A, org: A}]
    targets: [{grain: month, value: 5, red_at: 2}]
"""


def test_import_load_show(svc: MetricsService, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "defs.yaml").write_text(DEFS)
    (tmp_path / "obs.csv").write_text("series,ts,value\ncalls-A,2025-04-01T12:00:00Z,3\n")
    ws = svc.ws
    svc.store.root.mkdir(parents=True, exist_ok=True)
    ws.set_setting("metrics_store_dir", str(svc.store.root))
    res = runner.invoke(app, ["import-definitions", str(tmp_path / "defs.yaml")], obj=ws)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["load", str(tmp_path / "obs.csv")], obj=ws)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["show", "calls", "--grain", "month", "--json"], obj=ws)
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.output)
    assert (row["label"], row["value"], row["rag"]) == ("2025-04", 3.0, "amber")
