"""A pack's headline figures are the numbers of :mod:`bigov.analysis` for the node's scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bigov.analysis.benefits import realisation
from bigov.analysis.rollups import rollup
from bigov.benefits.models import Benefit, BenefitCategory, BenefitEnabler, BenefitProfile
from bigov.reports import render_html
from bigov.work.models import WorkItem
from bigov.workspace import Workspace

AS_AT = dt.date(2026, 3, 31)


def _add_benefits(ws: Workspace) -> None:
    """Two cashable benefits enabled by PRJ-1 and PRJ-3: 50 a month planned Jan–Jun; actuals in
    the first three months; PRJ-3's forecast 30 a month (40 % short)."""
    with ws.session() as s:
        for code, project, forecast in (("BEN-1", "PRJ-1", "50"), ("BEN-3", "PRJ-3", "30")):
            item = s.query(WorkItem).filter_by(code=project).one()
            b = Benefit(
                code=code,
                name=f"Savings from {project}",
                category=BenefitCategory.CASHABLE,
                currency="GBP",
            )
            s.add(b)
            s.flush()
            s.add(BenefitEnabler(code=f"BEE-{code}", benefit_id=b.id, work_item_id=item.id))
            for m in range(1, 7):
                s.add(
                    BenefitProfile(
                        code=f"BPR-{code}-{m}",
                        benefit_id=b.id,
                        period=dt.date(2026, m, 1),
                        planned=Decimal("50"),
                        forecast=Decimal(forecast),
                        actual=Decimal(forecast) if m <= 3 else None,
                        currency="GBP",
                    )
                )


def test_pack_headline_cost_and_benefits_equal_the_analysis_totals(gov_ws: Workspace) -> None:
    _add_benefits(gov_ws)
    gov_ws.governance.run_all("2026-03")
    with gov_ws.session() as s:
        whole = rollup(s, "PROG", as_at=AS_AT)
        so_far = rollup(s, "PROG", as_at=AS_AT, end=dt.date(2026, 4, 1))
        everything = rollup(s, as_at=AS_AT)
        benefits = realisation(s, as_at=AS_AT)
        by_portfolio = {
            g.key: g.figures for g in realisation(s, by="portfolio", as_at=AS_AT).groups
        }

    pg = gov_ws.governance.cycle_document("PG/2026-03/v1")
    cost = pg["figures"]["cost"]
    assert Decimal(cost["budget"]) == whole.total.budget == Decimal("1800.00")
    assert Decimal(cost["forecast"]) == whole.total.forecast
    assert Decimal(cost["actual_to_date"]) == so_far.total.actual
    assert pg["figures"]["confidence"] == whole.confidence_distribution
    # the programme's benefits are the portfolio's (all its enablers sit under PROG)
    ben = pg["figures"]["benefits"]
    assert Decimal(ben["planned"]) == by_portfolio["PORT"].planned == Decimal("600.00")
    assert Decimal(ben["forecast"]) == by_portfolio["PORT"].forecast == Decimal("480.00")
    assert Decimal(ben["actual_to_date"]) == by_portfolio["PORT"].actual_to_date

    mb = gov_ws.governance.cycle_document("MB/2026-03/v1")
    assert Decimal(mb["figures"]["cost"]["forecast"]) == everything.total.forecast
    assert Decimal(mb["figures"]["benefits"]["forecast"]) == benefits.total.forecast
    assert Decimal(mb["figures"]["benefits"]["planned_to_date"]) == benefits.total.planned_to_date

    # the pack shows those figures
    html = render_html(pg).decode()
    assert "£1,956" in html  # forecast 618 + 648 + 690 (see conftest)
    assert "£480" in html

    # the benefit rule reads the analysis at-risk shortfall: 40 % short on PRJ-3's benefit
    short = {e["subject"]: e for e in pg["exceptions"] if e["rule"] == "benefit_shortfall"}
    assert set(short) == {"BEN-3"}
    assert Decimal(short["BEN-3"]["value"]) == Decimal("40.00")


def test_run_change_and_objectives_come_from_analysis(gov_ws: Workspace) -> None:
    gov_ws.governance.run_cycle("MB", "2026-03")
    doc = gov_ws.governance.cycle_document("MB/2026-03/v1")
    rc = doc["run_change"]
    assert rc["scope"] == "organisation"
    assert set(rc["target"]) == {"run", "grow", "transform"}
    assert rc["target_change_pct"] == "30.0"  # the default 70 / 20 / 10 target split
    assert doc["objectives"] == [] and doc["strategy_map"] == []
