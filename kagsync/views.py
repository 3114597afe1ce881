"""Read-only views of stored leaderboards: the board, its runs, history and movers.

Every function here is a pure query: a database and a competition in, plain data
(dicts, lists, numbers, strings) out. Nothing is printed and nothing is written.

History comes from two records that every ok sync keeps (see :mod:`kagsync.history`):
``entry_changes``, one row per team that changed itself in the run (appeared, left,
or changed its score, name or submission count, with the values before), and
``rank_frames``, how the ranks of the whole board moved in the run. A team's rank at
any past run is rebuilt from the frames (backward from the stored board, or forward
from a keyframe); its score and name at a past run are those of its first change
record after that run (the values before it), else the stored ones.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from kagsync import history
from kagsync.db import Database
from kagsync.errors import NotFoundError, ValidationError
from kagsync.models import Board, Competition, RunRecord
from kagsync.rows import (
    HistorySync,
    LeaderboardEntry,
    MovementBasis,
    Mover,
    Movers,
    MoverTotals,
    OkRun,
    RunChange,
    SyncMark,
    TeamHistory,
    TeamPoint,
    TeamRef,
)

# entry_changes rows of one board: those of its runs (two parameters: competition id, board).
_OF_BOARD = "run_id IN (SELECT id FROM sync_runs WHERE competition_id = ? AND board = ?)"

_ENTRY_COLUMNS = """e.rank, e.team_id, e.team_name, e.score, e.score_value, e.submission_count,
                    e.last_submission, e.members, e.is_benchmark"""


def _fold(text: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return text.casefold() if isinstance(text, str) else text


def _prepare(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Register the SQL functions the views use (idempotent, per connection)."""
    conn.create_function("kagsync_fold", 1, _fold, deterministic=True)
    return conn


@contextmanager
def read_snapshot(database: Database) -> Iterator[Database]:
    """Read everything inside one read transaction: one consistent state of the file.

    With WAL, syncs keep writing meanwhile; what is read here does not change under
    the reader (an event export or report never mixes boards from before and after
    a sync). Nests harmlessly: inside a transaction it does nothing.
    """
    conn = database.conn
    if conn.in_transaction:
        yield database
        return
    conn.execute("BEGIN")
    try:
        yield database
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def ok_runs(database: Database, competition: Competition, board: Board = "public") -> list[OkRun]:
    """The successful sync runs of one of the competition's boards, oldest first."""
    cursor = database.conn.execute(
        """SELECT id AS run_id, finished_at AS synced_at, entries, top_score, created, updated,
                  removed, trigger
           FROM sync_runs WHERE competition_id = ? AND board = ? AND status = 'ok' ORDER BY id""",
        (competition.id, board),
    )
    return [
        OkRun(
            run_id=run_id,
            synced_at=synced_at,
            entries=entries,
            top_score=top_score,
            created=created,
            updated=updated,
            removed=removed,
            trigger=trigger,
        )
        for run_id, synced_at, entries, top_score, created, updated, removed, trigger in cursor
    ]


def _last_ok_runs(conn: sqlite3.Connection, competition_id: int, count: int, board: Board) -> list[tuple[int, str]]:
    """The newest ``count`` ok runs as (id, finished_at), newest first."""
    return conn.execute(
        """SELECT id, finished_at FROM sync_runs WHERE competition_id = ? AND board = ? AND status = 'ok'
           ORDER BY id DESC LIMIT ?""",
        (competition_id, board, count),
    ).fetchall()


# -- the board ----------------------------------------------------------------


def movement_basis(database: Database, competition: Competition, board: Board = "public") -> MovementBasis:
    """Which runs the board's movement compares: the latest ok sync and the one before.

    ``previous_run_id`` is None when the board was synced at most once: then there is
    nothing to compare and no team has a movement.
    """
    runs = _last_ok_runs(database.conn, competition.id, 2, board)
    latest: tuple[int | None, str | None] = runs[0] if runs else (None, None)
    previous: tuple[int | None, str | None] = runs[1] if len(runs) > 1 else (None, None)
    return {
        "run_id": latest[0],
        "synced_at": latest[1],
        "previous_run_id": previous[0],
        "previous_synced_at": previous[1],
        "board": board,
    }


