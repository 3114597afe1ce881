"""Sync through the CLI and the real kaggle client, against the local Kaggle stand-in."""
# ruff: noqa: F811  (the stand-in fixture is imported)

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.boards import BOARD_1, csv_c, write_zip
from tests.kaggle_standin import DEFAULT_KEY, build_leaderboard_zip, kaggle_standin, make_board  # noqa: F401

ROOT = Path(__file__).parent.parent


def test_add_syncs_a_15000_team_board_exactly(cli, kaggle_standin, db_path):
    rows = make_board(15000, seed=7, benchmark=True)
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(rows, slug="titanic"))
    result = cli("competition", "add", "titanic", "--status", "ongoing")
    assert result.exit_code == 0, result.output
    assert "synced 15,001 entries" in result.stderr
    stored = cli.json("leaderboard", "titanic")
    assert len(stored) == 15001
    by_id = {entry["team_id"]: entry for entry in stored}
    for row in rows[:50] + rows[-50:]:
        entry = by_id[int(row["TeamId"])]
        assert entry["team_name"] == row["TeamName"]
        assert entry["score"] == row["Score"]
        assert entry["rank"] == int(row["Rank"])
        assert entry["submission_count"] == int(row["SubmissionCount"])
        assert entry["members"] == [m for m in row["TeamMemberUserNames"].split(",") if m]
        assert entry["is_benchmark"] == (int(row["Rank"]) == 0)
    shown = cli.json("competition", "show", "titanic")
    assert (shown["entry_count"], shown["last_sync_status"]) == (15001, "ok")
    assert shown["last_synced_at"] is not None
    assert kaggle_standin.download_count("titanic") == 1


def test_set_status_into_ongoing_syncs_again(cli, kaggle_standin):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(30, seed=1), slug="titanic"))
    assert cli("competition", "add", "titanic", "--no-sync").exit_code == 0
    assert kaggle_standin.download_count("titanic") == 0
    assert cli("competition", "edit", "titanic", "--title", "T").exit_code == 0
    assert kaggle_standin.download_count("titanic") == 0
    assert cli("competition", "set-status", "titanic", "ongoing").exit_code == 0
    assert kaggle_standin.download_count("titanic") == 1
    assert cli("competition", "set-status", "titanic", "ongoing").exit_code == 0
    assert kaggle_standin.download_count("titanic") == 1
    runs = cli.json("runs", "titanic")
    assert [(r["trigger"], r["status"], r["entries"]) for r in runs] == [("status", "ok", 30)]


def test_auto_sync_off(cli, kaggle_standin):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(5), slug="titanic"))
    assert cli("competition", "add", "titanic", env={"KAGSYNC_AUTO_SYNC": "0"}).exit_code == 0
    assert kaggle_standin.download_count("titanic") == 0


@pytest.mark.parametrize(
    "status, body, fragment",
    [
        (401, None, "rejected"),
        (403, None, "https://www.kaggle.com/competitions/titanic/rules"),
        (404, None, "check the slug"),
        (429, None, "429"),
        (503, None, "503"),
    ],
)
def test_kaggle_faults_keep_the_competition_and_say_why(cli, kaggle_standin, monkeypatch, status, body, fragment):
    import kagsync.retry as kc

    monkeypatch.setattr(kc, "MAX_BACKOFF", 0.01)
    monkeypatch.setattr(kc, "MAX_RETRY_AFTER", 0.01)
    kaggle_standin.serve_details("titanic")  # it exists; only its download fails
    kaggle_standin.serve_error("titanic", status, body)
    result = cli("competition", "add", "titanic", "--status", "ongoing")
    assert result.exit_code == 3, result.output
    assert fragment in result.stderr
    assert "The competition was saved; retry the sync with: kagsync sync titanic" in result.stderr
    assert "Traceback" not in result.output
    assert cli.json("competition", "show", "titanic")["last_sync_status"] == "failed"
    runs = cli.json("runs", "titanic")
    assert runs[0]["status"] == "failed" and fragment in runs[0]["error"]


def test_no_credentials(cli, kaggle_standin, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    result = cli("competition", "add", "titanic")
    assert result.exit_code == 3
    assert "kaggle.json" in result.stderr and "KAGGLE_USERNAME" in result.stderr
    assert result.stdout == ""
    assert kaggle_standin.download_count() == 0


@pytest.mark.parametrize(
    "body, fragment",
    [(b"<html>maintenance</html>", "not a zip"), ("truncated", "truncated"), ("nocsv", "no CSV")],
)
def test_bad_bodies(cli, kaggle_standin, body, fragment):
    if body == "truncated":
        body = build_leaderboard_zip(make_board(500, seed=2), slug="titanic")[:-100]
    elif body == "nocsv":
        import io
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("notes.txt", "nothing here")
        body = buffer.getvalue()
    kaggle_standin.serve_details("titanic")
    kaggle_standin.serve_raw("titanic", body)
    result = cli("competition", "add", "titanic")
    assert result.exit_code == 3
    assert fragment in result.stderr


def test_failed_resync_keeps_the_board(cli, kaggle_standin):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(40, seed=3), slug="titanic"))
    assert cli("competition", "add", "titanic").exit_code == 0
    before = cli.json("leaderboard", "titanic")
    kaggle_standin.serve_raw("titanic", b"garbage")
    result = cli("sync", "titanic")
    assert result.exit_code == 3
    assert cli.json("leaderboard", "titanic") == before


