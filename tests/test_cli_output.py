"""Terminal output: tables that fit 80, 120 and 200 columns; plain text into pipes; big
boards cut to their top on a terminal; the pager; closed pipes; global options after the
command; JSON summaries of syncs; the rotating log; shell completion."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer.main
from rich.cells import cell_len

from kagsync.cli import app
from kagsync.cli.app import _LogFileHandler, hoist_global_options
from kagsync.cli.render import Col, _pieces, build_table
from tests.boards import csv_c, write_zip

ROOT = Path(__file__).parent.parent
LONG = "house-prices-advanced-regression-techniques"
BROKEN = "a-competition-whose-board-is-missing-from-the-folder"


def tty(width: int) -> dict[str, str]:
    """Tables drawn for a terminal of this width (stdout is a pipe under CliRunner)."""
    return {"KAGSYNC_FORCE_TTY": str(width)}


def board(teams: int, *, shift: int = 0) -> list[tuple]:
    rows = []
    for index in range(teams):
        place = (index + shift) % teams
        rows.append(
            (
                place + 1,
                1000 + index,
                f"The Remarkably Long Team Name Number {index} 🚀",
                f"2026-05-0{1 + index % 5} 10:00:00",
                f"{0.99 - place / 1000:.5f}",
                1 + index % 7,
                ",".join(f"member{index}x{k}" for k in range(1 + index % 3)),
            )
        )
    return sorted(rows, key=lambda row: row[0])


@pytest.fixture
def club(cli, tmp_path):
    """An event with two synced competitions (one synced twice), a failed one, and long names."""
    folder = tmp_path / "boards"
    folder.mkdir()
    source = ("--source", str(folder))
    assert (
        cli(
            "event",
            "add",
            "Neural Night 2025 — the spring edition",
            "--slug",
            "neural-night-2025",
            "--start",
            "2026-01-01",
            "--end",
            "2027-06-01",
        ).exit_code
        == 0
    )
    write_zip(folder / f"{LONG}.zip", csv_c(board(120)), slug=LONG)
    write_zip(folder / "titanic.zip", csv_c(board(60)), slug="titanic")
    for slug, title in (
        (LONG, "House Prices - Advanced Regression Techniques"),
        ("titanic", "Titanic - Machine Learning from Disaster"),
        (BROKEN, "A competition whose leaderboard file is missing"),
    ):
        result = cli(
            *source,
            "competition",
            "add",
            slug,
            "--title",
            title,
            "--event",
            "neural-night-2025",
            "--status",
            "ongoing",
            "--no-sync",
            "--description",
            "A description that is long enough to wrap.",
            "--start",
            "2026-01-01",
            "--end",
            "2027-06-01",
        )
        assert result.exit_code == 0, result.output
    assert cli(*source, "sync", "--all-active").exit_code == 3  # the broken one fails
    write_zip(folder / f"{LONG}.zip", csv_c(board(121, shift=7)), slug=LONG)
    assert cli(*source, "sync", LONG).exit_code == 0
    cli.folder = folder
    return cli


# -- tables that fit -------------------------------------------------------------------

RULE = re.compile(r"^─+$")
NOTE = re.compile(r"Not shown at (\d+) columns: (.*?) \(widen the terminal")


def header_blocks(text: str) -> list[str]:
    """The header lines above each table's rule (at most 6 lines up, stopping at a blank)."""
    lines = text.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if RULE.match(line.strip()) and line.strip():
            block = []
            for above in reversed(lines[max(0, index - 6) : index]):
                if not above.strip():
                    break
                block.insert(0, above)
            blocks.append("\n".join(block))
    return blocks


