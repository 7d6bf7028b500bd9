"""Hostile codes, names and arguments: one rule for codes on every path, literal look-ups, no
Rich markup from data, no password in messages, no workspace created by a read-only command,
unknown codes exit 4. Every payload must be refused cleanly (one message, an exit code, no
traceback) or shown as typed, and refused input changes nothing stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bigov.cli import app
from bigov.codes import NODE_CODE_MAX, CodeError, check_code, code_problem, strip_control
from bigov.db.engine import parse_url
from bigov.errors import ConfigError, NotFoundError, ValidationError
from bigov.governance.cycle import get_cycle
from bigov.governance.cycle_models import Cycle, CycleStatus
from bigov.governance.models import Cadence, GovernanceNode, NodeKind
from bigov.ingest.service import import_file, resolve_options
from bigov.work.models import WorkItem, WorkKind
from bigov.workspace import Workspace

runner = CliRunner()

# Payloads tried by the tests of this module, counted for the closing note of issue 12.
BAD_CODES = [
    "A\x00B",  # NUL
    "A B",  # space
    "A\\B",  # backslash
    "A\nB",  # newline
    "A\u202eB",  # right-to-left override
    "A\u2066B",  # bidi isolate
    "A\x85B",  # C1 next line
    "%",
    "GOV-%",
    "A_%",
    "-rf",
    ".hidden",
    "/abs",
    "a'b",
    'a"b',
    "a<b>",
    "[/x]",
    "x" * 65,
    "",
    "ÅSA",  # non-ASCII letter
]
GOOD_CODES = ["DFT_0040_2021-Q1", "GOV-BOARD", "PRJ-1", "OTC-1@v2", "KPI.1/a", "A", "9"]


def _ok(result: Result) -> None:
    """A clean outcome: no exception other than the exit, no traceback, no markup error."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert "MarkupError" not in result.output


def _db(ws: Workspace) -> str:
    return ws.describe(hide_password=False)


# -- the rule ----------------------------------------------------------------------------------
@pytest.mark.parametrize("code", GOOD_CODES)
def test_good_codes_pass(code: str) -> None:
    assert check_code(code) == code


@pytest.mark.parametrize("code", BAD_CODES)
def test_bad_codes_are_refused_with_a_reason(code: str) -> None:
    with pytest.raises(CodeError) as info:
        check_code(code, "work_item")
    message = str(info.value)
    assert "\x00" not in message and "\u202e" not in message and "\n" not in message
    assert info.value.exit_code == 6


def test_node_codes_leave_room_for_every_derived_code() -> None:
    node = "N" * NODE_CODE_MAX
    assert code_problem(node, "governance_node") is None
    assert code_problem(node + "N", "governance_node") is not None
    for derived in (
        f"{node}/2026-09/v99999",  # cycle
        f"{node}-TOL-schedule_days",  # tolerance
        f"{node}-D9999",  # decision
        f"{node}-A99-I99",  # information definition
    ):
        assert code_problem(derived) is None, derived


def test_fact_codes_may_carry_titles_but_no_control_characters() -> None:
    assert code_problem("PPG/1/Cost vs budget (%)", fact=True) is None
    assert code_problem("PPG/1/Cost\x00", fact=True) is not None
    assert code_problem(" PPG/1", fact=True) is not None


def test_strip_control() -> None:
    assert strip_control("Water\x0bworks\u202e plc\x00") == "Water works plc"
    assert strip_control("line 1\nline 2\tend\x1b[31m", long_text=True) == "line 1\nline 2\tend[31m"


# -- every path ----------------------------------------------------------------------------------
def test_import_reports_every_bad_code_and_stores_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    rows = ["code,name,kind,nature"]
    rows.append("OK-1,Fine,project,change")
    bad = ["A B", "A\\B", "%", "x" * 65, "-rf", "a<b>", "A\u202eB"]
    rows += [f'"{c}",Bad {i},project,change' for i, c in enumerate(bad)]
    path = tmp_path / "work.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_file(workspace, path, options=resolve_options(kind="work_item"))
    problems = [p for p in info.value.problems if p.column == "code"]
    assert sorted({p.row for p in problems if p.row is not None}) == list(range(3, 3 + len(bad)))
    assert all(p.file == "work.csv" and p.reason for p in problems)
    with workspace.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkItem)) == 0


