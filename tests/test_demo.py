"""The README, run top to bottom on a fresh checkout, works and shows the product in order."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests import runbook


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder, ran = runbook.tour_once(tmp_path_factory)
    return folder, {command.command.split("#")[0].strip(): command.stdout for command in ran}


def output(demo, command: str) -> str:
    _, outputs = demo
    matches = [text for line, text in outputs.items() if line.endswith(command)]
    if not matches:  # left out of the tour when this machine lacks the tool it runs (sqlite3)
        readme = [c.split("#")[0].strip() for b in runbook.blocks(runbook.README) if b.runnable for c in b.commands()]
        lacking = set().union(*(runbook.missing_tools(c) for c in readme if c.endswith(command)))
        if lacking:
            pytest.skip(f"this machine has no {', '.join(sorted(lacking))}")
    assert len(matches) == 1, f"the README's tour has no `{command}` any more (or has it twice)"
    return matches[0]


def test_the_first_command_applies_the_first_snapshot_and_the_tour_the_next_two_in_order(demo):
    folder, _ = demo
    env = {**runbook.environment(folder), "KAGSYNC_DB": "demo.db"}
    runs = json.loads(
        subprocess.run(
            ["kagsync", "runs", "titanic", "--json"], cwd=folder, env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    sources = [run["source"] for run in sorted(runs, key=lambda run: run["id"])]
    assert len(sources) == 3 and all(run["status"] == "ok" for run in runs), runs
    assert [re.sub(r".*examples/(.*)/titanic.zip", r"\1", source) for source in sources] == [
        "snapshots/1",
        "snapshots/2",
        "leaderboards",
    ]
    history = json.loads(
        subprocess.run(
            ["kagsync", "history", "titanic", "--json"], cwd=folder, env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    sizes = [sync["entries"] for sync in sorted(history["syncs"], key=lambda sync: sync["run_id"])]
    assert sizes == [1500, 1504, 1508]  # the board grows as time goes forward, never backwards


def column(table: str, name: str) -> list[str]:
    """One column of a table printed into a pipe (tab-separated, one header line)."""
    header, *rows = [line.split("\t") for line in table.strip().splitlines()]
    return [row[header.index(name)] for row in rows]


def test_the_tour_shows_movement_history_and_the_named_teams(demo):
    moves = column(output(demo, "leaderboard titanic --top 10"), "Move")
    assert len(moves) == 10 and any(re.search(r"[1-9]", move) for move in moves), moves  # since the previous sync
    user = output(demo, "leaderboard titanic --user kenji1231")
    assert "Data Wizards" in user and "kenji1231" in user
    history = output(demo, "history titanic")
    assert [size for size in ("1508", "1504", "1500") if size in history] == ["1508", "1504", "1500"]
    team = output(demo, 'history titanic --team "Data Wizards"')
    ranks = [int(rank) for rank in column(team, "Rank")]
    assert sorted(ranks, reverse=True) == [76, 12, 7] and len(ranks) == 3, team  # the README says so
    movers = output(demo, "movers titanic")
    assert "climbers" in movers and "fallers" in movers
    assert "Data Wizards" in output(demo, 'leaderboard titanic --team "data" | cut -f1,2,4')
    standings = output(demo, "kagsync standings neural-night-2025")
    assert "Kenji Sato" in standings and "Carol Chen" in standings  # the roster's members, by name
    shakeup = output(demo, "shakeup winter-cup-2026")
    assert len(shakeup.strip().splitlines()) >= 2
    rows = output(demo, "WHERE m.username = 'kenji1231'\"").split()
    assert "titanic|7|Data" in rows and "spaceship-titanic|4|Data" in rows


def test_the_tour_writes_the_report_and_exports(demo):
    folder, _ = demo
    html = (folder / "results.html").read_text(encoding="utf-8")
    assert html.count("<path") >= 4  # the rank-over-time charts have lines
    assert "Shake-up" in html
    assert "Kenji Sato" in (folder / "standings.csv").read_text(encoding="utf-8-sig")
    assert len(output(demo, "export --event neural-night-2025 --format jsonl | head -3").splitlines()) == 3


def test_every_view_in_the_tour_shows_rows(demo):
    _, outputs = demo
    for command, text in outputs.items():
        assert runbook.shows_rows(runbook.Ran(command, text)), f"README: `{command}` printed no rows:\n{text}"
