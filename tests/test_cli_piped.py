"""Issue 19 item 7: piped output is for programs -- plain numbers, signed moves, marks in
columns of their own, one table per command (messages for a person go to stderr)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_roster import boards, club, event, roster_file  # noqa: F401

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
GROUPED = re.compile(r"\d,\d{3}")  # a thousands separator


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The bundled demo: snapshot 1, then the latest boards (so moves exist)."""
    from tests.cli_runner import invoke

    db = tmp_path_factory.mktemp("demo") / "demo.db"
    first = invoke(
        [
            "--db",
            str(db),
            "--source",
            str(EXAMPLES / "snapshots" / "1"),
            "import",
            str(EXAMPLES / "comps.csv"),
            "--create-events",
        ],
    )
    assert first.exit_code == 0, first.output
    latest = invoke(["--db", str(db), "--source", str(EXAMPLES / "leaderboards"), "sync", "--all-active"])
    assert latest.exit_code == 0, latest.output

    def run(*args: str, env: dict[str, str] | None = None):
        return invoke(["--db", str(db), *args], env={"COLUMNS": "200", **(env or {})})

    return run


def _rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    assert lines, "no output"
    width = lines[0].count("\t")
    assert all(line.count("\t") == width for line in lines), "not one table"
    return [line.split("\t") for line in lines]


def test_piped_standings_are_plain_numbers_with_marks_in_columns(demo):
    result = demo("event", "standings", "neural-night-2025")
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    header = rows[0]
    assert header[:4] == ["#", "Participant", "Kind", "Points"] and header[-2:] == ["Entered", "By team name"]
    assert not GROUPED.search(result.stdout)
    for row in rows[1:]:
        float(row[3])  # a plain number
        assert not row[1].endswith(("*", "(team)")), row
        assert row[2] in ("user", "team", "member")
    assert any(row[2] == "team" for row in rows[1:])


def test_piped_moves_are_signed_integers(demo):
    board = _rows(demo("leaderboard", "titanic").stdout)
    header = board[0]
    assert header == ["Rank", "Team", "Members", "Score", "Subs", "Last submission", "Move", "New", "Benchmark"]
    moves = [row[6] for row in board[1:]]
    assert all(re.fullmatch(r"[+-][1-9]\d*|0|", move) for move in moves), set(moves)
    assert any(move.startswith("+") for move in moves) and any(move.startswith("-") for move in moves)
    assert "▲" not in demo("leaderboard", "titanic").stdout
    movers = _rows(demo("movers", "titanic").stdout)
    assert movers[0][3] == "Move" and all(re.fullmatch(r"[+-]\d+|", row[3]) for row in movers[1:])
    team = demo("leaderboard", "titanic", "--top", "1").stdout.splitlines()[1].split("\t")[1]
    history = _rows(demo("history", "titanic", "--team", team).stdout)
    assert history[0][:4] == ["Synced", "Change", "Rank", "Move"]
    assert all(re.fullmatch(r"[+-]\d+|0|", row[3]) for row in history[1:])


def test_a_terminal_still_shows_arrows_and_separators(demo):
    tty = {"KAGSYNC_FORCE_TTY": "200"}
    assert GROUPED.search(demo("event", "standings", "neural-night-2025", env=tty).stdout)
    assert "▲" in demo("leaderboard", "titanic", env=tty).stdout


def test_piped_roster_board_marks_are_a_column(cli, club, event):  # noqa: F811
    result = cli("leaderboard", "comp-a", "--event", event)
    rows = _rows(result.stdout)
    assert rows[0][-1] == "Roster" and "★" not in result.stdout
    assert "Alice Archer,Bob" in [row[-1] for row in rows[1:]]
    standings = _rows(cli("event", "standings", event, "--scheme", "rank-sum").stdout)
    assert standings[0][2] == "Kind"
    assert not any(row[1].endswith("*") for row in standings[1:])


def test_piped_roster_check_is_one_table(cli, club, event):  # noqa: F811
    result = cli("roster", "check", event)
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert rows[0] == ["Finding", "Competition", "Rank", "Team", "Member", "Name", "Detail"]
    assert {row[0] for row in rows[1:]} <= {"name-match", "ambiguous", "not-found"} and len(rows) > 1
    assert "found on at least one" in result.stderr and "found on at least one" not in result.stdout


def test_piped_groups_are_their_own_table(cli, club, event):  # noqa: F811
    rows = _rows(cli("event", "standings", event, "--groups").stdout)
    assert rows[0] == ["#", "Group", "Best", "Best member", "Members", "Entered"]
    shown = cli("event", "standings", event, "--groups", env={"KAGSYNC_FORCE_TTY": "100"}).stdout
    assert "Groups of" in shown and "Participant" not in shown


def test_piped_event_show_is_one_table(demo):
    rows = _rows(demo("event", "show", "neural-night-2025").stdout)
    assert rows[0][0] == "Slug" and "titanic" in [row[0] for row in rows[1:]]
    shown = demo("event", "show", "neural-night-2025", env={"KAGSYNC_FORCE_TTY": "200"}).stdout
    assert "title" in shown and "titanic" in shown
