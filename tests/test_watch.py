"""The watch loop: ticks, retries, date transitions, rate limiting, stopping."""
# ruff: noqa: F811  (the stand-in fixture is imported)

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kagsync import db as dbmod
from kagsync.errors import KaggleNotFoundError, KaggleRateLimitError
from kagsync.sources import FolderSource, KaggleSource
from kagsync.sync import Syncer, SyncOutcome
from kagsync.watch import NOT_STARTED, Watcher, is_rate_limited, stop_on_signals
from tests.boards import BOARD_1, csv_c
from tests.kaggle_standin import build_leaderboard_zip, kaggle_standin, make_board  # noqa: F401

ROOT = Path(__file__).parent.parent
PAST, FUTURE = "2020-01-01", "2099-01-01"


class Recorder:
    """A WatchObserver that keeps everything it is told, with monotonic times."""

    def __init__(self):
        self.started = []  # (number, [slugs], time)
        self.reports = []
        self.finished_at = []
        self.transitions = []
        self.stops = 0
        self.first_tick_done = threading.Event()

    def tick_started(self, number, competitions):
        self.started.append((number, [c.slug for c in competitions], time.monotonic()))

    def transition(self, transition):
        self.transitions.append((transition.slug, transition.old, transition.new))

    def tick_finished(self, report):
        self.reports.append(report)
        self.finished_at.append(time.monotonic())
        self.first_tick_done.set()

    def stopping(self):
        self.stops += 1


class ScriptedSource:
    """A folder source whose fetches can fail, wait, or block, per slug."""

    def __init__(self, folder: Path, *, delay: float = 0.0):
        self.folder = folder
        self.delay = delay
        self.failures: dict[str, list[Exception]] = {}
        self.fetched: list[str] = []
        self.started = threading.Semaphore(0)
        self.release: threading.Event | None = None

    def describe(self, slug):
        return "scripted"

    def fetch(self, slug, workdir, on_progress=None):
        self.fetched.append(slug)
        self.started.release()
        if self.release is not None:
            assert self.release.wait(10)
        if self.delay:
            time.sleep(self.delay)
        pending = self.failures.get(slug)
        if pending:
            raise pending.pop(0)
        return FolderSource(self.folder).fetch(slug, workdir)


@pytest.fixture
def boards(tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    return folder


def add_board(folder: Path, slug: str) -> None:
    (folder / f"{slug}.csv").write_text(csv_c(BOARD_1), encoding="utf-8")


def runs(database):
    return database.conn.execute(
        """SELECT c.slug, r.trigger, r.status FROM sync_runs r
           JOIN competitions c ON c.id = r.competition_id ORDER BY r.id"""
    ).fetchall()


def run_counts(database):
    counts = {}
    for slug, trigger, status in runs(database):
        assert trigger == "watch"
        counts[slug] = counts.get(slug, 0) + 1
    return counts


def test_bounded_ticks_sync_every_active_competition_each_tick(db_path, database, repository, boards):
    for slug in ("alpha", "beta", "idle", "done"):
        add_board(boards, slug)
    repository.add_competition("alpha", status="ongoing", sync=False)
    repository.add_competition("beta", status="ongoing", sync=False)
    repository.add_competition("idle", sync=False)
    repository.add_competition("done", status="completed", sync=False)
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, FolderSource(boards)), interval=0.05, observer=recorder)
    last = watcher.run(max_ticks=3)
    assert watcher.ticks == 3 and last is recorder.reports[-1] and last.number == 3
    assert [(n, slugs) for n, slugs, _ in recorder.started] == [(i, ["alpha", "beta"]) for i in (1, 2, 3)]
    assert all(report.ok for report in recorder.reports)
    assert sorted(runs(database)) == sorted([(slug, "watch", "ok") for _ in range(3) for slug in ("alpha", "beta")])
    assert repository.get_competition("alpha").entry_count == 4