def check_fits(result, width: int, expected: list[str]) -> list[str]:
    """Every line fits; each expected header is shown whole or named as not shown. Returns the hidden ones."""
    assert result.exit_code == 0, result.output
    text = result.stdout
    for line in text.splitlines():
        assert cell_len(line) <= width, f"{cell_len(line)} > {width}: {line!r}"
    joined = " ".join(" ".join(re.sub(r"\s+", " ", text).split("\n")).split())
    notes = NOTE.findall(joined)
    hidden = [name.strip() for _, names in notes for name in names.split(",")]
    blocks = "\n".join(header_blocks(text))
    assert "…" not in blocks, blocks
    for header in expected:
        if header in hidden:
            continue
        for piece in _pieces(header):
            assert piece in blocks, f"header {header!r} ({piece!r}) is not shown whole at {width}:\n{text}"
    return hidden


TABLES = {
    "competition list": (
        ["competition", "list"],
        ["Slug", "Title", "Events", "Status", "Start", "End", "Better", "Entries", "Last synced", "Sync"],
    ),
    "event list": (["event", "list"], ["Slug", "Title", "Start", "End", "Competitions"]),
    "event show": (["event", "show", "neural-night-2025"], ["Field", "Value", "Slug", "Title", "Status", "Sync"]),
    "competition show": (["competition", "show", LONG], ["Field", "Value"]),
    "runs": (
        ["runs"],
        [
            "Competition",
            "Trigger",
            "Status",
            "Started",
            "Finished",
            "Entries",
            "Created",
            "Updated",
            "Removed",
            "Error",
        ],
    ),
    "leaderboard": (["leaderboard", LONG], ["Rank", "Team", "Members", "Score", "Subs", "Last submission", "Move"]),
    "history": (["history", LONG], ["Synced", "Teams", "Top score", "New", "Changed", "Removed"]),
    "history --team": (
        ["history", LONG, "--team", "1003"],
        ["Synced", "Rank", "Move", "Score", "Previous score", "Name then"],
    ),
    "movers": (["movers", LONG], ["Rank", "Team", "Move", "Was", "Score"]),
    "event standings": (
        ["event", "standings", "neural-night-2025"],
        ["#", "Participant", "Points", "House Prices", "Titanic", "Entered"],
    ),
    "config": (["config"], ["Setting", "Value", "From", "Meaning"]),
}


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("name", list(TABLES))
def test_every_table_fits_the_terminal(club, name, width):
    args, expected = TABLES[name]
    hidden = check_fits(club(*args, env=tty(width)), width, expected)
    if width == 200 and name not in ("config", "runs"):
        assert hidden == [], f"{name} leaves out {hidden} even at 200 columns"
    if width == 80 and name in ("competition list", "runs", "leaderboard"):
        assert hidden, f"{name} should leave columns out at 80"


@pytest.mark.parametrize("width", [80, 120, 200])
def test_import_dry_run_and_sync_summary_fit(club, tmp_path, width):
    path = tmp_path / "more.csv"
    path.write_text(f"slug,title,status\n{LONG},A New Title For The House Prices Competition,completed\ntitanic,,\n")
    check_fits(
        club("import", str(path), "--dry-run", "--no-sync", env=tty(width)),
        width,
        ["Line", "Competition", "Action", "Changes", "Sync"],
    )
    summary = club("--source", str(club.folder), "sync", "--all-active", env=tty(width))
    assert summary.exit_code == 3
    summary.exit_code = 0  # the layout is what is checked here
    check_fits(summary, width, ["Competition", "Entries", "Created", "Updated", "Removed", "Outcome", "Error"])


def test_the_80_column_competition_list_says_what_it_left_out(club):
    result = club("competition", "list", env=tty(80))
    text = " ".join(result.stdout.split())
    assert "Not shown at 80 columns: Events, Start, End, Better, Last synced" in text
    assert f"{LONG[:22]}" in result.stdout  # the slug wraps at a hyphen, never mid-word
    wide = club("competition", "list", env=tty(200))
    assert LONG in wide.stdout and "Not shown" not in wide.stdout
    assert "2026" in wide.stdout or "–" in wide.stdout