def leaderboard_entries(
    database: Database,
    competition: Competition,
    *,
    top: int | None = None,
    team: str | None = None,
    user: str | None = None,
    board: Board = "public",
) -> list[LeaderboardEntry]:
    """The stored board of a competition in rank order, with movement since the previous sync.

    Benchmarks (rank 0, the only rows with that rank) are placed where their score
    falls among the teams, as Kaggle shows them. ``team`` keeps teams whose name contains it (case-insensitive);
    ``user`` keeps teams with that member username (exact, case-insensitive). ``top``
    counts rows after filtering, benchmarks included.

    Each entry has ``movement`` (ranks climbed since the previous sync: positive up,
    negative down, 0 unchanged; None for a new team or when there is no previous
    sync) and ``is_new`` (the team first appeared in the latest sync, and there was
    a sync before it).
    """
    return list(iter_leaderboard_entries(database, competition, top=top, team=team, user=user, board=board))


def iter_leaderboard_entries(
    database: Database,
    competition: Competition,
    *,
    top: int | None = None,
    team: str | None = None,
    user: str | None = None,
    board: Board = "public",
) -> Iterator[LeaderboardEntry]:
    """:func:`leaderboard_entries`, streamed (a million-team board in constant memory)."""
    conn = _prepare(database.conn)
    basis = movement_basis(database, competition, board)
    where = ["e.competition_id = :cid", "e.board = :board"]
    params: dict[str, object] = {"cid": competition.id, "board": board}
    if team is not None:
        where.append("instr(kagsync_fold(e.team_name), :team) > 0")
        params["team"] = _fold(team)
    if user is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(e.members) m WHERE kagsync_fold(m.value) = :user)")
        params["user"] = _fold(user.strip().lstrip("@"))
    select = f"""SELECT {_ENTRY_COLUMNS}
                 FROM entries e
                 WHERE {" AND ".join(where)}"""
    move = _movement(conn, competition, basis, board)
    benchmarks = [
        _entry(row, basis, move) for row in conn.execute(select + " AND e.rank = 0 ORDER BY e.team_id", params)
    ]
    queue = sorted(((_benchmark_place(conn, competition, b, board), b) for b in benchmarks), key=lambda p: p[0])
    teams_sql = select + " AND e.rank > 0 ORDER BY e.rank, e.team_id"
    if top is not None:
        teams_sql += " LIMIT :top"
        params["top"] = top
    shown = teams = 0
    for row in conn.execute(teams_sql, params):
        entry = _entry(row, basis, move)
        teams += 1
        while queue and queue[0][0] < entry["rank"]:
            if top is not None and shown >= top:
                return
            yield queue.pop(0)[1]
            shown += 1
        if top is not None and shown >= top:
            return
        yield entry
        shown += 1
    if top is not None and teams == top:
        return  # the board goes on past the last team shown: later benchmarks are not shown
    for _, bench in queue:
        if top is not None and shown >= top:
            return
        yield bench
        shown += 1


_Movement = Callable[[int, int], tuple[int | None, bool]]


def _movement(conn: sqlite3.Connection, competition: Competition, basis: MovementBasis, board: Board) -> _Movement:
    """(movement, is_new) of a team from its id and current rank: the latest run's frame
    says where each team was at the run before (no frame: nothing moved)."""
    if basis["previous_run_id"] is None:
        return lambda team_id, rank: (None, False)
    row = conn.execute("SELECT delta FROM rank_frames WHERE run_id = ?", (basis["run_id"],)).fetchone()
    if row is None:
        return lambda team_id, rank: (0, False)
    if row[0] is None:  # the board was empty before the latest sync: every team is new
        return lambda team_id, rank: (None, True)
    delta = history.decode_delta(row[0])

    def move(team_id: int, rank: int) -> tuple[int | None, bool]:
        before = delta.before(team_id, rank)
        return (None, True) if before is None else (before - rank, False)

    return move


# A stored board row as _ENTRY_COLUMNS reads it (entries' columns: only score_value and
# last_submission may be NULL; members is JSON text; is_benchmark 0 or 1).
_EntryRow = tuple[int, int, str, str, float | None, int, str | None, str, int]


def _entry(row: _EntryRow, basis: MovementBasis, move: _Movement) -> LeaderboardEntry:
    (rank, team_id, team_name, score, score_value, submissions, last, members, bench) = row
    movement, is_new = move(team_id, rank)
    return {
        "rank": rank,
        "team_id": team_id,
        "team_name": team_name,
        "score": score,
        "score_value": score_value,
        "submission_count": submissions,
        "last_submission": last,
        "members": json.loads(members),
        "is_benchmark": bool(bench),
        "movement": movement,
        "is_new": is_new,
        "board": basis["board"],
    }


