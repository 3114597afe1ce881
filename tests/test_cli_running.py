"""The import and watch commands, run as a user runs them."""
# ruff: noqa: F811  (the stand-in fixture is imported)

from __future__ import annotations

from pathlib import Path

import pytest

from tests.boards import BOARD_1, csv_c
from tests.kaggle_standin import build_leaderboard_zip, kaggle_standin, make_board  # noqa: F401

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_SLUGS = [
    "house-prices-advanced-regression-techniques",
    "nlp-getting-started",
    "spaceship-titanic",
    "titanic",
    "winter-cup-2026",
]


def write(tmp_path: Path, text: str, name: str = "comps.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def boards(tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    return folder


def add_board(folder: Path, slug: str) -> None:
    (folder / f"{slug}.csv").write_text(csv_c(BOARD_1), encoding="utf-8")


@pytest.mark.parametrize("command", ["import", "watch"])
def test_help_has_an_example(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_import_the_examples_creates_and_syncs_everything(cli):
    result = cli("--source", str(EXAMPLES / "leaderboards"), "import", str(EXAMPLES / "comps.csv"), "--create-events")
    assert result.exit_code == 0, result.output
    assert "Created event neural-night-2025" in result.stderr
    assert "5 new, 0 updated, 0 unchanged" in result.stderr
    competitions = cli.json("competition", "list")
    assert [c["slug"] for c in competitions] == EXAMPLE_SLUGS
    status = {c["slug"]: c["status"] for c in competitions}
    # The closed one's status follows its dates (from winter-cup-2026.json), and its final board is stored.
    assert status == {**{slug: "ongoing" for slug in EXAMPLE_SLUGS}, "winter-cup-2026": "completed"}
    assert all(c["events"] == ["neural-night-2025"] for c in competitions)
    assert all(c["last_sync_status"] == "ok" and c["entry_count"] > 0 for c in competitions)
    assert {c["slug"]: c["lower_is_better"] for c in competitions}["house-prices-advanced-regression-techniques"]
    assert {c["slug"]: c["private_released"] for c in competitions}["winter-cup-2026"]
    for slug in EXAMPLE_SLUGS:  # the summary table
        assert slug in result.stdout
    runs = cli.json("runs")
    assert sorted((r["trigger"], r["board"]) for r in runs) == [("import", "private")] + [("import", "public")] * 5

    again = cli("--source", str(EXAMPLES / "leaderboards"), "import", str(EXAMPLES / "comps.csv"))
    assert again.exit_code == 0, again.output
    assert "0 new, 0 updated, 5 unchanged" in again.stderr
    assert len(cli.json("runs")) == 6  # nothing new, nothing synced


def test_a_bad_file_reports_every_line_and_writes_nothing(cli, tmp_path):
    path = write(
        tmp_path,
        (
            "slug,title,event,status,start\n"
            "titanic,Titanic,night,ongoing,2025-03-01\n"
            "Bad Slug,,,,\n"
            "spaceship-titanic,,,soon,\n"
            "titanic,,,,\n"
            "nlp,,,,yesterday\n"
        ),
    )
    result = cli("import", str(path), "--create-events")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert [line.split(":")[1].strip() for line in errors] == [
        "comps.csv line 3",
        "comps.csv line 4",
        "comps.csv line 5",
        "comps.csv line 6",
    ]
    assert "invalid competition slug 'Bad Slug'" in errors[0]
    assert "unknown status 'soon'" in errors[1]
    assert "already on line 2" in errors[2]
    assert "cannot read 'yesterday'" in errors[3]
    assert "Nothing was imported (4 problems)." in result.stderr
    assert cli.json("competition", "list") == []
    assert cli.json("event", "list") == []

    unknown = cli("import", str(write(tmp_path, "slug,event\ntitanic,night\n")))
    assert unknown.exit_code == 2
    assert "Error: comps.csv line 2: unknown event 'night'" in unknown.stderr
    assert "--create-events" in unknown.stderr

    missing = cli("import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_dry_run_shows_the_changes_and_writes_nothing(cli, tmp_path, kaggle_standin):
    for slug in ("titanic", "keep", "fresh"):
        kaggle_standin.serve_details(slug, title=None)
    first = write(tmp_path, "slug,title,status\ntitanic,Titanic,upcoming\nkeep,Keep,upcoming\n")
    assert cli("import", str(first), "--no-sync").exit_code == 0
    before = cli.json("competition", "list")
    second = write(
        tmp_path, "slug,title,status\ntitanic,Titanic 2025,ongoing\nkeep,Keep,upcoming\nfresh,,\n", "more.csv"
    )
    result = cli("import", str(second), "--dry-run")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "status: upcoming → ongoing" in out and "title: Titanic → Titanic 2025" in out
    assert "unchanged" in out and "new" in out
    # keep never synced (imported with --no-sync): it is due as well, like the new and the updated line.
    assert "Dry run: 1 new, 1 updated, 1 unchanged, 3 to sync; nothing was written." in result.stderr
    assert cli.json("competition", "list") == before
    assert cli.json("runs") == []
    assert kaggle_standin.download_count() == 0


def test_import_syncs_in_parallel(cli, tmp_path, kaggle_standin):
    import kagsync.kaggle.download  # noqa: F401  (loaded before timing, as a warm process would have it)

    slugs = ["slow-one", "slow-two", "slow-three"]
    for slug in slugs:
        kaggle_standin.serve_zip(slug, build_leaderboard_zip(make_board(200, seed=len(slug)), slug=slug))
        kaggle_standin.set_delay(slug, 1.0)
    path = write(tmp_path, "slug,status\n" + "".join(f"{slug},ongoing\n" for slug in slugs))
    result = cli("import", str(path), "--jobs", "3")
    assert result.exit_code == 0, result.output
    # The proof: all three downloads were in flight at once (each is held 1 s by the
    # stand-in). Wall time is not asserted: speed is for benchmarks on a noisy machine.
    assert kaggle_standin.max_in_flight() == 3
    assert [kaggle_standin.download_count(slug) for slug in slugs] == [1, 1, 1]
    assert {c["slug"]: c["entry_count"] for c in cli.json("competition", "list")} == {s: 200 for s in slugs}


def test_a_failed_sync_keeps_the_competition_and_exits_3(cli, tmp_path, kaggle_standin):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(20), slug="titanic"))
    kaggle_standin.serve_details("gone")  # listed on Kaggle, but its download answers 404
    kaggle_standin.serve_error("gone", 404)
    path = write(tmp_path, "slug,status\ntitanic,ongoing\ngone,ongoing\n")
    result = cli("import", str(path))
    assert result.exit_code == 3, result.output
    assert "check the slug" in result.stdout  # the summary table's error column
    assert "kagsync sync gone" in result.stderr
    shown = {c["slug"]: c["last_sync_status"] for c in cli.json("competition", "list")}
    assert shown == {"gone": "failed", "titanic": "ok"}


@pytest.mark.parametrize("how", ["option", "setting"])
def test_no_sync(cli, tmp_path, kaggle_standin, how):
    kaggle_standin.serve_details("titanic")
    path = write(tmp_path, "slug,status\ntitanic,ongoing\n")
    if how == "option":
        result = cli("import", str(path), "--no-sync")
    else:
        result = cli("import", str(path), env={"KAGSYNC_AUTO_SYNC": "false"})
    assert result.exit_code == 0, result.output
    assert [c["slug"] for c in cli.json("competition", "list")] == ["titanic"]
    assert kaggle_standin.download_count() == 0


def test_reimport_with_a_status_change_syncs_it(cli, tmp_path, boards):
    add_board(boards, "titanic")
    source = ("--source", str(boards))
    assert cli(*source, "import", str(write(tmp_path, "slug\ntitanic\n"))).exit_code == 0  # new: synced
    assert cli(*source, "import", str(write(tmp_path, "slug,title\ntitanic,T\n"))).exit_code == 0  # no sync
    assert len(cli.json("runs", "titanic")) == 1
    result = cli(*source, "import", str(write(tmp_path, "slug,status\ntitanic,ongoing\n")))
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated, 0 unchanged" in result.stderr
    runs = cli.json("runs", "titanic")
    assert [(r["trigger"], r["status"]) for r in runs] == [("import", "ok"), ("import", "ok")]


# -- watch ---------------------------------------------------------------------


def test_watch_once_exit_codes(cli, boards):
    missing = cli("--source", str(boards), "watch", "--once")
    assert missing.exit_code == 1 and "no kagsync database at" in missing.stderr
    assert cli("event", "add", "Night").exit_code == 0
    result = cli("--source", str(boards), "watch", "--once")
    assert result.exit_code == 0, result.output
    assert "No active competitions to sync." in result.stderr

    add_board(boards, "titanic")
    assert cli("competition", "add", "titanic", "--status", "ongoing", "--no-sync").exit_code == 0
    result = cli("--source", str(boards), "watch", "--once")
    assert result.exit_code == 0, result.output
    assert "titanic: ok, 4 entries" in result.stderr
    assert "tick 1: 1 ok" in result.stderr

    assert cli("competition", "add", "missing", "--status", "ongoing", "--no-sync").exit_code == 0
    result = cli("--source", str(boards), "--quiet", "watch", "--once")
    assert result.exit_code == 3, result.output
    assert "missing: failed: no leaderboard for 'missing'" in result.stderr
    assert "Traceback" not in result.output
    runs = cli.json("runs")
    assert sorted((r["competition"], r["trigger"], r["status"]) for r in runs) == [
        ("missing", "watch", "failed"),
        ("titanic", "watch", "ok"),
        ("titanic", "watch", "ok"),
    ]


def test_watch_runs_bounded_ticks_with_plain_lines(cli, boards):
    for slug in ("alpha", "beta"):
        add_board(boards, slug)
        cli("competition", "add", slug, "--status", "ongoing", "--no-sync")
    cli("competition", "add", "later", "--status", "upcoming", "--start", "2099-01-01", "--no-sync")
    result = cli("--source", str(boards), "watch", "--interval", "0.05", "--max-ticks", "2", "--jobs", "2")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert sum("tick 1: 2 ok" in line for line in lines) == 1
    assert sum("tick 2: 2 ok" in line for line in lines) == 1
    assert sum("alpha: ok, 4 entries" in line for line in lines) == 2
    assert "alpha: ok, 4 entries (+4 new, −0 removed, 0 updated)" in result.stderr
    assert "alpha: ok, 4 entries (no change)" in result.stderr
    assert "next tick in 0.05 s" in result.stderr
    runs = cli.json("runs")
    assert sorted((r["competition"], r["trigger"]) for r in runs) == [("alpha", "watch")] * 2 + [("beta", "watch")] * 2


def test_watch_moves_statuses_by_date(cli, boards):
    add_board(boards, "starts")
    cli("competition", "add", "starts", "--start", "2020-01-01", "--no-sync")
    result = cli("--source", str(boards), "watch", "--once")
    assert result.exit_code == 0, result.output
    assert "starts: upcoming → ongoing" in result.stderr
    assert cli.json("competition", "show", "starts")["status"] == "ongoing"
    result = cli("--source", str(boards), "watch", "--once", env={"KAGSYNC_FOLLOW_DATES": "0"})
    assert result.exit_code == 0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["watch", "--interval", "0"], "interval: expected a positive number of seconds"),
        (["watch", "--interval", "inf", "--max-ticks", "1"], "interval: expected a positive number of seconds"),
        (["watch", "--interval", "1e300", "--once"], "interval: expected a positive number of seconds"),
        (["watch", "--jobs", "0"], "Invalid value for '--jobs'"),
        (["watch", "--max-ticks", "0"], "Invalid value for '--max-ticks'"),
    ],
)
def test_watch_bad_options(cli, args, fragment):
    result = cli(*args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.output


def test_import_fills_from_kaggle_and_refuses_a_slug_kaggle_does_not_know(cli, tmp_path, kaggle_standin):
    kaggle_standin.serve_details(
        "house-prices",
        title="House Prices",
        evaluation_metric="Root Mean Squared Error",
        enabled_date="2020-01-01T00:00:00Z",
        deadline="2099-01-01T00:00:00Z",
        team_count=4000,
    )
    typo = write(tmp_path, "slug,title\nhouse-prices,\nhouse-pricse,My title\n")
    refused = cli("import", str(typo), "--no-sync")
    assert refused.exit_code == 2
    assert "line 3: no competition 'house-pricse' exists on Kaggle" in refused.stderr
    assert cli.json("competition", "list") == []  # nothing was written

    good = write(tmp_path, "slug,title\nhouse-prices,\n", "good.csv")
    dry = cli("import", str(good), "--dry-run", "--no-sync")
    assert dry.exit_code == 0, dry.output
    assert "House Prices" in " ".join(dry.stdout.split())
    assert cli("import", str(good), "--no-sync").exit_code == 0
    shown = cli.json("competition", "show", "house-prices")
    assert (shown["title"], shown["status"], shown["lower_is_better"], shown["metric"], shown["team_count"]) == (
        "House Prices",
        "ongoing",
        True,
        "Root Mean Squared Error",
        4000,
    )
