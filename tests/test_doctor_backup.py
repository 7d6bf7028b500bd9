"""``bigov doctor``, ``bigov backup`` and ``bigov restore`` on real workspaces (SQLite, and
PostgreSQL when ``BIGOV_TEST_POSTGRES_URL`` is set), and fault injection: a ``bigov import`` or
``bigov metrics load`` killed with SIGKILL at random points leaves a workspace that ``doctor``
finds consistent (after ``--repair`` where needed) and where the next run completes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bigov.cli import app
from bigov.db.batch import ImportBatch
from bigov.governance.cycle_models import Cycle
from bigov.metrics.models import MetricAggregate, MetricRawFile
from bigov.org.models import OrgUnit
from bigov.work.models import WorkItem
from bigov.workspace import Workspace

runner = CliRunner()

DEFS = """
measures:
  - code: calls
    name: Calls handled
    frequency: daily
    grains: [day, month]
    series: [{code: calls-A, org: OU-A}]
"""


def _db(ws: Workspace) -> str:
    return ws.describe(hide_password=False)


def _invoke(ws: Workspace, *args: str) -> Result:
    result = runner.invoke(app, [*args, "--db", _db(ws)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def _store(ws: Workspace, tmp_path: Path) -> Path:
    # PostgreSQL has no folder beside a file: tell it where raw observations live, as users do
    root = tmp_path / "store"
    root.mkdir(exist_ok=True)
    ws.set_setting("metrics_store_dir", str(root))
    return root


def _populate(ws: Workspace, tmp_path: Path) -> None:
    _store(ws, tmp_path)
    (tmp_path / "org.csv").write_text("code,name,kind\nOU-A,Unit A,department\n")
    (tmp_path / "work.csv").write_text(
        "code,name,kind,nature\nP1,Project one,project,change\nP2,Project two,project,run\n"
    )
    (tmp_path / "defs.yaml").write_text(DEFS)
    (tmp_path / "obs.csv").write_text(
        "series,ts,value\n"
        + "".join(f"calls-A,2025-04-{d:02d}T12:00:00Z,{d}\n" for d in range(1, 29))
    )
    for args in (
        ("import", str(tmp_path / "org.csv"), "--kind", "org_unit"),
        ("import", str(tmp_path / "work.csv"), "--kind", "work_item"),
        ("metrics", "import-definitions", str(tmp_path / "defs.yaml")),
        ("metrics", "load", str(tmp_path / "obs.csv")),
    ):
        result = _invoke(ws, *args)
        assert result.exit_code == 0, (args, result.output)


def _state(ws: Workspace) -> dict[str, object]:
    with ws.session() as s:
        return {
            "work": sorted(s.execute(select(WorkItem.code, WorkItem.name)).all()),
            "org": sorted(s.scalars(select(OrgUnit.code))),
            "batches": s.scalar(select(func.count()).select_from(ImportBatch)),
            "aggregates": s.scalar(select(func.count()).select_from(MetricAggregate)),
            "raw": sorted(s.scalars(select(MetricRawFile.path))),
            "month": sorted(
                s.scalars(select(MetricAggregate.sum).where(MetricAggregate.grain == "month")).all()
            ),
        }


def _doctor(ws: Workspace, *extra: str) -> tuple[int, dict[str, object]]:
    result = _invoke(ws, "doctor", "--json", *extra)
    return result.exit_code, json.loads(result.output)


# -- doctor --------------------------------------------------------------------------------------
def test_doctor_on_a_clean_workspace(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace, tmp_path)
    code, report = _doctor(workspace)
    assert code == 0 and report["ok"] and report["findings"] == []


def test_doctor_finds_and_repairs(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace, tmp_path)
    raw = workspace.metrics.store.root / "raw"
    (raw / ".batch-00000077.parquet.part").write_bytes(b"half")
    [catalogued] = [p for p in raw.iterdir() if p.suffix == ".parquet"]
    (raw / "batch-00000078.parquet").write_bytes(catalogued.read_bytes())
    with workspace.session() as s:
        s.add(ImportBatch(source="metrics", kind="metric_observation", status="running"))
    code, report = _doctor(workspace)
    assert code == 5 and not report["ok"]
    found = sorted((f["check"], f["repairable"]) for f in report["findings"])
    assert found == [("batches", True), ("raw_store", True), ("raw_store", True)]
    code, report = _doctor(workspace, "--repair")
    assert code == 0 and all(f["repaired"] for f in report["findings"])
    assert sorted(p.name for p in raw.iterdir() if p.is_file()) == [catalogued.name]
    with workspace.session() as s:
        assert "running" not in set(s.scalars(select(ImportBatch.status)))
    assert _doctor(workspace)[0] == 0


def test_doctor_reports_what_it_cannot_repair(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    ws = sqlite_workspace
    _populate(ws, tmp_path)
    [catalogued] = list((ws.metrics.store.root / "raw").iterdir())
    catalogued.unlink()
    code, report = _doctor(ws, "--repair")
    assert code == 5
    [finding] = report["findings"]
    assert finding["check"] == "raw_store" and not finding["repairable"]
    text = _invoke(ws, "doctor").output
    assert "problem(s) remain" in text


# -- backup and restore ----------------------------------------------------------------------------
def test_backup_restore_round_trip_sqlite(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    ws = sqlite_workspace
    _populate(ws, tmp_path)
    before = _state(ws)
    archive = tmp_path / "ws.tar.gz"
    assert _invoke(ws, "backup", str(archive)).exit_code == 0
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "database/bigov.db" in names
    assert any(n.startswith("metrics/raw/batch-") for n in names)
    # a second backup to the same name is refused rather than overwriting
    assert _invoke(ws, "backup", str(archive)).exit_code == 2

    target = tmp_path / "restored" / "bigov.db"
    url = f"sqlite:///{target}"
    result = runner.invoke(app, ["restore", str(archive), "--db", url])
    assert result.exit_code == 0, result.output
    with Workspace.open(url) as restored:
        restored.set_setting("metrics_store_dir", "")  # its own store, beside the file
        assert _state(restored) == before
        assert (target.with_name("bigov.db.metrics") / before["raw"][0]).is_file()  # type: ignore[index]
        code, report = _doctor(restored)
        assert code == 0, report
    # a non-empty target is refused without --force, replaced with it
    refused = runner.invoke(app, ["restore", str(archive), "--db", url])
    assert refused.exit_code == 5 and "--force" in refused.output
    assert runner.invoke(app, ["restore", str(archive), "--db", url, "--force"]).exit_code == 0


def test_restore_refuses_a_damaged_archive(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    ws = sqlite_workspace
    _populate(ws, tmp_path)
    archive = tmp_path / "ws.tar.gz"
    assert _invoke(ws, "backup", str(archive)).exit_code == 0
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name == "database/bigov.db":
                body = body[:-1] + bytes([body[-1] ^ 1])
            member.size = len(body)
            dst.addfile(member, io.BytesIO(body))
    # a hand-made archive whose manifest names a path outside the store
    evil = tmp_path / "evil.tar.gz"
    body = b"x"
    manifest = {
        "format": "bigov-backup",
        "version": 1,
        "backend": "sqlite",
        "files": [
            {"path": "metrics/../../escaped", "size": 1, "sha256": hashlib.sha256(body).hexdigest()}
        ],
    }
    with tarfile.open(evil, "w:gz") as dst:
        for name, data in (
            ("manifest.json", json.dumps(manifest).encode()),
            ("metrics/../../escaped", body),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    target = tmp_path / "r.db"
    for bad in (damaged, evil, tmp_path / "work.csv"):
        result = runner.invoke(app, ["restore", str(bad), "--db", f"sqlite:///{target}"])
        assert result.exit_code == 6, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not target.exists()


def test_backup_restore_round_trip_postgres(tmp_path: Path) -> None:
    from tests.conftest import POSTGRES_URL, drop_schema, new_schema_name

    if not POSTGRES_URL:
        pytest.skip("BIGOV_TEST_POSTGRES_URL is not set")
    schema = new_schema_name()
    ws = Workspace.open(POSTGRES_URL, schema=schema)
    try:
        _populate(ws, tmp_path)
        before = _state(ws)
        archive = tmp_path / "pg.tar.gz"
        result = _invoke(ws, "backup", str(archive))
        assert result.exit_code == 0, result.output
        with tarfile.open(archive) as tar:
            assert "database/workspace.dump" in tar.getnames()
        # change the data and lose a raw file, then restore over it
        (tmp_path / "more.csv").write_text("code,name,kind,nature\nP3,Three,project,change\n")
        assert (
            _invoke(ws, "import", str(tmp_path / "more.csv"), "--kind", "work_item").exit_code == 0
        )
        for p in (tmp_path / "store" / "raw").iterdir():
            p.unlink()
        url = _db(ws)
        ws.close()
        refused = runner.invoke(app, ["restore", str(archive), "--db", url])
        assert refused.exit_code == 5, refused.output
        restored = runner.invoke(app, ["restore", str(archive), "--db", url, "--force"])
        assert restored.exit_code == 0, restored.output
        ws = Workspace.open(POSTGRES_URL, schema=schema)
        assert _state(ws) == before
        code, report = _doctor(ws)
        assert code == 0, report
    finally:
        ws.close()
        drop_schema(schema)


def test_postgres_backup_without_pg_dump_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import POSTGRES_URL, drop_schema, new_schema_name

    if not POSTGRES_URL:
        pytest.skip("BIGOV_TEST_POSTGRES_URL is not set")
    schema = new_schema_name()
    ws = Workspace.open(POSTGRES_URL, schema=schema)
    try:
        monkeypatch.setenv("PATH", str(tmp_path))  # an outside boundary: the binary is absent
        result = _invoke(ws, "backup", str(tmp_path / "x.tar.gz"))
        assert result.exit_code == 2 and "pg_dump is not installed" in result.output
    finally:
        ws.close()
        drop_schema(schema)


# -- fault injection -------------------------------------------------------------------------------
def _cli(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bigov.cli", *args, "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )


def _kill_at(proc: subprocess.Popen[bytes], delay: float) -> None:
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def _big_inputs(tmp_path: Path, rows: int) -> tuple[Path, Path]:
    work = tmp_path / "big_work.csv"
    work.write_text(
        "code,name,kind,nature\n"
        + "".join(f"W{i:06d},Item {i},project,change\n" for i in range(rows // 10))
    )
    obs = tmp_path / "big_obs.csv"
    with obs.open("w") as fh:
        fh.write("series,ts,value\n")
        start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
        for i in range(rows):
            ts = start + dt.timedelta(minutes=15 * i)
            fh.write(f"calls-A,{ts:%Y-%m-%dT%H:%M:%SZ},{i % 97}\n")
    return work, obs


def _fault_round(ws: Workspace, tmp_path: Path, command: list[str], delay: float) -> None:
    url = _db(ws)
    _kill_at(_cli(url, *command), delay)
    code, report = _doctor(ws, "--repair")
    assert code == 0, report
    code, report = _doctor(ws)
    assert code == 0 and report["findings"] == [], report
    done = subprocess.run(
        [sys.executable, "-m", "bigov.cli", *command, "--db", url],
        capture_output=True,
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert b"Traceback" not in done.stderr
    assert _doctor(ws)[0] == 0


def _prepare(ws: Workspace, tmp_path: Path) -> None:
    _store(ws, tmp_path)
    (tmp_path / "defs.yaml").write_text(DEFS)
    assert _invoke(ws, "metrics", "import-definitions", str(tmp_path / "defs.yaml")).exit_code == 0


def test_killed_metrics_load_quick(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    ws = sqlite_workspace
    _prepare(ws, tmp_path)
    _, obs = _big_inputs(tmp_path, 100_000)
    _fault_round(ws, tmp_path, ["metrics", "load", str(obs)], random.Random(12).uniform(1.0, 3.0))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_import_and_load_at_random_points(
    workspace: Workspace, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    _prepare(workspace, tmp_path)
    work, obs = _big_inputs(tmp_path, 300_000)
    for command in (
        ["import", str(work), "--kind", "work_item"],
        ["metrics", "load", str(obs)],
    ):
        _fault_round(workspace, tmp_path, command, rng.uniform(0.5, 6.0))


def test_doctor_packs_and_snapshots(workspace: Workspace, tmp_path: Path) -> None:
    from sqlalchemy import delete, update

    from bigov.governance.cycle_models import CycleArtefact, CycleSnapshot
    from bigov.governance.models import Cadence, GovernanceNode, NodeKind

    with workspace.session() as s:
        s.add(
            GovernanceNode(
                code="GOV-1", name="Board", kind=NodeKind.MAIN_BOARD, cadence=Cadence.MONTHLY
            )
        )
    out = tmp_path / "packs"
    for node_period in ("2026-08", "2026-09"):
        result = _invoke(
            workspace,
            "cycle",
            "run",
            "--node",
            "GOV-1",
            "--period",
            node_period,
            "--out",
            str(out),
            "--format",
            "html",
        )
        assert result.exit_code == 0, result.output
    assert _doctor(workspace)[0] == 0
    # a pack file lost, and a published cycle whose packs were never recorded
    (out / "GOV-1_2026-09_v1.html").unlink()
    with workspace.session() as s:
        aug = s.scalars(select(Cycle.id).where(Cycle.code == "GOV-1/2026-08/v1")).one()
        s.execute(delete(CycleArtefact).where(CycleArtefact.cycle_id == aug))
    code, report = _doctor(workspace)
    assert code == 5
    assert sorted(f["subject"] for f in report["findings"]) == [
        "cycle GOV-1/2026-08/v1",
        "cycle GOV-1/2026-09/v1",
    ]
    again = tmp_path / "again"
    code, report = _doctor(workspace, "--repair", "--packs", str(again))
    assert code == 0, report
    assert (out / "GOV-1_2026-09_v1.html").is_file()
    assert {p.suffix for p in again.iterdir()} == {".html", ".pdf", ".xlsx"}
    assert _doctor(workspace)[0] == 0
    # a snapshot changed behind the cycle's back cannot be repaired, only reported
    with workspace.session() as s:
        s.execute(update(CycleSnapshot).values(sha256="0" * 64))
    code, report = _doctor(workspace, "--repair")
    assert code == 5
    assert {f["check"] for f in report["findings"]} == {"snapshots"}
    assert not any(f["repaired"] for f in report["findings"])


def test_doctor_cleans_legacy_text_and_reports_legacy_codes(workspace: Workspace) -> None:
    from sqlalchemy import insert

    # rows written before the rule (Core inserts bypass the ORM door, as an old bigov did)
    with workspace.session() as s:
        s.execute(
            insert(WorkItem.__table__).values(
                code="OLD-1",
                name="Vertical\x0btab\u202e",
                kind="project",
                nature="change",
                category="transform",
                phase="identification",
            )
        )
        s.execute(insert(OrgUnit.__table__).values(code="OLD UNIT", name="Unit", kind="department"))
    code, report = _doctor(workspace)
    assert code == 5
    subjects = sorted(f["subject"] for f in report["findings"])
    assert subjects == ["org_unit: 1 code(s)", "work_item: 1 row(s)"]
    code, report = _doctor(workspace, "--repair")
    assert code == 5  # the code is reported, never renamed
    with workspace.session() as s:
        assert s.scalars(select(WorkItem.name)).one() == "Vertical tab"
