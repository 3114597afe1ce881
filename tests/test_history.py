"""History that costs what changed: rank frames, own change records, digest skip.

The views are checked against an oracle computed straight from the boards that were
synced (every rank of every team at every run), for boards synced by today's code and
for an old database whose change records migration 8 converted.
"""

from __future__ import annotations

import random
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kagsync import db as dbmod
from kagsync import history, notify
from kagsync.errors import LeaderboardFormatError
from kagsync.repository import Repository
from kagsync.sources import FileSource
from kagsync.sync import Syncer, fingerprint
from kagsync.sync import apply as applymod
from kagsync.sync import syncer as syncermod
from kagsync.views import leaderboard_entries, movers, rank_series, run_changes, team_history
from tests.boards import csv_c

# -- the codec ---------------------------------------------------------------------------


def delta_between(old: dict[int, int], new: dict[int, int], movers=()) -> history.Delta:
    def old_order(lo, hi):
        return sorted(((t, r) for t, r in old.items() if lo <= r <= hi), key=lambda p: (p[1], p[0]))

    return history.build_delta(
        added={t: r for t, r in new.items() if t not in old},
        removed={t: r for t, r in old.items() if t not in new},
        moved={t: (old[t], r) for t, r in new.items() if t in old and old[t] != r},
        movers=movers,
        old_order=old_order,
    )


# Team ids of the boards drawn below, and of teams that arrive later (never one of those).
_TEAM_IDS = st.integers(1, 10**6 - 1)
_ARRIVAL_IDS = st.integers(1 << 20, (1 << 40) - 1)