def lower_is_better(database: Database, competition: Competition, board: Board = "public") -> bool:
    """The board's score direction, read from the ranks when they tell (else the setting)."""
    return _lower_is_better(database.conn, competition, board)


def _lower_is_better(conn: sqlite3.Connection, competition: Competition, board: Board = "public") -> bool:
    row = conn.execute(
        """SELECT (SELECT score_value FROM entries WHERE competition_id = :cid AND board = :board
                   AND rank > 0 AND score_value IS NOT NULL ORDER BY rank LIMIT 1),
                  (SELECT score_value FROM entries WHERE competition_id = :cid AND board = :board
                   AND rank > 0 AND score_value IS NOT NULL ORDER BY rank DESC LIMIT 1)""",
        {"cid": competition.id, "board": board},
    ).fetchone()
    first, last = row
    if first is not None and last is not None and first != last:
        return bool(first < last)
    return competition.lower_is_better


def _benchmark_place(
    conn: sqlite3.Connection, competition: Competition, bench: LeaderboardEntry, board: Board
) -> float:
    """Where a benchmark sits: just after the last team scoring at least as well."""
    if bench["score_value"] is None:
        return float("inf")
    lower = _lower_is_better(conn, competition, board)
    better = "<=" if lower else ">="
    ahead = conn.execute(
        f"""SELECT max(rank) FROM entries WHERE competition_id = ? AND board = ? AND rank > 0
            AND score_value {better} ?""",
        (competition.id, board, bench["score_value"]),
    ).fetchone()[0]
    return (ahead or 0) + 0.5


def movement_text(entry: Mapping[str, object]) -> str:
    """``▲ 3``, ``▼ 2``, ``new``, ``–`` (unchanged) or ``""`` (nothing to compare), from a
    row's ``movement`` and ``is_new`` (a board entry, a mover, a team's change)."""
    if entry.get("is_new"):
        return "new"
    movement = entry.get("movement")
    if not isinstance(movement, int):
        return ""
    if movement > 0:
        return f"▲ {movement}"
    if movement < 0:
        return f"▼ {-movement}"
    return "–"


# -- teams --------------------------------------------------------------------


def resolve_team(database: Database, competition: Competition, text: str, board: Board = "public") -> TeamRef:
    """A team of the competition by id or name: ``{"team_id", "team_name", "on_board"}``.

    Digits that are a TeamId seen on this board win. Otherwise a name matches
    case-insensitively: exactly (current names, then past names of teams, so a team
    that left or was renamed is found), else as a substring of a current name. A
    name matching several teams is refused: use the team id.
    """
    conn = _prepare(database.conn)
    value = text.strip()
    if not value:
        raise ValidationError("the team is empty: give a team id or name")
    cid = competition.id
    if value.isascii() and value.isdigit() and int(value) < 2**63:  # wider than any SQLite INTEGER: a name
        found = _team_ids(conn, "team_id = ?", (int(value),), cid, board)
        if found:
            return _team(conn, cid, found[0], board)
    folded = _fold(value)
    for where in (
        "SELECT team_id, team_name FROM entries WHERE competition_id = ? AND board = ? AND kagsync_fold(team_name) = ?",
        f"""SELECT DISTINCT team_id, name FROM (
                SELECT team_id, team_name AS name FROM entry_changes WHERE competition_id = ? AND {_OF_BOARD}
                UNION ALL
                SELECT team_id, previous_team_name FROM entry_changes WHERE competition_id = ? AND {_OF_BOARD}
                    AND previous_team_name IS NOT NULL)
            WHERE kagsync_fold(name) = ?""",
        "SELECT team_id, team_name FROM entries WHERE competition_id = ? AND board = ? AND instr(kagsync_fold(team_name), ?) > 0",
    ):
        params: tuple[object, ...] = (
            (cid, cid, board, cid, cid, board, folded) if "entry_changes" in where else (cid, board, folded)
        )
        rows = conn.execute(where + " ORDER BY team_id LIMIT 201", params).fetchall()
        ids = sorted({row[0] for row in rows})
        if len(ids) == 1:
            return _team(conn, cid, ids[0], board)
        if len(ids) > 1:
            names: dict[int, str] = {}
            for team_id, name in rows:
                names.setdefault(team_id, name)
            count = "200+" if len(rows) > 200 else str(len(ids))
            shown = ", ".join(f"{tid} {names[tid]!r}" for tid in ids[:5])
            raise ValidationError(
                f"team {text!r} is ambiguous in {competition.slug}: it matches {count} teams "
                f"({shown}{', ...' if len(ids) > 5 else ''}); use the team id"
            )
    raise NotFoundError(f"no team {text!r} on {competition.slug} (give a team id or part of its name)")


