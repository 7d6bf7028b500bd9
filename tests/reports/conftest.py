"""Reports reuse the governance scenario (``gov_ws``) and add a cycle document fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.governance.conftest import build_scenario, close_test_workspace, open_test_workspace


@pytest.fixture(scope="module")
def pg_doc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The programme board's 2026-03 cycle document of the governance scenario."""
    tmp: Path = tmp_path_factory.mktemp("reports")
    ws, schema = open_test_workspace("sqlite", tmp)
    try:
        build_scenario(ws)
        ws.governance.run_all("2026-03")
        yield ws.governance.cycle_document("PG/2026-03/v1")
    finally:
        close_test_workspace(ws, schema)