@st.composite
def boards(draw, teams: list[int]) -> dict[int, int]:
    """A board of ``teams`` in one of the shapes Kaggle serves."""
    n = len(teams)
    style = draw(st.sampled_from(["kaggle", "ties", "gaps", "benchmarks"]))
    if style == "kaggle":  # 1..N
        ranks = list(range(1, n + 1))
    elif style == "ties":  # ties share a rank
        ranks = sorted(draw(st.lists(st.integers(1, max(1, n // 2 - 1)), min_size=n, max_size=n)))
    elif style == "gaps":  # gaps and huge values
        rank = st.one_of(st.integers(1, 49), st.integers(1, (1 << 62) - 1))
        ranks = sorted(draw(st.lists(rank, min_size=n, max_size=n)))
    else:  # 1..N with benchmarks at 0
        benchmarks = draw(st.lists(st.integers(0, 9).map(lambda x: x == 0), min_size=n, max_size=n))
        ranks = [0 if bench else k + 1 for k, bench in enumerate(benchmarks)]
    # A list drawn by hypothesis is in no particular order already: no shuffle needed.
    return dict(zip(teams, ranks, strict=True))


@st.composite
def next_boards(draw, old: dict[int, int]) -> tuple[dict[int, int], list[int]]:
    """A next board: improvements re-ranked as Kaggle does, arrivals, departures, swaps;
    with the teams that moved themselves."""
    order = [t for t, _ in sorted(old.items(), key=lambda p: (p[1], p[0]))]
    movers = []
    for _ in range(draw(st.integers(0, 5))):
        if len(order) > 1:
            team = order.pop(draw(st.integers(0, len(order) - 1)))
            order.insert(draw(st.integers(0, len(order))), team)
            movers.append(team)
    for _ in range(draw(st.integers(0, 2))):
        if order:
            order.pop(draw(st.integers(0, len(order) - 1)))
    for _ in range(draw(st.integers(0, 2))):
        order.insert(draw(st.integers(0, len(order))), draw(_ARRIVAL_IDS))
    if len(order) > 3 and draw(st.integers(0, 9)) < 3:  # tied teams listed in another order
        at = draw(st.integers(0, len(order) - 3))
        order[at], order[at + 1] = order[at + 1], order[at]
    if draw(st.integers(0, 9)) == 0:
        order = draw(st.permutations(order))
    new = {team: rank for rank, team in enumerate(order, 1)}
    if draw(st.integers(0, 4)) == 0:  # everyone below some point shares a rank
        cut = draw(st.integers(1, len(order) + 1))
        new = {t: min(r, cut) for t, r in new.items()}
    return new, [m for m in movers if m in new and m in old]


@st.composite
def board_pairs(draw) -> tuple[dict[int, int], dict[int, int], list[int]]:
    """Two successive boards and the teams that moved themselves: mostly the same board
    re-ranked, else another board of some of the same teams and a few others."""
    teams = draw(st.lists(_TEAM_IDS, unique=True, max_size=59))
    old = draw(boards(teams))
    if draw(st.integers(0, 2)):
        new, own = draw(next_boards(old))
    else:
        others = list(dict.fromkeys(draw(st.permutations([*teams, 7, 8, 9]))[: len(teams)]))
        new, own = draw(boards(others)), []
    return old, new, own


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(board_pairs())
def test_a_delta_rebuilds_both_boards_exactly(pair):
    old, new, own = pair
    delta = history.decode_delta(history.encode_delta(delta_between(old, new, own)))
    assert delta.forward(old) == new
    assert delta.backward(new) == old
    for team in old.keys() | new.keys():
        assert delta.after(team, old.get(team)) == new.get(team)
        assert delta.before(team, new.get(team)) == old.get(team)


def test_kaggle_reranking_is_a_few_ranges_not_a_row_per_team():
    rng = random.Random(1)
    old = {team: rank for rank, team in enumerate(rng.sample(range(10**7), 20_000), 1)}
    new, movers = dict(old), []
    order = sorted(old, key=old.get)
    for team in rng.sample(order, 200):  # 200 teams improve and climb
        order.remove(team)
        order.insert(rng.randrange(order.index(team) if team in order else len(order) + 1), team)
        movers.append(team)
    new = {team: rank for rank, team in enumerate(order, 1)}
    delta = delta_between(old, new, movers)
    assert len(delta.teams) == 200
    assert len(delta.lo) <= 400
    assert len(history.encode_delta(delta)) < 4000
    assert delta.forward(old) == new and delta.backward(new) == old


def test_without_the_movers_the_longest_monotone_chain_is_found():
    old = {team: team for team in range(1, 1001)}
    order = list(range(2, 1001)) + [1]  # team 1 falls to the bottom; nobody says it moved itself
    new = {team: rank for rank, team in enumerate(order, 1)}
    delta = delta_between(old, new)
    assert list(delta.teams) == [1]
    assert delta.forward(old) == new


def test_keyframe_round_trip():
    board = {5: 0, 7: 3, 10**15: 2, 11: (1 << 63) - 1}
    assert history.decode_keyframe(history.encode_keyframe(sorted(board.items()))) == board
    assert history.decode_keyframe(history.encode_keyframe([])) == {}
    # In another order (a board in rank order), ranks going down as well as up.
    pairs = [(11, (1 << 63) - 1), (5, 0), (7, 3), (10**15, 2), (3, 3)]
    assert history.decode_keyframe(history.encode_keyframe(pairs)) == dict(pairs)


def test_a_blob_of_the_wrong_kind_is_refused():
    with pytest.raises(ValueError, match="not a rank delta"):
        history.decode_delta(history.encode_keyframe([(1, 1)]))


# -- an oracle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    rank: int
    name: str
    score: str
    count: int
    bench: bool


def make_boards(seed: int, syncs: int = 14, *, quiet_renames: bool = True) -> list[dict[int, Row]]:
    """A board's life: improvements re-ranked (ties in any order), arrivals, departures and
    returns, renames, submissions without a better score, identical downloads, benchmarks.

    ``quiet_renames``: a team may change its name alone (schema 7 kept no record of
    that unless its rank or score changed too); else a rename comes with a better score.
    """
    rng = random.Random(seed)
    scores = {team: rng.choice([500, 600, 600, 700, 800, 900]) for team in range(100, 130)}
    names = {team: f"Team {team}" for team in scores}
    counts = dict.fromkeys(scores, 1)
    gone: set[int] = set()
    boards = []
    for step in range(syncs):
        if step:
            roll = rng.random()
            if roll < 0.15:
                boards.append(dict(boards[-1]))  # the same board again
                continue
            for team in rng.sample(sorted(set(scores) - gone), 4):
                scores[team] += rng.choice([0, 5, 50, 300])
                counts[team] += 1
            for team in rng.sample(sorted(set(scores) - gone), rng.randrange(0, 3)):
                gone.add(team)
            if gone and rng.random() < 0.5:
                gone.discard(rng.choice(sorted(gone)))  # a team comes back
            for _ in range(rng.randrange(0, 3)):
                team = 200 + len(scores)
                scores[team], names[team], counts[team] = rng.choice([550, 650]), f"Newcomer {team}", 1
            for team in rng.sample(sorted(scores), 1):
                names[team] = names[team] + " v2"
                if not quiet_renames:
                    scores[team] += 1
        present = [team for team in scores if team not in gone]
        rng.shuffle(present)  # tied scores: any order, the file does not say which
        present.sort(key=lambda team: -scores[team])
        board = {
            team: Row(rank, names[team], f"{scores[team] / 1000:.5f}", counts[team], False)
            for rank, team in enumerate(present, 1)
        }
        board[999] = Row(0, "Sample Benchmark", "0.65000", 1, True)
        boards.append(board)
    return boards


def zip_of(board: dict[int, Row], path: Path, when=(2026, 5, 5, 15, 36, 32)) -> Path:
    rows = [
        (r.rank, team, r.name, "2026-05-01 10:00:00", r.score, r.count, f"u{team}")
        for team, r in sorted(board.items(), key=lambda p: (p[1].rank, p[0]))
    ]
    info = zipfile.ZipInfo("comp-publicleaderboard.csv", date_time=when)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(info, csv_c(rows).encode("utf-8"))
    return path


TIMES = [f"2026-05-{day:02d}T10:00:00Z" for day in range(1, 29)]


def sync_all(db_path, database, comp, boards, tmp_path, **kwargs):
    for index, board in enumerate(boards):
        outcome = Syncer(db_path, FileSource(zip_of(board, tmp_path / f"b{index}.zip"))).sync(comp, "manual", **kwargs)
        assert outcome.ok, outcome.error
    date_runs(database, comp)


def date_runs(database, comp):
    runs = [
        row[0]
        for row in database.conn.execute("SELECT id FROM sync_runs WHERE competition_id = ? ORDER BY id", (comp.id,))
    ]
    for run_id, when in zip(runs, TIMES, strict=False):
        database.conn.execute("UPDATE sync_runs SET finished_at = ? WHERE id = ?", (when, run_id))
    return runs


def expected_history(boards, team, runs):
    points = []
    for index, board in enumerate(boards):
        now, before = board.get(team), boards[index - 1].get(team) if index else None
        if now is None and before is None:
            continue
        if now is not None and before is not None and (now.rank, now.score) == (before.rank, before.score):
            continue
        kind = "new" if before is None else "removed" if now is None else "changed"
        points.append(
            (
                runs[index],
                TIMES[index],
                kind,
                now and now.rank,
                before and before.rank,
                now and now.score,
                before and before.score,
                (now or before).name,
            )
        )
    return points


def expected_movers(boards, baseline):
    then = boards[baseline] if baseline >= 0 else {}
    now = boards[-1]
    out = {"climbers": [], "fallers": [], "new": [], "departed": []}
    for team in now.keys() | then.keys():
        old, cur = then.get(team), now.get(team)
        if (cur is not None and cur.bench) or (old is not None and old.rank == 0):
            continue
        if old is not None and cur is not None:
            if old.rank != cur.rank:
                key = "climbers" if old.rank > cur.rank else "fallers"
                out[key].append((team, cur.name, cur.rank, old.rank, old.rank - cur.rank, cur.score, old.score))
        elif cur is not None:
            out["new"].append((team, cur.name, cur.rank, None, None, cur.score, None))
        else:
            out["departed"].append((team, old.name, None, old.rank, None, None, old.score))
    return {key: sorted(items) for key, items in out.items()}


def check_views(database, comp, boards, runs):
    conn = database.conn
    teams = set().union(*boards)
    for index, board in enumerate(boards):
        assert history.ranks_at(conn, comp.id, "public", runs[index]) == {t: r.rank for t, r in board.items()}
    for team in sorted(teams):
        got = team_history(database, comp, str(team))["changes"]
        assert [
            (
                c["run_id"],
                c["synced_at"],
                c["kind"],
                c["rank"],
                c["previous_rank"],
                c["score"],
                c["previous_score"],
                c["team_name"],
            )
            for c in got
        ] == expected_history(boards, team, runs), team
        assert all(c["movement"] == (c["previous_rank"] - c["rank"] if c["kind"] == "changed" else None) for c in got)
    series = rank_series(database, comp, sorted(teams))
    for team in teams:
        assert series[team] == [(p[0], p[1], p[3]) for p in expected_history(boards, team, runs)]
    for baseline in range(-1, len(boards)):
        since = "2026-04-01T00:00:00Z" if baseline < 0 else TIMES[baseline]
        result = movers(database, comp, since=since, limit=None)
        got = {
            key: sorted(
                (
                    i["team_id"],
                    i["team_name"],
                    i["rank"],
                    i["previous_rank"],
                    i["movement"],
                    i["score"],
                    i["previous_score"],
                )
                for i in result[key]
            )
            for key in ("climbers", "fallers", "new", "departed")
        }
        assert got == expected_movers(boards, baseline), baseline
    assert (
        movers(database, comp, limit=None)["climbers"]
        == movers(database, comp, since=TIMES[len(boards) - 2], limit=None)["climbers"]
    )
    previous, latest = boards[-2], boards[-1]
    for entry in leaderboard_entries(database, comp):
        before = previous.get(entry["team_id"])
        assert entry["is_new"] == (before is None)
        assert entry["movement"] == (None if before is None else before.rank - entry["rank"])
        assert entry["rank"] == latest[entry["team_id"]].rank
    for index in range(1, len(boards)):
        changes = run_changes(database, runs[index])
        expected = sorted(
            team
            for team in boards[index].keys() | boards[index - 1].keys()
            if (
                boards[index].get(team) and boards[index].get(team).rank,
                boards[index].get(team) and boards[index].get(team).score,
            )
            != (
                boards[index - 1].get(team) and boards[index - 1].get(team).rank,
                boards[index - 1].get(team) and boards[index - 1].get(team).score,
            )
        )
        assert [c["team_id"] for c in changes] == expected, index


@pytest.fixture
def comp(repository):
    return repository.add_competition("comp", sync=False).competition


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_views_give_every_rank_score_and_name_exactly(db_path, database, comp, tmp_path, seed):
    boards = make_boards(seed)
    sync_all(db_path, database, comp, boards, tmp_path)
    runs = date_runs(database, comp)
    check_views(database, comp, boards, runs)
    # A team that was renamed is found by its old name too.
    renamed = database.conn.execute(
        "SELECT team_id, previous_team_name FROM entry_changes WHERE previous_team_name IS NOT NULL LIMIT 1"
    ).fetchone()
    assert team_history(database, comp, renamed[1])["team"]["team_id"] == renamed[0]


def test_change_records_hold_what_teams_did_not_who_they_passed(db_path, database, comp, tmp_path):
    boards = make_boards(7)
    sync_all(db_path, database, comp, boards, tmp_path)
    runs = date_runs(database, comp)
    assert database.conn.execute("SELECT count(*) FROM entry_changes WHERE run_id = ?", (runs[0],)).fetchone() == (0,)
    for index in range(1, len(boards)):
        before, after = boards[index - 1], boards[index]
        own = {
            team
            for team in before.keys() | after.keys()
            if team not in before
            or team not in after
            or (before[team].score, before[team].name, before[team].count)
            != (after[team].score, after[team].name, after[team].count)
        }
        recorded = {
            row[0]
            for row in database.conn.execute("SELECT team_id FROM entry_changes WHERE run_id = ?", (runs[index],))
        }
        assert recorded == own, index
    assert database.conn.execute("SELECT count(*) FROM entry_changes WHERE passive").fetchone() == (0,)


def passive_runs(database):
    return {row[0] for row in database.conn.execute("SELECT DISTINCT run_id FROM entry_changes WHERE passive")}


def test_passive_rows_are_kept_for_the_latest_run_once_every_listener_read_them(db_path, database, comp, tmp_path):
    database.conn.execute(
        "INSERT INTO notify_targets (name, url, format, kinds, created_at) VALUES ('t', 'http://x', 'json', 'top', 'now')"
    )
    boards = make_boards(3)
    for index, board in enumerate(boards):
        outcome = Syncer(db_path, FileSource(zip_of(board, tmp_path / f"b{index}.zip"))).sync(comp, "manual")
        assert outcome.ok, outcome.error
        notify.record_changes(database)  # the pass after each sync: it reads them (and sends nothing here)
    runs = date_runs(database, comp)
    frames = [row[0] for row in database.conn.execute("SELECT run_id FROM rank_frames ORDER BY run_id")]
    assert passive_runs(database) <= {frames[-1]}
    latest = frames[-1]
    rows = database.conn.execute(
        "SELECT team_id, rank, previous_rank FROM entry_changes WHERE run_id = ? AND rank IS NOT previous_rank",
        (latest,),
    ).fetchall()
    index = runs.index(latest)

    def rank(board, team):
        return board[team].rank if team in board else None

    moved = {
        t
        for t in boards[index].keys() | boards[index - 1].keys()
        if rank(boards[index], t) != rank(boards[index - 1], t)
    }
    assert {row[0] for row in rows} == moved  # the new and departed teams, and all that moved


def test_passive_rows_wait_for_every_listener_that_has_not_read_them(db_path, database, comp, tmp_path):
    boards = make_boards(3, syncs=8)
    sync_all(db_path, database, comp, boards[:2], tmp_path)
    assert passive_runs(database) == set()  # nobody listens: none are written
    database.conn.execute(
        "INSERT INTO notify_targets (name, url, format, kinds, created_at) VALUES ('t', 'http://x', 'json', 'top', 'now')"
    )
    notify.record_changes(database)
    database.conn.execute(  # a second target that has read nothing yet
        "INSERT INTO notify_targets (name, url, format, kinds, created_at) VALUES ('u', 'http://y', 'json', 'top', 'now')"
    )
    for index, board in enumerate(boards[2:], 2):
        assert Syncer(db_path, FileSource(zip_of(board, tmp_path / f"c{index}.zip"))).sync(comp, "manual").ok
    # Passes that never ran (processes killed after their commit): every unread run keeps its rows.
    unread = passive_runs(database)
    assert len(unread) > 1
    first = notify.record_changes(database)
    assert set(first) == {"t", "u"}
    # Once both have read them, the next sync of the board forgets them.
    nxt = {t: Row(r.rank + 1 if r.rank else 0, r.name, r.score, r.count, r.bench) for t, r in boards[-1].items()}
    nxt[5] = Row(1, "Top newcomer", "9.00000", 1, False)
    assert Syncer(db_path, FileSource(zip_of(nxt, tmp_path / "next.zip"))).sync(comp, "manual").ok
    latest = database.conn.execute("SELECT max(id) FROM sync_runs").fetchone()[0]
    assert passive_runs(database) == {latest}


# -- migration 8 ----------------------------------------------------------------------------


def old_records(boards):
    """The change records schema 7 kept: every team whose rank or score changed."""
    runs = []
    for index, board in enumerate(boards):
        before = boards[index - 1] if index else {}
        rows = []
        for team in sorted(board.keys() | before.keys()):
            now, then = board.get(team), before.get(team)
            if then is None:
                rows.append((team, "new", now.name, now.rank, None, now.score, None))
            elif now is None:
                rows.append((team, "removed", then.name, None, then.rank, None, then.score))
            elif (now.rank, now.score) != (then.rank, then.score):
                rows.append((team, "changed", now.name, now.rank, then.rank, now.score, then.score))
        runs.append(rows)
    return runs


@pytest.mark.parametrize("seed, quiet_renames", [(1, False), (3, False), (5, True)])
def test_migration_8_converts_old_change_records(db_path, seed, quiet_renames):
    boards = make_boards(seed, quiet_renames=quiet_renames)
    db_path.parent.mkdir(parents=True)
    old = dbmod.connect(db_path, migrate_schema=False)
    dbmod.migrate(old, target=7)
    conn = old.conn
    conn.execute("INSERT INTO competitions (slug, title, created_at, updated_at) VALUES ('comp', 'Comp', 't', 't')")
    for index, rows in enumerate(old_records(boards)):
        run_id = conn.execute(
            "INSERT INTO sync_runs (competition_id, trigger, source, started_at, finished_at, status, entries)"
            " VALUES (1, 'manual', 'file:x', ?, ?, 'ok', ?)",
            (TIMES[index], TIMES[index], len(boards[index])),
        ).lastrowid
        conn.executemany(
            "INSERT INTO entry_changes (run_id, competition_id, team_id, kind, team_name, rank, previous_rank,"
            " score, previous_score) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, *row) for row in rows],
        )
    for team, row in boards[-1].items():
        conn.execute(
            "INSERT INTO entries (competition_id, team_id, rank, team_name, score, score_value, submission_count,"
            " is_benchmark) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
            (team, row.rank, row.name, row.score, float(row.score), row.count, int(row.bench)),
        )
    conn.close()

    database = dbmod.connect(db_path)
    comp = Repository(database).get_competition("comp")
    runs = date_runs(database, comp)
    check_views(database, comp, boards, runs)
    # Only what teams did themselves is left (rank-only rows are in the frames), and the
    # first sync's 'new' records became its keyframe.
    # (Kept only as the last witness of a name a rename without a record replaced.)
    left = database.conn.execute(
        """SELECT ch.team_id, ch.team_name, e.team_name FROM entry_changes ch
           LEFT JOIN entries e ON e.competition_id = ch.competition_id AND e.team_id = ch.team_id
           WHERE ch.kind = 'changed' AND ch.score IS ch.previous_score AND ch.previous_team_name IS NULL"""
    ).fetchall()
    assert all(name != now for _, name, now in left)
    first = database.conn.execute(
        """SELECT ch.team_name, e.team_name FROM entry_changes ch JOIN entries e USING (competition_id, team_id)
           WHERE ch.run_id = ?""",
        (runs[0],),
    ).fetchall()
    assert all(then != now for then, now in first)
    # The next sync goes on from the converted history.
    nxt = dict(boards[-1])
    nxt[100] = Row(1, "Leader now", "9.00000", 9, False)
    nxt = {
        t: (
            r
            if t == 100
            else Row(
                r.rank + 1 if 0 < r.rank < boards[-1].get(100, r).rank else r.rank, r.name, r.score, r.count, r.bench
            )
        )
        for t, r in nxt.items()
    }
    assert Syncer(db_path, FileSource(zip_of(nxt, db_path.parent / "next.zip"))).sync(comp, "manual").ok
    runs = date_runs(database, comp)
    check_views(database, comp, [*boards, nxt], runs)
    database.close()


# -- unchanged content -------------------------------------------------------------------------


def test_an_unchanged_download_is_recorded_without_parsing(db_path, database, comp, tmp_path, monkeypatch):
    boards = make_boards(2, syncs=2)
    first = zip_of(boards[0], tmp_path / "a.zip")
    assert Syncer(db_path, FileSource(first)).sync(comp, "manual").ok
    second = zip_of(boards[1], tmp_path / "b.zip")
    assert Syncer(db_path, FileSource(second)).sync(comp, "manual").ok
    before = database.conn.execute("SELECT * FROM entries ORDER BY team_id").fetchall()

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(applymod, "iter_leaderboard_rows", no_parsing)
    # The same CSV in a zip with another timestamp (Kaggle's zips differ every time).
    again = zip_of(boards[1], tmp_path / "c.zip", when=(2026, 6, 1, 0, 0, 0))
    assert again.read_bytes() != second.read_bytes()
    outcome = Syncer(db_path, FileSource(again)).sync(comp, "watch")
    assert outcome.ok, outcome.error
    assert (outcome.entries, outcome.created, outcome.updated, outcome.removed) == (len(boards[1]), 0, 0, 0)
    assert database.conn.execute("SELECT * FROM entries ORDER BY team_id").fetchall() == before
    runs = database.query("SELECT status, entries, top_score, content_digest FROM sync_runs ORDER BY id")
    assert runs[-1]["status"] == "ok" and runs[-1]["top_score"] == runs[-2]["top_score"]
    assert runs[-1]["content_digest"].split(";member:")[0] == runs[-2]["content_digest"].split(";member:")[0]
    assert runs[-1]["content_digest"].startswith("sha256:")
    assert {e["movement"] for e in leaderboard_entries(database, comp)} == {0}
    # The plain CSV of the same content is the same content.
    plain = tmp_path / "d.csv"
    with zipfile.ZipFile(again) as archive:
        plain.write_bytes(archive.read(archive.namelist()[0]))
    assert Syncer(db_path, FileSource(plain)).sync(comp, "watch").ok
    # --force parses whatever the source serves.
    forced = Syncer(db_path, FileSource(again)).sync(comp, "manual", force=True)
    assert forced.status == "failed" and "AssertionError" in forced.error


def test_direction_and_parser_version_are_part_of_the_key(db_path, database, comp, tmp_path, monkeypatch):
    path = zip_of(make_boards(2, syncs=1)[0], tmp_path / "a.zip")
    assert Syncer(db_path, FileSource(path)).sync(comp, "manual").ok
    parsed = []
    real = applymod.iter_leaderboard_rows

    def counting(*args, **kwargs):
        parsed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(applymod, "iter_leaderboard_rows", counting)
    assert Syncer(db_path, FileSource(path)).sync(comp, "manual").ok
    assert parsed == []
    database.conn.execute("UPDATE competitions SET lower_is_better = 1 WHERE id = ?", (comp.id,))
    assert Syncer(db_path, FileSource(path)).sync(comp, "manual").ok
    assert parsed == [1]
    assert Syncer(db_path, FileSource(path)).sync(comp, "manual").ok
    assert parsed == [1]
    monkeypatch.setattr(fingerprint, "PARSER_VERSION", fingerprint.PARSER_VERSION + 1)
    assert Syncer(db_path, FileSource(path)).sync(comp, "manual").ok
    assert parsed == [1, 1]


def test_a_bad_file_after_a_good_one_is_still_refused(db_path, database, comp, tmp_path):
    path = zip_of(make_boards(2, syncs=1)[0], tmp_path / "a.zip")
    assert Syncer(db_path, FileSource(path)).sync(comp, "manual").ok
    broken = tmp_path / "broken.zip"
    broken.write_bytes(path.read_bytes()[:-30])
    outcome = Syncer(db_path, FileSource(broken)).sync(comp, "manual")
    assert outcome.status == "failed" and outcome.error_kind == "bad_file"


# -- a full temporary folder -------------------------------------------------------------


def test_a_full_temporary_folder_is_one_line_and_changes_nothing(db_path, database, comp, tmp_path, monkeypatch):
    boards = make_boards(4, syncs=2)
    assert Syncer(db_path, FileSource(zip_of(boards[0], tmp_path / "a.zip"))).sync(comp, "manual").ok
    snapshot = {
        table: database.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in ("entries", "entry_changes", "rank_frames")
    }
    folder = tmp_path / "sqlite-tmp"
    folder.mkdir()
    monkeypatch.setenv("SQLITE_TMPDIR", str(folder))
    real = syncermod._stage_entries

    def tiny_temp_store(conn, *args, **kwargs):
        # What a full disk does to SQLite's temporary files: SQLITE_FULL mid-insert.
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS warm (x)")
        conn.execute("PRAGMA temp.max_page_count = 8")
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(syncermod, "_stage_entries", tiny_temp_store)
    big = dict(boards[1])
    for team in range(5000, 7000):
        big[team] = Row(1000 + team, f"Filler {team} " + "x" * 40, "0.10000", 1, False)
    outcome = Syncer(db_path, FileSource(zip_of(big, tmp_path / "b.zip"))).sync(comp, "manual")
    assert (outcome.status, outcome.error_kind) == ("failed", "database")
    assert outcome.error.startswith("disk full:") and str(folder) in outcome.error
    assert "\n" not in outcome.error and "no transaction" not in outcome.error
    for table, rows in snapshot.items():
        assert database.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() == rows


def test_storage_errors_are_told_apart_from_other_sqlite_errors():
    full = sqlite3.OperationalError("database or disk is full")
    assert "disk full" in str(applymod._storage_error(full, "/data/x.db"))
    assert "/data" in str(applymod._storage_error(full, "/data/x.db"))
    assert applymod._storage_error(sqlite3.OperationalError("no such table: x"), "temp") is None


# -- what a busy board costs ---------------------------------------------------------------


def test_a_reranked_board_costs_its_improvements_not_its_teams(db_path, database, comp, tmp_path):
    rng = random.Random(3)
    scores = {team: rng.randrange(10_000, 90_000) for team in rng.sample(range(10**6, 10**7), 2000)}

    def board():
        order = sorted(scores, key=lambda t: (-scores[t], t))
        return {t: Row(rank, f"T{t}", f"{scores[t] / 1e5:.5f}", 1, False) for rank, t in enumerate(order, 1)}

    boards = [board()]
    for _ in range(8):
        for team in rng.sample(sorted(scores), 20):
            scores[team] += rng.randrange(1, 20_000)
        boards.append(board())
    sync_all(db_path, database, comp, boards, tmp_path)
    runs = date_runs(database, comp)
    for run_id in runs[1:]:
        (records,) = database.conn.execute("SELECT count(*) FROM entry_changes WHERE run_id = ?", (run_id,)).fetchone()
        (size,) = database.conn.execute("SELECT length(delta) FROM rank_frames WHERE run_id = ?", (run_id,)).fetchone()
        (updated,) = database.conn.execute("SELECT updated FROM sync_runs WHERE id = ?", (run_id,)).fetchone()
        assert records <= 20 < updated  # many teams moved; only those that improved are records
        assert size < 600
    assert history.ranks_at(database.conn, comp.id, "public", runs[3]) == {t: r.rank for t, r in boards[3].items()}


def test_the_parser_error_for_a_duplicate_team_is_kept(db_path, database, comp, tmp_path):
    board = make_boards(2, syncs=1)[0]
    rows = [(r.rank, team, r.name, "2026-05-01 10:00:00", r.score, r.count, "") for team, r in board.items()]
    rows.append((99, rows[0][1], "Twin", "2026-05-01 10:00:00", "0.1", 1, ""))
    path = tmp_path / "dup.csv"
    path.write_text(csv_c(rows), encoding="utf-8")
    outcome = Syncer(db_path, FileSource(path)).sync(comp, "manual")
    assert outcome.status == "failed" and "duplicate TeamId" in outcome.error
    with pytest.raises(LeaderboardFormatError):
        list(applymod.iter_leaderboard_rows(path, lower_is_better=False))


# -- boards of one competition ---------------------------------------------------------------


def test_the_private_board_has_its_own_history(db_path, database, comp, tmp_path):
    from kagsync.sources import FolderSource

    folder = tmp_path / "boards"
    folder.mkdir()
    public = make_boards(11, syncs=3)
    private = make_boards(12, syncs=2)
    syncer = Syncer(db_path, FolderSource(folder))
    for index, board in enumerate(public):
        zip_of(board, folder / "comp.zip")
        assert syncer.sync(comp, "manual").ok
        if index < len(private):
            zip_of(private[index], folder / "comp.private.zip")
            outcome = syncer.sync(comp, "manual", board="private")
            assert outcome.ok, outcome.error
    runs = {
        board: [
            row[0]
            for row in database.conn.execute(
                "SELECT id FROM sync_runs WHERE board = ? AND status = 'ok' ORDER BY id", (board,)
            )
        ]
        for board in ("public", "private")
    }
    for board, boards in (("public", public), ("private", private)):
        for run_id, expected in zip(runs[board], boards, strict=True):
            assert history.ranks_at(database.conn, comp.id, board, run_id) == {t: r.rank for t, r in expected.items()}
        team = next(iter(boards[-1]))
        got = team_history(database, comp, str(team), board=board)["changes"]
        assert [c["rank"] for c in got] == [p[3] for p in expected_history(boards, team, runs[board])]
        moved = movers(database, comp, board=board, limit=None)
        assert moved["board"] == board and moved["compared"]
        expected_moves = expected_movers(boards, len(boards) - 2)
        assert sorted(i["team_id"] for i in moved["climbers"]) == [i[0] for i in expected_moves["climbers"]]
