"""Governance design import/export, validation and templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bigov.errors import ConfigError, ValidationError
from bigov.governance.design import TEMPLATES
from bigov.governance.models import GovernanceNode, InformationDefinition, Tolerance
from bigov.workspace import Workspace


def _write(tmp_path: Path, nodes: list[dict[str, Any]]) -> Path:
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump({"nodes": nodes}), encoding="utf-8")
    return path


def _node(code: str, parent: str | None = None, **extra: Any) -> dict[str, Any]:
    node = {
        "code": code,
        "name": f"{code} board",
        "kind": "programme_board",
        "cadence": "monthly",
        "parent": parent,
        "tolerances": {"cost_pct": 10},
    }
    node.update(extra)
    return node


def _count(ws: Workspace, model: Any) -> int:
    with ws.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_templates_import_and_round_trip(
    empty_ws: Workspace, tmp_path: Path, template: str
) -> None:
    counts = empty_ws.governance.init_template(template)
    assert counts["nodes"] >= 2 and counts["information"] > 0
    before = empty_ws.governance.design()
    for suffix in ("yaml", "xlsx"):
        path = empty_ws.governance.export_design(tmp_path / f"d.{suffix}")
        empty_ws.governance.import_design(path)
        assert empty_ws.governance.design() == before
    # every template node sits at a cadence and escalates to a node of the template
    codes = {n["code"] for n in before["nodes"]}
    assert all(
        n["cadence"] and (n["parent"] is None or n["parent"] in codes) for n in before["nodes"]
    )


def test_unknown_template(empty_ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="unknown template"):
        empty_ws.governance.init_template("nope")


def _problems(ws: Workspace, path: Path) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ws.governance.import_design(path)
    assert "nothing was imported" in info.value.message
    return [p.reason for p in info.value.problems]


def test_cycle_in_escalation_graph_is_rejected(empty_ws: Workspace, tmp_path: Path) -> None:
    path = _write(tmp_path, [_node("A", "C"), _node("B", "A"), _node("C", "B")])
    (reason,) = _problems(empty_ws, path)
    assert "cycle in the escalation graph" in reason
    assert _count(empty_ws, GovernanceNode) == 0


def test_node_without_cadence_and_bad_tolerances_are_rejected(
    empty_ws: Workspace, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        [
            _node("A", cadence=None),
            _node("B", tolerances={"cost_pct": -5, "confidence": 9, "speed": 1}),
        ],
    )
    reasons = _problems(empty_ws, path)
    assert any("A has no cadence" in r for r in reasons)
    assert any("cost_pct of node B is -5: out of range" in r for r in reasons)
    assert any("confidence of node B is 9: out of range 1–5" in r for r in reasons)
    assert any("unknown tolerance dimension 'speed'" in r for r in reasons)
    assert _count(empty_ws, Tolerance) == 0


def test_information_definition_naming_unknown_source_or_field_is_rejected(
    empty_ws: Workspace, tmp_path: Path
) -> None:
    agenda = [
        {
            "sequence": 1,
            "section": "progress",
            "title": "Status",
            "information": [
                {"title": "A", "source": "finance.costs"},
                {"title": "B", "source": "finance.cost.forcast"},
                {"title": "C", "source": "finance.cost.forecast"},
                {"title": "D", "source": "status_report.confidence"},
            ],
        }
    ]
    reasons = _problems(empty_ws, _write(tmp_path, [_node("A", agenda=agenda)]))
    assert len(reasons) == 2
    assert "unknown source 'finance.costs'" in reasons[0]
    assert "names field 'forcast', which cost_line does not have" in reasons[1]
    assert _count(empty_ws, InformationDefinition) == 0


def test_xlsx_problems_name_sheet_and_row(empty_ws: Workspace, tmp_path: Path) -> None:
    empty_ws.governance.init_template("small-company")
    path = empty_ws.governance.export_design(tmp_path / "d.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["Nodes"]["E3"] = None  # MT's cadence
    wb.save(path)
    with pytest.raises(ValidationError) as info:
        empty_ws.governance.import_design(path)
    (p,) = info.value.problems
    assert (p.sheet, p.row, p.column) == ("Nodes", 3, "cadence")


def test_reimport_replaces_tolerances_and_keeps_other_nodes(
    empty_ws: Workspace, tmp_path: Path
) -> None:
    empty_ws.governance.init_template("small-company")
    design = empty_ws.governance.design()
    mt = next(n for n in design["nodes"] if n["code"] == "MT")
    mt["tolerances"] = {"cost_pct": 7.5}
    empty_ws.governance.import_design(_write(tmp_path, [mt]))
    after = {n["code"]: n for n in empty_ws.governance.design()["nodes"]}
    assert after["MT"]["tolerances"] == {"cost_pct": 7.5}
    assert after["BOARD"]["tolerances"]["cost_pct"] == 30
