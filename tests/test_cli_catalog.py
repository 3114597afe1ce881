"""Event, competition and config commands, run as a user runs them."""

import json

import pytest


def one_line_error(result, fragment):
    assert result.exit_code != 0
    # CliRunner keeps an escaped exception instead of printing its traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert fragment in lines[0]


def test_newcomer_flow(cli):
    assert cli("event", "add", "Neural Night 2025", "--start", "2025-03-01", "--end", "2025-03-02").exit_code == 0
    result = cli("competition", "add", "titanic", "--event", "neural-night-2025", "--no-sync")
    assert result.exit_code == 0, result.output
    result = cli(
        "competition",
        "add",
        "https://www.kaggle.com/competitions/house-prices-advanced-regression-techniques",
        "--event",
        "neural-night-2025",
        "--lower-is-better",
        "--title",
        "House Prices",
        "--no-sync",
    )
    assert result.exit_code == 0, result.output

    listed = cli("competition", "list")
    assert listed.exit_code == 0
    assert "titanic" in listed.stdout and "House Prices" in listed.stdout

    data = cli.json("competition", "list")
    assert [c["slug"] for c in data] == ["house-prices-advanced-regression-techniques", "titanic"]
    assert data[0]["lower_is_better"] is True and data[0]["events"] == ["neural-night-2025"]
    assert {
        "slug",
        "title",
        "status",
        "events",
        "start",
        "end",
        "lower_is_better",
        "entry_count",
        "last_synced_at",
        "last_sync_status",
    } <= set(data[0])

    events = cli.json("event", "list")
    assert events[0]["slug"] == "neural-night-2025" and events[0]["start"] == "2025-03-01T00:00:00Z"
    shown = cli.json("event", "show", "neural-night-2025")
    assert [c["slug"] for c in shown["competitions"]] == ["house-prices-advanced-regression-techniques", "titanic"]
    table = cli("event", "show", "neural-night-2025", env={"KAGSYNC_FORCE_TTY": "200"})
    assert "Neural Night 2025" in table.stdout and "titanic" in table.stdout

    result = cli("competition", "set-status", "titanic", "completed")
    assert result.exit_code == 0
    assert cli.json("competition", "show", "titanic")["status"] == "completed"


def test_edit_and_remove(cli):
    cli("event", "add", "Night", "--slug", "night")
    cli("competition", "add", "titanic", "--no-sync")
    assert (
        cli("competition", "edit", "titanic", "--event", "night", "--lower-is-better", "--weight", "2").exit_code == 0
    )
    shown = cli.json("competition", "show", "titanic")
    assert (shown["events"], shown["lower_is_better"]) == (["night"], True)
    assert cli.json("event", "show", "night")["competitions"][0]["weight"] == 2.0
    assert cli("event", "edit", "night", "--title", "Club Night", "--description", "x").exit_code == 0
    assert cli.json("event", "show", "night")["title"] == "Club Night"

    refused = cli("event", "remove", "night", "--yes")
    one_line_error(refused, "still has 1 competition")
    # Checked before any question: no prompt, the same one-line refusal.
    refused = cli("event", "remove", "night", input="y\n")
    one_line_error(refused, "still has 1 competition")
    assert "[y/N]" not in refused.output
    # Without a terminal there is nobody to ask: refused, pointing at --yes.
    no_tty = cli("competition", "remove", "titanic", input="y\n")
    one_line_error(no_tty, "use --yes")
    assert no_tty.exit_code == 2 and "Aborted" not in no_tty.output and "[y/N]" not in no_tty.output
    assert cli.json("competition", "show", "titanic")["slug"] == "titanic"
    assert cli("competition", "remove", "titanic", "--yes").exit_code == 0
    assert cli("event", "remove", "night", "--yes").exit_code == 0
    assert cli.json("event", "list") == []