def test_fit_never_squeezes_a_header():
    from rich.console import Console

    columns = [
        Col("Competition", 0, "key"),
        Col("Status", 0, "short"),
        Col("Last synced", 1, "time"),
        Col("Error", 1, "long"),
        Col("Trigger", 3, "short"),
        Col("Entries", 2, "num"),
    ]
    rows = [("x" * 60, "interrupted", "2026-05-01T10:00:00Z", "word " * 40, "import", 123456)]
    for width in (50, 60, 80, 120, 200):
        grid, hidden = build_table(columns, rows, width=width)
        console = Console(file=io.StringIO(), width=width)
        console.print(grid)
        text = console.file.getvalue()
        assert all(cell_len(line) <= width for line in text.splitlines()), text
        shown = {str(c.header).replace("\n", " "): c.width for c in grid.columns}
        assert set(shown) | set(hidden) == {c.name for c in columns} and not set(shown) & set(hidden)
        for name, size in shown.items():
            assert size is not None and all(cell_len(piece) <= size for piece in _pieces(name)), (name, size)
        assert "Competition" in shown and "Status" in shown  # priority 0 always stays
        if width >= 120:
            assert hidden == ["Trigger"] or hidden == []


def test_the_watch_display_fits_80_120_and_200_columns(club, monkeypatch):
    from rich.console import Console

    from kagsync.cli.app import State
    from kagsync.cli.running import WatchDisplay

    with _api(club) as ks:
        competitions = ks.competitions()
    for width in (80, 120, 200):
        display = WatchDisplay(State(), once=True)
        display.tick_started(1, competitions)
        display.parse_progress(LONG, 12345, 0.42)
        display.stage("titanic", "waiting")
        console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
        monkeypatch.setattr("kagsync.cli.running.stderr", console)  # it draws on (and for) this console
        console.print(display._render())
        text = console.file.getvalue()
        assert all(cell_len(line) <= width for line in text.splitlines()), text
        blocks = "\n".join(header_blocks(text))
        assert "Competition" in blocks and "Outcome" in blocks and "…" not in blocks
        assert "parsing 12,3" in text
        if width == 200:
            for header in ("Status", "Last sync (UTC)", "Entries", "Change", "Error"):
                assert header in blocks
            assert "parsing 12,345 rows (42%)" in text and "waiting for another sync" in text
        if width == 80:
            assert "Not shown at 80 columns" in " ".join(text.split())


def _api(cli):
    import kagsync

    return kagsync.open(cli.db_path, mode="read")


# -- pipes: plain tab-separated text ------------------------------------------------------------


def test_a_pipe_gets_tab_separated_text_with_every_row(club):
    result = club("leaderboard", LONG)
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == [
        "Rank",
        "Team",
        "Members",
        "Score",
        "Subs",
        "Last submission",
        "Move",
        "New",
        "Benchmark",
    ]
    assert len(lines) == 1 + 121  # every row, no "… more"
    assert all(line.count("\t") == 8 for line in lines)
    assert "…" not in result.stdout and "─" not in result.stdout
    listed = club("competition", "list").stdout.splitlines()
    assert listed[0].startswith("Slug\tTitle\tEvents\tStatus")
    assert len(listed) == 4
    assert any(line.startswith(f"{LONG}\tHouse Prices - Advanced Regression Techniques\t") for line in listed)
    standings = club("event", "standings", "neural-night-2025").stdout.splitlines()
    assert standings[0].split("\t")[:4] == ["#", "Participant", "Kind", "Points"]
    assert len(standings) > 51
    runs = club("runs").stdout.splitlines()
    assert runs[0].split("\t")[0] == "Competition" and len(runs) == 1 + 4


