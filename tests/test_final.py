"""Final results: Kaggle's details on add, the private board after close, shake-up.

Every Kaggle call goes through the real client to the local stand-in.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

import kagsync
from kagsync.errors import UnknownCompetitionError
from kagsync.final import fill_from_details, private_check_due
from tests import kaggle_standin as _standin
from tests.kaggle_standin import build_leaderboard_zip, make_board

kaggle_standin = _standin.kaggle_standin  # the fixture, used by name

PAST = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
START = "2020-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


def test_add_with_no_option_stores_kaggles_details(cli, kaggle_standin):
    board = make_board(30, seed=1, higher_is_better=False)
    kaggle_standin.serve_zip("house-prices", build_leaderboard_zip(board, slug="house-prices"))
    kaggle_standin.serve_details(
        "house-prices",
        title="House Prices - Advanced Regression",
        evaluation_metric="Root Mean Squared Error",
        enabled_date=START,
        deadline=FUTURE,
        team_count=4200,
        max_team_size=5,
        category="Getting Started",
        reward="Knowledge",
        description="<p>Predict <b>sales</b> prices</p>",
    )
    result = cli("competition", "add", "house-prices")
    assert result.exit_code == 0, result.output
    shown = cli.json("competition", "show", "house-prices")
    assert shown["title"] == "House Prices - Advanced Regression"
    assert (shown["start"], shown["end"], shown["status"]) == (START, FUTURE, "ongoing")
    assert shown["lower_is_better"] is True and shown["metric"] == "Root Mean Squared Error"
    assert (shown["team_count"], shown["max_team_size"], shown["category"]) == (4200, 5, "Getting Started")
    assert shown["description"] == "Predict sales prices"
    assert shown["details_fetched_at"] and shown["user_fields"] == []
    # Its status followed the dates, so it synced and watch keeps it fresh.
    assert shown["last_sync_status"] == "ok" and shown["entry_count"] == 30


def test_what_the_user_gives_wins(cli, kaggle_standin):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(5), slug="titanic"))
    kaggle_standin.serve_details(
        "titanic", title="Titanic", evaluation_metric="Categorization Accuracy", enabled_date=START, deadline=FUTURE
    )
    result = cli("competition", "add", "titanic", "--title", "Our Titanic", "--status", "upcoming", "--no-sync")
    assert result.exit_code == 0, result.output
    shown = cli.json("competition", "show", "titanic")
    assert (shown["title"], shown["status"], shown["lower_is_better"]) == ("Our Titanic", "upcoming", False)
    assert sorted(shown["user_fields"]) == ["status", "title"]
    # A refresh updates only what came from Kaggle.
    kaggle_standin.serve_details(
        "titanic",
        title="Titanic 2",
        evaluation_metric="Categorization Accuracy",
        enabled_date=START,
        deadline="2098-01-01T00:00:00Z",
    )
    assert cli("competition", "refresh", "titanic").exit_code == 0
    shown = cli.json("competition", "show", "titanic")
    assert (shown["title"], shown["end"]) == ("Our Titanic", "2098-01-01T00:00:00Z")


def test_a_slug_kaggle_does_not_know_is_refused_and_nothing_is_saved(cli, kaggle_standin):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(5), slug="titanic"))
    assert cli("competition", "add", "titanic", "--no-sync").exit_code == 0
    result = cli("competition", "add", "titanik")
    assert result.exit_code == 2
    assert "no competition 'titanik' exists on Kaggle (did you mean 'titanic'?)" in result.stderr
    assert [c["slug"] for c in cli.json("competition", "list")] == ["titanic"]
    assert kaggle_standin.download_count("titanik") == 0


def test_details_that_cannot_be_fetched_never_stop_the_add(cli, kaggle_standin, monkeypatch):
    import kagsync.retry as kc

    monkeypatch.setattr(kc, "MAX_BACKOFF", 0.01)
    kaggle_standin.serve_error("titanic", 503, rpc="GetCompetition")
    result = cli("competition", "add", "titanic", "--no-sync")
    assert result.exit_code == 0, result.output
    assert "kagsync competition refresh titanic" in result.stderr
    assert cli.json("competition", "show", "titanic")["details_fetched_at"] is None


def test_no_credentials_add_no_sync_exits_0_with_a_note(cli, kaggle_standin, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    result = cli("competition", "add", "titanic", "--no-sync")
    assert result.exit_code == 0, result.output
    assert "could not be fetched" in result.stderr


def test_an_unknown_metric_keeps_higher_is_better_and_says_so():
    fill = fill_from_details(
        {},
        {"evaluation_metric": "Mystery Score", "enabled_date": START, "deadline": FUTURE},
        now="2025-01-01T00:00:00Z",
    )
    assert "lower_is_better" not in fill.fields
    assert [note.hint for note in fill.notes] == ["lower_is_better"]  # the CLI says --lower-is-better
    assert fill.fields["status"] == "ongoing"


# -- the private board ----------------------------------------------------------------

# A hand-checked example: five teams (and a benchmark) whose private order differs.
PUBLIC = [
    {
        "Rank": 1,
        "TeamId": 11,
        "TeamName": "Ada",
        "LastSubmissionDate": "2026-05-01 10:00:00",
        "Score": "0.90",
        "SubmissionCount": 7,
        "TeamMemberUserNames": "ada,bob",
    },
    {
        "Rank": 2,
        "TeamId": 12,
        "TeamName": "Bea",
        "LastSubmissionDate": "2026-05-01 10:00:00",
        "Score": "0.80",
        "SubmissionCount": 3,
        "TeamMemberUserNames": "bea",
    },
    {
        "Rank": 0,
        "TeamId": 99,
        "TeamName": "Benchmark",
        "LastSubmissionDate": "2026-05-01 10:00:00",
        "Score": "0.75",
        "SubmissionCount": 1,
        "TeamMemberUserNames": "",
    },
    {
        "Rank": 3,
        "TeamId": 13,
        "TeamName": "Cai",
        "LastSubmissionDate": "2026-05-01 10:00:00",
        "Score": "0.70",
        "SubmissionCount": 5,
        "TeamMemberUserNames": "cai",
    },
    {
        "Rank": 4,
        "TeamId": 14,
        "TeamName": "Dee",
        "LastSubmissionDate": "2026-05-01 10:00:00",
        "Score": "0.60",
        "SubmissionCount": 2,
        "TeamMemberUserNames": "dee,eve",
    },
    {
        "Rank": 5,
        "TeamId": 15,
        "TeamName": "Eli",
        "LastSubmissionDate": "2026-05-01 10:00:00",
        "Score": "0.50",
        "SubmissionCount": 9,
        "TeamMemberUserNames": "eli",
    },
]
PUBLIC_VIEW = [
    (row["TeamId"], row["TeamName"], row["LastSubmissionDate"], row["Score"]) for row in PUBLIC if row["Rank"]
]
# Kaggle's private order: Dee climbs from 4 to 1, Ada falls from 1 to 3.
PRIVATE_VIEW = [
    (14, "Dee", "2026-05-01 10:00:00", "0.88"),
    (12, "Bea", "2026-05-01 10:00:00", "0.87"),
    (11, "Ada", "2026-05-01 10:00:00", "0.86"),
    (15, "Eli", "2026-05-01 10:00:00", "0.86"),
    (13, "Cai", "2026-05-01 10:00:00", "0.70"),
]


@pytest.fixture
def closing(kaggle_standin, cli, monkeypatch):
    """An ongoing competition whose end has passed, before Kaggle releases its private board."""
    slug = "final-cup"
    kaggle_standin.serve_zip(slug, build_leaderboard_zip(PUBLIC, slug=slug))
    kaggle_standin.serve_board_pages(slug, PUBLIC_VIEW)
    kaggle_standin.serve_details(slug, title="Final Cup", evaluation_metric="AUC", enabled_date=START, deadline=PAST)
    assert cli("event", "add", "Night", "--slug", "night").exit_code == 0
    result = cli("competition", "add", slug, "--event", "night", "--status", "ongoing", "--no-sync")
    assert result.exit_code == 0, result.output
    return slug


def test_after_the_end_watch_stores_the_private_board_and_views_use_it(
    cli, kaggle_standin, closing, monkeypatch, tmp_path
):
    slug = closing
    first = cli("watch", "--once")
    assert first.exit_code == 0, first.output
    shown = cli.json("competition", "show", slug)
    assert shown["status"] == "completed" and shown["private_released"] is False
    assert kaggle_standin.download_count(slug) == 1
    calls = len(kaggle_standin.leaderboard_calls(slug))
    # One public page to check that the final download is the public board, then one
    # GetLeaderboard pair to look for the private board: not released.
    assert calls == 3

    # Before release: completed competitions cost nothing until private_check_interval passes.
    assert cli("watch", "--once").exit_code == 0
    assert kaggle_standin.download_count(slug) == 1 and len(kaggle_standin.leaderboard_calls(slug)) == calls

    kaggle_standin.serve_board_pages(slug, PUBLIC_VIEW, PRIVATE_VIEW)
    monkeypatch.setenv("KAGSYNC_PRIVATE_CHECK_INTERVAL", "1")
    time.sleep(1.1)
    released = cli("watch", "--once")
    assert released.exit_code == 0, released.output
    shown = cli.json("competition", "show", slug)
    assert shown["private_released"] is True and shown["private_synced_at"]
    assert kaggle_standin.download_count(slug) == 1  # the final board is never a download

    final = cli.json("leaderboard", slug)
    assert [(e["rank"], e["team_id"], e["members"], e["submission_count"], e["board"]) for e in final] == [
        (1, 14, ["dee", "eve"], 2, "private"),
        (2, 12, ["bea"], 3, "private"),
        (3, 11, ["ada", "bob"], 7, "private"),
        (4, 15, ["eli"], 9, "private"),
        (5, 13, ["cai"], 5, "private"),
    ]
    table = cli("leaderboard", slug, env={"KAGSYNC_FORCE_TTY": "1", "COLUMNS": "120"})
    assert "final (private) board" in " ".join(table.stdout.split())
    public = cli.json("leaderboard", slug, "--board", "public")
    assert [(e["rank"], e["team_id"]) for e in public] == [(1, 11), (2, 12), (0, 99), (3, 13), (4, 14), (5, 15)]

    shake = cli.json("shakeup", slug, "--top", "2")
    assert shake["teams"] == 5
    assert {m["team_id"]: m["move"] for m in shake["moves"]} == {14: 3, 12: 0, 11: -2, 15: 1, 13: -2}
    assert shake["shakeup"] == pytest.approx((3 + 0 + 2 + 1 + 2) / 5 / 5)
    assert shake["shakeup_top10pct"] == pytest.approx(2 / 1 / 5)  # ceil(5/10) = 1 team: Ada, |move| 2
    assert [m["team_id"] for m in shake["entered_top"]] == [14]
    assert [m["team_id"] for m in shake["left_top"]] == [11]

    runs = cli.json("runs", slug)
    assert [(r["board"], r["status"]) for r in runs][:1] == [("private", "ok")]

    exported = cli("export", "--event", "night", "--format", "json")
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.stdout)
    [competition] = data["competitions"]
    assert competition["final"] is True
    assert [e["team_id"] for e in competition["entries"]][:2] == [14, 12]
    assert {e["board"] for e in competition["entries"]} == {"private"}

    page = cli("report", "night", "-o", str(tmp_path / "r.html"))
    assert page.exit_code == 0, page.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h3>Shake-up</h3>" in html and "<strong>final</strong> (private board)" in html


def test_set_status_completed_runs_the_final_sync_then_checks_the_private_board(cli, kaggle_standin, closing):
    kaggle_standin.serve_board_pages(closing, PUBLIC_VIEW, PRIVATE_VIEW)
    result = cli("competition", "set-status", closing, "completed")
    assert result.exit_code == 0, result.output
    assert kaggle_standin.download_count(closing) == 1
    assert cli.json("leaderboard", closing)[0]["team_id"] == 14


def test_a_download_after_the_deadline_that_is_not_the_public_board_is_held(cli, kaggle_standin, closing):
    # Kaggle starts serving the private board as the download: it must not become the public one.
    private_as_download = [
        dict(row, Rank=rank)
        for rank, row in enumerate([PUBLIC[4], PUBLIC[1], PUBLIC[0], PUBLIC[5], PUBLIC[3]], start=1)
    ]
    assert cli("sync", closing).exit_code == 0  # before: the public board is stored
    kaggle_standin.serve_zip(closing, build_leaderboard_zip(private_as_download, slug=closing))
    result = cli("sync", closing)
    assert result.exit_code == 3
    assert "does not match Kaggle's public board" in result.stderr


def test_sync_private_by_hand_and_offline_with_a_folder(cli, tmp_path):
    from tests.kaggle_standin import build_leaderboard_csv

    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "cup.csv").write_bytes(build_leaderboard_csv(PUBLIC))
    (folder / "cup.json").write_text(
        '{"ref": "cup", "title": "Cup", "evaluationMetric": "RMSE", "enabledDate": "2020-01-01T00:00:00Z",'
        ' "deadline": "2021-01-01T00:00:00Z"}',
        encoding="utf-8",
    )
    result = cli("--source", str(folder), "competition", "add", "cup")
    assert result.exit_code == 0, result.output
    shown = cli.json("competition", "show", "cup")
    assert (shown["title"], shown["status"], shown["lower_is_better"]) == ("Cup", "completed", True)
    not_yet = cli("--source", str(folder), "sync", "cup", "--private")
    assert not_yet.exit_code == 0 and "not released yet" in not_yet.stderr
    private = [dict(row) for row in PUBLIC if row["Rank"]]
    for rank, row in enumerate(reversed(private), start=1):
        row["Rank"], row["TeamMemberUserNames"] = rank, ""
    (folder / "cup.private.csv").write_bytes(build_leaderboard_csv(private))
    done = cli("--source", str(folder), "sync", "cup", "--private")
    assert done.exit_code == 0, done.output
    board = cli.json("leaderboard", "cup")
    assert board[0]["board"] == "private" and board[0]["members"]  # members joined from the public board


def test_private_check_pace():
    from kagsync.models import Competition

    def competition(**changes):
        base = dict(
            id=1,
            slug="c",
            title="c",
            description=None,
            events=(),
            status="completed",
            start=None,
            end="2025-01-01T00:00:00Z",
            lower_is_better=False,
            created_at="",
            updated_at="",
            last_synced_at=None,
            last_attempt_at=None,
            last_sync_status=None,
            last_sync_error=None,
            entry_count=None,
        )
        base.update(changes)
        return Competition(**base)

    day = 86400
    assert private_check_due(competition(), "2025-01-02T00:00:00Z", interval=3600, wait=30 * day)
    assert not private_check_due(
        competition(private_checked_at="2025-01-01T23:30:00Z"), "2025-01-02T00:00:00Z", interval=3600, wait=30 * day
    )
    assert not private_check_due(competition(), "2025-03-01T00:00:00Z", interval=3600, wait=30 * day)  # gave up
    assert not private_check_due(competition(private_synced_at="x"), "2025-01-02T00:00:00Z", interval=3600, wait=day)
    assert not private_check_due(competition(status="ongoing"), "2025-01-02T00:00:00Z", interval=3600, wait=day)


def test_library_refuses_an_unknown_slug(tmp_path, kaggle_standin):
    with kagsync.open(tmp_path / "k.db") as ks, pytest.raises(UnknownCompetitionError):
        ks.add_competition("nope")


def test_watch_follows_a_moved_deadline_at_most_once_per_details_refresh(cli, kaggle_standin, monkeypatch):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(5), slug="titanic"))
    kaggle_standin.serve_details("titanic", title="Titanic", enabled_date=START, deadline="2098-01-01T00:00:00Z")
    assert cli("competition", "add", "titanic").exit_code == 0
    kaggle_standin.serve_details("titanic", title="Titanic", enabled_date=START, deadline=FUTURE)
    calls = len(kaggle_standin.details_calls("titanic"))
    assert cli("watch", "--once").exit_code == 0
    assert len(kaggle_standin.details_calls("titanic")) == calls  # fetched a moment ago: not again
    assert cli.json("competition", "show", "titanic")["end"] == "2098-01-01T00:00:00Z"
    monkeypatch.setenv("KAGSYNC_DETAILS_REFRESH", "1")
    time.sleep(1.1)
    assert cli("watch", "--once").exit_code == 0
    assert cli.json("competition", "show", "titanic")["end"] == FUTURE


def test_sync_private_that_cannot_even_look_exits_3(cli, kaggle_standin, monkeypatch):
    kaggle_standin.serve_zip("cup", build_leaderboard_zip(make_board(5), slug="cup"))
    assert cli("competition", "add", "cup", "--no-sync", "--status", "completed").exit_code == 0
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    result = cli("sync", "cup", "--private")
    assert result.exit_code == 3
    assert "private board not checked" in result.stderr


def _private_folder(tmp_path, *, deadline="2021-01-01T00:00:00Z"):
    """A folder source with a public board of 300 teams and the competition's details."""
    from tests.kaggle_standin import build_leaderboard_csv

    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "p4.csv").write_bytes(build_leaderboard_csv(make_board(300, seed=4)))
    (folder / "p4.json").write_text(
        json.dumps({"ref": "p4", "title": "P4", "evaluationMetric": "AUC", "enabledDate": START, "deadline": deadline}),
        encoding="utf-8",
    )
    return folder