def test_import_strips_control_characters_from_names_and_says_so(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "work.csv"
    path.write_text(
        "code,name,kind,nature,description\n"
        'P1,"Water\x0bworks\u202e",project,change,"two\nlines\x07"\n'
        "P2,Clean,project,change,\n",
        encoding="utf-8",
    )
    result = import_file(workspace, path, options=resolve_options(kind="work_item"))
    assert result.counts["work_item"]["control_chars_stripped"] == 2
    with workspace.session() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.code == "P1")).one()
        assert item.name == "Water works"
        assert item.description == "two\nlines"


def test_orm_door_refuses_bad_codes_and_cleans_names(workspace: Workspace) -> None:
    for code in ("N\x00", "N" * (NODE_CODE_MAX + 1), "GOV BOARD", "GOV\u202e"):
        with pytest.raises(CodeError), workspace.session() as s:
            s.add(GovernanceNode(code=code, name="x", kind=NodeKind.MAIN_BOARD))
    with workspace.session() as s:
        assert s.scalar(select(func.count()).select_from(GovernanceNode)) == 0
        s.add(
            GovernanceNode(code="GOV-1", name="Board\x0bof\x00 directors", kind=NodeKind.MAIN_BOARD)
        )
    with workspace.session() as s:
        assert s.scalars(select(GovernanceNode.name)).one() == "Board of directors"


