"""Workspace settings from the CLI: shown with their defaults, set one at a time with every value
checked (nothing changes on a refusal), carried by export and import, and read by the analyses
(the run / grow / transform target of `bigov balance`)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bigov.cli import app
from bigov.errors import ConfigError, ValidationError
from bigov.workspace import Workspace

runner = CliRunner()


def _some_data(db: str, tmp_path: Path) -> None:
    units = tmp_path / "org_unit.csv"
    units.write_text("code,name,kind\nBU-A,Business unit A,business_unit\n", encoding="utf-8")
    done = runner.invoke(app, ["import", str(units), "--kind", "org_unit", "--db", db])
    assert done.exit_code == 0, done.output


def test_defaults_and_a_round_of_changes(workspace: Workspace) -> None:
    settings = workspace.settings
    shown = {r.key: r for r in settings.show()}
    assert shown["fiscal_year_start_month"].value == "4"
    assert shown["target_split"].value == "70/20/10"
    assert not any(r.changed for r in shown.values())
    assert "server_secret_key" not in shown
    change = settings.set(
        {
            "timezone": "Europe/Paris",
            "fiscal_year_start_month": "1",
            "currency": "eur",
            "target_split": "55 / 30 / 15",
            "organisation_name": "  Acme\x07 Water ",
        }
    )
    assert change.changed == {
        "timezone": "Europe/Paris",
        "fiscal_year_start_month": "1",
        "currency": "EUR",
        "target_split": "55/30/15",
        "organisation_name": "Acme Water",
    }
    assert workspace.setting("currency") == "EUR"
    assert workspace.fiscal_year_start_month == 1
    # the balance analysis reads the three parts of the split
    from bigov.analysis.balance import target_split

    with workspace.session() as s:
        assert target_split(s) == {
            "run": Decimal("55"),
            "grow": Decimal("30"),
            "transform": Decimal("15"),
        }
    again = settings.set({"currency": "EUR"})
    assert again.changed == {} and again.unchanged == ["currency"]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("timezone", "Europe/Londn", "unknown time zone"),
        ("timezone", "../etc/passwd", "unknown time zone"),
        ("fiscal_year_start_month", "13", "1–12"),
        ("fiscal_year_start_month", "April", "1–12"),
        ("currency", "ABC", "ISO 4217"),
        ("currency", "POUNDS", "ISO 4217"),
        ("target_split", "60/30/15", "adding up to 100"),
        ("target_split", "70/30", "adding up to 100"),
        ("target_split", "120/-10/-10", "adding up to 100"),
        ("organisation_name", "   ", "1 to 200"),
        ("portfolio_discount_rate", "NaN", "from 0 to 0.5"),
        ("nonsense", "1", "no setting"),
        ("target_split_run", "50", "no setting"),
        ("server_secret_key", "x", "no setting"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(
    workspace: Workspace, key: str, value: str, reason: str
) -> None:
    before = workspace.settings.values()
    with pytest.raises(ConfigError, match=reason):
        workspace.settings.set({key: value})
    assert workspace.settings.values() == before


def test_a_file_with_one_bad_value_changes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("currency: USD\ntimezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        workspace.settings.set(workspace.settings.read(path), file=path.name)
    (problem,) = err.value.problems
    assert problem.column == "timezone" and problem.file == "settings.yaml" and problem.row == 2
    assert workspace.setting("currency") == "GBP"


def test_cli_show_set_and_json(sqlite_workspace: Workspace) -> None:
    db = sqlite_workspace.describe()
    shown = runner.invoke(app, ["settings", "show", "--db", db])
    assert shown.exit_code == 0, shown.output
    assert "fiscal_year_start_month" in shown.stdout and "Europe/London" in shown.stdout
    done = runner.invoke(app, ["settings", "set", "timezone", "Asia/Tokyo", "--db", db, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["changed"] == {"timezone": "Asia/Tokyo"}
    bad = runner.invoke(app, ["settings", "set", "timezone", "Asia/Tokio", "--db", db])
    assert bad.exit_code == 2
    assert "unknown time zone" in bad.stderr and "Asia/Tokyo" in bad.stderr
    bad_json = runner.invoke(
        app, ["settings", "set", "fiscal_year_start_month", "0", "--db", db, "--json"]
    )
    assert bad_json.exit_code == 2
    assert json.loads(bad_json.stdout)["error"]["type"] == "ConfigError"
    as_json = json.loads(runner.invoke(app, ["settings", "show", "--db", db, "--json"]).stdout)
    assert as_json["timezone"] == "Asia/Tokyo"


def test_export_and_import_carry_the_settings(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    db = sqlite_workspace.describe()
    _some_data(db, tmp_path)
    sqlite_workspace.settings.set(
        {"timezone": "America/New_York", "target_split": "50/30/20", "currency": "USD"}
    )
    out = tmp_path / "all.json"
    exported = runner.invoke(app, ["export", str(out), "--db", db])
    assert exported.exit_code == 0, exported.output
    beside = tmp_path / "all.settings.yaml"
    assert beside.is_file()
    assert "server_secret_key" not in beside.read_text("utf-8")
    assert "metrics_store_dir" not in beside.read_text("utf-8")
    # an export of some kinds is data only
    some = runner.invoke(app, ["export", str(tmp_path / "org.json"), "-k", "org_unit", "--db", db])
    assert some.exit_code == 0 and not (tmp_path / "org.settings.yaml").exists()

    target = f"sqlite:///{tmp_path / 'copy.db'}"
    assert runner.invoke(app, ["init", "--db", target]).exit_code == 0
    imported = runner.invoke(app, ["import", str(out), "--db", target, "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["settings"]["changed"]["timezone"] == "America/New_York"
    with Workspace.open(target) as copy:
        assert copy.settings.values()["target_split"] == "50/30/20"
        assert copy.setting("currency") == "USD"


def test_import_refuses_a_bad_settings_file_before_the_data(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    db = sqlite_workspace.describe()
    _some_data(db, tmp_path)
    data = tmp_path / "units.json"
    assert runner.invoke(app, ["export", str(data), "--db", db]).exit_code == 0
    (tmp_path / "units.settings.yaml").write_text("currency: XYZ\n", encoding="utf-8")
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    assert runner.invoke(app, ["init", "--db", target]).exit_code == 0
    refused = runner.invoke(app, ["import", str(data), "--db", target])
    assert refused.exit_code == 6
    assert "units.settings.yaml" in refused.stderr
    skipped = runner.invoke(app, ["import", str(data), "--db", target, "--no-settings"])
    assert skipped.exit_code == 0, skipped.output
    with Workspace.open(target) as copy:
        assert copy.setting("currency") == "GBP"


def test_settings_import_command(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    db = sqlite_workspace.describe()
    path = tmp_path / "s.yaml"
    path.write_text("fiscal_year_start_month: 7\norganisation_name: Acme\n", encoding="utf-8")
    done = runner.invoke(app, ["settings", "import", str(path), "--db", db])
    assert done.exit_code == 0, done.output
    assert sqlite_workspace.fiscal_year_start_month == 7
    secret = tmp_path / "secret.yaml"
    secret.write_text("server_secret_key: abc\n", encoding="utf-8")
    assert runner.invoke(app, ["settings", "import", str(secret), "--db", db]).exit_code == 6


def test_a_csv_export_folder_imports_as_one_batch_with_its_settings(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    db = sqlite_workspace.describe()
    _some_data(db, tmp_path)
    sqlite_workspace.settings.set({"currency": "USD", "timezone": "America/New_York"})
    folder = tmp_path / "export"
    exported = runner.invoke(app, ["export", str(folder), "--format", "csv", "--db", db])
    assert exported.exit_code == 0, exported.output
    assert (folder / "org_unit.csv").is_file() and (folder / "settings.yaml").is_file()

    target = f"sqlite:///{tmp_path / 'copy.db'}"
    assert runner.invoke(app, ["init", "--db", target]).exit_code == 0
    # a file named after no kind refuses the whole folder, and nothing is stored
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", str(folder), "--db", target, "--json"])
    assert refused.exit_code == 6, refused.output
    assert "notes.csv is named after no kind" in refused.stdout
    with Workspace.open(target) as copy:
        assert copy.setting("currency") == "GBP"
        from bigov.ingest.service import batches

        assert all(b.status != "committed" for b in batches(copy))
    (folder / "notes.csv").unlink()
    # options that name one file's layout are refused for a folder, not dropped
    named = runner.invoke(app, ["import", str(folder), "--kind", "org_unit", "--db", target])
    assert named.exit_code == 2 and "apply to one file" in named.output
    # a kind exported with no rows is a header alone: nothing to import, no fault
    (folder / "raid_item.csv").write_text("code,kind,title\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", str(folder), "--db", target, "--json"])
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert report["source"] == "export-folder" and report["status"] == "committed"
    assert report["counts"]["org_unit"]["inserted"] == 1
    assert report["settings"]["changed"]["currency"] == "USD"
    again = json.loads(runner.invoke(app, ["import", str(folder), "--db", target, "--json"]).stdout)
    assert all(c["inserted"] == c["updated"] == 0 for c in again["counts"].values())
