"""`governance propose` on the scenario, and the CLI end to end."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli_support import ErrorHandlingGroup
from bigov.governance.cli import register
from bigov.work.models import Nature, Phase, WorkItem, WorkKind
from bigov.workspace import Workspace


def test_propose_lists_ungoverned_work_and_nodes_to_add(gov_ws: Workspace, tmp_path: Path) -> None:
    with gov_ws.session() as s:
        prog = s.scalar(select(WorkItem).where(WorkItem.code == "PROG"))
        assert prog is not None
        s.add(
            WorkItem(
                code="LOOSE",
                name="Loose project",
                kind=WorkKind.PROJECT,
                phase=Phase.DELIVERY,
                nature=Nature.CHANGE,
            )
        )
        s.add(
            WorkItem(
                code="PRJ-4",
                name="Project 4",
                kind=WorkKind.PROJECT,
                phase=Phase.DELIVERY,
                parent_id=prog.id,
            )
        )
    proposal = gov_ws.governance.propose()
    rows = {r["code"]: r for r in proposal.items}
    assert rows["PRJ-4"]["governed_by"] == "PG"  # governed through its programme's scope
    assert rows["PRJ-1"]["governed_by"] == "PB1"
    assert proposal.ungoverned_work == ["LOOSE"]
    # `bigov gaps` counts the same ungoverned work (PRJ-4, under its programme's scope, is not)
    from bigov.analysis.alignment import gaps

    with gov_ws.session() as s:
        assert [u.code for u in gaps(s).ungoverned_work] == ["LOOSE"]
    assert rows["LOOSE"]["proposed"] == "PB-LOOSE"
    (node,) = proposal.new_nodes
    assert node["kind"] == "project_board" and node["scope"] == {"work_items": ["LOOSE"]}
    # the proposal is a design the import accepts
    path = tmp_path / "proposal.yaml"
    path.write_text(yaml.safe_dump(proposal.design()), encoding="utf-8")
    gov_ws.governance.import_design(path)
    assert gov_ws.governance.propose().ungoverned_work == []


def _app() -> typer.Typer:
    app = typer.Typer(cls=ErrorHandlingGroup)

    @app.callback()
    def _root() -> None:
        """bigov."""

    register(app)
    return app


def test_cli_cycle_round_trip(gov_ws: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    app = _app()
    db = ["--db", gov_ws.describe(hide_password=False)]
    out = tmp_path / "packs"
    res = runner.invoke(
        app,
        [
            "cycle",
            "run",
            "--node",
            "PB3",
            "--period",
            "2026-03",
            "--out",
            str(out),
            "-f",
            "html",
            "-f",
            "xlsx",
            *db,
        ],
    )
    assert res.exit_code == 0, res.output
    assert (out / "PB3_2026-03_v1.html").exists() and (out / "PB3_2026-03_v1.xlsx").exists()
    again = runner.invoke(
        app,
        [
            "cycle",
            "run",
            "--node",
            "PB3",
            "--period",
            "2026-03",
            "-f",
            "html",
            "--out",
            str(out),
            *db,
        ],
    )
    assert again.exit_code == 5 and "published" in again.output
    res = runner.invoke(
        app,
        [
            "decision",
            "add",
            "--cycle",
            "PB3/2026-03",
            "--title",
            "Re-plan",
            "--kind",
            "action",
            "--item",
            "PRJ-3",
            *db,
        ],
    )
    assert res.exit_code == 0 and "PB3-A001" in res.output
    res = runner.invoke(app, ["cycle", "check", "--node", "PG", "--period", "2026-05", *db])
    assert res.exit_code == 1 and "missing" in res.output
    res = runner.invoke(app, ["cycle", "list", "--json", *db])
    assert res.exit_code == 0 and "PB3/2026-03/v1" in res.output
    res = runner.invoke(app, ["governance", "show", *db])
    assert res.exit_code == 0 and "PB1" in res.output
    res = runner.invoke(app, ["cycle", "run", "--period", "2026-03", *db])
    assert res.exit_code == 2 and "exactly one" in res.output
