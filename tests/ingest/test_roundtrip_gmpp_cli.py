# ruff: noqa: E501 - fixture data: real published headers and CSV rows read best unbroken
"""Export → import round trip, GMPP presets over three years, the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from ingest_helpers import DATA, dump, write
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli_support import ErrorHandlingGroup
from bigov.ingest.cli import register
from bigov.ingest.export import collect, export
from bigov.ingest.mapping import normalise_header, preset_names, preset_path
from bigov.ingest.service import import_file, resolve_options
from bigov.work.models import StatusReport, WorkItem
from bigov.workspace import Workspace

RICH = {
    "org_unit": "code,name,kind,parent,cost_centre\nGRP,Group,group,,\nFIN,Finance,department,GRP,CC1\n",
    "role": "code,name\nSRO,Senior responsible owner\n",
    "person": "code,name,email,org_unit,role\nJS,Jo Smith,jo@x.org,FIN,SRO\nAB,Al Bee,,GRP,\n",
    "management_team": "code,name,org_unit,lead\nMT1,Finance team,FIN,JS\n",
    "governance_node": "code,name,kind,parent,chair,cadence,sitting_day,org_unit,purpose\n"
    "BOARD,Main board,main_board,,AB,quarterly,15,GRP,Run it all\n"
    "PPG,Portfolio progress,portfolio_progress,BOARD,JS,monthly,3,,\n",
    "work_item": "code,name,kind,parent,nature,category,phase,owner,governing_node,baseline_start,"
    "baseline_finish,percent_complete,whole_life_cost\n"
    "PF,Change portfolio,portfolio,,change,transform,delivery,AB,PPG,,,,\n"
    "PRJ1,ERP,project,PF,change,grow,delivery,JS,,2024-01-01,2025-06-30,45.5,1234567.89\n"
    "WS1,Payroll,workstream,PF,run,run,delivery,,,,,,\n",
    "business_plan": "management_team,fiscal_year,title\nMT1,2025,Finance plan 2025\n",
    "otig": "code,name,kind,owner,raised_on\nT1,Cost pressure,threat,AB,2024-02-01\n",
    "otc": "code,kind,title,status,owner,portfolio,priority,effective_from\n"
    "O1,objective,Cut cost 10%,active,AB,PF,1,2024-01-01\nTG1,target,Close books in 3 days,active,,,,2024-01-01\n",
    "otig_otc": "otig,otc\nT1,O1\n",
    "business_plan_target": "business_plan,otc\nMT1/2025,TG1\n",
    "key_result": "code,name,otc,unit,baseline,target,target_date,direction\nKR1,Cost,O1,GBP,100,90,2025-03-31,lower\n",
    "key_result_actual": "key_result,period,value\nKR1,2024-06-01,97.5\n",
    "milestone": "code,work_item,name,baseline_date,is_key\nM1,PRJ1,Go live,2025-04-01,yes\n",
    "dependency": "predecessor,successor,kind\nWS1,PRJ1,needs\n",
    "contribution": "work_item,otc,weight\nPRJ1,O1,0.75\n",
    "gate_decision": "code,work_item,to_phase,outcome,decided_on,node\nG1,PRJ1,delivery,approved,2024-01-10,PPG\n",
    "status_report": "work_item,period,confidence,overall,narrative,reported_by\n"
    'PRJ1,2024-05-01,amber/green,amber,"Fine, mostly",JS\nPRJ1,2024-06-01,amber,amber,,JS\n',
    "benefit": "code,name,kind,category,owner,owner_unit,realising_team,unit\nB1,Lower cost,benefit,cashable,JS,FIN,MT1,GBP\n",
    "benefit_enabler": "benefit,work_item\nB1,PRJ1\n",
    "benefit_contribution": "benefit,otc\nB1,O1\n",
    "benefit_profile": "benefit,period,planned,forecast,currency\nB1,2025-04-01,1000,900,GBP\n",
    "funding_source": "code,name,nature,fiscal_year,amount\nFS,Change pot,change,2025,5000000\n",
    "cost_line": "work_item,period,funding_source,expenditure,budget,forecast,actual\n"
    "PRJ1,2024-04-01,FS,capex,1000.10,1100,900\nPRJ1,2024-05-01,,opex,10,10,\n",
    "skill": "code,name\nBA,Business analyst\n",
    "capacity": "org_unit,skill,period,fte\nFIN,BA,2024-04-01,3.5\n",
    "demand": "work_item,skill,org_unit,period,fte,status\nPRJ1,BA,FIN,2024-04-01,2,committed\n",
    "raid_item": "code,kind,title,status,owner,work_item,probability,impact,decided_on\n"
    "R1,risk,Vendor late,open,JS,PRJ1,3,4,\nD1,decision,Cut cost 10%,open,AB,,,,2024-02-15\n",
    "decision_otc": "raid_item,otc,otc_version\nD1,O1,1\n",
    "portfolio_exclusion": "code,reason\nX1,ERP or a payroll rebuild\n",
    "portfolio_exclusion_item": "exclusion,work_item\nX1,PRJ1\nX1,WS1\n",
    "node_member": "node,person,role\nBOARD,AB,chair\n",
    "node_scope": "node,work_item\nPPG,PF\n",
    "tolerance": "node,dimension,limit\nPPG,cost_pct,10\n",
    "agenda_item": "node,sequence,section,title\nPPG,1,progress,Trend and exceptions\n",
    "information_definition": "agenda_item,title,source,form,owner\nPPG/1,Cost vs budget,finance.cost,table,JS\n",
}


def _rich(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "rich"
    folder.mkdir()
    for kind, text in RICH.items():
        import_file(ws, write(folder / f"{kind}.csv", text), options=resolve_options(kind=kind))
    # a revision, so the OTC history has two versions
    import_file(
        ws,
        write(
            folder / "otc2.csv",
            "code,kind,title,effective_from\nO1,objective,Cut cost 12%,2024-07-01\n",
        ),
        options=resolve_options(kind="otc"),
    )


def _comparable(ws: Workspace) -> dict[str, object]:
    with ws.session() as s:
        return dict(collect(s).items())


@pytest.mark.parametrize("fmt", ["xlsx", "json", "csv"])
def test_export_reimports_identically(ingest_ws: Workspace, tmp_path: Path, fmt: str) -> None:
    _rich(ingest_ws, tmp_path)
    original = _comparable(ingest_ws)
    assert all(rows[1] for rows in original.values())  # type: ignore[index]  # every kind has rows
    out = tmp_path / ("export" if fmt == "csv" else f"export.{fmt}")
    files = export(ingest_ws, out, fmt=fmt)
    # the same data set re-imported is unchanged
    for f in files:
        result = import_file(
            ingest_ws, f, options=resolve_options(kind=f.stem if fmt == "csv" else None)
        )
        assert result.totals["inserted"] == 0 and result.totals["updated"] == 0, result.counts
    # into a fresh workspace: an identical data set
    fresh = Workspace.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        if fmt == "csv":
            for f in files:  # export order is load order
                import_file(fresh, f, options=resolve_options(kind=f.stem))
        else:
            import_file(fresh, files[0])
        assert _comparable(fresh) == original
    finally:
        fresh.close()


def test_gmpp_three_years_give_a_trend(ingest_ws: Workspace) -> None:
    assert "gmpp" in preset_names() and preset_path("gmpp").is_file()
    opts = resolve_options(preset="gmpp")
    for name in ("gmpp_september_2019.csv", "gmpp_march_2023.xlsx", "gmpp_2024.csv"):
        import_file(ingest_ws, DATA / name, options=opts)
    with ingest_ws.session() as s:
        portfolios = set(s.scalars(select(WorkItem.code).where(WorkItem.kind == "portfolio")))
        assert portfolios == {"GMPP-DFT", "GMPP-MOD", "GMPP-HO", "GMPP-DWP"}
        projects = s.scalar(select(WorkItem).where(WorkItem.code == "MOD_0041"))
        assert projects is not None and projects.parent is not None
        assert projects.parent.code == "GMPP-MOD" and projects.owner_id is not None
        trend = [
            (r.period.isoformat(), r.confidence.value if r.confidence else None)
            for r in s.scalars(
                select(StatusReport)
                .where(StatusReport.work_item_id == projects.id)
                .order_by(StatusReport.period)
            )
        ]
    assert [p for p, _ in trend] == ["2019-09-01", "2023-03-01", "2024-03-01"]
    assert trend[0][1] == "amber/green"  # five-point scale in 2019
    assert {c for _, c in trend[1:]} <= {"green", "amber", "red", None}  # three-point later
    # re-importing a year changes nothing
    again = import_file(ingest_ws, DATA / "gmpp_2024.csv", options=opts)
    assert again.totals["inserted"] == again.totals["updated"] == 0


def test_gmpp_header_normalisation() -> None:
    assert (
        normalise_header("TOTAL Baseline Whole Life Costs (£m)\n(including Non-Government Costs)")
        == "total baseline whole life costs"
    )


def _app() -> typer.Typer:
    app = typer.Typer(cls=ErrorHandlingGroup)

    @app.callback()
    def main() -> None:
        """bigov (test root)."""

    register(app)
    return app


def test_cli_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    app = _app()
    work = write(tmp_path / "w.csv", "code,name,kind\nA,Alpha,project\n")
    r = runner.invoke(app, ["import", str(work), "--kind", "work", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["totals"]["inserted"] == 1
    bad = write(tmp_path / "b.csv", "code,name,kind\nB,,nope\n")
    r = runner.invoke(
        app,
        ["import", str(bad), "--kind", "work", "--db", db, "--errors", str(tmp_path / "e.xlsx")],
    )
    assert r.exit_code == 6 and "Traceback" not in r.output
    assert (tmp_path / "e.xlsx").exists()
    r = runner.invoke(app, ["import", str(tmp_path / "missing.csv"), "--db", db])
    assert r.exit_code == 6 and "file not found" in r.output
    r = runner.invoke(app, ["template", str(tmp_path / "t.xlsx")])
    assert r.exit_code == 0
    r = runner.invoke(app, ["import", str(tmp_path / "t.xlsx"), "--db", db, "--dry-run"])
    assert r.exit_code == 6  # an empty template holds no data
    r = runner.invoke(app, ["export", str(tmp_path / "all.xlsx"), "--db", db])
    assert r.exit_code == 0
    r = runner.invoke(app, ["batches", "--db", db, "--json"])
    assert [b["status"] for b in json.loads(r.stdout)][:2] == ["rejected", "rejected"]


def test_template_lists_every_kind(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from bigov.ingest.spec import kinds
    from bigov.ingest.template import write_template

    wb = load_workbook(write_template(tmp_path / "t.xlsx"))
    assert wb.sheetnames == ["README", *kinds()]
    assert wb["cost_line"]["A1"].value == "code" and wb["cost_line"]["A1"].comment is not None
    _ = dump  # (shared helper imported for symmetry with other test modules)
