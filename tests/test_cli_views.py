"""leaderboard, history, movers, event standings, export and report, run like a user would."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from tests.boards import BOARD_1, BOARD_2, csv_c, write_zip
from tests.test_views import BOARD_3, SYNC_TIMES


@pytest.fixture
def synced(cli, db_path, tmp_path):
    """Event "night" with "comp" synced three times (a day apart) and "solo" synced once."""
    assert cli("event", "add", "Night", "--slug", "night").exit_code == 0
    for slug in ("comp", "solo"):
        result = cli("competition", "add", slug, "--event", "night", "--no-sync")
        assert result.exit_code == 0, result.output
    for index, rows in enumerate([BOARD_1, BOARD_2, BOARD_3]):
        path = write_zip(tmp_path / f"b{index}.zip", csv_c(rows), slug="comp")
        result = cli("sync", "comp", "--from", str(path))
        assert result.exit_code == 0, result.output
    solo = [(1, 501, "Lone Wolf", "2026-05-01 10:00:00", "0.5", 1, "carol")]
    assert cli("sync", "solo", "--from", str(write_zip(tmp_path / "s.zip", csv_c(solo), slug="solo"))).exit_code == 0
    with sqlite3.connect(db_path) as conn:
        runs = [
            r[0]
            for r in conn.execute(
                "SELECT r.id FROM sync_runs r JOIN competitions c ON c.id = r.competition_id"
                " WHERE c.slug = 'comp' ORDER BY r.id"
            )
        ]
        for run_id, when in zip(runs, SYNC_TIMES):
            conn.execute("UPDATE sync_runs SET finished_at = ? WHERE id = ?", (when, run_id))
    return cli


# Tables as drawn for a 200-column terminal (stdout is a pipe in these tests).
TTY = {"KAGSYNC_FORCE_TTY": "200"}


def one_line_error(result, code, fragment):
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], result.stderr


def test_leaderboard_table_shows_movement_and_benchmarks(synced):
    result = synced("leaderboard", "comp", env=TTY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    row = {
        name: next(line for line in lines if name in line)
        for name in ("Delta", "Beta", "Alpha", "Benchmark", "Épsilon", "Gamma")
    }
    assert "▲ 2" in row["Delta"] and "▼ 1" in row["Beta"] and "▼ 1" in row["Alpha"]
    assert "new" in row["Épsilon"] and "new" in row["Gamma"]
    assert "bench" in row["Benchmark"] and "(benchmark)" in row["Benchmark"] and "–" in row["Benchmark"]
    assert "0.95000" in row["Delta"] and "alice, bob" in row["Alpha"]
    assert "Move: since the previous sync (2026-05-02 10:00)" in result.stdout


def test_leaderboard_json_keeps_keys_and_adds_movement(synced):
    entries = synced.json("leaderboard", "comp", "--top", "4")
    assert list(entries[0]) == [
        "rank",
        "team_id",
        "team_name",
        "score",
        "score_value",
        "submission_count",
        "last_submission",
        "members",
        "is_benchmark",
        "movement",
        "is_new",
        "board",
    ]
    assert [(e["team_id"], e["movement"], e["is_new"]) for e in entries] == [
        (104, 2, False),
        (102, -1, False),
        (101, -1, False),
        (999, 0, False),
    ]
    assert synced.json("leaderboard", "comp", "--team", "GAMMA")[0]["is_new"] is True
    assert [e["team_id"] for e in synced.json("leaderboard", "comp", "--user", "Alice")] == [101]


def test_leaderboard_csv(synced):
    result = synced("leaderboard", "comp", "--csv", "--team", "a")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["team_id"], r["movement"], r["is_new"], r["members"]) for r in rows] == [
        ("104", "2", "0", "gina"),
        ("102", "-1", "0", "carol"),
        ("101", "-1", "0", "alice,bob"),
        ("999", "0", "0", ""),
        ("103", "", "1", "dave,erin,frank"),
    ]


def test_leaderboard_bad_input(synced):
    one_line_error(
        synced("leaderboard", "comp", "--team", "nobody"), 1, "no team on comp has a name containing 'nobody'"
    )
    one_line_error(synced("leaderboard", "comp", "--user", "zed"), 1, "member 'zed'")
    one_line_error(synced("leaderboard", "comp", "--json", "--csv"), 2, "choose one of --json and --csv")
    one_line_error(synced("leaderboard", "nope"), 1, "no competition 'nope'")


def test_history_of_a_digit_like_name_is_not_a_crash(synced):
    result = synced("history", "comp", "--team", "²")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def test_history(synced, tmp_path):
    board = synced.json("history", "comp")
    assert [(s["synced_at"], s["entries"], s["top_score"]) for s in board["syncs"]] == [
        (SYNC_TIMES[2], 6, "0.95000"),
        (SYNC_TIMES[1], 4, "0.92500"),
        (SYNC_TIMES[0], 4, "0.91000"),
    ]  # newest first
    assert len(synced.json("history", "comp", "--limit", "1")["syncs"]) == 1
    # A sync that changed nothing (watch re-syncing a quiet board) is not history.
    same = write_zip(tmp_path / "same.zip", csv_c(BOARD_3), slug="comp")
    assert synced("sync", "comp", "--from", str(same)).exit_code == 0
    assert len(synced.json("history", "comp")["syncs"]) == 3
    team = synced.json("history", "comp", "--team", "alpha")
    assert [(c["rank"], c["score"]) for c in team["changes"]] == [(1, "0.91000"), (2, "0.91000"), (3, "0.91000")]
    result = synced("history", "comp", "--team", "Gamma, Inc", env=TTY)
    assert result.exit_code == 0, result.output
    assert "left" in result.stdout and "now rank 5" in result.stdout
    table = synced("history", "comp")
    assert table.exit_code == 0 and "0.92500" in table.stdout


def test_history_bad_team(synced, tmp_path):
    one_line_error(synced("history", "comp", "--team", "nobody"), 1, "no team 'nobody' on comp")
    twins = [
        (1, 1, "Twins", "2026-05-01 10:00:00", "0.9", 1, "a"),
        (2, 2, "TWINS", "2026-05-01 10:00:00", "0.8", 1, "b"),
    ]
    assert synced("sync", "solo", "--from", str(write_zip(tmp_path / "t.zip", csv_c(twins)))).exit_code == 0
    one_line_error(synced("history", "solo", "--team", "twins"), 2, "ambiguous")
    assert synced.json("history", "solo", "--team", "2")["team"]["team_name"] == "TWINS"


def test_movers(synced):
    result = synced.json("movers", "comp")
    assert [i["team_id"] for i in result["climbers"]] == [104]
    assert [i["team_id"] for i in result["fallers"]] == [102, 101]
    assert [i["team_id"] for i in result["new"]] == [105, 103]
    since = synced.json("movers", "comp", "--since", "2026-05-01T12:00", "--limit", "1")
    assert [i["team_id"] for i in since["fallers"]] == [101]
    assert since["totals"]["fallers"] == 2
    everything = synced.json("movers", "comp", "--since", "2000w")
    assert everything["baseline"] is None and len(everything["new"]) == 5
    table = synced("movers", "comp", env=TTY)
    assert table.exit_code == 0, table.output
    assert "Climbers: 1" in table.stdout and "▲ 2" in table.stdout and "No departed teams." in table.stdout
    once = synced("movers", "solo", env=TTY)
    assert once.exit_code == 0 and "nothing to compare yet" in once.stdout
    assert synced("competition", "add", "fresh", "--no-sync").exit_code == 0
    for command in ("movers", "leaderboard", "history", "shakeup"):  # one message, one exit code for all
        one_line_error(synced(command, "fresh"), 1, "fresh has no stored leaderboard yet: run kagsync sync fresh")


def test_movers_bad_since(synced):
    one_line_error(synced("movers", "comp", "--since", "last tuesday"), 2, "--since: cannot read 'last tuesday'")
    assert synced("movers", "comp", "--limit", "0").exit_code == 2  # Click's usage error


def test_event_standings(synced):
    data = synced.json("event", "standings", "night")
    assert data["scheme"] == "points" and data["method"].startswith("points:")
    assert [c["slug"] for c in data["competitions"]] == ["comp", "solo"]
    carol = next(row for row in data["standings"] if row["key"] == "carol")
    assert carol["entered"] == 2
    result = synced("event", "standings", "night", "--scheme", "rank-sum", env=TTY)
    assert result.exit_code == 0, result.output
    assert "rank-sum: sum of rank × weight" in " ".join(result.stdout.split())
    csv_text = synced("event", "standings", "night", "--csv", "--scheme", "best-percentile").stdout
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert rows[0]["place"] == "1" and "comp rank" in rows[0]


def test_event_standings_bad_input(synced):
    one_line_error(synced("event", "standings", "nope"), 1, "no event 'nope'")
    one_line_error(synced("event", "standings", "night", "--scheme", "elo"), 2, "unknown scheme 'elo'")


def test_export(synced, tmp_path):
    out = tmp_path / "out" / "night.csv"
    out.parent.mkdir()  # -o never creates a missing folder (issue 20 item 3)
    result = synced("export", "--event", "night", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    boards = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(boards) == 6 + 1
    standings = list(
        csv.DictReader(io.StringIO((tmp_path / "out" / "night-standings.csv").read_text(encoding="utf-8-sig")))
    )
    assert standings[0]["place"] == "1"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    document = json.loads(synced("export", "--competition", "comp", "--format", "json").stdout)
    assert [e["team_id"] for e in document["entries"]] == [104, 102, 101, 999, 105, 103]
    lines = synced("export", "--event", "night", "-f", "jsonl").stdout.splitlines()
    assert {json.loads(line)["type"] for line in lines} == {"entry", "standing"}
    assert sorted(p.name for p in out.parent.iterdir()) == ["night-standings.csv", "night.csv"]


def test_export_bad_input(synced, tmp_path):
    one_line_error(synced("export", "--format", "csv"), 2, "exactly one of --event")
    one_line_error(synced("export", "--event", "night", "--competition", "comp"), 2, "exactly one of --event")
    one_line_error(synced("export", "--event", "night"), 2, "give -o FILE")
    one_line_error(synced("export", "--competition", "comp", "--format", "xlsx"), 2, "unknown format 'xlsx'")
    one_line_error(synced("export", "--competition", "nope"), 1, "no competition 'nope'")
    one_line_error(synced("export", "--event", "nope", "-f", "json"), 1, "no event 'nope'")
    one_line_error(synced("export", "--competition", "comp", "-o", str(tmp_path)), 2, "is a folder")


def test_report(synced, tmp_path):
    out = tmp_path / "site" / "results.html"
    out.parent.mkdir()  # -o never creates a missing folder (issue 20 item 3)
    result = synced("report", "night", "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Delta" in html and "Lone Wolf" in html
    assert f"Wrote {out}" in " ".join(result.stderr.split())
    missing = tmp_path / "missing.html"
    one_line_error(synced("report", "nope", "-o", str(missing)), 1, "no event 'nope'")
    assert not missing.exists()
    one_line_error(synced("report", "night", "-o", str(tmp_path)), 2, "is a folder")


@pytest.mark.parametrize(
    "command",
    [["leaderboard"], ["history"], ["movers"], ["export"], ["report"], ["event", "standings"]],
)
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Example:" in result.stdout
