"""Exports read back equal to the database; formula-looking cells are made safe."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from kagsync.errors import ValidationError
from kagsync.export import (
    ENTRY_FIELDS,
    export,
    parse_format,
    safe_cell,
    standings_fields,
    unescape_cell,
)
from kagsync.output import open_output
from kagsync.standings import event_standings
from tests.test_views import BOARD_3, sync_boards

RISKY = [
    (1, 201, '=HYPERLINK("http://evil","x")', "2026-05-01 10:00:00", "-0.10000", 1, "eve"),
    (2, 202, "+cmd|' /C calc'!A0", "2026-05-01 10:00:00", "-0.20000", 1, "mallory"),
    (3, 203, "-2+3", "2026-05-01 10:00:00", "-0.30000", 1, ""),
    (4, 204, "@SUM(A1:A9)", "2026-05-01 10:00:00", "-0.40000", 1, ""),
    (5, 205, "\tTabbed", "2026-05-01 10:00:00", "-0.50000", 2, ""),
    (6, 206, "'=already quoted", "2026-05-01 10:00:00", "-0.60000", 1, ""),
    (7, 207, "-0.5", "2026-05-01 10:00:00", "-0.70000", 1, ""),
    (8, 208, 'Plain, "quoted" name', "2026-05-01 10:00:00", "-1e-3", 1, "x,y"),
    (9, 209, "'apostrophe", "2026-05-01 10:00:00", "-5", 1, ""),
]


@pytest.fixture
def event(db_path, database, repository, tmp_path):
    repository.add_event("Export Night", slug="night")
    a = repository.add_competition("comp-a", title="A", event="night", sync=False).competition
    b = repository.add_competition("risky", title="Risky", event="night", lower_is_better=True, sync=False).competition
    sync_boards(db_path, database, a, [BOARD_3], tmp_path)
    sync_boards(db_path, database, b, [RISKY], tmp_path)
    return "night"


def stored(database, slug):
    """The board as stored, keyed by team id, in export record form."""
    rows = database.conn.execute(
        """SELECT c.slug, e.rank, e.team_id, e.team_name, e.score, e.score_value, e.submission_count,
                  e.last_submission, e.members, e.is_benchmark, e.board
           FROM entries e JOIN competitions c ON c.id = e.competition_id WHERE c.slug = ?""",
        (slug,),
    ).fetchall()
    records = {}
    for row in rows:
        record = dict(zip(ENTRY_FIELDS, row))
        record["members"] = json.loads(record["members"])
        record["is_benchmark"] = bool(record["is_benchmark"])
        records[record["team_id"]] = record
    return records


def from_csv_row(row: dict[str, str]) -> dict:
    """A CSV row read back into the database's types."""
    value = {key: unescape_cell(cell) for key, cell in row.items()}
    return {
        "competition": value["competition"],
        "rank": int(value["rank"]),
        "team_id": int(value["team_id"]),
        "team_name": value["team_name"],
        "score": value["score"],
        "score_value": float(value["score_value"]) if value["score_value"] else None,
        "submission_count": int(value["submission_count"]),
        "last_submission": value["last_submission"] or None,
        "members": [m for m in value["members"].split(",") if m],
        "is_benchmark": value["is_benchmark"] == "1",
        "board": value["board"],
    }


def run_export(repository, fmt, *, event=None, competition=None, scheme="points"):
    db = repository.db
    out, standings_out = io.StringIO(), io.StringIO()
    standings = None
    found = None
    if event:
        found = repository.get_event(event)
        competitions = repository.list_competitions(event=event)
        standings = event_standings(repository, event, scheme)
    else:
        competitions = [repository.get_competition(competition)]
    count = export(
        db, fmt=fmt, out=out, competitions=competitions, event=found, standings=standings, standings_out=standings_out
    )
    return count, out.getvalue(), standings_out.getvalue(), standings


def test_csv_round_trip_equals_database(database, repository, event):
    count, text, standings_text, standings = run_export(repository, "csv", event=event)
    assert count == 6 + 9
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == list(ENTRY_FIELDS)
    back = [from_csv_row(row) for row in rows]
    for slug in ("comp-a", "risky"):
        assert {r["team_id"]: r for r in back if r["competition"] == slug} == stored(database, slug)
    # Board order, as `kagsync leaderboard` shows it (benchmark at its score's place).
    assert [r["team_id"] for r in back if r["competition"] == "comp-a"] == [104, 102, 101, 999, 105, 103]
    standing_rows = list(csv.DictReader(io.StringIO(standings_text)))
    assert list(standing_rows[0].keys()) == standings_fields(standings)
    assert [(int(r["place"]), unescape_cell(r["key"]), float(r["total"])) for r in standing_rows] == [
        (row.place, row.key, row.total) for row in standings.rows
    ]


