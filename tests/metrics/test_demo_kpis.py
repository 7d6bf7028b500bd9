"""The demo enterprise's operational KPIs: defined, loaded and readable at board rhythms."""

from __future__ import annotations

import pytest

from bigov.demo import OPERATIONAL_MEASURES, generate
from bigov.metrics.demo import generate_observations
from bigov.metrics.service import MetricsService
from bigov.workspace import Workspace


@pytest.mark.slow
def test_demo_kpis_monthly_quarterly_and_attainment(ws: Workspace, svc: MetricsService) -> None:
    generate(ws)
    ws.set_setting("metrics_store_dir", str(svc.store.root))
    bulk = generate_observations(ws)
    assert bulk.rows > 30_000 and bulk.series == len(OPERATIONAL_MEASURES)
    for m in OPERATIONAL_MEASURES:
        months = svc.values(m.code, grain="month")
        quarters = svc.values(m.code, grain="quarter")
        assert len(months) >= 13, m.code
        assert quarters and all(q.label.startswith("FY") for q in quarters), m.code
        assert all(v.value is not None for v in months), m.code
        assert any(v.target is not None and v.rag for v in months), m.code
    # the planted gaps: completeness below 100 % somewhere, but not everywhere
    rows = svc.completeness("COMPLAINTS", grain="month")
    assert any(r.partial for r in rows) and not all(r.partial for r in rows)
    # the late batch restated bills: visible as a later version and a change since the bulk load
    changed = svc.changes_since("BILLS-ISSUED", bulk.computed_at, grain="day")
    assert len(changed) >= 3
    # a key result names FIRST-TIME-FIX: attainment against its trajectory
    rows_att = svc.attainment("FIRST-TIME-FIX", grain="month")
    assert rows_att and all(r.actual is not None for r in rows_att)
    assert all(r.target == pytest.approx(85.0) for r in rows_att)
    assert any(r.attainment is not None for r in rows_att)
