"""Event standings: each scheme on a small event checked by hand."""

from __future__ import annotations

import math

import pytest

from kagsync.errors import NotFoundError, ValidationError
from kagsync.standings import (
    METHODS,
    Board,
    BoardEntry,
    compute_standings,
    event_standings,
    format_total,
    kaggle_points,
    parse_scheme,
)
from tests.test_views import sync_boards

# Competition A (weight 1): 3 teams and a benchmark (which never counts).
BOARD_A = [
    (1, 11, "A1", "2026-05-01 10:00:00", "0.9", 2, "alice,bob"),
    (2, 12, "A2", "2026-05-01 10:00:00", "0.8", 2, "carol"),
    (0, 19, "Benchmark", "2026-05-01 10:00:00", "0.75", 1, ""),
    (3, 13, "Solo", "2026-05-01 10:00:00", "0.7", 2, ""),  # members unknown: "team:Solo"
]
# Competition B (weight 2): 2 teams. Carol is on both boards (her name in another case);
# alice, bob and Solo did not enter B, dave did not enter A.
BOARD_B = [
    (1, 21, "B1", "2026-05-01 10:00:00", "0.9", 1, "Carol"),
    (2, 22, "B2", "2026-05-01 10:00:00", "0.8", 1, "dave"),
]


@pytest.fixture
def event(db_path, database, repository, tmp_path):
    repository.add_event("Hand Checked", slug="hand")
    a = repository.add_competition("comp-a", title="A", event="hand", sync=False).competition
    b = repository.add_competition("comp-b", title="B", event="hand", weight=2, sync=False).competition
    sync_boards(db_path, database, a, [BOARD_A], tmp_path)
    sync_boards(db_path, database, b, [BOARD_B], tmp_path)
    return "hand"


def lines(standings):
    return [(row.place, row.key, row.total) for row in standings.rows]


def test_points_by_hand(repository, event):
    # f(N) = log10(1 + log10(N)): f(3) = log10(1.477121) = 0.169416, f(2) = log10(1.301030) = 0.114287
    # alice, bob: A rank 1, team of 2:   100000 / √2 × 1 × 0.169416                 = 11979.53
    # carol: A rank 2 alone + B rank 1 alone, weight 2:
    #        100000 × 2^-0.75 × 0.169416 + 100000 × 1 × 0.114287 × 2 = 10073.44 + 22857.46 = 32931.01
    # dave:  B rank 2 alone, weight 2:   100000 × 2^-0.75 × 0.114287 × 2            = 13591.13
    # Solo:  A rank 3 alone:             100000 × 3^-0.75 × 0.169416                = 7432.14
    # Missing a competition gives 0. alice and bob tie on points and best rank (1): by name.
    standings = event_standings(repository, event, "points")
    assert [(place, key) for place, key, _ in lines(standings)] == [
        (1, "carol"),
        (2, "dave"),
        (3, "alice"),
        (4, "bob"),
        (5, "team:Solo"),
    ]
    totals = {row.key: row.total for row in standings.rows}
    assert totals == {
        "carol": pytest.approx(32931.006, abs=1e-3),
        "dave": pytest.approx(13591.128, abs=1e-3),
        "alice": pytest.approx(11979.531, abs=1e-3),
        "bob": pytest.approx(11979.531, abs=1e-3),
        "team:Solo": pytest.approx(7432.140, abs=1e-3),
    }
    carol = standings.rows[0]
    assert (carol.name, carol.kind, carol.best_rank, carol.entered) == ("carol", "user", 1, 2)
    assert carol.results["comp-a"].rank == 2 and carol.results["comp-b"].rank == 1
    assert carol.results["comp-b"].value == pytest.approx(22857.462, abs=1e-3)
    solo = standings.rows[4]
    assert (solo.name, solo.kind, solo.results["comp-b"]) == ("Solo", "team", None)
    assert standings.competitions == [
        {"slug": "comp-a", "title": "A", "weight": 1.0, "teams": 3, "final": False},
        {"slug": "comp-b", "title": "B", "weight": 2.0, "teams": 2, "final": False},
    ]
    assert standings.method == METHODS["points"]


def test_rank_sum_by_hand(repository, event):
    # Missing A = (3 + 1) × 1 = 4; missing B = (2 + 1) × 2 = 6.
    # carol 2 + 1×2 = 4; alice 1 + 6 = 7; bob 7; dave 4 + 2×2 = 8; Solo 3 + 6 = 9.
    # alice and bob tie (best rank 1 both): by name.
    standings = event_standings(repository, event, "rank-sum")
    assert lines(standings) == [
        (1, "carol", 4.0),
        (2, "alice", 7.0),
        (3, "bob", 7.0),
        (4, "dave", 8.0),
        (5, "team:Solo", 9.0),
    ]


def test_best_percentile_by_hand(repository, event):
    # Best rank / N, missing = 1.0: alice 1/3, bob 1/3, carol min(2/3, 1/2) = 1/2,
    # dave min(1.0 missing A, 2/2) = 1.0, Solo min(3/3, 1.0 missing B) = 1.0.
    # dave and Solo tie at 1.0: dave's best rank (2) beats Solo's (3).
    standings = event_standings(repository, event, "best-percentile")
    assert [(place, key) for place, key, _ in lines(standings)] == [
        (1, "alice"),
        (2, "bob"),
        (3, "carol"),
        (4, "dave"),
        (5, "team:Solo"),
    ]
    assert [row.total for row in standings.rows] == [
        pytest.approx(1 / 3),
        pytest.approx(1 / 3),
        0.5,
        1.0,
        1.0,
    ]


