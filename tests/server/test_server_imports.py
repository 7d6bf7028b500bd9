"""Imports over HTTP: the same report as ``bigov import --json``, all-or-nothing, PMO/admin only,
audited, the body limit (413), hostile file names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bigov.auth.models import AuditEvent
from bigov.cli import app as cli_app
from bigov.errors import ValidationError
from bigov.ingest.service import import_file, resolve_options
from bigov.work.models import WorkItem
from tests.server.conftest import Org

IMPORTS = "/api/v1/imports"
GOOD = (
    "code,name,kind,parent,org_unit,phase\n"
    "PRJ-U1,Uploaded one,project,PG-B,U-B,delivery\n"
    "PRJ-U2,Uploaded two,project,PG-B,U-B,delivery\n"
)
# one good row and two bad ones: nothing of it may be written
BAD = (
    "code,name,kind,parent,org_unit,phase\n"
    "PRJ-U3,Fine,project,PG-B,U-B,delivery\n"
    "PRJ-U4,Unknown parent,project,NOPE,U-B,delivery\n"
    "PRJ-U5,Bad kind,spaceship,PG-B,U-B,delivery\n"
)


def _items(org: Org) -> list[str]:
    with org.ws.session() as s:
        return list(s.scalars(select(WorkItem.code).order_by(WorkItem.code)))


def _audit(org: Org, kind: str = "import_batch") -> list[AuditEvent]:
    with org.ws.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.entity_kind == kind)))


def _upload(org: Org, who: str, name: str, content: str, **form: object) -> object:
    return org.client.post(
        IMPORTS,
        files={"file": (name, content.encode(), "text/csv")},
        data={"kind": "work_item", **form},
        headers=org.auth(who),
    )


def test_the_report_is_the_clis(org: Org, tmp_path: Path) -> None:
    path = tmp_path / "work.csv"
    path.write_text(GOOD)
    cli = CliRunner().invoke(
        cli_app,
        [
            "import", str(path), "--kind", "work_item", "--dry-run", "--json",
            "--user", "admin@example.org", "--db", org.ws.describe(hide_password=False),
        ],
    )  # fmt: skip
    assert cli.exit_code == 0, cli.output
    dry = _upload(org, "admin", "work.csv", GOOD, dry_run="true")
    assert dry.status_code == 200  # type: ignore[attr-defined]
    assert dry.json() == json.loads(cli.stdout)  # type: ignore[attr-defined]
    assert "PRJ-U1" not in _items(org)

    done = _upload(org, "pmo", "work.csv", GOOD)
    assert done.status_code == 201, done.text  # type: ignore[attr-defined]
    report = done.json()  # type: ignore[attr-defined]
    assert report["status"] == "committed" and report["batch_id"]
    assert report["counts"]["work_item"]["inserted"] == 2
    assert report["totals"]["inserted"] == 2 and report["user"] == "pmo@example.org"
    assert {"PRJ-U1", "PRJ-U2"} <= set(_items(org))
    (event,) = [e for e in _audit(org) if e.action == "import"]
    assert event.user_email == "pmo@example.org" and event.after is not None
    assert event.entity_code == f"batch-{report['batch_id']}"
    batches = org.client.get(IMPORTS, headers=org.auth("pmo")).json()
    assert batches[0]["id"] == report["batch_id"] and batches[0]["status"] == "committed"


def test_a_refused_file_lists_every_problem_and_writes_nothing(org: Org, tmp_path: Path) -> None:
    before = _items(org)
    got = _upload(org, "admin", "bad.csv", BAD)
    assert got.status_code == 422  # type: ignore[attr-defined]
    assert got.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = got.json()  # type: ignore[attr-defined]
    assert _items(org) == before
    # the same problems the CLI's import finds in the same file
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    with pytest.raises(ValidationError) as err:
        import_file(org.ws, path, options=resolve_options(kind="work_item"), dry_run=True)
    expected = [
        {"file": p.file, "sheet": p.sheet, "row": p.row, "column": p.column, "value": p.value,
         "reason": p.reason}
        for p in err.value.problems
    ]  # fmt: skip
    assert body["problems"] == expected and body["problem_count"] == len(expected) >= 2
    assert {p["row"] for p in body["problems"]} >= {3, 4} or len(expected) >= 2
    assert [e.action for e in _audit(org)] == ["import_refused"]


@pytest.mark.parametrize("who", ["board", "boardall", "mgr", "ben", "viewer"])
def test_only_pmo_and_admin_import(org: Org, who: str) -> None:
    got = _upload(org, who, "work.csv", GOOD)
    assert got.status_code == 403  # type: ignore[attr-defined]
    assert org.client.get(IMPORTS, headers=org.auth(who)).status_code == 403
    assert "PRJ-U1" not in _items(org)
    anonymous = org.client.post(IMPORTS, files={"file": ("w.csv", GOOD.encode(), "text/csv")})
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../../etc/work.csv", "work.csv"),
        ("..\\..\\work.csv", "work.csv"),
        ("evil\u202ecsv.exe.csv", "evil_csv.exe.csv"),
        ("new\nline.csv", "new_0Aline.csv"),  # the client sends the newline as %0A
        (".hidden.csv", "hidden.csv"),
        ("CON.csv", "_CON.csv"),
    ],
)
def test_hostile_file_names_stay_data(org: Org, name: str, expected: str) -> None:
    got = _upload(org, "admin", name, GOOD)
    assert got.status_code == 201, got.text  # type: ignore[attr-defined]
    assert got.json()["file_name"] == expected  # type: ignore[attr-defined]


def test_an_oversized_upload_is_refused_before_it_is_read(org: Org) -> None:
    limit = org.client.app.state.bigov.settings.max_body_bytes  # type: ignore[attr-defined]
    rows = GOOD + "".join(
        f"PRJ-Z{i:07d},{'x' * 60},project,PG-B,U-B,delivery\n" for i in range(limit // 80 + 10)
    )
    before = _audit(org)
    got = _upload(org, "admin", "big.csv", rows)
    assert got.status_code == 413  # type: ignore[attr-defined]
    assert "PRJ-U1" not in _items(org)
    assert _audit(org) == before
    with org.ws.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkItem)) == len(_items(org))


def test_bad_form_values_are_422(org: Org) -> None:
    for form in ({"kind": "../x"}, {"option": "novalue"}, {"importer": "a b"}):
        got = org.client.post(
            IMPORTS,
            files={"file": ("w.csv", GOOD.encode(), "text/csv")},
            data=form,
            headers=org.auth("admin"),
        )
        assert got.status_code in (400, 422), (form, got.status_code)
    assert "PRJ-U1" not in _items(org)
