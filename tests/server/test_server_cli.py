"""`bigov user`, `bigov token`, `bigov audit` and `bigov serve` as an operator meets them; the
server started as a real process, asked over loopback, and stopped gracefully."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bigov.cli import app
from bigov.workspace import Workspace
from tests.server.conftest import seed

runner = CliRunner()
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _db(ws: Workspace) -> str:
    return ws.describe(hide_password=False)


def test_user_and_token_commands(sqlite_workspace: Workspace) -> None:
    seed(sqlite_workspace)
    db = _db(sqlite_workspace)
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            "V@Example.org",
            "--role",
            "viewer",
            "--unit",
            "U-A",
            "--password-stdin",
            "--db",
            db,
        ],
        input="a long enough password\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["user", "list", "--json", "--db", db])
    assert json.loads(listed.stdout) == [
        {
            "email": "v@example.org",
            "role": "viewer",
            "disabled": False,
            "locked_until": None,
            "units": ["U-A"],
            "nodes": [],
        }
    ]
    token = runner.invoke(app, ["token", "create", "v@example.org", "--expires", "30", "--db", db])
    assert token.exit_code == 0 and token.stdout.startswith("bgv_")
    assert (
        "revoked 1" in runner.invoke(app, ["token", "revoke", "v@example.org", "--db", db]).output
    )
    assert runner.invoke(app, ["user", "disable", "v@example.org", "--db", db]).exit_code == 0
    assert '"disabled": true' in runner.invoke(app, ["user", "list", "--json", "--db", db]).stdout
    audit = runner.invoke(app, ["audit", "--entity", "PG-A", "--json", "--db", db])
    assert audit.exit_code == 0 and json.loads(audit.stdout) == []


def test_bad_user_input_is_one_line_exit_6_and_stores_nothing(sqlite_workspace: Workspace) -> None:
    seed(sqlite_workspace)
    db = _db(sqlite_workspace)
    cases = [
        (["--role", "emperor"], "role 'emperor'"),
        (["--role", "viewer", "--unit", "NOPE"], "--unit 'NOPE'"),
        (["--role", "viewer", "--node", "N-X"], "--node 'N-X'"),
    ]
    for extra, message in cases:
        got = runner.invoke(
            app,
            ["user", "add", "a@b.org", *extra, "--password-stdin", "--db", db],
            input="a long enough password\n",
        )
        assert got.exit_code == 6, got.output
        assert message in got.output and "Traceback" not in got.output
    short = runner.invoke(
        app,
        ["user", "add", "a@b.org", "--role", "viewer", "--password-stdin", "--db", db],
        input="short\n",
    )
    assert short.exit_code == 6
    assert json.loads(runner.invoke(app, ["user", "list", "--json", "--db", db]).stdout) == []
    unknown = runner.invoke(app, ["token", "create", "nobody@b.org", "--db", db])
    assert unknown.exit_code == 4


def test_sqlite_serves_from_one_process(sqlite_workspace: Workspace) -> None:
    got = runner.invoke(app, ["serve", "--workers", "2", "--db", _db(sqlite_workspace)])
    assert got.exit_code == 2 and "one process" in got.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_stops_gracefully(sqlite_workspace: Workspace) -> None:
    seed(sqlite_workspace)
    db = _db(sqlite_workspace)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bigov.cli", "serve", "--db", db, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    assert json.load(r) == {"status": "ok"}
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/v1/work-items", timeout=5)
        assert refused.value.code == 401
        refused.value.close()  # the error holds the response's socket
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    # uvicorn finishes the requests in flight, runs the shutdown, then re-raises the signal
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete" in err
    assert "Context impl" not in err
    access = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {(a["path"], a["status"]) for a in access} >= {
        ("/healthz", 200),
        ("/api/v1/work-items", 401),
    }


def test_user_list_keeps_long_emails_whole_at_100_columns(sqlite_workspace: Workspace) -> None:
    # an email names the user in every other command (token create, disable): never cut it
    from bigov.cli_support import console

    seed(sqlite_workspace)
    db = _db(sqlite_workspace)
    email = "joseph.atkinson.29@northwind-utilities.example"
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            email,
            "--role",
            "benefit_owner",
            "--unit",
            "U-A",
            "--password-stdin",
            "--db",
            db,
        ],
        input="a long enough password\n",
    )
    assert added.exit_code == 0, added.output
    before = console._width
    console.width = 100
    try:
        listed = runner.invoke(app, ["user", "list", "--db", db])
        audit = runner.invoke(app, ["audit", "--db", db])
    finally:
        console._width = before
    assert listed.exit_code == 0, listed.output
    assert email in listed.stdout and "…" not in listed.stdout
    assert all(len(line) <= 100 for line in listed.stdout.splitlines())
    assert audit.exit_code == 0 and "No writes made through the server." in audit.stdout