def test_sync_from_file_and_all_active(cli, tmp_path):
    path = write_zip(tmp_path / "b.zip", csv_c(BOARD_1), slug="comp")
    assert cli("competition", "add", "comp", "--no-sync").exit_code == 0
    result = cli("sync", "comp", "--from", str(path))
    assert result.exit_code == 0, result.output
    assert [e["team_id"] for e in cli.json("leaderboard", "comp", "--top", "2")] == [101, 102]
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "comp.csv").write_text(csv_c(BOARD_1), encoding="utf-8")
    (folder / "other.csv").write_text(csv_c(BOARD_1), encoding="utf-8")
    cli("competition", "set-status", "comp", "ongoing", "--no-sync")
    cli("competition", "add", "other", "--status", "ongoing", "--no-sync")
    cli("competition", "add", "idle", "--no-sync")
    result = cli("--source", str(folder), "sync", "--all-active")
    assert result.exit_code == 0, result.output
    runs = cli.json("runs")
    assert sorted(r["competition"] for r in runs if r["trigger"] == "manual") == ["comp", "comp", "other"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["sync"], "at least one competition"),
        (["sync", "a", "b", "--from", "x.zip"], "exactly one"),
        (["sync", "ghost"], "no competition 'ghost'"),
    ],
)
def test_sync_usage_errors(cli, args, fragment):
    cli("competition", "add", "a", "--no-sync")
    cli("competition", "add", "b", "--no-sync")
    result = cli(*args)
    assert result.exit_code != 0 and fragment in result.stderr


def test_secrets_never_in_output_log_or_database(cli, kaggle_standin, db_path):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(10), slug="titanic"))
    kaggle_standin.serve_error("other", 401)
    outputs = [cli("-v", "competition", "add", "titanic"), cli("-v", "competition", "add", "other")]
    text = "".join(r.output for r in outputs)
    text += (db_path.parent / "kagsync.log").read_text()
    text += db_path.read_bytes().decode("latin-1")
    wal = db_path.with_name(db_path.name + "-wal")
    if wal.exists():
        text += wal.read_bytes().decode("latin-1")
    assert "titanic: sync complete" in text
    assert DEFAULT_KEY not in text


def test_two_processes_never_download_one_competition_at_once(kaggle_standin, db_path, tmp_path):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(200, seed=5), slug="titanic"))
    env = {**os.environ, "KAGSYNC_DB": str(db_path)}
    subprocess.run(
        [sys.executable, "-m", "kagsync", "competition", "add", "titanic", "--no-sync"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    kaggle_standin.set_delay("titanic", 1.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kagsync", "sync", "titanic"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert kaggle_standin.download_count("titanic") == 2
    assert kaggle_standin.max_in_flight("titanic") == 1
    first, second = sorted(kaggle_standin.downloads("titanic"), key=lambda r: r.started)
    assert second.started >= first.ended - 0.05


def test_log_has_one_line_per_step(cli, kaggle_standin, db_path):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(12), slug="titanic"))
    kaggle_standin.serve_details("gone")  # listed on Kaggle, but its leaderboard is gone
    kaggle_standin.serve_error("gone", 404)
    cli("competition", "add", "titanic")
    cli("competition", "add", "gone")
    log = (db_path.parent / "kagsync.log").read_text()
    for step in (
        "titanic: queued",
        "titanic: downloading",
        "titanic: downloaded 12 entries",
        "titanic: database update created=12 updated=0 removed=0",
        "titanic: sync complete",
        "gone: sync failed",
    ):
        assert step in log, step
    custom = db_path.parent / "custom.log"
    cli("--log-file", str(custom), "sync", "titanic")
    assert "titanic: sync complete" in custom.read_text()


def test_one_competition_named_twice_syncs_once(cli, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "comp.csv").write_text(csv_c(BOARD_1), encoding="utf-8")
    cli("competition", "add", "comp", "--no-sync")
    result = cli("--source", str(folder), "sync", "comp", "https://www.kaggle.com/c/comp", "comp")
    assert result.exit_code == 0, result.output
    assert len(cli.json("runs", "comp")) == 1


def test_verbose_puts_debug_lines_in_the_log_file(cli, db_path, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "comp.csv").write_text(csv_c(BOARD_1), encoding="utf-8")
    assert cli("--offline", "--source", str(folder), "competition", "add", "comp").exit_code == 0
    log = db_path.parent / "kagsync.log"
    assert " DEBUG " not in log.read_text(encoding="utf-8")
    assert cli("-v", "--source", str(folder), "sync", "comp").exit_code == 0
    text = log.read_text(encoding="utf-8")
    assert " DEBUG " in text and "claiming" in text and "settings:" in text