def _team_ids(conn: sqlite3.Connection, where: str, params: tuple[object, ...], cid: int, board: Board) -> list[int]:
    rows = conn.execute(
        f"""SELECT team_id FROM entries WHERE competition_id = ? AND board = ? AND {where}
            UNION SELECT team_id FROM entry_changes WHERE competition_id = ? AND {_OF_BOARD} AND {where}""",
        (cid, board, *params, cid, cid, board, *params),
    ).fetchall()
    return sorted(row[0] for row in rows)


def _team(conn: sqlite3.Connection, cid: int, team_id: int, board: Board) -> TeamRef:
    row = conn.execute(
        "SELECT team_name, rank, score FROM entries WHERE competition_id = ? AND board = ? AND team_id = ?",
        (cid, board, team_id),
    ).fetchone()
    if row is not None:
        return {"team_id": team_id, "team_name": row[0], "on_board": True, "rank": row[1], "score": row[2]}
    last = conn.execute(
        f"""SELECT team_name FROM entry_changes WHERE competition_id = ? AND {_OF_BOARD} AND team_id = ?
           ORDER BY run_id DESC LIMIT 1""",
        (cid, cid, board, team_id),
    ).fetchone()
    return {"team_id": team_id, "team_name": last[0], "on_board": False, "rank": None, "score": None}


# -- history ------------------------------------------------------------------


def board_history(database: Database, competition: Competition, board: Board = "public") -> list[HistorySync]:
    """The board at each ok sync, oldest first: teams, top score and what changed."""
    return [
        {
            "run_id": run["run_id"],
            "synced_at": run["synced_at"],
            "entries": run["entries"],
            "top_score": run["top_score"],
            "created": run["created"],
            "updated": run["updated"],
            "removed": run["removed"],
        }
        for run in ok_runs(database, competition, board)
    ]


class _Values:
    """A team's own values (score, name) at any run, from its change records.

    A record holds the values after its run and, for a team already on the board,
    those before it; between records nothing changed. So the values at a run are the
    "before" values of the first record after it, else the stored ones.
    """

    def __init__(
        self,
        records: list[tuple[int, str, str, str | None, str | None, str | None]],
        stored: tuple[str | None, str] | None,
    ) -> None:
        # records: (run_id, kind, team_name, previous_team_name, score, previous_score), oldest first
        self.records = records
        self.runs = [record[0] for record in records]
        self.stored = stored

    def at(self, run_id: int) -> tuple[str | None, str | None]:
        """(score, team name) after the run (score None when off the board then).

        The values after the team's latest record at or before the run, else the
        values before its first record after it, else the stored ones. (A database
        converted from schema 7 may lack a rename's own record: the latest record
        before a run is then the better witness of its name.)
        """
        index = bisect_right(self.runs, run_id)
        if index:
            _, kind, name, _, score, _ = self.records[index - 1]
            return (None if kind == "removed" else score), name
        if index < len(self.records):
            _, kind, name, previous_name, _, previous_score = self.records[index]
            if kind == "new":
                return None, None
            return previous_score, previous_name or name
        return self.stored if self.stored is not None else (None, None)