def test_movers_in_a_pipe_is_one_table_with_a_section_column(club):
    lines = club("movers", LONG, "--limit", "3").stdout.splitlines()
    assert lines[0].split("\t") == ["Section", "Rank", "Was", "Move", "Team", "Score", "Previous score"]
    assert {line.split("\t")[0] for line in lines[1:]} <= {"climbers", "fallers", "new", "departed"}


# -- big boards on a terminal -----------------------------------------------------------------------


def test_a_terminal_shows_the_top_50_with_a_more_line(club):
    result = club("leaderboard", LONG, env=tty(120))
    assert "… 71 more (--all)" in result.stdout
    assert "Number 49 " in result.stdout or "49" in result.stdout
    top = club("leaderboard", LONG, "--top", "5", env=tty(120))
    assert "… 116 more (--all)" in top.stdout
    everything = club("leaderboard", LONG, "--all", env=tty(200))
    assert "more (--all)" not in everything.stdout
    assert sum(1 for line in everything.stdout.splitlines() if "Remarkably" in line) == 121
    standings = club("event", "standings", "neural-night-2025", env=tty(200))
    participants = len(club.json("event", "standings", "neural-night-2025")["standings"])
    assert f"… {participants - 50:,} more (--all)" in standings.stdout
    filtered = club("leaderboard", LONG, "--team", "number", env=tty(200))
    assert "… 71 more (--all)" in filtered.stdout  # counted after the filter
    few = club("leaderboard", LONG, "--team", "Number 1", env=tty(200))
    assert "more (--all)" not in few.stdout  # 1, 10-19, 100-120: 32 teams, all shown
    assert len(club.json("leaderboard", LONG)) == 121  # JSON has every row


