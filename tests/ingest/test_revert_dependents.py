"""`bigov batches revert N` and the decisions that depend on a batch: a decision answers an OTC
*version* by its number, not by the version row's id, so no foreign key ties it to the batch that
added the version. A revert that would leave a decision answering a version that no longer exists
is refused, naming the decision, and changes nothing; each dependent is listed once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from ingest_helpers import dump
from sqlalchemy import select
from typer.testing import CliRunner

from bigov.cli import app
from bigov.db.batch import ImportBatch
from bigov.errors import ValidationError
from bigov.ingest.revert import RevertBlockedError, revert_batch
from bigov.ingest.service import import_file, resolve_options
from bigov.workspace import Workspace

runner = CliRunner()

NODE = "code,name,kind,cadence\nBOARD,Main board,main_board,monthly\n"
OTC = (
    "code,kind,title,effective_from,target_date\n"
    "OBJ-CHANNEL,objective,Open the online channel,2026-01-01,2026-12-31\n"
)
# a new deadline is a new version of the OTC (v2), with its reason
DEADLINE = (
    "code,kind,title,effective_from,target_date,change_reason\n"
    "OBJ-CHANNEL,objective,Open the online channel,2026-03-01,2027-03-31,supplier late\n"
)
OTHER = "code,kind,title,effective_from\nOBJ-OTHER,objective,Something else,2026-01-01\n"
# BOARD-D001 re-pointed at a version of OBJ-CHANNEL (decision_otc is an import kind)
LINK = "raid_item,otc,otc_version\nBOARD-D001,OBJ-CHANNEL,{}\n"


def _import(ws: Workspace, path: Path, body: str, kind: str) -> int:
    path.write_text(body, encoding="utf-8")
    result = import_file(ws, path, options=resolve_options(kind=kind))
    assert result.batch_id is not None
    return result.batch_id


def _status(ws: Workspace, batch_id: int) -> str:
    with ws.session() as s:
        return str(s.scalar(select(ImportBatch.status).where(ImportBatch.id == batch_id)))


def _answers(ws: Workspace) -> dict[str, list[str]]:
    return {r["code"]: r["otc_versions"] for r in ws.governance.decisions()}


def _board(ws: Workspace, tmp_path: Path) -> tuple[int, int, str]:
    """The board, OBJ-CHANNEL v1 and its deadline change v2 (two batches), and a March cycle."""
    _import(ws, tmp_path / "node.csv", NODE, "governance_node")
    created = _import(ws, tmp_path / "otc.csv", OTC, "otc")
    revised = _import(ws, tmp_path / "deadline.csv", DEADLINE, "otc")
    return created, revised, ws.governance.run_cycle("BOARD", "2026-03").code


def _decided(ws: Workspace, tmp_path: Path) -> None:
    """:func:`_board`, and decision BOARD-D001 of its cycle answering OBJ-CHANNEL@v2."""
    _, _, cycle = _board(ws, tmp_path)
    ws.governance.add_decision(cycle, "Keep the deadline", otc_version="OBJ-CHANNEL@v2")


def test_revert_refused_while_a_decision_answers_the_version(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    ws = ingest_ws
    _, revised, cycle = _board(ws, tmp_path)
    decision = ws.governance.add_decision(
        cycle, "Accept the new deadline", otc_version="OBJ-CHANNEL@v2"
    )
    assert decision == "BOARD-D001"
    before = dump(ws)

    with pytest.raises(RevertBlockedError) as info:
        revert_batch(ws, revised, user="tester")
    assert [(d.what, d.reason) for d in info.value.dependents] == [
        ("decision BOARD-D001", "answers OBJ-CHANNEL@v2, added by this batch")
    ]
    assert "decision BOARD-D001: answers OBJ-CHANNEL@v2" in info.value.message
    assert "nothing was changed" in info.value.message
    # all or nothing: every table as it was, the batch still committed
    assert dump(ws) == before
    assert _status(ws, revised) == "committed"
    assert _answers(ws) == {"BOARD-D001": ["OBJ-CHANNEL@v2"]}

    # a batch nothing depends on still reverts
    other = _import(ws, tmp_path / "other.csv", OTHER, "otc")
    assert revert_batch(ws, other).deleted == {"otc": 1, "otc_version": 1}
    assert [o.code for o in ws.strategy.otcs()] == ["OBJ-CHANNEL"]

    # correcting the decision by a new import (decision_otc is an import kind) lifts the block
    repointed = _import(
        ws,
        tmp_path / "link.csv",
        LINK.format(1),
        "decision_otc",
    )
    assert _answers(ws) == {"BOARD-D001": ["OBJ-CHANNEL@v1"]}
    result = revert_batch(ws, revised, user="tester")
    assert result.deleted == {"otc_version": 1}
    assert [v.version for v in ws.strategy.history("OBJ-CHANNEL")] == [1]

    # ...and the correction cannot be undone now: it would point the decision at v2 again
    before = dump(ws)
    with pytest.raises(RevertBlockedError) as again:
        revert_batch(ws, repointed)
    assert [(d.what, d.reason) for d in again.value.dependents] == [
        ("decision BOARD-D001", "would answer OBJ-CHANNEL@v2 again, which no longer exists")
    ]
    assert dump(ws) == before
    assert _answers(ws) == {"BOARD-D001": ["OBJ-CHANNEL@v1"]}


def test_decision_on_the_first_version_blocks_the_batch_that_created_the_otc(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    ws = ingest_ws
    _import(ws, tmp_path / "node.csv", NODE, "governance_node")
    created = _import(ws, tmp_path / "otc.csv", OTC, "otc")
    cycle = ws.governance.run_cycle("BOARD", "2026-03").code
    # no version named: the one in force on the day (v1)
    ws.governance.add_decision(cycle, "Keep the channel on track", otcs=["OBJ-CHANNEL"])
    before = dump(ws)
    with pytest.raises(RevertBlockedError) as info:
        revert_batch(ws, created)
    # once, as the decision and its version (not again as its link's reference to the OTC row)
    assert [(d.what, d.reason) for d in info.value.dependents] == [
        ("decision BOARD-D001", "answers OBJ-CHANNEL@v1, added by this batch")
    ]
    assert dump(ws) == before


def test_decision_on_a_work_item_of_the_batch_blocks_it(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    ws = ingest_ws
    _import(ws, tmp_path / "node.csv", NODE, "governance_node")
    work = _import(
        ws, tmp_path / "work.csv", "code,name,kind\nPRJ-9,New depot,project\n", "work_item"
    )
    cycle = ws.governance.run_cycle("BOARD", "2026-03").code
    ws.governance.add_decision(cycle, "Fund the depot", items=["PRJ-9"])
    before = dump(ws)
    with pytest.raises(RevertBlockedError) as info:
        revert_batch(ws, work)
    assert any(
        d.what == "raid_item BOARD-D001" and "refers to work_item PRJ-9" in d.reason
        for d in info.value.dependents
    )
    assert dump(ws) == before


def test_revert_lists_a_version_changed_by_a_later_batch_once(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    """The deadline change ends v1 in place (its effective_to) without stamping it: that is the
    later batch's change, not also a user's edit."""
    ws = ingest_ws
    created, revised, _ = _board(ws, tmp_path)
    with pytest.raises(RevertBlockedError) as info:
        revert_batch(ws, created)
    assert [(d.what, d.reason, d.batch_id) for d in info.value.dependents] == [
        ("otc OBJ-CHANNEL", f"changed later by batch {revised}", revised),
        ("otc_version OBJ-CHANNEL@v1", f"changed later by batch {revised}", revised),
    ]
    assert info.value.total == 2
    # newest first, it unwinds
    revert_batch(ws, revised)
    revert_batch(ws, created)
    assert ws.strategy.otcs() == []


def test_cli_revert_names_the_decision(ingest_ws: Workspace, tmp_path: Path) -> None:
    ws = ingest_ws
    if ws.engine.dialect.name != "sqlite":
        pytest.skip("the CLI run opens the SQLite file by URL")
    db = f"sqlite:///{tmp_path / 'ingest.db'}"
    _, revised, cycle = _board(ws, tmp_path)
    added = runner.invoke(
        app,
        [
            "decision", "add", "--cycle", cycle, "--title", "Accept the new deadline",
            "--otc-version", "OBJ-CHANNEL@v2", "--date", "2026-03-20", "--db", db,
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    before = dump(ws)

    refused = runner.invoke(app, ["batches", "revert", str(revised), "--json", "--db", db])
    assert refused.exit_code == 5, refused.output
    report = json.loads(refused.stdout)
    assert report["status"] == "refused"
    assert [(d["what"], d["reason"]) for d in report["dependents"]] == [
        ("decision BOARD-D001", "answers OBJ-CHANNEL@v2, added by this batch")
    ]
    text = runner.invoke(
        app, ["batches", "revert", str(revised), "--db", db], env={"COLUMNS": "200"}
    )
    assert text.exit_code == 5
    assert "decision BOARD-D001: answers OBJ-CHANNEL@v2" in " ".join(text.output.split())
    assert dump(ws) == before
    listed = json.loads(runner.invoke(app, ["decision", "list", "--json", "--db", db]).stdout)
    assert [(r["code"], r["otc_versions"]) for r in listed] == [("BOARD-D001", ["OBJ-CHANNEL@v2"])]
    assert ws.strategy.history("OBJ-CHANNEL")[-1].target_date == dt.date(2027, 3, 31)


def test_a_batch_that_adds_a_version_and_repoints_a_decision_to_it_reverts(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    # one file: the deadline change (v2) and the decision moved onto it. Reverting it puts the
    # link back on v1, which stays: nothing depends on the batch
    ws = ingest_ws
    _decided(ws, tmp_path)
    moved = _import(
        ws,
        tmp_path / "link.csv",
        LINK.format(1),
        "decision_otc",
    )
    assert _answers(ws) == {"BOARD-D001": ["OBJ-CHANNEL@v1"]}
    both = tmp_path / "both.json"
    both.write_text(
        json.dumps(
            {
                "otc": [
                    {
                        "code": "OBJ-CHANNEL",
                        "kind": "objective",
                        "title": "Open the online channel",
                        "effective_from": "2026-03-15",
                        "target_date": "2027-06-30",
                        "change_reason": "scope added",
                    }
                ],
                "decision_otc": [
                    {"raid_item": "BOARD-D001", "otc": "OBJ-CHANNEL", "otc_version": 3}
                ],
            }
        ),
        encoding="utf-8",
    )
    batch = import_file(ws, both).batch_id
    assert batch is not None and batch != moved
    assert _answers(ws) == {"BOARD-D001": ["OBJ-CHANNEL@v3"]}
    result = revert_batch(ws, batch, user="tester")
    assert result.deleted == {"otc_version": 1}
    assert _answers(ws) == {"BOARD-D001": ["OBJ-CHANNEL@v1"]}


def test_an_import_naming_a_version_that_does_not_exist_is_refused(
    ingest_ws: Workspace, tmp_path: Path
) -> None:
    # the link names a version by number, which no foreign key guards: checked on import
    ws = ingest_ws
    _decided(ws, tmp_path)
    before = dump(ws)
    link = tmp_path / "link.csv"
    link.write_text(LINK.format(9), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_file(ws, link, options=resolve_options(kind="decision_otc"))
    [problem] = info.value.problems
    assert (problem.row, problem.column) == (2, "otc_version")
    assert problem.reason.startswith("OBJ-CHANNEL has no version 9")
    assert dump(ws) == before