def test_a_failing_competition_is_retried_on_the_next_tick(db_path, database, repository, kaggle_standin):
    for slug in ("titanic", "spaceship-titanic"):
        kaggle_standin.serve_zip(slug, build_leaderboard_zip(make_board(25, seed=4), slug=slug))
        repository.add_competition(slug, status="ongoing", sync=False)
    kaggle_standin.serve_error("titanic", 403, times=1)
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, KaggleSource()), interval=0.05, observer=recorder)
    watcher.run(max_ticks=2)
    first, second = recorder.reports
    assert {o.competition: o.status for o in first.outcomes} == {"spaceship-titanic": "ok", "titanic": "failed"}
    assert "HTTP 403" in first.failed[0].error
    assert not first.ok and second.ok
    assert {o.competition: (o.status, o.entries) for o in second.outcomes} == {
        "spaceship-titanic": ("ok", 25),
        "titanic": ("ok", 25),
    }
    assert kaggle_standin.download_count("titanic") == 2
    titanic = repository.get_competition("titanic")
    assert (titanic.last_sync_status, titanic.entry_count) == ("ok", 25)
    assert [r for r in runs(database) if r[0] == "titanic"] == [
        ("titanic", "watch", "failed"),
        ("titanic", "watch", "ok"),
    ]


def test_statuses_follow_the_dates(db_path, database, repository, boards):
    plan = {
        "starts": ("upcoming", PAST, FUTURE),
        "later": ("upcoming", FUTURE, None),
        "ends": ("ongoing", PAST, "2021-01-01"),
        "both": ("upcoming", PAST, "2021-01-01"),  # start and end passed: one sync, then completed
        "running": ("ongoing", PAST, FUTURE),
        "finished": ("completed", PAST, "2021-01-01"),
    }
    for slug, (status, start, end) in plan.items():
        add_board(boards, slug)
        repository.add_competition(slug, status=status, start=start, end=end, sync=False)
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, FolderSource(boards)), interval=60, observer=recorder)
    report = watcher.tick()
    assert report.ok
    statuses = {c.slug: c.status for c in repository.list_competitions()}
    assert statuses == {
        "starts": "ongoing",
        "later": "upcoming",
        "ends": "completed",
        "both": "completed",
        "running": "ongoing",
        "finished": "completed",
    }
    assert run_counts(database) == {"starts": 1, "ends": 1, "both": 1, "running": 1}
    assert sorted(recorder.transitions) == [
        ("both", "ongoing", "completed"),
        ("both", "upcoming", "ongoing"),
        ("ends", "ongoing", "completed"),
        ("starts", "upcoming", "ongoing"),
    ]
    assert {(t.slug, t.new) for t in report.transitions} == {(s, n) for s, _, n in recorder.transitions}

    watcher.tick()  # completed ones are no longer synced
    assert run_counts(database) == {"starts": 2, "ends": 1, "both": 1, "running": 2}


def test_dates_are_ignored_when_follow_dates_is_off(db_path, database, repository, boards):
    for slug, status, start, end in [("starts", "upcoming", PAST, FUTURE), ("ends", "ongoing", PAST, "2021-01-01")]:
        add_board(boards, slug)
        repository.add_competition(slug, status=status, start=start, end=end, sync=False)
    watcher = Watcher(repository, Syncer(db_path, FolderSource(boards)), interval=60, follow_dates=False)
    report = watcher.tick()
    assert report.transitions == []
    assert {c.slug: c.status for c in repository.list_competitions()} == {"starts": "upcoming", "ends": "ongoing"}
    assert run_counts(database) == {"ends": 1}


def test_a_failed_final_sync_keeps_the_competition_ongoing_until_it_succeeds(db_path, database, repository, boards):
    repository.add_competition("ends", status="ongoing", start=PAST, end="2021-01-01", sync=False)
    watcher = Watcher(repository, Syncer(db_path, FolderSource(boards)), interval=60)
    first = watcher.tick()
    assert [o.status for o in first.outcomes] == ["failed"] and first.transitions == []
    assert repository.get_competition("ends").status == "ongoing"
    add_board(boards, "ends")
    second = watcher.tick()
    assert second.ok and [(t.old, t.new) for t in second.transitions] == [("ongoing", "completed")]
    assert repository.get_competition("ends").status == "completed"


def test_rate_limiting_slows_the_loop_down_and_a_clean_tick_resets_it(db_path, repository, boards):
    add_board(boards, "busy")
    add_board(boards, "other")
    repository.add_competition("busy", status="ongoing", sync=False)
    repository.add_competition("other", status="ongoing", sync=False)
    source = ScriptedSource(boards)
    limited = KaggleRateLimitError(
        "Kaggle kept rate-limiting the leaderboard download of 'busy' (HTTP 429, 4 attempts)"
    )
    source.failures["busy"] = [limited] * 5
    watcher = Watcher(repository, Syncer(db_path, source), interval=10, max_backoff=8)
    intervals = []
    for _ in range(5):
        report = watcher.tick()
        assert report.rate_limited and not report.ok
        intervals.append(report.next_interval)
    assert intervals == [20, 40, 80, 80, 80]
    source.failures["other"] = [KaggleNotFoundError("Kaggle has no competition 'other' (HTTP 404)")]
    report = watcher.tick()  # a failure, but no rate limiting: back to the base interval
    assert not report.rate_limited and not report.ok
    assert report.next_interval == 10 == watcher.current_interval