def _team_points(
    conn: sqlite3.Connection,
    competition: Competition,
    board: Board,
    team_ids: list[int],
) -> dict[int, list[TeamPoint]]:
    """For each team, its rank and score at every ok run where either changed, oldest first."""
    cid = competition.id
    out: dict[int, list[TeamPoint]] = {team_id: [] for team_id in team_ids}
    if not team_ids:
        return out
    marks = ", ".join("?" for _ in team_ids)
    stored = {
        row[0]: (row[1], row[2], row[3])
        for row in conn.execute(
            f"""SELECT team_id, rank, score, team_name FROM entries
                WHERE competition_id = ? AND board = ? AND team_id IN ({marks})""",
            (cid, board, *team_ids),
        )
    }
    records: dict[int, list[tuple[int, str, str, str | None, str | None, str | None]]] = {t: [] for t in team_ids}
    for team_id, *record in conn.execute(
        f"""SELECT team_id, run_id, kind, team_name, previous_team_name, score, previous_score
            FROM entry_changes WHERE competition_id = ? AND {_OF_BOARD} AND team_id IN ({marks}) AND NOT passive
            ORDER BY run_id""",
        (cid, cid, board, *team_ids),
    ):
        records[team_id].append(tuple(record))
    ranks = history.rank_changes(
        conn, cid, board, team_ids, {team_id: stored[team_id][0] if team_id in stored else None for team_id in team_ids}
    )
    runs = dict(
        conn.execute(
            "SELECT id, finished_at FROM sync_runs WHERE competition_id = ? AND board = ? AND status = 'ok'",
            (cid, board),
        )
    )
    for team_id in team_ids:
        now = stored.get(team_id)
        values = _Values(records[team_id], (now[1], now[2]) if now is not None else None)
        moves = {run_id: (before, after) for run_id, before, after in ranks[team_id]}
        scored = {record[0] for record in records[team_id] if record[1] != "changed" or record[4] != record[5]}
        rank_runs = [run_id for run_id, _, _ in ranks[team_id]]
        for run_id in sorted(set(moves) | scored):
            if run_id not in runs:
                continue
            if run_id in moves:
                previous_rank, rank = moves[run_id]
            else:
                index = bisect_right(rank_runs, run_id)
                if index:
                    rank = previous_rank = ranks[team_id][index - 1][2]
                elif rank_runs:
                    rank = previous_rank = ranks[team_id][0][1]
                else:
                    rank = previous_rank = now[0] if now is not None else None
            score, name = values.at(run_id)
            previous_score, _ = values.at(run_id - 1) if previous_rank is not None else (None, None)
            kind = "new" if previous_rank is None else "removed" if rank is None else "changed"
            out[team_id].append(
                {
                    "run_id": run_id,
                    "synced_at": runs[run_id],
                    "kind": kind,
                    "rank": rank,
                    "previous_rank": previous_rank,
                    "score": score if rank is not None else None,
                    "previous_score": previous_score,
                    "team_name": name,
                }
            )
    return out


def team_history(database: Database, competition: Competition, team: str, board: Board = "public") -> TeamHistory:
    """One team's rank and score at every sync where either changed, oldest first.

    ``team`` is a TeamId or a name (see :func:`resolve_team`). Each change has
    ``kind`` (new, changed, removed), ``rank``/``score`` after the sync (None once
    removed), the previous ones, and ``movement`` (positive = climbed).
    """
    found = resolve_team(database, competition, team, board)
    changes = _team_points(database.conn, competition, board, [found["team_id"]])[found["team_id"]]
    for change in changes:
        change["movement"] = (
            change["previous_rank"] - change["rank"]
            if change["kind"] == "changed" and change["rank"] is not None and change["previous_rank"] is not None
            else None
        )
    return {"competition": competition.slug, "board": board, "team": found, "changes": changes}


def rank_series(
    database: Database, competition: Competition, team_ids: list[int], board: Board = "public"
) -> dict[int, list[tuple[int, str, int | None]]]:
    """For each team, (run id, sync time, rank) at each ok sync where its rank or score changed.

    A rank of None means the team left the board at that sync. Between two points the
    rank held (a step function), up to the latest sync.
    """
    points = _team_points(database.conn, competition, board, list(dict.fromkeys(team_ids)))
    return {
        team_id: [(p["run_id"], p["synced_at"], p["rank"]) for p in points.get(team_id, [])] for team_id in team_ids
    }


