"""The README documents every command the CLI offers (docs tested against the code)."""

from __future__ import annotations

from pathlib import Path

import typer

from bigov.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[str]:
    # The resolved command tree (names as users type them), not Typer's registration records.
    root = typer.main.get_command(app)
    names = sorted(getattr(root, "commands", {}))
    return [f"bigov {name}" for name in names]


def test_readme_mentions_every_top_level_command() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [c for c in _commands() if f"`{c}" not in text]
    assert missing == [], f"document these in README.md: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quick = text[: text.index("## The ideas")]
    assert "make demo" in quick
    assert "make test" in quick
