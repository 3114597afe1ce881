"""Views of stored boards: movement, filters, history and movers after three real syncs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kagsync.errors import NotFoundError, ValidationError
from kagsync.sources import FileSource
from kagsync.sync import Syncer
from kagsync.views import (
    board_history,
    leaderboard_entries,
    movement_text,
    movers,
    rank_series,
    read_snapshot,
    resolve_team,
    team_history,
)
from tests.boards import BOARD_1, BOARD_2, csv_c, write_zip

# Sync 3 after BOARD_1 and BOARD_2 of tests/boards.py: Delta climbs 3 -> 1, Beta falls
# 1 -> 2, Alpha (renamed in sync 2) falls 2 -> 3, Epsilon is new and Gamma, who left in
# sync 2, comes back. The benchmark keeps its score (no change record).
BOARD_3 = [
    (1, 104, "Delta", "2026-05-04 12:00:00", "0.95000", 2, "gina"),
    (2, 102, 'Beta "B" Team', "2026-05-03 11:00:00", "0.92500", 3, "carol"),
    (3, 101, "Alpha Renamed", "2026-05-01 10:00:00", "0.91000", 3, "alice,bob"),
    (0, 999, "Sample Benchmark", "2026-04-01 00:00:00", "0.85000", 1, ""),
    (4, 105, "Épsilon ÖMER", "2026-05-04 13:00:00", "0.60000", 1, "Omer"),
    (5, 103, "Gamma, Inc", "2026-05-04 14:00:00", "0.55000", 6, "dave,erin,frank"),
]

SYNC_TIMES = ("2026-05-01T10:00:00Z", "2026-05-02T10:00:00Z", "2026-05-03T10:00:00Z")


def sync_boards(db_path: Path, database, competition, boards, tmp_path: Path, times=SYNC_TIMES) -> None:
    """Sync each board in turn from a real zip, then date the runs one day apart."""
    first = database.conn.execute("SELECT coalesce(max(id), 0) FROM sync_runs").fetchone()[0]
    for index, rows in enumerate(boards):
        path = write_zip(tmp_path / f"{competition.slug}-{index}.zip", csv_c(rows), slug=competition.slug)
        outcome = Syncer(db_path, FileSource(path)).sync(competition, "manual")
        assert outcome.ok, outcome.error
    runs = database.conn.execute(
        "SELECT id FROM sync_runs WHERE id > ? AND competition_id = ? ORDER BY id", (first, competition.id)
    ).fetchall()
    for (run_id,), when in zip(runs, times):
        database.conn.execute("UPDATE sync_runs SET started_at = ?, finished_at = ? WHERE id = ?", (when, when, run_id))


@pytest.fixture
def comp(repository):
    return repository.add_competition("comp", title="Comp", sync=False).competition


@pytest.fixture
def synced3(db_path, database, comp, tmp_path):
    sync_boards(db_path, database, comp, [BOARD_1, BOARD_2, BOARD_3], tmp_path)
    return comp


def test_movement_after_three_syncs(database, synced3):
    entries = leaderboard_entries(database, synced3)
    assert [(e["team_id"], e["rank"], e["movement"], e["is_new"]) for e in entries] == [
        (104, 1, 2, False),
        (102, 2, -1, False),
        (101, 3, -1, False),
        (999, 0, 0, False),  # the benchmark sits at its score's place and did not move
        (105, 4, None, True),
        (103, 5, None, True),  # left in sync 2, back in sync 3: new again
    ]
    assert [movement_text(e) for e in entries] == ["▲ 2", "▼ 1", "▼ 1", "–", "new", "new"]
    delta = entries[0]
    assert delta == {
        "rank": 1,
        "team_id": 104,
        "team_name": "Delta",
        "score": "0.95000",
        "score_value": 0.95,
        "submission_count": 2,
        "last_submission": "2026-05-04T12:00:00Z",
        "members": ["gina"],
        "is_benchmark": False,
        "movement": 2,
        "is_new": False,
        "board": "public",
    }
    assert entries[3]["is_benchmark"] is True


def test_first_sync_shows_no_movement(db_path, database, comp, tmp_path):
    sync_boards(db_path, database, comp, [BOARD_1], tmp_path)
    entries = leaderboard_entries(database, comp)
    assert [e["team_id"] for e in entries] == [101, 102, 999, 103]
    assert all(e["movement"] is None and e["is_new"] is False for e in entries)
    assert {movement_text(e) for e in entries} == {""}


def test_unchanged_resync_means_nobody_moved(db_path, database, comp, tmp_path):
    sync_boards(db_path, database, comp, [BOARD_1, BOARD_1], tmp_path)
    assert {(e["movement"], e["is_new"]) for e in leaderboard_entries(database, comp)} == {(0, False)}


def test_top_counts_benchmarks_and_keeps_them_in_place(database, synced3):
    assert [e["team_id"] for e in leaderboard_entries(database, synced3, top=3)] == [104, 102, 101]
    assert [e["team_id"] for e in leaderboard_entries(database, synced3, top=4)] == [104, 102, 101, 999]
    assert [e["team_id"] for e in leaderboard_entries(database, synced3, top=99)] == [104, 102, 101, 999, 105, 103]


def test_lower_is_better_board_places_benchmark_by_its_score(db_path, database, repository, tmp_path):
    comp = repository.add_competition("rmse", lower_is_better=True, sync=False).competition
    rows = [
        (1, 1, "Best", "2026-05-01 10:00:00", "-0.50000", 1, "a"),
        (2, 2, "Mid", "2026-05-01 10:00:00", "0.20000", 1, "b"),
        (0, 9, "Benchmark", "2026-05-01 10:00:00", "0.30000", 1, ""),
        (3, 3, "Worst", "2026-05-01 10:00:00", "0.90000", 1, "c"),
    ]
    sync_boards(db_path, database, comp, [rows], tmp_path)
    assert [e["team_id"] for e in leaderboard_entries(database, comp)] == [1, 2, 9, 3]


def test_team_and_user_filters(database, synced3):
    def ids(**kwargs):
        return [e["team_id"] for e in leaderboard_entries(database, synced3, **kwargs)]

    assert ids(team="alpha") == [101]
    assert ids(team="ALPHA REN") == [101]
    assert ids(team="ömer") == [105]  # case-insensitive beyond ASCII
    assert ids(team='"b"') == [102]
    assert ids(team="a") == [104, 102, 101, 999, 103]
    assert ids(user="ALICE") == [101]
    assert ids(user="bob") == [101]
    assert ids(user="omer") == [105]
    assert ids(user="ali") == []  # usernames match exactly
    assert ids(team="zzz") == []
    assert ids(team="a", user="gina") == [104]


def test_board_history(database, synced3):
    history = board_history(database, synced3)
    assert [
        (h["synced_at"], h["entries"], h["top_score"], h["created"], h["updated"], h["removed"]) for h in history
    ] == [
        (SYNC_TIMES[0], 4, "0.91000", 4, 0, 0),
        (SYNC_TIMES[1], 4, "0.92500", 1, 2, 1),
        (SYNC_TIMES[2], 6, "0.95000", 2, 3, 0),
    ]


def test_failed_runs_are_not_history(db_path, database, synced3, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert Syncer(db_path, FileSource(bad)).sync(synced3, "manual").status == "failed"
    assert len(board_history(database, synced3)) == 3
    assert [e["movement"] for e in leaderboard_entries(database, synced3, top=3)] == [2, -1, -1]


def test_team_history_by_id_name_and_old_name(database, synced3):
    alpha = team_history(database, synced3, "101")
    assert alpha["team"] == {
        "team_id": 101,
        "team_name": "Alpha Renamed",
        "on_board": True,
        "rank": 3,
        "score": "0.91000",
    }
    assert [
        (c["synced_at"], c["kind"], c["rank"], c["previous_rank"], c["movement"], c["score"], c["team_name"])
        for c in alpha["changes"]
    ] == [
        (SYNC_TIMES[0], "new", 1, None, None, "0.91000", "Alpha"),
        (SYNC_TIMES[1], "changed", 2, 1, -1, "0.91000", "Alpha Renamed"),
        (SYNC_TIMES[2], "changed", 3, 2, -1, "0.91000", "Alpha Renamed"),
    ]
    assert team_history(database, synced3, "alpha renamed")["team"]["team_id"] == 101
    assert team_history(database, synced3, "Alpha")["team"]["team_id"] == 101  # its old name
    assert team_history(database, synced3, "renam")["team"]["team_id"] == 101  # part of a name
    gamma = team_history(database, synced3, "Gamma, Inc")
    assert [(c["kind"], c["rank"], c["previous_rank"]) for c in gamma["changes"]] == [
        ("new", 3, None),
        ("removed", None, 3),
        ("new", 5, None),
    ]


def test_team_history_of_a_departed_team(db_path, database, comp, tmp_path):
    sync_boards(db_path, database, comp, [BOARD_1, BOARD_2], tmp_path)
    gamma = team_history(database, comp, "gamma, inc")
    assert gamma["team"] == {"team_id": 103, "team_name": "Gamma, Inc", "on_board": False, "rank": None, "score": None}
    assert [c["kind"] for c in gamma["changes"]] == ["new", "removed"]


def test_ambiguous_and_unknown_teams(db_path, database, comp, tmp_path):
    rows = [
        (1, 1, "Twins", "2026-05-01 10:00:00", "0.9", 1, "a"),
        (2, 2, "twins", "2026-05-01 10:00:00", "0.8", 1, "b"),
        (3, 3, "Twins Extra", "2026-05-01 10:00:00", "0.7", 1, "c"),
    ]
    sync_boards(db_path, database, comp, [rows], tmp_path)
    with pytest.raises(ValidationError, match=r"ambiguous.*matches 2 teams.*use the team id"):
        resolve_team(database, comp, "TWINS")
    assert resolve_team(database, comp, "2")["team_name"] == "twins"
    assert resolve_team(database, comp, "extra")["team_id"] == 3
    with pytest.raises(NotFoundError, match="no team 'nobody' on comp"):
        resolve_team(database, comp, "nobody")
    with pytest.raises(NotFoundError):
        resolve_team(database, comp, "12345")  # digits that are neither an id nor a name


def test_movers_since_the_previous_sync(database, synced3):
    result = movers(database, synced3)
    assert result["baseline"] == {"run_id": 2, "synced_at": SYNC_TIMES[1]}
    assert result["latest"] == {"run_id": 3, "synced_at": SYNC_TIMES[2]}
    assert [(i["team_id"], i["movement"], i["previous_rank"], i["rank"]) for i in result["climbers"]] == [
        (104, 2, 3, 1)
    ]
    assert [(i["team_id"], i["movement"]) for i in result["fallers"]] == [(102, -1), (101, -1)]
    assert [(i["team_id"], i["rank"], i["score"]) for i in result["new"]] == [(105, 4, "0.60000"), (103, 5, "0.55000")]
    assert result["departed"] == []
    assert result["totals"] == {"climbers": 1, "fallers": 2, "new": 2, "departed": 0}


def test_movers_since_a_time_compares_with_the_board_then(database, synced3):
    # Baseline: sync 1 (the last at or before noon on May 1st). Beta is 2nd then and now.
    result = movers(database, synced3, since="2026-05-01T12:00:00Z")
    assert result["baseline"]["run_id"] == 1
    assert result["climbers"] == []
    assert [(i["team_id"], i["movement"], i["previous_rank"], i["rank"]) for i in result["fallers"]] == [
        (101, -2, 1, 3),
        (103, -2, 3, 5),
    ]
    assert [i["team_id"] for i in result["new"]] == [104, 105]
    # Before the first sync the board was empty: every team (not the benchmark) is new.
    early = movers(database, synced3, since="2026-01-01T00:00:00Z")
    assert early["baseline"] is None and early["compared"]
    assert [i["team_id"] for i in early["new"]] == [104, 102, 101, 105, 103]
    # After the latest sync: nothing changed since.
    late = movers(database, synced3, since="2027-01-01T00:00:00Z")
    assert late["totals"] == {"climbers": 0, "fallers": 0, "new": 0, "departed": 0}


def test_movers_departed_and_limit(db_path, database, comp, tmp_path):
    sync_boards(db_path, database, comp, [BOARD_1, BOARD_2], tmp_path)
    result = movers(database, comp, limit=1)
    assert [(i["team_id"], i["previous_rank"], i["previous_score"], i["team_name"]) for i in result["departed"]] == [
        (103, 3, "0.80000", "Gamma, Inc"),
    ]
    assert [i["team_id"] for i in result["climbers"]] == [102]
    assert [i["team_id"] for i in result["fallers"]] == [101]
    assert [i["team_id"] for i in result["new"]] == [104]
    full = movers(database, comp, limit=None)
    assert full["totals"] == {"climbers": 1, "fallers": 1, "new": 1, "departed": 1}


def test_movers_with_one_sync_compares_nothing(db_path, database, comp, tmp_path):
    sync_boards(db_path, database, comp, [BOARD_1], tmp_path)
    result = movers(database, comp)
    assert not result["compared"] and result["new"] == []
    assert movers(database, comp, since="2026-01-01")["totals"]["new"] == 3


def test_rank_series(database, synced3):
    series = rank_series(database, synced3, [101, 103])
    assert series[101] == [(1, SYNC_TIMES[0], 1), (2, SYNC_TIMES[1], 2), (3, SYNC_TIMES[2], 3)]
    assert series[103] == [(1, SYNC_TIMES[0], 3), (2, SYNC_TIMES[1], None), (3, SYNC_TIMES[2], 5)]


def test_read_snapshot_does_not_see_writes_made_meanwhile(db_path, database, synced3, tmp_path):
    path = write_zip(tmp_path / "again.zip", csv_c(BOARD_1), slug="comp")
    with read_snapshot(database):
        assert len(leaderboard_entries(database, synced3)) == 6
        assert Syncer(db_path, FileSource(path)).sync(synced3, "manual").ok  # its own connection
        assert len(leaderboard_entries(database, synced3)) == 6
    assert len(leaderboard_entries(database, synced3)) == 4