def test_a_held_private_board_is_applied_with_private_force(cli, tmp_path):
    from tests.kaggle_standin import build_leaderboard_csv

    folder = _private_folder(tmp_path)
    assert cli("--source", str(folder), "competition", "add", "p4").exit_code == 0
    (folder / "p4.private.csv").write_bytes(build_leaderboard_csv(make_board(300, seed=5)))
    stored = cli("--source", str(folder), "sync", "p4", "--private")
    assert stored.exit_code == 0, stored.output
    (folder / "p4.private.csv").write_bytes(build_leaderboard_csv(make_board(5, seed=6)))
    held = cli("--source", str(folder), "sync", "p4", "--private")
    assert held.exit_code == 3, held.output
    assert "kagsync sync p4 --private --force" in " ".join(held.stderr.split())
    assert len(cli.json("leaderboard", "p4")) == 300
    applied = cli("--source", str(folder), "sync", "p4", "--private", "--force")
    assert applied.exit_code == 0, applied.output
    board = cli.json("leaderboard", "p4")
    assert len(board) == 5 and {entry["board"] for entry in board} == {"private"}


def test_the_library_says_a_held_private_board_wants_private_force(tmp_path):
    from kagsync.errors import Hint
    from tests.kaggle_standin import build_leaderboard_csv

    folder = _private_folder(tmp_path)
    with kagsync.open(tmp_path / "k.db", source=folder) as ks:
        ks.add_competition("p4")
        (folder / "p4.private.csv").write_bytes(build_leaderboard_csv(make_board(300, seed=5)))
        [first] = ks.private.sync(["p4"])
        assert first.outcome is not None and first.outcome.ok
        (folder / "p4.private.csv").write_bytes(build_leaderboard_csv(make_board(5, seed=6)))
        [held] = ks.private.sync(["p4"])
        assert held.outcome is not None and held.outcome.status == "held"
        assert held.outcome.hint is Hint.PRIVATE_FORCE
        assert "--" not in (held.outcome.error or "")
        [forced] = ks.private.sync(["p4"], force=True)
        assert forced.outcome is not None and forced.outcome.ok and forced.outcome.entries == 5