def test_the_loop_waits_the_longer_interval_after_rate_limiting(db_path, repository, boards):
    repository.add_competition("busy", status="ongoing", sync=False)
    source = ScriptedSource(boards)
    source.failures["busy"] = [KaggleRateLimitError("Kaggle kept rate-limiting 'busy' (HTTP 429)")] * 3
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, source), interval=0.1, max_backoff=4, observer=recorder)
    watcher.run(max_ticks=3)
    gaps = [recorder.started[i + 1][2] - recorder.finished_at[i] for i in range(2)]
    # Lower bounds only: 0.2 s after the first tick, 0.4 s after the second.
    assert gaps[0] >= 0.2 - 0.02 and gaps[1] >= 0.4 - 0.02, gaps


def test_is_rate_limited():
    def outcome(slug, status, error, kind):
        return SyncOutcome(slug, "watch", "kaggle", status, "", "", 0.0, error=error, error_kind=kind)

    # The kind decides, never the text: a 404 whose message says "429" is not rate limiting.
    assert is_rate_limited(outcome("a", "failed", "Kaggle kept rate-limiting (HTTP 429: x)", "rate_limited"))
    assert not is_rate_limited(
        outcome("rate-limit-429", "failed", "Kaggle has no competition 'rate-limit-429' (HTTP 429)", "not_found")
    )
    assert not is_rate_limited(outcome("a", "ok", None, None))


def test_ticks_never_overlap_and_the_next_starts_an_interval_after_the_end(db_path, repository, boards):
    add_board(boards, "slow")
    repository.add_competition("slow", status="ongoing", sync=False)
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, ScriptedSource(boards, delay=0.3)), interval=0.1, observer=recorder)
    watcher.run(max_ticks=3)
    assert len(recorder.reports) == 3
    for i in range(2):
        # The tick took 0.3 s, three intervals: still no catch-up burst.
        assert recorder.started[i + 1][2] - recorder.finished_at[i] >= 0.1 - 0.02


def test_stop_lets_running_syncs_finish_and_starts_no_queued_one(db_path, database, repository, boards):
    for slug in ("a", "b", "c"):
        add_board(boards, slug)
        repository.add_competition(slug, status="ongoing", sync=False)
    source = ScriptedSource(boards)
    source.release = threading.Event()
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, source), interval=0.05, jobs=2, observer=recorder)

    def stop_while_two_run():
        assert source.started.acquire(timeout=10) and source.started.acquire(timeout=10)
        watcher.stop()
        source.release.set()

    helper = threading.Thread(target=stop_while_two_run)
    helper.start()
    last = watcher.run()  # no max_ticks: only the stop ends it
    helper.join()
    assert watcher.ticks == 1 and last.stopped and recorder.stops == 1
    assert [(o.competition, o.status) for o in last.outcomes] == [("a", "ok"), ("b", "ok"), ("c", "interrupted")]
    assert last.outcomes[2].error == NOT_STARTED
    assert sorted(source.fetched) == ["a", "b"]
    assert sorted(runs(database)) == [("a", "watch", "ok"), ("b", "watch", "ok")]
    assert repository.get_competition("c").last_sync_status is None


def test_an_error_in_a_tick_is_reported_and_the_loop_goes_on(db_path, repository, boards, monkeypatch):
    add_board(boards, "a")
    repository.add_competition("a", status="ongoing", sync=False)
    original = repository.list_competitions
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        return original(*args, **kwargs)

    monkeypatch.setattr(repository, "list_competitions", flaky)
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, FolderSource(boards)), interval=0.05, observer=recorder)
    watcher.run(max_ticks=2)
    first, second = recorder.reports
    assert "database is locked" in first.error and not first.ok
    assert isinstance(first.exception, sqlite3.OperationalError)
    assert second.error is None and second.ok and [o.competition for o in second.outcomes] == ["a"]


