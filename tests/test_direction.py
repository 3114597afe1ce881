"""Boards without a rank column are never ranked backwards in silence (issue 19 item 3)."""

from __future__ import annotations

import random

import pytest

from kagsync.leaderboard import LeaderboardInfo, parse_leaderboard_text
from kagsync.metrics import DirectionNote, direction_origin, settle_direction
from kagsync.sources import FileSource
from kagsync.sync import Syncer
from tests.boards import csv_ab

# A house-prices-like RMSE board as Kaggle serves it without ranks: best first, so
# the scores rise down the file.
RMSE_ASCENDING = [
    (9001, "Gradient Gurus", "2020-03-01 10:00:00", "0.11250"),
    (4711, "Lasso Lovers", "2020-03-02 11:00:00", "0.11873"),
    (1234, "Ridge Riders", "2020-02-28 09:00:00", "0.12001"),
    (8888, "Mean Baseline", "2020-02-01 00:00:00", "0.40613"),
]
# The same kind of board served in TeamId order: the scores go both ways.
TEAM_ID_ORDER = [
    (101, "Alpha", "2020-01-01 00:00:00", "0.70"),
    (102, "Beta", "2020-01-01 00:00:00", "0.90"),
    (103, "Gamma", "2020-01-01 00:00:00", "0.80"),
]


def board(tmp_path, slug: str, rows) -> FileSource:
    path = tmp_path / f"{slug}.csv"
    path.write_text(csv_ab(rows), encoding="utf-8")
    return FileSource(path)


def ranked(database, slug: str) -> list[str]:
    return [
        row[0]
        for row in database.conn.execute(
            "SELECT e.team_name FROM entries e JOIN competitions c ON c.id = e.competition_id"
            " WHERE c.slug = ? ORDER BY e.rank",
            (slug,),
        )
    ]


def stored_direction(database, slug: str) -> tuple[int, str | None]:
    return database.conn.execute(
        "SELECT lower_is_better, direction_source FROM competitions WHERE slug = ?", (slug,)
    ).fetchone()


def test_an_rmse_board_in_ascending_order_ranks_its_best_team_first(db_path, database, repository, tmp_path):
    comp = repository.add_competition("house-prices", title="House Prices", sync=False).competition
    outcome = Syncer(db_path, board(tmp_path, "house-prices", RMSE_ASCENDING)).sync(comp, "manual")
    assert outcome.ok, outcome.error
    assert ranked(database, "house-prices") == ["Gradient Gurus", "Lasso Lovers", "Ridge Riders", "Mean Baseline"]
    assert outcome.direction_note == DirectionNote("file order", True)
    assert stored_direction(database, "house-prices") == (1, "file order")
    # The next board in TeamId order keeps the direction the first one showed, quietly.
    shuffled = RMSE_ASCENDING[:]
    random.Random(3).shuffle(shuffled)
    shuffled.sort(key=lambda row: row[0])
    again = Syncer(db_path, board(tmp_path, "house-prices", shuffled)).sync(comp, "manual", force=True)
    assert again.ok and again.direction_note is None
    assert ranked(database, "house-prices")[0] == "Gradient Gurus"


def test_a_board_in_team_id_order_is_ranked_higher_is_better_and_said_once(db_path, database, repository, tmp_path):
    comp = repository.add_competition("mystery", title="Mystery", sync=False).competition
    source = board(tmp_path, "mystery", TEAM_ID_ORDER)
    first = Syncer(db_path, source).sync(comp, "manual")
    assert first.ok and first.direction_note == DirectionNote("default", False)
    assert ranked(database, "mystery") == ["Beta", "Gamma", "Alpha"]
    assert stored_direction(database, "mystery") == (0, "default")
    second = Syncer(db_path, source).sync(comp, "manual", force=True)
    assert second.ok and second.direction_note is None  # once per competition


def test_the_cli_names_the_flag_once_and_competition_show_says_where_the_direction_came_from(cli, tmp_path):
    board(tmp_path, "mystery", TEAM_ID_ORDER)
    board(tmp_path, "house-prices", RMSE_ASCENDING)
    added = cli("--offline", "competition", "add", "mystery", "--source", str(tmp_path))
    assert added.exit_code == 0, added.output
    assert "ranked higher-is-better" in added.stderr and "--lower-is-better" in added.stderr
    again = cli("sync", "mystery", "--source", str(tmp_path), "--force")
    assert again.exit_code == 0 and "higher-is-better" not in again.stderr
    assert "higher (default)" in cli("competition", "show", "mystery").stdout
    assert cli("--offline", "competition", "add", "house-prices", "--source", str(tmp_path)).exit_code == 0
    assert "lower (file order)" in cli("competition", "show", "house-prices").stdout
    assert cli("competition", "edit", "mystery", "--lower-is-better").exit_code == 0
    assert "lower (user)" in cli("competition", "show", "mystery").stdout


