"""A key result's window and aggregation are importable and exported like any other field, and a
bad value is rejected with the file, row, field and reason, changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bigov.errors import ValidationError
from bigov.ingest.export import collect
from bigov.ingest.service import import_file, resolve_options
from bigov.strategy.models import Aggregation, KeyResult, KrWindow
from bigov.workspace import Workspace

KEY_RESULTS = """code,name,unit,window,aggregation
KR-A,Calls handled,calls,r12,flow
KR-B,Customer satisfaction,points,,
KR-C,Share online,%,ytd,level
"""


def _import(ws: Workspace, path: Path) -> None:
    import_file(ws, path, options=resolve_options(kind="key_result"), user="tester")


def test_window_and_aggregation_round_trip(tmp_path: Path) -> None:
    ws = Workspace.open(f"sqlite:///{tmp_path}/kr.db")
    try:
        path = tmp_path / "kr.csv"
        path.write_text(KEY_RESULTS, encoding="utf-8")
        _import(ws, path)
        with ws.session() as s:
            rows = {k.code: k for k in s.scalars(select(KeyResult)).all()}
            assert (rows["KR-A"].window, rows["KR-A"].aggregation) == (
                KrWindow.R12,
                Aggregation.FLOW,
            )
            # unset: the latest period, and the unit says a points score is a level
            assert (rows["KR-B"].window, rows["KR-B"].aggregation) == (KrWindow.PERIOD, None)
            assert rows["KR-B"].effective_aggregation is Aggregation.LEVEL
            header, values = collect(s, ["key_result"])["key_result"]
        exported = {row[header.index("code")]: row for row in values}
        assert exported["KR-C"][header.index("window")] == "ytd"
        assert exported["KR-C"][header.index("aggregation")] == "level"

        bad = tmp_path / "bad.csv"
        bad.write_text("code,name,window\nKR-A,Calls handled,quarterly\n", encoding="utf-8")
        with pytest.raises(ValidationError) as caught:
            _import(ws, bad)
        problem = caught.value.problems[0]
        text = str(problem)
        assert "window" in text and "quarterly" in text and "bad.csv" in text
        with ws.session() as s:
            kr_a = s.scalars(select(KeyResult).where(KeyResult.code == "KR-A")).one()
            assert kr_a.window is KrWindow.R12  # nothing changed
    finally:
        ws.close()
