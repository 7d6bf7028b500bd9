"""The model gaps of migration 0010, each importable and exported for a round trip: OTC target
date and change reason, a decision's date and the OTC version it answers (``decision_otc``, the
one store of a decision's OTCs), key result weight, demand status as
an enum (free text migrated), stored mutual exclusions."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, make_url

from bigov.db.engine import make_engine
from bigov.db.migrate import alembic_config
from bigov.errors import ValidationError
from bigov.governance.decision_links import DecisionOtc
from bigov.ingest.export import export
from bigov.ingest.service import import_file, resolve_options
from bigov.portfolio.models import ExclusionItem
from bigov.raid.models import RaidItem
from bigov.resources.models import Demand, DemandStatus
from bigov.strategy.models import KeyResult, Otc, OtcVersion
from bigov.workspace import Workspace

FILES = {
    "org_unit.csv": "code,name,kind\nDEP-1,Operations,department\n",
    "person.csv": "code,name\nP-SRO,Sam Rowe\n",
    "work_item.csv": "code,name,kind\nPRJ-1,Billing,project\nPRJ-2,Billing (buy),project\n",
    "otc.csv": (
        "code,kind,title,effective_from,target_date\n"
        "OBJ-1,objective,Cut waiting times,2026-01-01,2026-12-31\n"
    ),
    "key_result.csv": (
        "code,name,otc,target,weight\nKR-1,Wait under 4h,OBJ-1,95,0.75\n"
        "KR-2,Complaints down,OBJ-1,100,0.25\n"
    ),
    "skill.csv": "code,name\nSK-DEV,Developer\n",
    "demand.csv": (
        "work_item,skill,period,fte,status\nPRJ-1,SK-DEV,2026-04-01,2,Proposed\n"
        "PRJ-2,SK-DEV,2026-04-01,1,committed\n"
    ),
    "portfolio_exclusion.csv": "code,reason\nX-BILLING,build or buy the billing engine\n",
    "portfolio_exclusion_item.csv": ("exclusion,work_item\nX-BILLING,PRJ-1\nX-BILLING,PRJ-2\n"),
}
# the deadline moves: a new version with its reason, then the decision that made it
REVISION = (
    "code,kind,title,effective_from,target_date,change_reason\n"
    "OBJ-1,objective,Cut waiting times,2026-06-01,2027-03-31,board agreed a later deadline\n"
)
DECISION = (
    "code,kind,title,decided_on,owner\n"
    "DEC-1,decision,Move OBJ-1 deadline to March 2027,2026-05-20,P-SRO\n"
)
DECISION_OTC = "raid_item,otc,otc_version\nDEC-1,OBJ-1,2\n"


def _load(ws: Workspace, folder: Path) -> None:
    for name, body in FILES.items():
        path = folder / name
        path.write_text(body, encoding="utf-8")
        import_file(ws, path, options=resolve_options(kind=name[:-4]))
    for name, body, kind in (
        ("rev.csv", REVISION, "otc"),
        ("dec.csv", DECISION, "raid_item"),
        ("dec_otc.csv", DECISION_OTC, "decision_otc"),
    ):
        (folder / name).write_text(body, encoding="utf-8")
        import_file(ws, folder / name, options=resolve_options(kind=kind))


def _facts(ws: Workspace) -> dict[str, object]:
    with ws.session() as s:
        otc = s.scalars(select(Otc)).one()
        versions = [
            (v.version, v.target_date, v.change_reason)
            for v in s.scalars(select(OtcVersion).order_by(OtcVersion.version))
        ]
        decision = s.scalars(select(RaidItem)).one()
        link = s.scalars(select(DecisionOtc).where(DecisionOtc.raid_item_id == decision.id)).one()
        version = s.scalars(
            select(OtcVersion).where(
                OtcVersion.otc_id == link.otc_id, OtcVersion.version == link.otc_version
            )
        ).one_or_none()
        return {
            "otc": (otc.version, otc.target_date, otc.change_reason),
            "versions": versions,
            "decision": (decision.decided_on, version.code if version else None),
            "weights": sorted((k.code, k.weight) for k in s.scalars(select(KeyResult)).all()),
            "demand": sorted(
                (d.code, d.status.value if d.status else None) for d in s.scalars(select(Demand))
            ),
            "exclusion": sorted(s.execute(select(ExclusionItem.code)).scalars().all()),
        }


def test_gaps_import_and_round_trip(ingest_ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    _load(ingest_ws, tmp_path / "in")
    facts = _facts(ingest_ws)
    assert facts["otc"] == (2, dt.date(2027, 3, 31), "board agreed a later deadline")
    assert facts["versions"] == [
        (1, dt.date(2026, 12, 31), "created"),
        (2, dt.date(2027, 3, 31), "board agreed a later deadline"),
    ]
    assert facts["decision"] == (dt.date(2026, 5, 20), "OBJ-1@v2")
    assert facts["weights"] == [("KR-1", Decimal("0.750000")), ("KR-2", Decimal("0.250000"))]
    assert facts["demand"] == [
        ("PRJ-1/SK-DEV/2026-04", DemandStatus.PROPOSED.value),  # "Proposed" as typed
        ("PRJ-2/SK-DEV/2026-04", DemandStatus.COMMITTED.value),
    ]
    assert facts["exclusion"] == ["X-BILLING/PRJ-1", "X-BILLING/PRJ-2"]

    out = tmp_path / "out.xlsx"
    export(ingest_ws, out)
    other = Workspace.open(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        result = import_file(other, out)
        assert result.status == "committed"
        assert _facts(other) == facts
        # and once more: nothing changes
        again = import_file(other, out)
        assert again.totals["inserted"] == again.totals["updated"] == 0
    finally:
        other.close()


def test_unknown_demand_status_is_refused(ingest_ws: Workspace, tmp_path: Path) -> None:
    for name in ("work_item.csv", "skill.csv"):
        (tmp_path / name).write_text(FILES[name], encoding="utf-8")
        import_file(ingest_ws, tmp_path / name, options=resolve_options(kind=name[:-4]))
    bad = tmp_path / "demand.csv"
    bad.write_text("work_item,skill,period,fte,status\nPRJ-1,SK-DEV,2026-04-01,2,maybe\n")
    with pytest.raises(ValidationError) as info:
        import_file(ingest_ws, bad, options=resolve_options(kind="demand"))
    [problem] = info.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "status", "maybe")
    assert "proposed" in problem.reason and "committed" in problem.reason


@pytest.mark.parametrize(
    "backend", ["sqlite"] + (["postgresql"] if os.environ.get("BIGOV_TEST_POSTGRES_URL") else [])
)
def test_free_text_demand_status_is_migrated(backend: str, tmp_path: Path) -> None:
    schema = None
    if backend == "sqlite":
        url = make_url(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        url = make_url(os.environ["BIGOV_TEST_POSTGRES_URL"])
        schema = f"t_{uuid.uuid4().hex[:12]}"
        _admin(url, f'CREATE SCHEMA "{schema}"')
    engine = make_engine(url, schema=schema)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0005")
            conn.execute(
                text(
                    "INSERT INTO work_item (id, code, name, kind, nature, category, phase) "
                    "VALUES (1, 'PRJ-1', 'One', 'project', 'change', 'transform', "
                    "'identification')"
                )
            )
            conn.execute(text("INSERT INTO skill (id, code, name) VALUES (1, 'SK', 'Dev')"))
            for i, status in enumerate(
                [" Proposed ", "PROPOSED", "requested", "Committed", "booked", "", None], start=1
            ):
                conn.execute(
                    text(
                        "INSERT INTO demand (id, code, work_item_id, skill_id, period, fte, status)"
                        " VALUES (:i, :c, 1, 1, :p, 1, :s)"
                    ),
                    {"i": i, "c": f"D{i}", "p": dt.date(2026, i, 1), "s": status},
                )
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0010")
            got = conn.execute(text("SELECT code, status FROM demand ORDER BY id")).all()
        # "proposed" however spelt (and plain synonyms) stays proposed; other text was counted
        # as committed by every analysis, and stays so; empty is no status
        assert [tuple(r) for r in got] == [
            ("D1", "proposed"),
            ("D2", "proposed"),
            ("D3", "proposed"),
            ("D4", "committed"),
            ("D5", "committed"),
            ("D6", None),
            ("D7", None),
        ]
    finally:
        engine.dispose()
        if schema is not None:
            _admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _admin(url: URL, statement: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