def test_json_round_trip_equals_database(database, repository, event):
    _, text, _, standings = run_export(repository, "json", event=event)
    document = json.loads(text)
    assert document["event"]["slug"] == "night"
    assert [c["competition"]["slug"] for c in document["competitions"]] == ["comp-a", "risky"]
    for block in document["competitions"]:
        slug = block["competition"]["slug"]
        assert {e["team_id"]: e for e in block["entries"]} == stored(database, slug)
    assert document["standings"] == json.loads(json.dumps(standings.to_dict()))
    single = json.loads(run_export(repository, "json", competition="risky")[1])
    assert single["competition"]["slug"] == "risky"
    assert {e["team_id"]: e for e in single["entries"]} == stored(database, "risky")


def test_jsonl_round_trip(database, repository, event):
    count, text, _, standings = run_export(repository, "jsonl", event=event)
    lines = [json.loads(line) for line in text.splitlines()]
    entries = [line for line in lines if line.pop("type") == "entry"]
    assert count == len(entries) == 15
    assert {e["team_id"]: e for e in entries if e["competition"] == "risky"} == stored(database, "risky")
    standing_lines = lines[len(entries) :]
    assert [line["key"] for line in standing_lines] == [row.key for row in standings.rows]


def test_formula_looking_names_are_made_safe(repository, event):
    _, text, _, _ = run_export(repository, "csv", competition="risky")
    cells = {row[2]: row for row in csv.reader(io.StringIO(text)) if row[0] == "risky"}
    names = {team_id: row[3] for team_id, row in cells.items()}
    assert names["201"] == '\'=HYPERLINK("http://evil","x")'
    assert names["202"] == "'+cmd|' /C calc'!A0"
    assert names["203"] == "'-2+3"
    assert names["204"] == "'@SUM(A1:A9)"
    assert names["205"] == "'\tTabbed"
    assert names["206"] == "''=already quoted"  # so reading back gives the quote too
    assert names["207"] == "-0.5"  # a plain number is never a formula: left as is
    assert names["208"] == 'Plain, "quoted" name'
    assert names["209"] == "'apostrophe"
    # Negative scores are numbers, written as Kaggle shows them.
    assert [cells[str(t)][4] for t in (201, 208, 209)] == ["-0.10000", "-1e-3", "-5"]
    for row in cells.values():
        for cell in row:
            assert cell[:1] not in ("=", "+", "@", "\t", "\r") and not (
                cell.startswith("-") and not _is_number(cell)
            ), cell


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("+1", "+1"),
        ("-1.5e3", "-1.5e3"),
        ("- 1", "'- 1"),
        ("@x", "'@x"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'x", "'x"),
        ("x=1", "x=1"),
        ("", ""),
        (None, ""),
        (True, "1"),
        (3, "3"),
        (0.5, "0.5"),
        ("-nan", "'-nan"),
        ("-inf", "'-inf"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell
    if isinstance(value, str):
        assert unescape_cell(cell) == value


def test_parse_format():
    assert parse_format("JSONL") == "jsonl"
    with pytest.raises(ValidationError, match="unknown format 'xlsx'"):
        parse_format("xlsx")


HOSTILE = [
    (1, 301, "x\r=cmd|' /C calc'!A0", "2026-05-01 10:00:00", "0.9", 1, "eve"),
    (2, 302, "two\r\nlines\n@SUM(A1)", "2026-05-01 10:00:00", "0.8", 1, ""),
    (3, 303, "nul\x00byte", "2026-05-01 10:00:00", "0.7", 1, ""),
]


def test_names_with_line_breaks_never_split_a_row_or_start_a_formula(db_path, database, repository, tmp_path):
    hostile = repository.add_competition("hostile", sync=False).competition
    sync_boards(db_path, database, hostile, [HOSTILE], tmp_path)
    count, text, _, _ = run_export(repository, "csv", competition="hostile")
    assert count == 3
    assert "\x00" not in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 4 and all(len(row) == len(ENTRY_FIELDS) for row in rows)
    for row in rows[1:]:
        for cell in row:
            for line in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                assert line[:1] not in ("=", "+", "@", "\t"), (cell, line)
    names = [unescape_cell(row[3]) for row in rows[1:]]
    assert names[2] == "nulbyte"  # NUL is dropped when the board is parsed


# -- -o onto special files, links and planted names (issue 20 item 3) ---------------------


def char_device(tmp_path, name: str, minor: int) -> str:
    """A character device to write to: a private copy of /dev/null (1, 3) or /dev/full (1, 7).

    Never the system's own when running as root: a regression would replace it for
    the whole machine. Without the right to make one, the system's is safe to use,
    since only root could replace it.
    """
    path = tmp_path / name
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        return f"/dev/{name}"
    return str(path)


def test_export_to_a_character_device_writes_through_it(event, cli, tmp_path):
    null = char_device(tmp_path, "null", 3)
    result = cli("export", "--competition", "comp-a", "-o", null)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert [p.name for p in Path(null).parent.iterdir() if p.name.startswith(".null")] == []
    full = char_device(tmp_path, "full", 7)
    failed = cli("export", "--competition", "comp-a", "-o", full)
    assert failed.exit_code == 1 and "cannot write (No space left on device)" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1 and stat.S_ISCHR(os.lstat(full).st_mode)


def test_export_to_a_fifo_streams_into_it_and_leaves_the_fifo(event, cli, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = cli("export", "--competition", "comp-a", "-o", str(fifo))
    if stat.S_ISFIFO(os.lstat(fifo).st_mode) and not received:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # never leave the reader blocked on a failure
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    rows = list(csv.DictReader(io.StringIO(received[0].decode("utf-8"))))
    assert not received[0].startswith(b"\xef\xbb\xbf")  # a stream gets no BOM
    assert {int(row["team_id"]) for row in rows} == set(stored(cli_db(cli), "comp-a"))
    # An event's CSV is two files: a stream cannot have a companion beside it.
    refused = cli("export", "--event", "night", "-o", str(fifo))
    assert refused.exit_code == 2 and "give -o FILE" in refused.stderr


def test_export_writes_through_a_symlink_like_shell_redirection(event, cli, tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to("real.csv")
    assert cli("export", "--competition", "comp-a", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert "Delta" in real.read_text(encoding="utf-8-sig")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the replaced file's mode is kept
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to("made.csv")
    assert cli("export", "--competition", "comp-a", "-o", str(dangling)).exit_code == 0
    assert dangling.is_symlink() and "Delta" in (tmp_path / "made.csv").read_text(encoding="utf-8-sig")


def test_a_planted_partial_link_is_never_followed(event, cli, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / ".out.csv.partial").symlink_to(victim)
    out = tmp_path / "out.csv"
    assert cli("export", "--competition", "comp-a", "-o", str(out)).exit_code == 0
    assert victim.read_text() == "precious\n"
    assert "Delta" in out.read_text(encoding="utf-8-sig") and not out.is_symlink()
    leftovers = {p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")}
    assert leftovers == {".out.csv.partial"}  # the temporary file is gone, the planted link untouched


@pytest.mark.parametrize("command", ["export", "report"])
def test_a_missing_folder_is_never_created(event, cli, tmp_path, command):
    target = tmp_path / "nonexistent" / "x.html"
    args = ["export", "--competition", "comp-a"] if command == "export" else ["report", "night"]
    result = cli(*args, "-o", str(target))
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not target.parent.exists()


def test_report_replaces_a_file_whole_and_writes_a_device_in_place(event, cli, tmp_path):
    page = tmp_path / "page.html"
    assert cli("report", "night", "-o", str(page)).exit_code == 0
    assert page.read_text().startswith("<!DOCTYPE html>") and not page.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".page")] == []
    null = char_device(tmp_path, "null", 3)
    assert cli("report", "night", "-o", null).exit_code == 0
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_open_output_leaves_the_target_as_it_was_when_writing_fails(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "keep.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), open_output(target) as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert [p.name for p in folder.iterdir()] == ["keep.csv"]


def cli_db(cli):
    from kagsync.db import connect

    return connect(cli.db_path, mode="read")