def test_cascade_remove(cli):
    cli("event", "add", "Night", "--slug", "night")
    cli("competition", "add", "titanic", "--event", "night", "--no-sync")
    assert cli("event", "remove", "night", "--cascade", "--yes").exit_code == 0
    assert cli.json("competition", "list") == []


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["competition", "add", "Not A Slug", "--no-sync"], "invalid competition slug 'Not A Slug'"),
        (["competition", "add", "https://example.com/competitions/x", "--no-sync"], "not a Kaggle competition URL"),
        (["competition", "add", "titanic", "--event", "ghost", "--no-sync"], "no event 'ghost'"),
        (["competition", "add", "titanic", "--status", "running", "--no-sync"], "unknown status 'running'"),
        (["competition", "add", "titanic", "--start", "tomorrowish", "--no-sync"], "cannot read 'tomorrowish'"),
        (
            ["competition", "add", "titanic", "--start", "2025-02-01", "--end", "2025-01-01", "--no-sync"],
            "before start",
        ),
        (["competition", "show", "ghost"], "no competition 'ghost'"),
        (["competition", "set-status", "ghost", "ongoing"], "no competition 'ghost'"),
        (["event", "show", "ghost"], "no event 'ghost'"),
        (["event", "add", "Bad", "--end", "31/12/2025"], "cannot read '31/12/2025'"),
    ],
)
def test_bad_input_gets_one_line_and_writes_nothing(cli, args, fragment):
    from kagsync import db as dbmod

    dbmod.connect(cli.db_path).close()
    one_line_error(cli(*args), fragment)
    assert cli.json("competition", "list") == []
    assert cli.json("event", "list") == []


def test_duplicate_slug(cli):
    cli("competition", "add", "titanic", "--no-sync")
    one_line_error(cli("competition", "add", "https://www.kaggle.com/c/titanic", "--no-sync"), "already exists")
    assert len(cli.json("competition", "list")) == 1


def test_db_that_is_not_sqlite(tmp_path, cli):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n" * 500)
    cli.db_path = notes
    one_line_error(cli("competition", "list"), "is not a kagsync database or is damaged")
    one_line_error(cli("competition", "add", "titanic", "--no-sync"), "is not a kagsync database or is damaged")
    assert notes.read_text() == "hello\n" * 500


def test_db_that_cannot_be_created(tmp_path, cli):
    (tmp_path / "blocker").write_text("x")
    cli.db_path = tmp_path / "blocker" / "k.db"
    one_line_error(cli("event", "add", "Night"), "cannot create")


def test_missing_database_is_an_error_except_for_commands_that_add(tmp_path, cli):
    cli.db_path = tmp_path / "typo" / "x.db"
    for args in (["competition", "list"], ["watch", "--once"], ["runs"], ["sync", "--all-active"]):
        one_line_error(cli(*args), "no kagsync database at")
    assert not cli.db_path.parent.exists()
    assert cli("event", "add", "Night").exit_code == 0
    assert cli.json("event", "list")[0]["slug"] == "night"


def test_malformed_config(tmp_path, cli):
    config = tmp_path / "bad.toml"
    config.write_text("jobs = [\n")
    one_line_error(cli("config", env={"KAGSYNC_CONFIG": str(config)}), "not valid TOML")


def test_config_shows_origins(tmp_path, cli):
    config = tmp_path / "c.toml"
    config.write_text("jobs = 7\n")
    result = cli("config", "--json", env={"KAGSYNC_CONFIG": str(config), "KAGSYNC_WATCH_INTERVAL": "60"})
    data = json.loads(result.stdout)
    assert data["jobs"] == {"value": "7", "origin": f"file {config}"}
    assert data["watch_interval"] == {"value": "60.0", "origin": "env KAGSYNC_WATCH_INTERVAL"}
    assert data["db"]["origin"] == "option"
    assert data["auto_sync"] == {"value": "true", "origin": "default"}


def test_env_db_is_used(tmp_path):
    from tests.cli_runner import invoke

    path = tmp_path / "env.db"
    result = invoke(["event", "add", "X", "--slug", "x"], env={"KAGSYNC_DB": str(path)})
    assert result.exit_code == 0, result.output
    assert path.exists()