def test_weights_change_the_outcome(repository, event):
    repository.edit_competition("comp-b", weight=0.1)
    standings = event_standings(repository, event, "points")
    # carol: 10073.44 + 1142.87 = 11216.31 < alice's 11979.53 now.
    assert [row.key for row in standings.rows][:3] == ["alice", "bob", "carol"]
    repository.edit_competition("comp-b", weight=0)
    standings = event_standings(repository, event, "rank-sum")
    assert standings.left_out == [{"slug": "comp-b", "reason": "weight 0"}]
    assert [row.key for row in standings.rows] == ["alice", "bob", "carol", "team:Solo"]


def test_unsynced_competition_is_left_out(repository, event):
    repository.add_competition("comp-c", event="hand", sync=False)
    standings = event_standings(repository, event, "rank-sum")
    assert standings.left_out == [{"slug": "comp-c", "reason": "no synced leaderboard"}]
    assert lines(standings)[0] == (1, "carol", 4.0)


def test_unknown_event_and_scheme(repository, event):
    with pytest.raises(NotFoundError):
        event_standings(repository, "nope")
    with pytest.raises(ValidationError, match="unknown scheme 'elo'"):
        parse_scheme("elo")
    assert parse_scheme(" Rank-Sum ") == "rank-sum"


def board(slug, entries, weight=1.0):
    return Board(slug, slug.upper(), weight, [BoardEntry(*entry) for entry in entries])


def test_team_name_fallback_joins_boards_and_best_result_is_kept():
    boards = [
        board("x", [(1, "Night Owls", ()), (2, "Night Owls", ()), (3, "Zed", ("zed",))]),
        board("y", [(1, "Zed", ("ZED",)), (2, "Zed", ("zed", "amy")), (3, "Night Owls", ())]),
    ]
    standings = compute_standings(boards, "rank-sum")
    rows = {row.key: row for row in standings.rows}
    # Two teams called Night Owls on x: the better (rank 1) counts; the same name on y joins it.
    assert rows["team:Night Owls"].total == 1 + 3
    assert rows["team:Night Owls"].results["x"].rank == 1
    # zed is on two teams of y: rank 1 counts.
    assert rows["zed"].total == 3 + 1 and rows["zed"].results["y"].team_size == 1
    assert rows["amy"].total == (3 + 1) + 2
    assert set(rows) == {"team:Night Owls", "zed", "amy"}


def test_points_formula_and_tiny_boards():
    assert kaggle_points(1, 10) == pytest.approx(100000 * math.log10(2))
    assert kaggle_points(16, 10, 4, 2) == pytest.approx(100000 / 2 * 16**-0.75 * math.log10(2) * 2)
    # One team on a board: log10(1 + log10(1)) = 0, as in Kaggle's formula.
    standings = compute_standings([board("one", [(1, "Only", ("only",))])], "points")
    assert standings.rows[0].total == 0.0


def test_deterministic_order_for_full_ties():
    boards = [board("x", [(1, "T", ("b", "a", "C"))])]
    assert [row.key for row in compute_standings(boards, "points").rows] == ["a", "b", "c"]
    assert [row.place for row in compute_standings(boards, "points").rows] == [1, 2, 3]


def test_format_total():
    assert format_total("points", 32931.006) == "32,931.01"
    assert format_total("rank-sum", 7.0) == "7"
    assert format_total("rank-sum", 7.25) == "7.25"
    assert format_total("best-percentile", 0.5) == "50.00%"


def test_final_board_counts_when_stored(db_path, database, repository, event, tmp_path):
    # comp-a's private board: Solo wins, alice and bob fall to 3rd, carol stays 2nd.
    from kagsync.sources import FolderSource
    from kagsync.sync import Syncer
    from tests.boards import csv_c

    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "comp-a.private.csv").write_text(
        csv_c(
            [
                (1, 13, "Solo", "2026-05-01 10:00:00", "0.95", 2, ""),
                (2, 12, "A2", "2026-05-01 10:00:00", "0.8", 2, "carol"),
                (3, 11, "A1", "2026-05-01 10:00:00", "0.75", 2, "alice,bob"),
            ]
        ),
        encoding="utf-8",
    )
    competition = repository.get_competition("comp-a")
    assert Syncer(db_path, FolderSource(folder)).sync(competition, "manual", board="private").ok
    standings = event_standings(repository, event, "rank-sum")
    assert [c["final"] for c in standings.competitions] == [True, False]
    rows = {row.key: row for row in standings.rows}
    assert rows["team:Solo"].results["comp-a"].rank == 1
    assert rows["alice"].results["comp-a"].rank == 3
    assert standings.to_dict()["competitions"][0]["final"] is True
    # The public board is still stored, and the other competition still counts with it.
    assert rows["dave"].results["comp-b"].rank == 2