def test_design_import_applies_the_rule(workspace: Workspace, tmp_path: Path) -> None:
    from bigov.governance.design import import_design

    long_code = "N" * (NODE_CODE_MAX + 1)
    path = tmp_path / "design.yaml"
    path.write_text(
        "nodes:\n"
        f"  - {{code: '{long_code}', name: Long, kind: main_board, cadence: monthly}}\n"
        "  - {code: 'A B', name: Spaced, kind: main_board, cadence: monthly}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as info:
        import_design(workspace, path)
    reasons = [p.reason for p in info.value.problems if p.column == "code"]
    assert any("at most 40" in r for r in reasons) and any("found a space" in r for r in reasons)
    with workspace.session() as s:
        assert s.scalar(select(func.count()).select_from(GovernanceNode)) == 0


# -- exact look-ups --------------------------------------------------------------------------------
@pytest.fixture
def two_cycles(workspace: Workspace) -> Workspace:
    with workspace.session() as s:
        for code in ("GOV-A", "GOV-B"):
            node = GovernanceNode(
                code=code, name=code, kind=NodeKind.MAIN_BOARD, cadence=Cadence.MONTHLY
            )
            s.add(node)
            s.flush()
            for version in (1, 2):
                s.add(
                    Cycle(
                        code=f"{code}/2026-10/v{version}",
                        node_id=node.id,
                        period=dt.date(2026, 10, 1),
                        period_start=dt.date(2026, 10, 1),
                        as_at=dt.date(2026, 10, 31),
                        version=version,
                        status=CycleStatus.DRAFT,
                        summary={},
                    )
                )
    return workspace


@pytest.mark.parametrize(
    "pattern", ["GOV-%/2026-10", "%/2026-10", "GOV-_/2026-10", "GOV-A/2026-1%", "GOV-A/2026-10 "]
)
def test_get_cycle_matches_literally(two_cycles: Workspace, pattern: str) -> None:
    with two_cycles.session() as s:
        with pytest.raises(NotFoundError):
            get_cycle(s, pattern)
        assert get_cycle(s, "GOV-A/2026-10").code == "GOV-A/2026-10/v2"
        assert get_cycle(s, "GOV-B/2026-10/v1").code == "GOV-B/2026-10/v1"


def test_publish_by_pattern_publishes_nothing(two_cycles: Workspace) -> None:
    result = runner.invoke(app, ["cycle", "publish", "GOV-%/2026-10", "--db", _db(two_cycles)])
    _ok(result)
    assert result.exit_code == 4
    result = runner.invoke(
        app, ["decision", "add", "--cycle", "%/2026-10", "--title", "x", "--db", _db(two_cycles)]
    )
    _ok(result)
    assert result.exit_code == 4
    with two_cycles.session() as s:
        assert set(s.scalars(select(Cycle.status))) == {CycleStatus.DRAFT}


# -- terminal output -------------------------------------------------------------------------------
MARKUP = "[/x]"


@pytest.fixture
def marked_up(sqlite_workspace: Workspace) -> Workspace:
    """A workspace whose organisation, node, work item and names are markup-like."""
    ws = sqlite_workspace
    ws.set_setting("organisation_name", f"Acme {MARKUP} [link=file:///etc/passwd]x[/link]")
    with ws.session() as s:
        s.add(
            GovernanceNode(
                code="GOV-X",
                name=f"Board {MARKUP}",
                kind=NodeKind.MAIN_BOARD,
                cadence=Cadence.MONTHLY,
            )
        )
        s.add(WorkItem(code="PRJ-X", name=f"Project {MARKUP} [bold", kind=WorkKind.PROJECT))
    return ws


def _all_commands() -> list[list[str]]:
    from typer.main import get_command

    root = get_command(app)
    out: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        sub = getattr(cmd, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(child, [*path, name])
        else:
            out.append(path)

    walk(root, [])
    return out


def test_every_help_renders() -> None:
    commands = _all_commands()
    assert len(commands) >= 40
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        _ok(result)
        assert result.exit_code == 0, (path, result.output)


def _invocations(tmp: Path) -> list[list[str]]:
    m = MARKUP
    return [
        ["status"],
        ["status", "--json"],
        ["init", "--organisation", f"New {m}"],
        ["trace", m],
        ["trace", "PRJ-X"],
        ["gaps"],
        ["attainment", m],
        ["benefits", "--by", m],
        ["balance"],
        ["capacity"],
        ["rollup", m],
        ["rollup"],
        ["agility"],
        ["quality"],
        ["batches"],
        ["import", str(tmp / f"{m}.csv"), "--kind", "work_item"],
        ["import", str(tmp / "w.csv"), "--kind", m],
        ["export", str(tmp / f"out{m}.json")],
        ["template", str(tmp / f"t{m}.xlsx")],
        ["governance", "show"],
        ["governance", "show", "--node", m],
        ["governance", "init", "--template", m],
        ["governance", "propose"],
        ["cycle", "list"],
        ["cycle", "list", "--node", m],
        ["cycle", "show", m],
        ["cycle", "publish", m],
        ["cycle", "check", "--node", m, "--period", "2026-09"],
        ["cycle", "check", "--node", "GOV-X", "--period", m],
        ["cycle", "run", "--node", m, "--period", "2026-09", "--out", str(tmp / "p")],
        ["decision", "list", "--node", m],
        ["decision", "add", "--cycle", m, "--title", m],
        ["metrics", "show", m],
        ["metrics", "show", "kpi", "--org", m],
        ["metrics", "completeness", m],
        ["metrics", "recompute", m],
        ["portfolio", "scenario", "list"],
        ["portfolio", "optimise", str(tmp / f"{m}.yaml")],
        ["doctor"],
        ["backup", str(tmp / f"b{m}.tar.gz")],
        ["restore", str(tmp / f"{m}.tar.gz")],
    ]


def test_markup_in_data_and_arguments_never_crashes(marked_up: Workspace, tmp_path: Path) -> None:
    (tmp_path / "w.csv").write_text("code,name\nA,B\n")
    # data is shown as typed, and no hyperlink escape reaches the terminal
    status = runner.invoke(app, ["status", "--db", _db(marked_up)])
    assert "[link=file:///etc/passwd]x[/link]" in status.output
    assert "\x1b]8;" not in status.output
    invocations = _invocations(tmp_path)
    crashed = []
    for args in invocations:
        result = runner.invoke(app, [*args, "--db", _db(marked_up)])
        try:
            _ok(result)
            assert result.exit_code in (0, 1, 2, 3, 4, 5, 6, 7), result.output
        except AssertionError as err:
            crashed.append((args, repr(result.exception), str(err)[:300]))
    assert not crashed, crashed


def test_terminal_control_characters_are_shown_escaped(sqlite_workspace: Workspace) -> None:
    sqlite_workspace.set_setting("organisation_name", "Evil\x1b]8;;file:///etc/passwd\x07plc")
    result = runner.invoke(app, ["status", "--db", _db(sqlite_workspace)])
    _ok(result)
    assert "\x1b]8" not in result.output and "\x07" not in result.output
    assert "Evil\\x1b]8;;file:///etc/passwd\\x07plc" in result.output


# -- secrets --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("postgres://user:S3CRETpw@127.0.0.1:1/x", 3),
        ("postgresql://user:S3CRETpw@127.0.0.1:1/x", 3),
        ("mysql://user:S3CRETpw@127.0.0.1/x", 2),
        ("postgresql+asyncpg://user:S3CRETpw@127.0.0.1/x", 2),
        ("postgresql://user:S3CRETpw@127.0.0.1:notaport/x", 2),
    ],
)
def test_no_password_in_messages(url: str, code: int) -> None:
    result = runner.invoke(app, ["status", "--db", url])
    _ok(result)
    assert result.exit_code == code, result.output
    assert "S3CRETpw" not in result.output