def run_changes(database: Database, run_id: int) -> list[RunChange]:
    """Every team whose rank or score changed in one ok run, as the change records of
    schema 7 and before listed them: ``team_id``, ``kind`` (new, changed, removed),
    ``team_name``, ``rank``, ``previous_rank``, ``score``, ``previous_score``; by team id.

    Built from the run's frame and change records, so it is exact for any run (the
    passive rows of ``entry_changes`` are kept for a board's latest run only).
    """
    conn = database.conn
    run = conn.execute(
        "SELECT competition_id, board FROM sync_runs WHERE id = ? AND status = 'ok'", (run_id,)
    ).fetchone()
    if run is None:
        return []
    cid, board = run
    frame = conn.execute("SELECT delta FROM rank_frames WHERE run_id = ?", (run_id,)).fetchone()
    own = {
        row[0]: row[1:]
        for row in conn.execute(
            """SELECT team_id, kind, team_name, rank, previous_rank, score, previous_score FROM entry_changes
               WHERE run_id = ? AND NOT passive""",
            (run_id,),
        )
    }
    out: dict[int, RunChange] = {}
    if frame is not None:
        after = history.ranks_at(conn, cid, board, run_id)
        before = history.decode_delta(frame[0]).backward(after) if frame[0] is not None else {}
        moved = [team for team in after.keys() | before.keys() if after.get(team) != before.get(team)]
        later = _first_records_after(conn, cid, board, run_id, moved)
        stored = (
            {
                row[0]: row[1:]
                for row in conn.execute(
                    "SELECT team_id, team_name, score FROM entries WHERE competition_id = ? AND board = ?", (cid, board)
                )
            }
            if moved
            else {}
        )
        for team in moved:
            if team in own:
                continue
            name, score = _values_at(later.get(team), stored.get(team))
            rank, previous = after.get(team), before.get(team)
            kind = "new" if previous is None else "removed" if rank is None else "changed"
            out[team] = {
                "team_id": team,
                "kind": kind,
                "team_name": name,
                "rank": rank,
                "previous_rank": previous,
                "score": score if rank is not None else None,
                "previous_score": score if previous is not None else None,
            }
    for team, (kind, name, rank, previous_rank, score, previous_score) in own.items():
        if kind == "changed" and rank == previous_rank and score == previous_score:
            continue  # a new name or submission count alone: not a rank or score change
        out[team] = {
            "team_id": team,
            "kind": kind,
            "team_name": name,
            "rank": rank,
            "previous_rank": previous_rank,
            "score": score,
            "previous_score": previous_score,
        }
    return [out[team] for team in sorted(out)]


def _first_records_after(
    conn: sqlite3.Connection,
    cid: int,
    board: Board,
    run_id: int,
    teams: Iterable[int] | None = None,
) -> dict[int, tuple[str, str, str | None, str | None]]:
    """Each team's first change record after a run: (kind, team_name, previous_team_name,
    previous_score); all teams when ``teams`` is None."""
    wanted = None if teams is None else set(teams)
    first: dict[int, tuple[str, str, str | None, str | None]] = {}
    for team_id, kind, name, previous_name, previous_score in conn.execute(
        f"""SELECT team_id, kind, team_name, previous_team_name, previous_score FROM entry_changes
            WHERE competition_id = ? AND run_id > ? AND {_OF_BOARD} AND NOT passive ORDER BY run_id DESC""",
        (cid, run_id, cid, board),
    ):
        if wanted is None or team_id in wanted:
            first[team_id] = (kind, name, previous_name, previous_score)
    return first


def _values_at(
    later: tuple[str, str, str | None, str | None] | None,
    stored: tuple[str, str] | None,
) -> tuple[str | None, str | None]:
    """(team name, score) at a run, from the team's first record after it, else its stored row."""
    if later is not None:
        kind, name, previous_name, previous_score = later
        if kind == "new":
            return None, None
        return previous_name or name, previous_score
    if stored is not None:
        return stored[0], stored[1]
    return None, None


# -- movers -------------------------------------------------------------------