def test_a_direction_the_user_gave_is_never_guessed_over(db_path, database, repository, tmp_path):
    comp = repository.add_competition("house-prices", title="House Prices", sync=False).competition
    repository.edit_competition("house-prices", lower_is_better=False)
    outcome = Syncer(db_path, board(tmp_path, "house-prices", RMSE_ASCENDING)).sync(comp, "manual")
    assert outcome.ok and outcome.direction_note is None
    assert ranked(database, "house-prices")[0] == "Mean Baseline"  # as the user said
    assert stored_direction(database, "house-prices") == (0, "user")


def test_a_known_metric_settles_the_direction(db_path, database, repository, tmp_path):
    comp = repository.add_competition("acc", title="Acc", sync=False).competition
    database.conn.execute("UPDATE competitions SET metric = 'Categorization Accuracy' WHERE id = ?", (comp.id,))
    outcome = Syncer(db_path, board(tmp_path, "acc", RMSE_ASCENDING)).sync(comp, "manual")
    assert outcome.ok and outcome.direction_note is None
    assert ranked(database, "acc")[0] == "Mean Baseline"  # accuracy: higher is better, whatever the order


@pytest.mark.parametrize(
    ("scores", "found", "ranked_lower"),
    [
        (["0.1", "0.2", "0.2", "0.5"], True, True),  # rising: lower is better
        (["0.9", "0.8", "0.8", "0.1"], False, False),  # falling: higher is better
        (["0.7", "0.9", "0.8"], None, False),  # both ways: the given direction
        (["0.5", "0.5", "0.5"], None, False),  # never changes: shows nothing
        (["0.1", "", "0.3"], True, True),  # empty scores are skipped
    ],
)
def test_the_file_order_shows_the_direction_only_when_monotone(scores, found, ranked_lower):
    rows = [(index + 1, f"T{index}", "2020-01-01 00:00:00", score) for index, score in enumerate(scores)]
    info = LeaderboardInfo()
    entries = list(
        parse_leaderboard_text(
            csv_ab(rows).splitlines(keepends=True),
            source_name="b.csv",
            lower_is_better=False,
            from_file_order=True,
            info=info,
        )
    )
    assert (info.file_order_direction, info.ranked_lower_is_better) == (found, ranked_lower)
    if found is not None:  # a monotone file keeps its own order
        assert [entry.team_name for entry in entries if entry.score] == [f"T{i}" for i, s in enumerate(scores) if s]


def test_a_submission_history_never_shows_a_direction():
    # Shape A: rows in date order, scores rising as a team improves on an accuracy.
    rows = [
        (1, "A", "2026-01-01 00:00:00", "0.50"),
        (2, "B", "2026-01-01 01:00:00", "0.60"),
        (1, "A", "2026-01-02 00:00:00", "0.70"),
    ]
    info = LeaderboardInfo()
    entries = list(
        parse_leaderboard_text(
            csv_ab(rows).splitlines(True), source_name="a.csv", lower_is_better=False, from_file_order=True, info=info
        )
    )
    assert info.file_order_direction is None and info.ranked_lower_is_better is False
    assert [(entry.team_name, entry.score) for entry in entries] == [("A", "0.70"), ("B", "0.60")]


def test_without_from_file_order_the_given_direction_is_used():
    rows = [(1, "A", "2020-01-01 00:00:00", "0.1"), (2, "B", "2020-01-01 00:00:00", "0.2")]
    info = LeaderboardInfo()
    entries = list(
        parse_leaderboard_text(csv_ab(rows).splitlines(True), source_name="b.csv", lower_is_better=False, info=info)
    )
    assert [entry.team_name for entry in entries] == ["B", "A"]
    assert info.file_order_direction is None and info.ranked_lower_is_better is False


def test_direction_origin_and_settle_rules():
    assert direction_origin(None, user_set=True, metric="RMSE") == "user"
    assert direction_origin("user", user_set=False, metric=None) == "user"
    assert direction_origin("default", user_set=False, metric="RMSE") == "metric"
    assert direction_origin("file order", user_set=False, metric="Some Custom Metric") == "file order"
    assert direction_origin(None, user_set=False, metric=None) is None
    assert settle_direction("metric", False, file_order=True, ranked_lower=False) is None
    assert settle_direction(None, False, file_order=None, ranked_lower=None) is None  # a ranked board
    assert settle_direction(None, False, file_order=None, ranked_lower=False) == DirectionNote("default", False)
    assert settle_direction("default", False, file_order=None, ranked_lower=False) is None
    assert settle_direction("default", False, file_order=True, ranked_lower=True) == DirectionNote("file order", True)
    assert settle_direction("file order", True, file_order=None, ranked_lower=True) is None
