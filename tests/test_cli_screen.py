"""Issue 19 item 6: what the screen says -- titles in standings, empty columns left out,
a finished progress bar, private boards named, shake-up explained, --quiet kept, no
database file for a refused add, a long reason said once and wrapped at words, and
--offline meaning no network at all."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from tests.boards import BOARD_1, csv_c, write_zip
from tests.kaggle_standin import kaggle_standin  # noqa: F401
from tests.test_cli_piped import EXAMPLES, demo  # noqa: F401

LEADERBOARDS = str(EXAMPLES / "leaderboards")


def tty(width: int) -> dict[str, str]:
    return {"KAGSYNC_FORCE_TTY": str(width)}


@pytest.fixture
def two(cli, tmp_path):
    """Two ongoing competitions synced once from a folder."""
    folder = tmp_path / "boards"
    folder.mkdir()
    for slug in ("alpha", "beta"):
        write_zip(folder / f"{slug}.zip", csv_c(BOARD_1), slug=slug)
        result = cli("--source", str(folder), "competition", "add", slug, "--status", "ongoing")
        assert result.exit_code == 0, result.output
    cli.folder = folder
    return cli


def test_standings_at_80_columns_use_the_titles(demo):  # noqa: F811
    assert demo("event", "edit", "neural-night-2025", "--title", "Neural Night 2025").exit_code == 0
    shown = demo("event", "standings", "neural-night-2025", "--top", "3", env=tty(80)).stdout
    lines = shown.splitlines()
    assert lines[0].startswith("Standings of Neural Night 2025 ")
    rule = next(i for i, line in enumerate(lines) if set(line) == {"─"})
    header = lines[1:rule]
    assert len(header) <= 3, shown  # not five lines of slug pieces
    assert "House" in shown and "Prices" in shown and "house-" not in shown and "regression" not in shown


def test_a_summary_leaves_out_an_empty_error_column(two):
    result = two("--source", str(two.folder), "sync", "alpha", "beta", env=tty(80))
    assert result.exit_code == 0, result.output
    assert "Outcome" in result.stdout and "Error" not in result.stdout
    result = two("--source", str(two.folder), "sync", "alpha", "beta", env=tty(200))
    assert "Error" not in result.stdout and "Removed" in result.stdout


def test_a_finished_progress_bar_shows_the_full_count(monkeypatch):
    import kagsync.cli.outcomes as outcomes
    import kagsync.cli.render as render
    from kagsync.cli.app import State

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    monkeypatch.setattr(render, "stderr", console)
    monkeypatch.setattr(outcomes, "stderr", console)
    display = outcomes.SyncDisplay(State())
    display.stage("titanic", "parsing", "titanic.csv")
    display.parse_progress("titanic", 16_384, 0.45)
    display._progress.refresh()
    display.stage("titanic", "writing", "36000 entries")
    display.stage("titanic", "ok", "36000 entries")
    display.__exit__(None, None, None)
    sizes = re.findall(r"[\d,]+ rows \(\d+%\)", console.file.getvalue())
    assert sizes[-1] == "36,000 rows (100%)", sizes


def test_a_private_board_sync_says_private(cli):
    assert cli("--source", LEADERBOARDS, "competition", "add", "winter-cup-2026", "--no-sync").exit_code == 0
    public = cli("--source", LEADERBOARDS, "sync", "winter-cup-2026")
    private = cli("--source", LEADERBOARDS, "sync", "winter-cup-2026", "--private")
    assert private.exit_code == 0, private.output
    assert "private" not in public.stderr and "(private board)" in private.stderr


def test_an_import_summary_names_the_private_board(cli, tmp_path):
    comps = tmp_path / "comps.csv"
    comps.write_text("slug,status\nwinter-cup-2026,completed\n")
    shown = cli("--source", LEADERBOARDS, "import", str(comps), env=tty(100))
    assert shown.exit_code == 0, shown.output
    assert "winter-cup-2026 (private)" in shown.stdout
    piped = cli("--db", str(tmp_path / "other.db"), "--source", LEADERBOARDS, "import", str(comps))
    assert piped.stdout.splitlines()[0].endswith("\tBoard") and piped.stdout.splitlines()[-1].endswith("\tprivate")


def test_shakeup_says_what_its_numbers_mean(demo):  # noqa: F811
    shown = demo("shakeup", "winter-cup-2026", "--top", "3", env=tty(120)).stdout
    assert "on average a team moved" in shown and re.search(r"\d+\.\d% of the board", shown)
    assert "Winter Cup 2026" in shown
    assert not re.search(r"shakeup 0\.\d{4}", shown)


def test_quiet_watch_prints_only_failures(two):
    quiet = two("--source", str(two.folder), "--quiet", "watch", "--once")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    (two.folder / "beta.zip").unlink()
    quiet = two("--source", str(two.folder), "--quiet", "watch", "--once")
    assert quiet.exit_code == 3
    lines = quiet.stderr.splitlines()
    assert lines and all("beta" in line for line in lines), quiet.stderr
    loud = two("--source", str(two.folder), "watch", "--once")
    assert "alpha: ok" in loud.stderr
    synced = two("--source", str(two.folder), "--quiet", "sync", "alpha")
    assert synced.exit_code == 0 and synced.output == ""
    assert "only errors" in two("--help").stdout.lower()


def test_add_with_an_unknown_event_creates_no_database(cli, db_path):
    result = cli("--source", LEADERBOARDS, "competition", "add", "titanic", "--event", "nope")
    assert result.exit_code == 1
    assert "no event 'nope'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not db_path.exists()


def test_without_credentials_the_reason_is_said_once(cli):
    result = cli("competition", "add", "titanic", "--status", "ongoing")
    assert result.exit_code == 3
    assert result.output.count("No Kaggle credentials found") == 1, result.output
    assert "kagsync sync titanic" in result.output


def test_a_long_message_wraps_at_words_on_a_terminal(monkeypatch):
    import kagsync.cli.outcomes as outcomes
    import kagsync.cli.render as render

    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    monkeypatch.setattr(render, "stderr", console)
    monkeypatch.setattr(outcomes, "stderr", console)
    reason = (
        "No Kaggle credentials found: create an API token at https://www.kaggle.com/settings and save "
        "kaggle.json to ~/.kaggle/ (or the folder named by KAGGLE_CONFIG_DIR), or set KAGGLE_USERNAME"
    )
    failed = SimpleNamespace(ok=False, status="failed", competition="titanic", error=reason, board="public", hint=None)
    outcomes.report_outcomes(SimpleNamespace(quiet=False), [failed])
    lines = console.file.getvalue().splitlines()
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines)
    words = set(" ".join(lines).split())
    assert set(reason.split()) <= words  # no word was cut in two


def test_offline_means_no_network(cli, kaggle_standin):  # noqa: F811
    kaggle_standin.serve_details("comp", title="Comp")
    kaggle_standin.serve_zip("comp", b"")
    added = cli("--offline", "competition", "add", "comp", "--status", "ongoing")
    assert added.exit_code == 0, added.output
    assert "nothing is synced now" in added.stderr
    for args in (("sync", "comp"), ("sync", "comp", "--private"), ("watch", "--once"), ("sync", "--all-active")):
        refused = cli("--offline", *args)
        assert refused.exit_code == 2, (args, refused.output)
        assert len(refused.stderr.strip().splitlines()) == 1 and "--offline" in refused.stderr
    assert cli("--offline", "competition", "refresh", "comp").exit_code != 0
    assert cli("--offline", "competition", "set-status", "comp", "ongoing").exit_code == 0
    assert kaggle_standin.requests == []
    assert "--offline" in cli("--help").stdout and "No network at all" in cli("--help").stdout


def test_offline_still_reads_a_folder(cli):
    result = cli("--offline", "--source", LEADERBOARDS, "competition", "add", "titanic", "--status", "ongoing")
    assert result.exit_code == 0, result.output
    assert "synced" in result.stderr
    assert cli("--offline", "--source", LEADERBOARDS, "sync", "titanic").exit_code == 0
    here = Path(LEADERBOARDS) / "titanic.zip"
    assert cli("--offline", "sync", "titanic", "--from", str(here)).exit_code == 0


def test_runs_name_the_private_board(cli):
    assert cli("--source", LEADERBOARDS, "competition", "add", "winter-cup-2026").exit_code == 0
    assert cli("--source", LEADERBOARDS, "sync", "winter-cup-2026", "--private").exit_code == 0
    shown = cli("runs", env=tty(120)).stdout
    assert "winter-cup-2026 (private)" in shown
    piped = [line.split("\t") for line in cli("runs").stdout.splitlines()]
    assert piped[0][-1] == "Board" and {row[-1] for row in piped[1:]} == {"public", "private"}