def test_version_and_help(cli):
    assert cli("--version").stdout.startswith("kagsync ")
    for command in (["event", "add"], ["competition", "add"], ["competition", "set-status"], ["config"]):
        result = cli(*command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["event", "add", "Far", "--start", "0001-01-01T00:00+01:00"], "out of range"),
        (["event", "add", "Far", "--end", "9999-12-31T23:00-05:00"], "out of range"),
        (["competition", "add", "http://[::1", "--no-sync"], "not a Kaggle competition URL"),
        (["competition", "add", "titanic", "--no-sync", "--start", "2025-13-01"], "cannot read"),
    ],
)
def test_values_that_overflow_are_refused(cli, args, fragment):
    from kagsync import db as dbmod

    dbmod.connect(cli.db_path).close()
    one_line_error(cli(*args), fragment)
    assert cli.json("event", "list") == []


def test_infinite_weight_is_refused(cli):
    cli("event", "add", "Night", "--slug", "night")
    cli("competition", "add", "titanic", "--event", "night", "--no-sync")
    one_line_error(cli("competition", "edit", "titanic", "--weight", "inf"), "got inf")
    assert cli.json("event", "show", "night")["competitions"][0]["weight"] == 1.0


def test_markup_in_a_title_is_shown_as_written(cli):
    result = cli("event", "add", "Night [/] [red]x", "--slug", "night")
    assert result.exit_code == 0, result.exception
    assert "Night [/] [red]x" in result.stderr
    assert cli.json("event", "show", "night")["title"] == "Night [/] [red]x"


def test_locked_database_is_one_line_not_a_traceback(cli, db_path, monkeypatch):
    import kagsync.db as dbmod

    cli("event", "list")
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_SECONDS", 0.2)
    holder = dbmod.connect(db_path)
    holder.conn.execute("BEGIN IMMEDIATE")
    try:
        one_line_error(cli("event", "add", "Locked night"), "database is locked")
    finally:
        holder.conn.execute("ROLLBACK")
        holder.close()
    assert cli.json("event", "list") == []


def test_unwritable_log_file_does_not_stop_the_command(cli, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    result = cli(
        "--log-file", str(blocker / "sub" / "k.log"), "--source", str(tmp_path), "competition", "add", "titanic"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "cannot write the log file" in result.stderr
    assert "The competition was saved" in result.stderr
    assert cli.json("competition", "show", "titanic")["last_sync_status"] == "failed"


def test_log_file_cannot_be_the_database(cli, db_path):
    one_line_error(cli("--log-file", str(db_path), "event", "list"), "cannot be the database")


def test_confirmation_on_a_terminal(cli, monkeypatch):
    """With a terminal, remove asks; "n" keeps the competition, "y" removes it."""
    cli("competition", "add", "titanic", "--no-sync")
    monkeypatch.setattr("kagsync.cli.catalog._stdin_is_terminal", lambda: True)
    cancelled = cli("competition", "remove", "titanic", input="n\n")
    assert cancelled.exit_code == 2 and "cancelled" in cancelled.stderr
    assert cli.json("competition", "show", "titanic")["slug"] == "titanic"
    assert cli("competition", "remove", "titanic", input="y\n").exit_code == 0
    assert cli.json("competition", "list") == []


def test_event_remove_cascade_asks_with_the_count(cli, monkeypatch):
    cli("event", "add", "Night", "--slug", "night")
    cli("competition", "add", "titanic", "--event", "night", "--no-sync")
    monkeypatch.setattr("kagsync.cli.catalog._stdin_is_terminal", lambda: True)
    result = cli("event", "remove", "night", "--cascade", input="n\n")
    assert result.exit_code == 2
    assert "Remove event 'night' and its 1 competition(s)?" in result.output
    assert cli.json("competition", "show", "titanic")["slug"] == "titanic"
