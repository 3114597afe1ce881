"""Roster options of the CLI: standings by member and group, marked teams on a board."""

import json

from tests.test_roster import boards, club, event, roster_file  # noqa: F401


def test_cli_options(cli, club, event, tmp_path):  # noqa: F811
    tty = {"KAGSYNC_FORCE_TTY": "200"}
    out = cli("event", "standings", event, "--scheme", "rank-sum", env=tty)
    assert out.exit_code == 0, out.output
    assert "not entered" in out.output and "Dave Dunn" in out.output and "Best member" in out.output
    data = cli.json("event", "standings", event, "--group", "blue", "--scheme", "rank-sum")
    assert [r["username"] for r in data["standings"]] == ["carol", "alice"]
    data = cli.json("event", "standings", event, "--everyone")
    assert not data["members_only"] and len(data["standings"]) > 4
    bad = cli("event", "standings", event, "--group", "green")
    assert bad.exit_code == 2, bad.output
    lb = cli("leaderboard", "comp-a", "--event", event, env=tty)
    assert "★ Alice Archer, Bob" in lb.output
    only = cli.json("leaderboard", "comp-b", "--event", event, "--members-only")
    assert [e["team_name"] for e in only] == ["Carol Chen", "BOB"]
    assert cli("leaderboard", "comp-b", "--members-only").exit_code == 2
    o = tmp_path / "x.json"
    assert cli("export", "--event", event, "--format", "json", "-o", str(o), "--everyone").exit_code == 0
    assert json.loads(o.read_text())["standings"]["members_only"] is False
    h = tmp_path / "r.html"
    assert cli("report", event, "-o", str(h)).exit_code == 0
    html = h.read_text()
    assert "not entered" in html and 'place">None' not in html and "<th>Member</th>" in html
    assert cli("report", event, "-o", str(h), "--everyone").exit_code == 0