def test_signals_stop_the_loop_and_handlers_are_restored(db_path, repository, boards):
    add_board(boards, "a")
    repository.add_competition("a", status="ongoing", sync=False)
    recorder = Recorder()
    watcher = Watcher(repository, Syncer(db_path, FolderSource(boards)), interval=0.05, observer=recorder)
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    with stop_on_signals(watcher):
        timer.start()
        watcher.run()  # only the signal ends it
        assert watcher.stopping and recorder.stops == 1 and watcher.ticks >= 1
        os.kill(os.getpid(), signal.SIGINT)  # a second signal aborts running syncs
        time.sleep(0.2)
        assert watcher.syncer.stop.aborting
        with pytest.raises(KeyboardInterrupt):  # a third abandons what is left
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    timer.join()
    assert signal.getsignal(signal.SIGTERM) is before


# -- whole processes ------------------------------------------------------------


def kagsync(*args, db_path, source=None):
    command = [sys.executable, "-m", "kagsync", "--db", str(db_path)]
    if source is not None:
        command += ["--source", str(source)]
    return subprocess.Popen(command + list(args), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def run_count(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT count(*) FROM sync_runs").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def test_sigterm_stops_watch_cleanly(db_path, repository, boards):
    add_board(boards, "titanic")
    repository.add_competition("titanic", status="ongoing", sync=False)
    proc = kagsync("watch", "--interval", "0.2", db_path=db_path, source=boards)
    try:
        assert wait_for(lambda: run_count(db_path) >= 1), "no sync was recorded"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "Stopped after" in err
    statuses = {row[0] for row in sqlite3.connect(db_path).execute("SELECT status FROM sync_runs")}
    assert statuses == {"ok"}


def test_ctrl_c_during_a_tick_finishes_the_running_sync_and_starts_no_other(db_path, repository, kaggle_standin):
    for slug in ("a-comp", "b-comp"):
        kaggle_standin.serve_zip(slug, build_leaderboard_zip(make_board(30, seed=6), slug=slug))
        kaggle_standin.set_delay(slug, 1.5)
        repository.add_competition(slug, status="ongoing", sync=False)
    proc = kagsync("watch", "--interval", "60", "--jobs", "1", db_path=db_path)
    try:
        assert kaggle_standin.wait_for_downloads(1, timeout=30)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert kaggle_standin.download_count() == 1
    database = dbmod.connect(db_path)
    try:
        assert runs(database) == [("a-comp", "watch", "ok")]
        assert database.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 30
    finally:
        database.close()


def test_cron_and_watch_at_once_never_sync_one_competition_together(db_path, repository, kaggle_standin):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(300, seed=8), slug="titanic"))
    kaggle_standin.set_delay("titanic", 1.0)
    repository.add_competition("titanic", status="ongoing", sync=False)
    procs = [kagsync("--quiet", "watch", "--once", db_path=db_path) for _ in range(2)]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert kaggle_standin.download_count("titanic") == 2
    assert kaggle_standin.max_in_flight("titanic") == 1
    assert run_count(db_path) == 2


def test_a_real_429_from_the_standin_backs_watch_off_by_its_error_kind(db_path, database, repository, kaggle_standin):
    """HTTP 429 through the real client: the run stores error_kind rate_limited and watch doubles its interval."""
    kaggle_standin.serve_error("busy", 429, headers={"Retry-After": "0"})
    repository.add_competition("busy", status="ongoing", sync=False)
    watcher = Watcher(repository, Syncer(db_path, KaggleSource(max_attempts=1)), interval=10, observer=Recorder())
    report = watcher.tick()
    assert [(o.competition, o.status, o.error_kind) for o in report.outcomes] == [("busy", "failed", "rate_limited")]
    assert report.rate_limited and watcher.current_interval == 20
    stored = database.query("SELECT status, error_kind FROM sync_runs")
    assert stored == [{"status": "failed", "error_kind": "rate_limited"}]


def test_one_bad_competition_never_stops_the_tick(db_path, database, repository, boards):
    """A stored date that cannot be read is that competition's failed run; the others sync."""
    add_board(boards, "good")
    repository.add_competition("good", status="ongoing", sync=False)
    repository.add_competition("bad", status="upcoming", start="2025-01-01", sync=False)
    database.conn.execute("UPDATE competitions SET start = '999-12-31T00:00:00Z' WHERE slug = 'bad'")
    watcher = Watcher(repository, Syncer(db_path, FolderSource(boards)), interval=10, observer=Recorder())
    report = watcher.tick()
    assert report.error is None
    assert {o.competition: o.status for o in report.outcomes} == {"good": "ok", "bad": "failed"}
    assert repository.get_competition("bad").last_sync_status == "failed"