@pytest.mark.parametrize("value", ["0", "1000001", "99999999999999999999", "-3", "x"])
def test_counts_out_of_range_exit_2(club, value):
    for args in (
        ["leaderboard", LONG, "--top", value],
        ["runs", "--limit", value],
        ["movers", LONG, "--limit", value],
        ["event", "standings", "neural-night-2025", "--top", value],
    ):
        result = club(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and "OverflowError" not in result.output


def test_top_and_all_together_is_refused(club):
    result = club("leaderboard", LONG, "--top", "3", "--all")
    assert result.exit_code == 2 and "choose one of --top N and --all" in result.stderr


# -- --csv on every listing -----------------------------------------------------------------------


def _csv(result):
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_csv_on_every_listing(club):
    events = _csv(club("event", "list", "--csv"))
    assert events[0]["slug"] == "neural-night-2025" and events[0]["competition_count"] == "3"
    competitions = _csv(club("competition", "list", "--csv"))
    assert [c["slug"] for c in competitions] == sorted([LONG, "titanic", BROKEN])
    assert set(json.loads(club("competition", "list", "--json").stdout)[0]) == set(competitions[0])
    runs = _csv(club("runs", "--csv"))
    assert {r["status"] for r in runs} == {"ok", "failed"}
    assert set(runs[0]) == set(club.json("runs")[0])
    history = _csv(club("history", LONG, "--csv"))
    assert [h["entries"] for h in history] == ["120", "121"] or [h["entries"] for h in history] == ["121", "120"]
    team = _csv(club("history", LONG, "--team", "1003", "--csv"))
    assert team and {"synced_at", "rank", "score"} <= set(team[0])
    movers = _csv(club("movers", LONG, "--csv", "--limit", "2"))
    assert list(movers[0])[0] == "section"
    assert {m["section"] for m in movers} <= {"climbers", "fallers", "new", "departed"}
    assert len([m for m in movers if m["section"] == "climbers"]) <= 2
    for args in (["event", "list"], ["competition", "list"], ["runs"], ["history", LONG], ["movers", LONG]):
        refused = club(*args, "--csv", "--json")
        assert refused.exit_code == 2 and "choose one of --json and --csv" in refused.stderr


def test_csv_cells_are_formula_safe(cli):
    assert cli("event", "add", '=HYPERLINK("x")', "--slug", "night").exit_code == 0
    rows = _csv(cli("event", "list", "--csv"))
    assert rows[0]["title"].startswith("'=")


# -- closed pipes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["leaderboard", LONG, "--csv"],
        ["leaderboard", LONG],
        ["event", "standings", "neural-night-2025"],
        ["export", "--competition", LONG],
    ],
    ids=["leaderboard-csv", "leaderboard-tsv", "standings", "export"],
)
def test_a_closed_pipe_ends_quietly_with_status_0(club, args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -0`: the reader is gone before the first line
    process = subprocess.run(
        [sys.executable, "-m", "kagsync", "--db", str(club.db_path), *args],
        stdout=write_end,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ},
        timeout=60,
    )
    os.close(write_end)
    assert process.returncode == 0, process.stderr
    assert process.stderr == b""


def test_head_reads_one_line_and_the_rest_is_dropped(club):
    pipeline = (
        f"{sys.executable} -m kagsync --db {club.db_path} leaderboard {LONG} --csv | head -1; "
        "echo status=${PIPESTATUS[0]}"
    )
    result = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.stdout.splitlines() == [result.stdout.splitlines()[0], "status=0"]
    assert result.stdout.startswith("rank,team_id,")
    assert result.stderr == ""


# -- the pager ----------------------------------------------------------------------------------


def _in_terminal(args, env, *, rows=20, cols=100, timeout=60):
    """Run kagsync with stdout (and stdin) on a pseudo-terminal; returns (code, screen text)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    environment = {**os.environ, **env}
    environment.pop("COLUMNS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "kagsync", *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment,
    )
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=timeout)
    os.close(leader)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace"), process.stderr.read().decode()


@pytest.fixture
def fake_pager(tmp_path):
    record = tmp_path / "paged.txt"
    script = tmp_path / "pager.py"
    script.write_text(f"import sys\nopen({str(record)!r}, 'w').write(sys.stdin.read())\n")
    return f"{sys.executable} {script}", record


def test_long_output_on_a_terminal_goes_through_the_pager(club, fake_pager):
    command, record = fake_pager
    code, screen, errors = _in_terminal(
        ["--db", str(club.db_path), "leaderboard", LONG], {"KAGSYNC_PAGER": command, "NO_COLOR": "1"}
    )
    assert code == 0, errors
    paged = record.read_text()
    assert "… 71 more (--all)" in paged and "Remarkably" in paged
    assert "Remarkably" not in screen  # the page went to the pager, not the terminal
    assert max(cell_len(line) for line in paged.splitlines()) <= 100  # drawn for the terminal's width


def test_no_pager_and_short_output(club, fake_pager):
    command, record = fake_pager
    code, screen, errors = _in_terminal(
        ["--db", str(club.db_path), "leaderboard", LONG, "--no-pager"], {"KAGSYNC_PAGER": command}
    )
    assert code == 0, errors
    assert not record.exists() and "… 71 more (--all)" in screen
    code, screen, errors = _in_terminal(["--db", str(club.db_path), "event", "list"], {"KAGSYNC_PAGER": command})
    assert code == 0 and not record.exists() and "neural-night-2025" in screen  # fits the screen: no pager
    code, screen, errors = _in_terminal(
        ["--db", str(club.db_path), "leaderboard", LONG], {"KAGSYNC_PAGER": "", "PAGER": command}
    )
    assert code == 0 and not record.exists() and "Remarkably" in screen  # KAGSYNC_PAGER="" turns it off
    code, screen, errors = _in_terminal(["--db", str(club.db_path), "leaderboard", LONG], {"PAGER": command})
    assert code == 0 and record.exists()  # PAGER when KAGSYNC_PAGER is not set


def test_a_missing_pager_prints_directly(club):
    code, screen, errors = _in_terminal(
        ["--db", str(club.db_path), "leaderboard", LONG], {"KAGSYNC_PAGER": "/nonexistent/pager"}
    )
    assert code == 0 and "Remarkably" in screen and errors == ""


# -- global options after the command ---------------------------------------------------------


def test_global_options_are_accepted_after_the_command(cli, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    write_zip(folder / "titanic.zip", csv_c(board(10)), slug="titanic")
    other = tmp_path / "other.db"
    assert cli("competition", "add", "titanic", "--no-sync").exit_code == 0
    result = cli("sync", "titanic", "--source", str(folder), "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # -q after the command
    assert cli.json("competition", "show", "titanic")["entry_count"] == 10
    made = cli("event", "add", "Elsewhere", "--db", str(other))
    assert made.exit_code == 0 and other.exists()
    assert [e["slug"] for e in cli.json("event", "list", "--db", str(other))] == ["elsewhere"]
    assert cli.json("event", "list") == []
    verbose = cli("sync", "titanic", "--source", str(folder), "-v")
    assert "titanic: " in verbose.stderr


def test_hoisting_leaves_option_values_alone():
    root = typer.main.get_command(app)
    assert hoist_global_options(root, ["sync", "t", "--source", "D", "-q"]) == ["--source", "D", "-q", "sync", "t"]
    assert hoist_global_options(root, ["competition", "add", "x", "--title", "--db", "--no-sync"]) == [
        "competition",
        "add",
        "x",
        "--title",
        "--db",
        "--no-sync",
    ]
    assert hoist_global_options(root, ["leaderboard", "t", "--", "-v"]) == ["leaderboard", "t", "--", "-v"]
    assert hoist_global_options(root, ["--db", "a", "runs", "--db=b"]) == ["--db", "a", "--db=b", "runs"]
    assert hoist_global_options(root, ["nope", "--db", "x"]) == ["nope", "--db", "x"]


def test_a_title_that_looks_like_an_option_is_kept(cli):
    assert cli("competition", "add", "titanic", "--title", "--db", "--no-sync").exit_code == 0
    assert cli.json("competition", "show", "titanic")["title"] == "--db"


# -- scripts: JSON summaries ----------------------------------------------------------------------


def test_sync_json_is_one_object_per_competition_with_the_keys_of_runs(club):
    result = club("--source", str(club.folder), "sync", "--all-active", "--json")
    assert result.exit_code == 3
    outcomes = json.loads(result.stdout)
    assert sorted(o["competition"] for o in outcomes) == sorted([LONG, "titanic", BROKEN])
    runs = {r["id"]: r for r in club.json("runs")}
    for outcome in outcomes:
        run = runs[outcome["id"]]
        for key in (
            "competition",
            "status",
            "entries",
            "created",
            "updated",
            "removed",
            "error",
            "error_kind",
            "trigger",
            "source",
            "started_at",
            "finished_at",
        ):
            assert outcome[key] == run[key], key
    broken = next(o for o in outcomes if o["competition"] == BROKEN)
    assert broken["status"] == "failed" and broken["error_kind"] == "source"
    assert "✗" in result.stderr  # people still see the failure


def test_watch_once_json(club):
    result = club("--source", str(club.folder), "watch", "--once", "--json", "--quiet")
    assert result.exit_code == 3
    outcomes = json.loads(result.stdout)
    assert {o["competition"] for o in outcomes} == {LONG, "titanic", BROKEN}
    assert all(o["trigger"] == "watch" for o in outcomes)
    refused = club("watch", "--json")
    assert refused.exit_code == 2 and "--json needs --once" in refused.stderr


def test_watch_once_json_with_nothing_to_sync(cli):
    assert cli("event", "add", "Night").exit_code == 0
    result = cli("watch", "--once", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


# -- small things --------------------------------------------------------------------------------


def test_from_a_missing_file_exits_2(club):
    result = club("sync", "titanic", "--from", "/nothere.zip")
    assert result.exit_code == 2 and "no such leaderboard file" in result.stderr


def test_dash_output_means_stdout(club, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = club("report", "neural-night-2025", "-o", "-")
    assert page.exit_code == 0, page.output
    assert page.stdout.startswith("<!DOCTYPE html>") and not (tmp_path / "-").exists()
    exported = club("export", "--competition", "titanic", "-o", "-")
    assert exported.exit_code == 0 and exported.stdout.startswith("competition,rank,")  # no BOM on stdout
    assert not (tmp_path / "-").exists()
    refused = club("export", "--event", "neural-night-2025", "-o", "-")
    assert refused.exit_code == 2 and "give -o FILE" in refused.stderr


def test_parse_progress_is_shown(monkeypatch):
    from rich.console import Console

    import kagsync.cli.outcomes as outcomes
    import kagsync.cli.render as render
    from kagsync.cli.app import State

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    monkeypatch.setattr(render, "stderr", console)
    monkeypatch.setattr(outcomes, "stderr", console)
    display = outcomes.SyncDisplay(State())
    assert display.live
    display.stage("titanic", "parsing", "titanic.csv")
    display.parse_progress("titanic", 150_000, 0.5)
    display._progress.refresh()
    display.__exit__(None, None, None)
    assert "150,000 rows (50%)" in console.file.getvalue()


# -- the log file --------------------------------------------------------------------------------


def _record(message: str):
    import logging

    return logging.LogRecord("kagsync", logging.INFO, __file__, 1, message, None, None)


def test_the_log_rotates_and_keeps_its_backups(tmp_path):
    path = tmp_path / "logs" / "k.log"
    handler = _LogFileHandler(path, max_bytes=1000, backups=3)
    for number in range(300):
        handler.emit(_record(f"line {number:04d} " + "x" * 40))
    handler.close()
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["k.log", "k.log.1", "k.log.2", "k.log.3", "k.log.lock"]
    assert all((path.parent / name).stat().st_size <= 1000 for name in names)
    assert "line 0299" in path.read_text()
    newest_backup = (path.parent / "k.log.1").read_text().splitlines()
    current = path.read_text().splitlines()
    assert int(newest_backup[-1].split()[1]) + 1 == int(current[0].split()[1])  # nothing lost between files


WRITER = """
import logging, sys
from pathlib import Path
from kagsync.cli.app import _LogFileHandler
handler = _LogFileHandler(Path(sys.argv[1]), max_bytes=2000, backups=1000)
for number in range(int(sys.argv[3])):
    handler.emit(logging.LogRecord("kagsync", logging.INFO, "", 1, f"{sys.argv[2]} {number:05d} " + "y" * 30, None, None))
"""


def test_several_processes_share_one_rotating_log(tmp_path):
    path = tmp_path / "shared.log"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"w{index}", "400"], cwd=ROOT) for index in range(4)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0, 0]
    files = [p for p in tmp_path.iterdir() if p.name.startswith("shared.log") and not p.name.endswith(".lock")]
    lines = [line for p in files for line in p.read_text().splitlines()]
    assert len(lines) == 4 * 400  # no line lost, none written twice
    assert len(set(lines)) == len(lines)
    assert all(line.endswith("y" * 30) and len(line) == len(lines[0]) for line in lines)  # none torn
    assert all(p.stat().st_size <= 2000 for p in files)
    for index in range(4):  # each writer's lines in order across the files, oldest file first

        def order(p: Path) -> int:
            return -int(p.name.rsplit(".", 1)[1]) if p.name != "shared.log" else 1

        mine = [
            int(line.split()[1])
            for p in sorted(files, key=order)
            for line in p.read_text().splitlines()
            if line.startswith(f"w{index} ")
        ]
        assert mine == list(range(400))


def test_the_cli_rotates_its_log_by_the_settings(cli, tmp_path):
    env = {"KAGSYNC_LOG_MAX_BYTES": "600", "KAGSYNC_LOG_BACKUPS": "2"}
    folder = tmp_path / "boards"
    folder.mkdir()
    write_zip(folder / "titanic.zip", csv_c(board(5)), slug="titanic")
    cli("competition", "add", "titanic", "--no-sync", env=env)
    for _ in range(8):
        assert cli("--source", str(folder), "sync", "titanic", env=env).exit_code == 0
    logs = sorted(p.name for p in cli.db_path.parent.iterdir() if p.name.startswith("kagsync.log"))
    assert logs == ["kagsync.log", "kagsync.log.1", "kagsync.log.2", "kagsync.log.lock"]
    assert all((cli.db_path.parent / name).stat().st_size <= 600 for name in logs)


# -- shell completion ------------------------------------------------------------------------------


def _complete(words: str, cword: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kagsync"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={
            **os.environ,
            "_KAGSYNC_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
            **(env or {}),
        },
    )


def test_completion_offers_slugs_from_the_database(club):
    db = str(club.db_path)
    result = _complete(f"kagsync --db {db} leaderboard ti", 4)
    assert result.returncode == 0 and result.stdout.split() == ["titanic"]
    result = _complete(f"kagsync --db {db} event show ne", 5)
    assert result.stdout.split() == ["neural-night-2025"]
    result = _complete(f"kagsync leaderboard --db {db} h", 4)  # the global option after the command counts
    assert result.stdout.split() == [LONG]
    result = _complete(f"kagsync --db {db} competition list --event n", 6)
    assert result.stdout.split() == ["neural-night-2025"]


def test_completion_is_silent_without_a_database(tmp_path):
    result = _complete(f"kagsync --db {tmp_path / 'missing.db'} leaderboard ti", 4)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr == ""
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "junk.db").write_text("not sqlite\n" * 100)
    result = _complete(f"kagsync --db {tmp_path / 'junk.db'} leaderboard ti", 4)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr == ""


@pytest.mark.parametrize("width", [80, 120, 200])
def test_sync_progress_fits_the_terminal(monkeypatch, width):
    from rich.console import Console

    import kagsync.cli.outcomes as outcomes
    import kagsync.cli.render as render
    from kagsync.cli.app import State

    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    monkeypatch.setattr(render, "stderr", console)
    monkeypatch.setattr(outcomes, "stderr", console)
    display = outcomes.SyncDisplay(State())
    display.stage(LONG, "downloading", "kaggle:http://127.0.0.1:8765/a/rather/long/endpoint/path/for/a/mirror")
    display.download_progress(LONG, 12_300_000, 45_600_000)
    display.stage("titanic", "failed", "no leaderboard for 'titanic' in /some/folder (expected titanic.zip)")
    display._progress.stop()
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=True, color_system=None).print(
        display._progress.make_tasks_table(display._progress.tasks)
    )
    text = out.getvalue()
    assert all(cell_len(line) <= width for line in text.splitlines()), text
    assert "12.3/45.6 MB" in text and "titanic" in text
    if width >= 120:
        assert LONG in text


def test_tab_separated_rows_stay_one_line_each(monkeypatch):
    from kagsync.cli.render import write_rows_tsv

    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    write_rows_tsv(
        ["Team", "Score", "Members", "Flag"],
        [
            ("plain", 0.5, None, True),
            ("tab\there", -1, ["a", "b"], False),
            ("line\nbreak\r\x00nul", 3, "x\u2028y", None),
            ("=formula", 7, "@me", 1.5),
        ],
    )
    lines = out.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 6
    assert [line.count("\t") for line in lines[:-1]] == [3] * 5
    assert lines[1] == "plain\t0.5\t\t1"
    assert lines[2] == "tab here\t-1\ta,b\t0"
    assert lines[3] == "line break nul\t3\tx y\t"
    assert lines[4] == "=formula\t7\t@me\t1.5"  # TSV is for pipes, not spreadsheets: no formula guard