def test_postgres_spellings_mean_psycopg() -> None:
    for scheme in ("postgres", "postgresql"):
        assert parse_url(f"{scheme}://u:p@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ConfigError) as info:
        parse_url("oracle://u:S3CRETpw@h/db")
    assert "S3CRETpw" not in str(info.value)


# -- read-only commands, unknown codes ----------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["gaps"],
        ["cycle", "list"],
        ["decision", "list"],
        ["batches"],
        ["doctor"],
        ["metrics", "show", "kpi"],
        ["export", "out.json"],
        ["governance", "show"],
    ],
)
def test_read_only_commands_do_not_create_a_workspace(tmp_path: Path, args: list[str]) -> None:
    target = tmp_path / "typo.db"
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{target}"])
    _ok(result)
    assert result.exit_code == 3, result.output
    assert "no workspace at" in result.output and "bigov init" in result.output
    assert not target.exists()


def test_read_only_commands_need_a_workspace_on_postgres(tmp_path: Path) -> None:
    from tests.conftest import POSTGRES_URL, new_schema_name

    if not POSTGRES_URL:
        pytest.skip("BIGOV_TEST_POSTGRES_URL is not set")
    schema = new_schema_name()
    result = runner.invoke(app, ["status", "--db", f"{POSTGRES_URL}?schema={schema}"])
    _ok(result)
    assert result.exit_code == 3 and "no workspace at" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["cycle", "list", "--node", "NOPE"],
        ["decision", "list", "--node", "NOPE"],
        ["metrics", "show", "kpi", "--org", "NOPE"],
        ["metrics", "completeness", "kpi", "--org", "NOPE"],
        ["cycle", "check", "--node", "NOPE", "--period", "2026-09"],
        ["cycle", "show", "NOPE/2026-09"],
    ],
)
def test_unknown_codes_exit_4(workspace: Workspace, args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--db", _db(workspace)])
    _ok(result)
    assert result.exit_code == 4, result.output
    assert "NOPE" in result.output


def payload_counts(tmp_path: Path) -> dict[str, int]:
    """How many hostile inputs this module tries (for the closing note)."""
    return {
        "codes": len(BAD_CODES) + len(GOOD_CODES),
        "cli_invocations": len(_invocations(tmp_path)) + len(_all_commands()),
    }


def test_nul_in_a_node_code_and_a_tab_in_a_name_are_handled_at_the_door(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "nodes.json"
    path.write_text(
        '[{"code": "GOV-\\u0000X", "name": "Board", "kind": "main_board", "cadence": "monthly"},'
        f' {{"code": "{"G" * (NODE_CODE_MAX + 1)}", "name": "Long", "kind": "main_board",'
        ' "cadence": "monthly"}]',
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["import", str(path), "--kind", "governance_node", "--db", _db(workspace)]
    )
    _ok(result)
    assert result.exit_code == 6 and "U+0000" in result.output and "at most 40" in result.output
    path.write_text(
        '[{"code": "GOV-Y", "name": "Vertical\\u000btab", "kind": "main_board",'
        ' "cadence": "monthly"}]',
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["import", str(path), "--kind", "governance_node", "--db", _db(workspace)]
    )
    _ok(result)
    assert result.exit_code == 0, result.output
    with workspace.session() as s:
        assert s.scalars(select(GovernanceNode.name)).all() == ["Vertical tab"]
    # and the month is not stopped: the node's cycle runs and its XLSX pack is written
    out = tmp_path / "packs"
    result = runner.invoke(
        app,
        [
            "cycle",
            "run",
            "--node",
            "GOV-Y",
            "--period",
            "2026-09",
            "--out",
            str(out),
            "--format",
            "xlsx",
            "--db",
            _db(workspace),
        ],
    )
    _ok(result)
    assert result.exit_code == 0, result.output
    assert (out / "GOV-Y_2026-09_v1.xlsx").is_file()


def test_the_installed_command_creates_only_when_asked(tmp_path: Path) -> None:
    """As users run it (`python -m bigov.cli`, a program name of several words)."""
    import os
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bigov.cli", *args],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            check=False,
        )

    target = tmp_path / "ws.db"
    missing = run("status", "--db", f"sqlite:///{target}")
    assert missing.returncode == 3 and not target.exists()
    assert run("init", "--db", f"sqlite:///{target}").returncode == 0
    assert run("status", "--db", f"sqlite:///{target}").returncode == 0


def test_nul_and_bidi_in_arguments_are_refused_cleanly_on_every_backend(
    workspace: Workspace,
) -> None:
    for payload in ("A\x00B", "A\u202eB", "A%", "A\\B"):
        for args in (
            ["cycle", "show", payload],
            ["cycle", "publish", payload],
            ["cycle", "list", "--node", payload],
            ["decision", "list", "--node", payload],
            ["decision", "add", "--cycle", payload, "--title", payload],
            ["trace", payload],
            ["rollup", payload],
            ["attainment", payload],
            ["metrics", "show", payload],
            ["metrics", "show", "kpi", "--org", payload],
            ["cycle", "check", "--node", payload, "--period", "2026-09"],
            ["init", "--organisation", payload],
        ):
            result = runner.invoke(app, [*args, "--db", _db(workspace)])
            _ok(result)
            assert result.exit_code in (0, 4, 6), (args, result.output)
    assert "\x00" not in workspace.setting("organisation_name")


def test_style_tags_in_data_are_shown_as_typed(sqlite_workspace: Workspace) -> None:
    from bigov.cli_support import safe_text

    assert safe_text("[bold]x[/]").plain == "x"  # the commands' own templates still style
    for typed in ("[bold]", "a [/x] b", "[red]", "[link=file:///etc/passwd]", "[/][bold]"):
        assert safe_text(typed).plain == typed
    sqlite_workspace.set_setting("organisation_name", "Acme [bold] [red]")
    result = runner.invoke(app, ["status", "--db", _db(sqlite_workspace)])
    _ok(result)
    assert "Acme [bold] [red]" in result.output
    result = runner.invoke(app, ["benefits", "--by", "[bold]", "--db", _db(sqlite_workspace)])
    _ok(result)
    assert result.exit_code == 2 and "'[bold]'" in result.output
