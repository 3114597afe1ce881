"""Issue 20 item 5 (CLI side): outside text never reaches a terminal or a pipe with its
control characters obeyed -- team names, members, titles and remote error bodies are
shown escaped (``\\x1b``) by :func:`kagsync.text.printable`."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.boards import csv_c, write_zip
from tests.kaggle_standin import kaggle_standin  # noqa: F401

HOSTILE = "\x1b[31mRED\x1b]0;pwned-title\x07"
MEMBER = "al\x1bice"


@pytest.fixture
def hostile(cli, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    rows = [
        (1, 101, HOSTILE, "2026-05-01 10:00:00", "0.9", 1, f"{MEMBER},bob"),
        (2, 102, "Beta\u202eateB", "2026-05-01 10:00:00", "0.8", 1, "carol"),
    ]
    write_zip(folder / "comp.zip", csv_c(rows), slug="comp")
    result = cli(
        "--source", str(folder), "competition", "add", "comp", "--status", "ongoing", "--title", "Comp \x1b[2J title"
    )
    assert result.exit_code == 0, result.output
    return cli


def _no_raw_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text)


@pytest.mark.parametrize("width", ["80", "200"])
def test_hostile_names_are_escaped_on_a_terminal(hostile, width):
    for args in (
        ("leaderboard", "comp"),
        ("competition", "list"),
        ("competition", "show", "comp"),
        ("history", "comp"),
        ("movers", "comp"),
    ):
        result = hostile(*args, env={"KAGSYNC_FORCE_TTY": width})
        assert result.exit_code == 0, result.output
        _no_raw_controls(result.output)
    shown = hostile("leaderboard", "comp", env={"KAGSYNC_FORCE_TTY": "200"}).stdout
    assert "\\x1b[31mRED" in shown and "al\\x1bice" in shown and "\\u202e" in shown


def test_hostile_names_are_escaped_in_a_pipe(hostile):
    result = hostile("leaderboard", "comp")
    assert result.exit_code == 0
    _no_raw_controls(result.stdout)
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all(line.count("\t") == lines[0].count("\t") for line in lines)
    assert "\\x1b[31mRED\\x1b]0;pwned-title\\x07" in result.stdout
    _no_raw_controls(hostile("competition", "list").stdout)


def test_hostile_names_are_escaped_in_json(hostile):
    result = hostile("leaderboard", "comp", "--json")
    _no_raw_controls(result.stdout)
    assert "\\u001b[31mRED" in result.stdout and "\\u202e" in result.stdout
    assert HOSTILE in [row["team_name"] for row in json.loads(result.stdout)]  # a reader gets it back


def test_a_remote_error_body_with_escapes_is_shown_escaped(cli, kaggle_standin, db_path):  # noqa: F811
    kaggle_standin.serve_details("comp", title="Comp")
    kaggle_standin.serve_error("comp", 403, {"code": 403, "message": "denied \x1b[2J\x1b]0;x\x07 here"})
    result = cli("competition", "add", "comp", "--status", "ongoing")
    assert result.exit_code == 3, result.output
    _no_raw_controls(result.output)
    result = cli("sync", "comp")
    assert result.exit_code == 3
    _no_raw_controls(result.output)
    assert "\\x1b[2J" in result.output
    for env in ({}, {"KAGSYNC_FORCE_TTY": "80"}):
        result = cli("runs", env=env)
        assert result.exit_code == 0
        _no_raw_controls(result.output)
    logs = list(db_path.parent.glob("*.log"))
    assert logs and "denied" in logs[0].read_text()
    _no_raw_controls(logs[0].read_text())


def test_the_live_watch_display_escapes_a_tick_error(monkeypatch):
    import io

    from rich.console import Console

    from kagsync.cli.app import State
    from kagsync.cli.running import WatchDisplay

    display = WatchDisplay(State(), once=True)
    display.transition(SimpleNamespace(slug="comp", old="upcoming", new="ongoing", reason="start \x1b]0;x\x07"))
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    monkeypatch.setattr("kagsync.cli.running.stderr", console)
    console.print(display._render())
    text = console.file.getvalue()
    assert "start \\x1b]0;x\\x07" in text and "\x07" not in text


def test_emoji_codes_in_outside_text_are_shown_as_written(cli, tmp_path):
    """`:x:` in a team name, a title or a bad file's header is text, not rich's emoji."""
    folder = tmp_path / "boards"
    folder.mkdir()
    write_zip(
        folder / "cup.zip", csv_c([(1, 101, ":x: Team :fire:", "2026-05-01 10:00:00", "0.9", 1, "ann")]), slug="cup"
    )
    added = cli("--source", str(folder), "competition", "add", "cup", "--status", "ongoing", "--title", "Cup :rocket:")
    assert added.exit_code == 0, added.output
    for args in (("leaderboard", "cup"), ("competition", "list"), ("competition", "show", "cup")):
        shown = cli(*args, env={"KAGSYNC_FORCE_TTY": "200"}).output
        assert "❌" not in shown and "🔥" not in shown and "🚀" not in shown, shown
    assert ":x: Team :fire:" in cli("leaderboard", "cup", env={"KAGSYNC_FORCE_TTY": "200"}).output
    bad = tmp_path / "comps.csv"
    bad.write_text("slug,a:x:b\ncup,1\n", encoding="utf-8")
    result = cli("import", str(bad), env={"KAGSYNC_FORCE_TTY": "200"})
    assert result.exit_code == 2 and "'a:x:b'" in result.output and "❌" not in result.output, result.output
