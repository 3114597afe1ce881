"""Rosters: import checked whole, list, add, remove, check, and roster-aware standings and boards."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import kagsync
from tests.boards import csv_ab, csv_c

DATE = "2026-05-01 10:00:00"

ROSTER = """\ufeffKaggle, Name ,Group,Student ID\r
alice,Alice Archer,blue,s-1\r
@Bob,,red,s-2\r
https://www.kaggle.com/carol,Carol Chen,blue,\r
dave,Dave Dunn,,s-4\r
"""

# Board A (usernames): alice 2nd with bob (a team of two), carol 4th, strangers around them.
BOARD_A = [
    (1, 1, "Strangers", DATE, "0.99", 5, "zed"),
    (2, 2, "A and B", DATE, "0.95", 4, "alice,bob"),
    (3, 3, "Others", DATE, "0.90", 3, "yan,xia"),
    (4, 4, "Carol's", DATE, "0.85", 2, "CAROL"),
]
# Board B, an old file without usernames: "Carol Chen" is carol's display name, "bob" his
# username; "Nobody" is no one's.
BOARD_B = [
    (11, "Nobody", "2019-01-01 10:00:00", "0.5"),
    (12, "Carol Chen", "2019-01-01 10:00:00", "0.4"),
    (13, "BOB", "2019-01-01 10:00:00", "0.3"),
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.fixture
def event(cli):
    assert cli("event", "add", "Night", "--slug", "night").exit_code == 0
    return "night"


@pytest.fixture
def roster_file(tmp_path):
    return write(tmp_path / "club.csv", ROSTER)


@pytest.fixture
def boards(tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    write(folder / "comp-a.csv", csv_c(BOARD_A))
    write(folder / "comp-b.csv", csv_ab(BOARD_B))
    return folder


@pytest.fixture
def club(db_path, boards, event, roster_file, cli):
    assert cli("roster", "import", event, str(roster_file)).exit_code == 0
    ks = kagsync.open(db_path, source=boards)
    ks.add_competition("comp-a", title="A", event=event, status="ongoing")
    ks.add_competition("comp-b", title="B", event=event, status="ongoing", weight=2)
    yield ks
    ks.close()


# -- import ---------------------------------------------------------------------------------


def test_import_list_and_idempotence(cli, event, roster_file, tmp_path):
    result = cli("roster", "import", event, str(roster_file))
    assert result.exit_code == 0, result.output
    assert "4 added, 0 updated, 0 unchanged" in result.output
    members = cli.json("roster", "list", event)
    assert [(m["username"], m["name"], m["group"], m["extra"]) for m in members] == [
        ("alice", "Alice Archer", "blue", {"Student ID": "s-1"}),
        ("Bob", None, "red", {"Student ID": "s-2"}),
        ("carol", "Carol Chen", "blue", {}),
        ("dave", "Dave Dunn", None, {"Student ID": "s-4"}),
    ]
    again = cli("roster", "import", event, str(roster_file))
    assert "0 added, 0 updated, 4 unchanged" in again.output
    # The CSV listing imports back to the same roster.
    listed = cli("roster", "list", event, "--csv")
    assert listed.stdout.splitlines()[0] == "kaggle,name,group,Student ID"
    back = write(tmp_path / "back.csv", listed.stdout)
    assert "0 added, 0 updated, 4 unchanged" in cli("roster", "import", event, str(back)).output
    table = cli("roster", "list", event)
    assert table.exit_code == 0 and "Alice Archer" in table.output and "Student ID" in table.output


def test_import_updates_case_insensitively_and_replace(cli, event, roster_file, tmp_path):
    cli("roster", "import", event, str(roster_file))
    update = write(tmp_path / "update.csv", "kaggle,group,Note\nALICE,green,captain\nerin,,\n")
    result = cli("roster", "import", event, str(update))
    assert "1 added, 1 updated, 0 unchanged" in result.output
    alice = next(m for m in cli.json("roster", "list", event) if m["username"].lower() == "alice")
    # The name column is absent: the stored name stays; extra columns are merged.
    assert alice == {
        **alice,
        "username": "ALICE",
        "name": "Alice Archer",
        "group": "green",
        "extra": {"Student ID": "s-1", "Note": "captain"},
    }
    result = cli("roster", "import", event, str(update), "--replace")
    assert "0 added, 1 updated, 1 unchanged, 3 removed" in result.output
    members = cli.json("roster", "list", event)
    assert [(m["username"], m["name"], m["group"], m["extra"]) for m in members] == [
        ("ALICE", None, "green", {"Note": "captain"}),
        ("erin", None, None, {}),
    ]


def test_a_bad_file_reports_every_line_and_writes_nothing(cli, event, tmp_path):
    bad = write(
        tmp_path / "bad.csv",
        (
            "kaggle,name,group,\n"
            "alice,Alice,blue,\n"
            ",No Username,red,\n"
            "bad name,Bad,red,\n"
            "ALICE,Alice again,blue,\n"
            "erin,Erin,blue\n"
            "frank,Frank\x1b[31m,blue,\n"
            "gina,Gina,blue,oops\n"
            "\n"
            "hal,Hal,blue,\n"
        ),
    )
    result = cli("roster", "import", event, str(bad))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert lines == [
        "Error: bad.csv line 3: no kaggle username",
        "Error: bad.csv line 4: invalid Kaggle username 'bad name': use letters, digits, and - _ . (at most 64 characters)",
        "Error: bad.csv line 5: member 'ALICE' is already on line 2",
        "Error: bad.csv line 6: 3 values, but the header has 4 columns",
        "Error: bad.csv line 7: name 'Frank\\x1b[31m' contains a control character",
        "Error: bad.csv line 8: a value in column 4, which has no name in the header",
    ]
    assert "Nothing was imported (6 problems)." in result.output
    assert cli.json("roster", "list", event) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,group\nAlice,blue\n", "bad.csv line 1: no kaggle column"),
        ("kaggle,username\nalice,alice\n", "bad.csv line 1: column 'username' appears twice"),
        ("kaggle\n", "bad.csv: no members after the header line"),
        ("", "bad.csv: no header line"),
        ('kaggle,name\nalice,"unterminated\n', "bad.csv line 2: not valid CSV"),
    ],
)
def test_bad_headers_and_files(cli, event, tmp_path, text, message):
    result = cli("roster", "import", event, str(write(tmp_path / "bad.csv", text)))
    assert result.exit_code == 2 and message in result.output, result.output


def test_import_needs_a_readable_file_and_an_event(cli, event, tmp_path, roster_file):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("kaggle,name\nzoe,Zoë\n".encode("latin-1"))
    result = cli("roster", "import", event, str(latin))
    assert result.exit_code == 2 and "latin.csv line 2: not UTF-8" in result.output
    assert cli("roster", "import", event, str(tmp_path / "missing.csv")).exit_code == 2
    result = cli("roster", "import", "nope", str(roster_file))
    assert result.exit_code == 1 and "no event 'nope'" in result.output


def test_add_and_remove(cli, event):
    assert "Added kenji1231 (Kenji)" in cli("roster", "add", event, "kenji1231", "--name", "Kenji").output
    result = cli("roster", "add", event, "@KENJI1231", "--group", "blue")
    assert "Updated KENJI1231 (Kenji)" in result.output
    assert "unchanged" in cli("roster", "add", event, "KENJI1231").output
    # The username is kept as last given; it compares in any case.
    assert [(m["username"], m["group"]) for m in cli.json("roster", "list", event)] == [("KENJI1231", "blue")]
    assert cli("roster", "add", event, "not valid").exit_code == 2
    assert cli("roster", "remove", event, "Kenji1231").exit_code == 0
    missing = cli("roster", "remove", event, "kenji1231")
    assert missing.exit_code == 1 and "not on the roster of night" in missing.output
    assert cli.json("roster", "list", event) == []


def test_removing_the_event_removes_its_roster(cli, event, roster_file, database):
    cli("roster", "import", event, str(roster_file))
    assert cli("event", "remove", event, "--yes").exit_code == 0
    assert database.conn.execute("SELECT count(*) FROM roster_members").fetchone()[0] == 0


# -- check ------------------------------------------------------------------------------------


def test_check_lists_name_matches_and_missing_members(cli, club, event):
    check = cli.json("roster", "check", event)
    assert check["competitions"] == ["comp-a", "comp-b"]
    assert check["name_matches"] == [
        {
            "competition": "comp-b",
            "rank": 2,
            "team_name": "Carol Chen",
            "username": "carol",
            "name": "Carol Chen",
            "matched": "name",
        },
        {
            "competition": "comp-b",
            "rank": 3,
            "team_name": "BOB",
            "username": "Bob",
            "name": None,
            "matched": "username",
        },
    ]
    assert check["not_found"] == [{"username": "dave", "name": "Dave Dunn", "group": None}]
    members = {m["username"]: (m["boards"], m["by_team_name"]) for m in check["members"]}
    assert members == {
        "alice": (["comp-a"], []),
        "Bob": (["comp-a"], ["comp-b"]),
        "carol": (["comp-a"], ["comp-b"]),
        "dave": ([], []),
    }
    table = cli("roster", "check", event)
    assert table.exit_code == 0
    assert "Dave Dunn" in table.output and "Carol Chen" in table.output
    assert "3 of 4 members found on at least one of 2 boards (2 through a team's name)." in table.output


def test_check_reports_names_that_fit_two_members(cli, club, event):
    cli("roster", "add", event, "nobody1", "--name", "Nobody")
    cli("roster", "add", event, "nobody2", "--name", "nobody")
    check = cli.json("roster", "check", event)
    assert check["ambiguous"] == [
        {"competition": "comp-b", "rank": 1, "team_name": "Nobody", "candidates": ["nobody1", "nobody2"]},
    ]


# -- standings --------------------------------------------------------------------------------


def test_standings_rank_members_only(club, event):
    standings = club.events.standings(event, scheme="rank-sum")
    assert standings.members_only and standings.roster_members == 4
    # N stays the whole board: A has 4 teams, B 3 (weight 2). Missing A = 5, missing B = 8.
    # Bob: A 2 + B 3×2 = 8; carol: A 4 + B 2×2 = 8; both have a best rank of 2, so the
    # (display) name decides. alice: A 2 + missing B 8 = 10; dave: not entered (5 + 8 = 13).
    lines = [(r.place, r.username, r.name, r.total, r.entered) for r in standings.rows]
    assert lines == [
        (1, "Bob", "Bob", 8.0, 2),
        (2, "carol", "Carol Chen", 8.0, 2),
        (3, "alice", "Alice Archer", 10.0, 1),
        (None, "dave", "Dave Dunn", 13.0, 0),
    ]
    bob, carol = standings.rows[0], standings.rows[1]
    assert carol.by_team_name == ["comp-b"] and carol.results["comp-b"].team_name == "Carol Chen"
    assert bob.results["comp-a"].team_size == 2 and bob.kind == "member" and bob.key == "bob"
    assert [r.key for r in standings.not_entered] == ["dave"]
    assert standings.competitions == [
        {"slug": "comp-a", "title": "A", "weight": 1.0, "teams": 4, "final": False},
        {"slug": "comp-b", "title": "B", "weight": 2.0, "teams": 3, "final": False},
    ]
    assert "Only the event's roster members are ranked" in standings.method
    # Groups ranked by their best member: red (Bob, 1st), blue (carol, 2nd); dave has none.
    assert [g.to_dict() for g in standings.groups] == [
        {
            "place": 1,
            "group": "red",
            "best_place": 1,
            "best_member": "Bob",
            "best_key": "bob",
            "members": 1,
            "entered": 1,
        },
        {
            "place": 2,
            "group": "blue",
            "best_place": 2,
            "best_member": "Carol Chen",
            "best_key": "carol",
            "members": 2,
            "entered": 2,
        },
    ]
    data = json.loads(json.dumps(standings.to_dict()))
    assert data["members_only"] is True and data["group"] is None and len(data["groups"]) == 2
    assert data["standings"][3] == {
        "place": None,
        "key": "dave",
        "name": "Dave Dunn",
        "kind": "member",
        "username": "dave",
        "group": None,
        "member": True,
        "total": 13.0,
        "best_rank": None,
        "entered": 0,
        "by_team_name": [],
        "results": {"comp-a": None, "comp-b": None},
    }


def test_standings_of_one_group_and_of_everyone(club, event):
    blue = club.events.standings(event, scheme="rank-sum", group="BLUE")
    assert [(r.place, r.username) for r in blue.rows] == [(1, "carol"), (2, "alice")]
    assert blue.group == "blue" and blue.groups == []
    with pytest.raises(kagsync.errors.ValidationError, match="no member is in that group \\(groups: blue, red\\)"):
        club.events.standings(event, group="green")
    with pytest.raises(kagsync.errors.ValidationError, match="cannot be combined"):
        club.events.standings(event, group="blue", everyone=True)
    everyone = club.events.standings(event, scheme="rank-sum", everyone=True)
    assert not everyone.members_only and everyone.groups == []
    keys = [r.key for r in everyone.rows]
    assert "zed" in keys and "team:Nobody" in keys and "dave" not in keys
    bob = next(r for r in everyone.rows if r.key == "bob")
    assert bob.member and bob.group == "red" and bob.kind == "user"
    assert not next(r for r in everyone.rows if r.key == "zed").member


def test_group_needs_a_roster(cli, db_path, event):
    with kagsync.open(db_path) as ks:
        with pytest.raises(kagsync.errors.ValidationError, match="has no roster"):
            ks.events.standings(event, group="blue")


def test_event_standings_export_and_report_follow_the_roster(cli, club, event, tmp_path):
    data = cli.json("event", "standings", event, "--scheme", "rank-sum")
    assert [row["username"] for row in data["standings"]] == ["Bob", "carol", "alice", "dave"]
    out = tmp_path / "night.json"
    assert cli("export", "--event", event, "--format", "json", "-o", str(out), "--scheme", "rank-sum").exit_code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["standings"]["members_only"] is True and len(document["standings"]["standings"]) == 4
    assert (
        cli(
            "export", "--event", event, "--format", "csv", "-o", str(tmp_path / "night.csv"), "--scheme", "rank-sum"
        ).exit_code
        == 0
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "night-standings.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["place"], r["name"]) for r in rows] == [
        ("1", "Bob"),
        ("2", "Carol Chen"),
        ("3", "Alice Archer"),
        ("", "Dave Dunn"),
    ]
    assert cli("report", event, "-o", str(tmp_path / "night.html")).exit_code == 0
    assert "Carol Chen" in (tmp_path / "night.html").read_text(encoding="utf-8")


# -- leaderboard marks --------------------------------------------------------------------------


def test_leaderboard_marks_members_and_keeps_only_them(club, event):
    rows = club.roster.leaderboard("comp-a", event)
    assert [(r["team_name"], [m["username"] for m in r["roster"]]) for r in rows] == [
        ("Strangers", []),
        ("A and B", ["alice", "Bob"]),
        ("Others", []),
        ("Carol's", ["carol"]),
    ]
    members = club.roster.leaderboard("comp-b", event, members_only=True)
    assert [
        (r["rank"], r["team_name"], r["roster"][0]["username"], r["roster"][0]["by_team_name"]) for r in members
    ] == [
        (2, "Carol Chen", "carol", True),
        (3, "BOB", "Bob", True),
    ]
    assert [r["team_name"] for r in club.roster.leaderboard("comp-a", event, members_only=True, top=1)] == ["A and B"]
