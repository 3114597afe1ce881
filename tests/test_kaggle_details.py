"""Competition details never stall add, import or watch (issue 20 §1), and Kaggle's own
odd details never refuse a competition (issue 20 §6)."""

# ruff: noqa: F811

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kagsync import details as details_policy
from kagsync.errors import (
    DownloadLimitError,
    KaggleRateLimitError,
    KaggleServerError,
    SyncInterruptedError,
)
from kagsync.kaggle import details as kaggle_details
from kagsync.kaggle import fetch_competition_details
from kagsync.repository import Repository
from kagsync.sources import KaggleSource
from tests.kaggle_standin import (
    KaggleStandin,
    build_leaderboard_zip,
    kaggle_standin,  # noqa: F401  (fixture)
    make_board,
)

ROOT = Path(__file__).resolve().parent.parent


def serve_board(standin: KaggleStandin, slug: str = "titanic", teams: int = 20) -> None:
    standin.serve_zip(slug, build_leaderboard_zip(make_board(teams, seed=3), slug=slug))


def entries(cli, slug: str = "titanic") -> int:
    return cli.json("competition", "show", slug)["entry_count"]


# -- the Kaggle call itself ----------------------------------------------------------------


def test_a_long_retry_after_skips_the_details_at_once(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details("titanic")
    kaggle_standin.serve_error("titanic", 429, headers={"Retry-After": "100000"}, rpc="GetCompetition")
    started = time.monotonic()
    with pytest.raises(KaggleRateLimitError, match="asked to wait 100000 s"):
        fetch_competition_details("titanic")
    assert time.monotonic() - started < 2
    assert len(kaggle_standin.details_calls("titanic")) == 1  # no retry either


def test_a_short_retry_after_is_still_waited(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details("titanic", title="Titanic")
    kaggle_standin.serve_error("titanic", 503, headers={"Retry-After": "5"}, rpc="GetCompetition", times=1)
    waits: list[float] = []
    assert fetch_competition_details("titanic", sleep=waits.append)["title"] == "Titanic"
    assert waits == [5.0]


def test_a_hanging_details_call_is_cut_at_the_deadline(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details("titanic")
    kaggle_standin.set_delay("titanic", 30, rpc="GetCompetition")
    started = time.monotonic()
    with pytest.raises(DownloadLimitError, match="within 0.5 s"):
        fetch_competition_details("titanic", deadline=0.5)
    assert time.monotonic() - started < 1.5


def test_the_default_details_deadline_is_ten_seconds() -> None:
    assert kaggle_details.DETAILS_DEADLINE == 10.0
    assert kaggle_details.DETAILS_MAX_RETRY_AFTER == 5.0
    assert KaggleSource().details_deadline is None  # None: the default above, read at call time


@pytest.mark.parametrize("hang", ["request", "retry wait"])
def test_the_stop_event_ends_a_details_call_at_once(kaggle_standin: KaggleStandin, hang: str) -> None:
    kaggle_standin.serve_details("titanic")
    if hang == "request":
        kaggle_standin.set_delay("titanic", 30, rpc="GetCompetition")
    else:  # 4 s is short enough to be waited
        kaggle_standin.serve_error("titanic", 503, headers={"Retry-After": "4"}, rpc="GetCompetition")
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(SyncInterruptedError, match="interrupted"):
        fetch_competition_details("titanic", deadline=30, stop=stop)
    assert time.monotonic() - started < 1.0


def test_an_oversized_details_reply_is_refused_unread(kaggle_standin: KaggleStandin) -> None:
    # Announced: refused from its Content-Length, before reading any of it.
    kaggle_standin.serve_details("titanic", description="x" * (3 << 20))
    with pytest.raises(DownloadLimitError, match=r"larger than its 1\.0 MiB cap \(Kaggle announced 3\.0 MiB\)"):
        fetch_competition_details("titanic")
    # Not announced (an endless body): reading stops just past the cap.
    kaggle_standin.reset()
    kaggle_standin.serve_trickle(
        "titanic",
        b'{"description": "' + b"x" * 65536,
        chunk_size=65536,
        interval=0,
        forever=True,
        content_length=None,
        rpc="GetCompetition",
    )
    started = time.monotonic()
    with pytest.raises(DownloadLimitError, match="more than 1.0 MiB received"):
        fetch_competition_details("titanic")
    assert time.monotonic() - started < 5


# -- competition add / import ----------------------------------------------------------------


def test_add_skips_details_kaggle_asks_to_wait_for_and_still_syncs(cli, kaggle_standin: KaggleStandin) -> None:
    serve_board(kaggle_standin)
    kaggle_standin.serve_details("titanic")
    kaggle_standin.serve_error("titanic", 429, headers={"Retry-After": "100000"}, rpc="GetCompetition")
    started = time.monotonic()
    result = cli("competition", "add", "titanic", "--status", "ongoing")
    assert time.monotonic() - started < 5
    assert result.exit_code == 0, result.output
    assert "skipped for now" in result.stderr
    assert entries(cli) == 20 and kaggle_standin.download_count("titanic") == 1


def test_add_with_a_hanging_details_call_stops_at_the_deadline(cli, kaggle_standin, monkeypatch) -> None:
    monkeypatch.setattr(kaggle_details, "DETAILS_DEADLINE", 0.5)  # 10 s in real use
    serve_board(kaggle_standin)
    kaggle_standin.serve_details("titanic")
    kaggle_standin.set_delay("titanic", 30, rpc="GetCompetition")
    started = time.monotonic()
    result = cli("competition", "add", "titanic", "--status", "ongoing")
    assert time.monotonic() - started < 3
    assert result.exit_code == 0, result.output
    assert "could not be fetched" in result.stderr and "within 0.5 s" in result.stderr
    assert entries(cli) == 20


def test_import_with_stalled_details_is_fast(cli, kaggle_standin, tmp_path) -> None:
    for slug in ("one", "two"):
        serve_board(kaggle_standin, slug)
        kaggle_standin.serve_details(slug)
        kaggle_standin.serve_error(slug, 429, headers={"Retry-After": "100000"}, rpc="GetCompetition")
    path = tmp_path / "comps.csv"
    path.write_text("slug,status\none,ongoing\ntwo,ongoing\n", encoding="utf-8")
    started = time.monotonic()
    result = cli("import", str(path))
    assert time.monotonic() - started < 5
    assert result.exit_code == 0, result.output
    assert entries(cli, "one") == entries(cli, "two") == 20


# -- watch -------------------------------------------------------------------------------------


NOW = "2026-03-01T12:00:00Z"


def test_watch_backs_off_per_competition_after_a_failed_details_fetch(repository: Repository, kaggle_standin) -> None:
    repository.add_competition("titanic", status="upcoming", start="2026-04-01T00:00:00Z")
    kaggle_standin.serve_details("titanic", title="Titanic")
    kaggle_standin.serve_error("titanic", 503, rpc="GetCompetition")
    source = KaggleSource(max_attempts=1)
    day = 86400.0

    def refresh(now: str) -> bool:
        competition = repository.get_competition("titanic")
        return details_policy.refresh_if_due(repository, source, competition, now, interval=day)

    with pytest.raises(KaggleServerError):
        refresh(NOW)
    stored = repository.get_competition("titanic")
    assert (stored.details_failures, stored.details_retry_at) == (1, "2026-03-01T12:10:00Z")
    assert stored.details_fetched_at is None

    assert refresh("2026-03-01T12:09:59Z") is False  # backing off: Kaggle is not asked
    assert len(kaggle_standin.details_calls("titanic")) == 1

    with pytest.raises(KaggleServerError):
        refresh("2026-03-01T12:10:00Z")
    stored = repository.get_competition("titanic")
    assert (stored.details_failures, stored.details_retry_at) == (2, "2026-03-01T12:30:00Z")

    kaggle_standin.reset()
    kaggle_standin.serve_details("titanic", title="Titanic")
    assert refresh("2026-03-01T12:30:00Z") is True
    stored = repository.get_competition("titanic")
    assert (stored.details_failures, stored.details_retry_at) == (0, None)
    assert stored.title == "Titanic" and stored.details_fetched_at == "2026-03-01T12:30:00Z"


def test_the_back_off_doubles_up_to_the_refresh_interval() -> None:
    assert [details_policy.retry_delay(n, 86400) for n in (1, 2, 3, 4)] == [600, 1200, 2400, 4800]
    assert details_policy.retry_delay(20, 86400) == 86400


def test_an_interrupted_details_fetch_is_not_a_failure(repository: Repository, kaggle_standin) -> None:
    repository.add_competition("titanic", status="upcoming")
    kaggle_standin.serve_details("titanic")
    stop = threading.Event()
    stop.set()
    with pytest.raises(SyncInterruptedError):
        details_policy.refresh_if_due(
            repository, KaggleSource(stop=stop), repository.get_competition("titanic"), NOW, interval=86400
        )
    assert repository.get_competition("titanic").details_failures == 0


def test_watch_syncs_boards_before_any_details(cli, kaggle_standin, monkeypatch) -> None:
    monkeypatch.setattr(kaggle_details, "DETAILS_DEADLINE", 0.5)
    serve_board(kaggle_standin, "ongoing-one")
    for slug in ("ongoing-one", "upcoming-one", "upcoming-two"):
        kaggle_standin.serve_details(slug)
        kaggle_standin.set_delay(slug, 30, rpc="GetCompetition")
    assert cli("competition", "add", "ongoing-one", "--offline", "--no-sync", "--status", "ongoing").exit_code == 0
    for slug in ("upcoming-one", "upcoming-two"):
        assert cli("competition", "add", slug, "--offline", "--no-sync", "--status", "upcoming").exit_code == 0
    result = cli("watch", "--once")
    assert result.exit_code == 0, result.output
    assert entries(cli, "ongoing-one") == 20
    rpcs = [request.rpc for request in kaggle_standin.requests]
    assert rpcs.index("GetCompetition") > rpcs.index("DownloadLeaderboard")
    # Each failed; the next tick leaves them alone.
    failures = {c["slug"]: c["details_failures"] for c in cli.json("competition", "list")}
    assert failures == {"ongoing-one": 1, "upcoming-one": 1, "upcoming-two": 1}
    calls = len(kaggle_standin.details_calls())
    assert cli("watch", "--once").exit_code == 0
    assert len(kaggle_standin.details_calls()) == calls


def test_sigterm_during_a_stalled_details_fetch_stops_watch_at_once(kaggle_standin, db_path, tmp_path) -> None:
    kaggle_standin.serve_details("upcoming-one")
    kaggle_standin.set_delay("upcoming-one", 60, rpc="GetCompetition")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    base = [sys.executable, "-m", "kagsync", "--db", str(db_path)]
    added = subprocess.run(
        [*base, "competition", "add", "upcoming-one", "--offline", "--no-sync", "--status", "upcoming"],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    process = subprocess.Popen(
        [*base, "watch", "--once"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not kaggle_standin.details_calls("upcoming-one") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert kaggle_standin.details_calls("upcoming-one"), "watch never asked for the details"
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - signalled < 3, "watch kept waiting for the details"
    assert "Traceback" not in err


# -- Kaggle's own odd details (issue 20 §6) ---------------------------------------------------


def test_a_start_after_the_deadline_is_saved_with_a_note(cli, kaggle_standin) -> None:
    kaggle_standin.serve_details(
        "titanic", enabledDate="2026-06-01T00:00:00Z", deadline="2026-05-01T00:00:00Z", title="Odd"
    )
    result = cli("competition", "add", "titanic", "--no-sync")
    assert result.exit_code == 0, result.output
    assert "after the deadline" in result.stderr
    shown = cli.json("competition", "show", "titanic")
    assert shown["title"] == "Odd" and shown["end"] == "2026-05-01T00:00:00Z" and shown["start"] is None


def test_a_refresh_never_puts_the_start_after_the_end(repository: Repository, kaggle_standin) -> None:
    repository.add_competition("titanic", status="upcoming", start="2026-04-01T00:00:00Z", end="2026-09-01T00:00:00Z")
    kaggle_standin.serve_details("titanic", enabledDate="2026-04-01T00:00:00Z", deadline="2026-03-01T00:00:00Z")
    competition = repository.get_competition("titanic")
    assert details_policy.refresh_if_due(repository, KaggleSource(), competition, NOW, interval=86400) is True
    stored = repository.get_competition("titanic")
    assert stored.start == "2026-04-01T00:00:00Z" and stored.end == "2026-09-01T00:00:00Z"
    assert stored.details_fetched_at == NOW


@pytest.mark.parametrize("count", [10**30, -5, "99999999999999999999999", 1.5e300])
def test_out_of_range_counts_are_dropped(cli, kaggle_standin, count) -> None:
    kaggle_standin.serve_details("titanic", teamCount=count, maxTeamSize=10**30, maxDailySubmissions=5)
    result = cli("competition", "add", "titanic", "--no-sync")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    shown = cli.json("competition", "show", "titanic")
    assert shown["team_count"] is None and shown["max_team_size"] is None
    assert fetch_competition_details("titanic")["max_daily_submissions"] == 5


def test_an_oversized_details_file_in_a_source_folder_is_not_read(cli, tmp_path) -> None:
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "titanic.json").write_text('{"title": "' + "x" * (2 << 20) + '"}', encoding="utf-8")
    result = cli("--source", str(folder), "competition", "add", "titanic", "--no-sync")
    assert result.exit_code == 0, result.output
    assert "larger than 1 MiB" in result.stderr
    assert cli.json("competition", "show", "titanic")["title"] != "x" * (2 << 20)