def test_sync_private_before_the_deadline_is_refused_unless_forced(cli, tmp_path):
    from tests.kaggle_standin import build_leaderboard_csv

    folder = _private_folder(tmp_path, deadline=FUTURE)
    assert cli("--source", str(folder), "competition", "add", "p4").exit_code == 0
    assert cli.json("competition", "show", "p4")["status"] == "ongoing"
    (folder / "p4.private.csv").write_bytes(build_leaderboard_csv(make_board(300, seed=5)))
    early = cli("--source", str(folder), "sync", "p4", "--private")
    assert early.exit_code == 2, early.output
    [line] = early.stderr.strip().splitlines()
    assert "has not ended" in line and "kagsync sync p4 --private --force" in line
    assert cli.json("competition", "show", "p4")["private_synced_at"] is None
    assert {entry["board"] for entry in cli.json("leaderboard", "p4")} == {"public"}
    forced = cli("--source", str(folder), "sync", "p4", "--private", "--force")
    assert forced.exit_code == 0, forced.output
    assert cli.json("competition", "show", "p4")["private_synced_at"]


def test_a_stored_private_board_no_longer_served_is_kept_and_said_so(cli, tmp_path):
    from tests.kaggle_standin import build_leaderboard_csv

    folder = _private_folder(tmp_path)
    assert cli("--source", str(folder), "competition", "add", "p4").exit_code == 0
    (folder / "p4.private.csv").write_bytes(build_leaderboard_csv(make_board(300, seed=5)))
    assert cli("--source", str(folder), "sync", "p4", "--private").exit_code == 0
    (folder / "p4.private.csv").unlink()
    gone = cli("--source", str(folder), "sync", "p4", "--private")
    assert gone.exit_code == 0, gone.output
    text = " ".join(gone.stderr.split())
    assert "not released yet" not in text
    assert "no longer serves" in text and "kept" in text
    assert {entry["board"] for entry in cli.json("leaderboard", "p4")} == {"private"}