def movers(
    database: Database,
    competition: Competition,
    *,
    since: str | None = None,
    limit: int | None = 10,
    board: Board = "public",
) -> Movers:
    """Climbers, fallers, new and departed teams between a baseline sync and now.

    The baseline is the previous ok sync by default, or with ``since`` (an ISO time)
    the latest ok sync finished at or before it (none before the first sync: then
    every team on the board is new). A team's rank at the baseline is rebuilt from the
    rank frames; its score and name then from its change records. Benchmarks are left
    out. Each list holds at most ``limit`` teams; ``totals`` counts them all.
    """
    conn = database.conn
    runs = _last_ok_runs(conn, competition.id, 2, board)
    latest: SyncMark | None = {"run_id": runs[0][0], "synced_at": runs[0][1]} if runs else None
    baseline: SyncMark | None = None
    lists: dict[str, list[Mover]] = {"climbers": [], "fallers": [], "new": [], "departed": []}
    compared = False
    if latest is not None and (since is not None or len(runs) >= 2):
        compared = True
        if since is None:
            baseline_id: int = runs[1][0]
            baseline = {"run_id": runs[1][0], "synced_at": runs[1][1]}
        else:
            row = conn.execute(
                """SELECT id, finished_at FROM sync_runs WHERE competition_id = ? AND board = ? AND status = 'ok'
                   AND finished_at <= ? ORDER BY id DESC LIMIT 1""",
                (competition.id, board, since),
            ).fetchone()
            baseline_id = row[0] if row else 0
            baseline = {"run_id": row[0], "synced_at": row[1]} if row else None
        _collect_movers(conn, competition, board, baseline_id, lists)
    orders: dict[str, Callable[[Mover], tuple[int, ...]]] = {
        "climbers": lambda i: (-(i["movement"] or 0), i["rank"] or 0, i["team_id"]),
        "fallers": lambda i: (i["movement"] or 0, i["rank"] or 0, i["team_id"]),
        "new": lambda i: (i["rank"] or 0, i["team_id"]),
        "departed": lambda i: (i["previous_rank"] or 0, i["team_id"]),
    }
    for key, items in lists.items():
        items.sort(key=orders[key])
    totals = MoverTotals(
        climbers=len(lists["climbers"]),
        fallers=len(lists["fallers"]),
        new=len(lists["new"]),
        departed=len(lists["departed"]),
    )
    kept = {key: items if limit is None else items[:limit] for key, items in lists.items()}
    return Movers(
        competition=competition.slug,
        board=board,
        since=since,
        baseline=baseline,
        latest=latest,
        compared=compared,
        climbers=kept["climbers"],
        fallers=kept["fallers"],
        new=kept["new"],
        departed=kept["departed"],
        totals=totals,
    )


def _collect_movers(
    conn: sqlite3.Connection, competition: Competition, board: Board, baseline_id: int, lists: dict[str, list[Mover]]
) -> None:
    """Sort every team that moved since the baseline run into ``lists`` (benchmarks left out)."""
    changed = conn.execute(
        "SELECT 1 FROM rank_frames WHERE competition_id = ? AND board = ? AND run_id > ? LIMIT 1",
        (competition.id, board, baseline_id),
    ).fetchone()
    if changed is None:
        return
    now = {
        row[0]: row[1:]
        for row in conn.execute(
            """SELECT team_id, rank, score, team_name, is_benchmark FROM entries
               WHERE competition_id = ? AND board = ?""",
            (competition.id, board),
        )
    }
    then = history.ranks_at(conn, competition.id, board, baseline_id, {t: v[0] for t, v in now.items()})
    later = _first_records_after(conn, competition.id, board, baseline_id)
    for team_id in now.keys() | then.keys():
        old_rank = then.get(team_id)
        current = now.get(team_id)
        if (current is not None and current[3]) or old_rank == 0:
            continue  # a benchmark
        if current is not None and old_rank == current[0]:
            continue
        before = _values_at(later.get(team_id), (current[2], current[1]) if current is not None else None)
        item: Mover = {
            "team_id": team_id,
            "team_name": current[2] if current is not None else before[0],
            "rank": current[0] if current is not None else None,
            "previous_rank": old_rank,
            "movement": None,
            "score": current[1] if current is not None else None,
            "previous_score": before[1] if old_rank is not None else None,
        }
        if current is not None and old_rank is not None:
            movement = old_rank - current[0]
            item["movement"] = movement
            lists["climbers" if movement > 0 else "fallers"].append(item)
        elif current is not None:
            lists["new"].append(item)
        else:
            lists["departed"].append(item)


# -- runs ---------------------------------------------------------------------


def sync_runs(database: Database, competition: Competition | None = None, *, limit: int = 20) -> list[RunRecord]:
    """Recorded sync runs, newest first, optionally of one competition (keys: the columns)."""
    sql = """SELECT r.id, c.slug AS competition, r.board, r.trigger, r.source, r.status, r.started_at,
                    r.finished_at, r.entries, r.created, r.updated, r.removed, r.top_score, r.error,
                    r.error_kind
             FROM sync_runs r JOIN competitions c ON c.id = r.competition_id"""
    params: list[object] = []
    if competition is not None:
        sql += " WHERE r.competition_id = ?"
        params.append(competition.id)
    sql += " ORDER BY r.id DESC LIMIT ?"
    params.append(limit)
    return [RunRecord(**row) for row in database.query(sql, params)]  # type: ignore[typeddict-item]
