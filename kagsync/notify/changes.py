"""Finding changes: after a sync pass, what each target wants to hear of the runs it has
not examined yet, recorded as ``pending`` notifications in one write transaction.

Detection returns typed change events (:mod:`kagsync.notify.model`), each with its text
already worded (:mod:`kagsync.notify.wording`); a message folds a team's events again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from kagsync.db import Database, write_transaction
from kagsync.errors import ValidationError
from kagsync.notify.model import (
    Change,
    DatesChange,
    FailingChange,
    FinalChange,
    FinalMember,
    FinalTeam,
    LeaderChange,
    MemberChange,
    TestChange,
    TopChange,
)
from kagsync.notify.targets import Target, get_cursor, set_cursor, targets
from kagsync.notify.wording import failure_reason, final_text, team_line
from kagsync.roster import RosterIndex, list_members
from kagsync.text import printable
from kagsync.values import now_iso, to_datetime

__all__ = ["Reader", "find_changes", "record_changes", "test_change"]

MAX_WINDOW_RUNS = 2_000
"""Runs examined by one pass at most (a database synced long without notifications)."""


@dataclass(frozen=True)
class _Competition:
    id: int
    slug: str
    title: str
    event_ids: tuple[int, ...]
    events: tuple[str, ...]
    status: str
    start: str | None
    end: str | None
    event_titles: tuple[str, ...] = ()

    @property
    def event(self) -> str | None:
        """Its events, as one text for messages (a competition may be in several)."""
        return ", ".join(self.events) or None

    def in_event(self, event_id: int | None) -> bool:
        """Whether a target of ``event_id`` (None: every event) covers this competition."""
        return event_id is None or event_id in self.event_ids

    def roster_event(self, event_id: int | None) -> int | None:
        """Whose roster names its members: the target's event, else its first event."""
        if event_id is not None:
            return event_id
        return self.event_ids[0] if self.event_ids else None

    @property
    def url(self) -> str:
        return f"https://www.kaggle.com/competitions/{self.slug}"


@dataclass(frozen=True)
class _Run:
    id: int
    competition_id: int
    board: str
    status: str
    finished_at: str | None
    error_kind: str | None
    error: str | None


@dataclass(frozen=True)
class _Entry:
    """One team of a stored board."""

    rank: int
    team_id: int
    team_name: str
    score: str | None
    members: tuple[str, ...]


@dataclass(frozen=True)
class _Row:
    """One change record of a run, with the team's members as stored now."""

    team_id: int
    kind: str
    team_name: str
    rank: int | None
    previous_rank: int | None
    score: str | None
    members: tuple[str, ...]


class Reader:
    """What a pass reads, each thing once, shared by the targets."""

    def __init__(self, database: Database, targets: Sequence[Target] = ()) -> None:
        self.db = database
        self.conn = database.conn
        # What the targets need of a run's change records: the widest top N (1 for the
        # leader alone), and the roster's teams when one wants ``member``.
        self.widest_top = max([t.top_n for t in targets if "top" in t.kinds] + [1])
        self.want_members = any("member" in t.kinds for t in targets)
        self.competitions = {
            row["id"]: _Competition(
                row["id"],
                row["slug"],
                row["title"],
                tuple(json.loads(row["event_ids"])),
                tuple(json.loads(row["events"])),
                row["status"],
                row["start"],
                row["end"],
                tuple(json.loads(row["event_titles"])),
            )
            for row in database.query(
                """SELECT c.id, c.slug, c.title, c.status, c.start, c."end",
                          (SELECT json_group_array(id) FROM (
                               SELECT e.id FROM event_competitions ec JOIN events e ON e.id = ec.event_id
                               WHERE ec.competition_id = c.id ORDER BY e.slug)) AS event_ids,
                          (SELECT json_group_array(slug) FROM (
                               SELECT e.slug FROM event_competitions ec JOIN events e ON e.id = ec.event_id
                               WHERE ec.competition_id = c.id ORDER BY e.slug)) AS events,
                          (SELECT json_group_array(title) FROM (
                               SELECT e.title FROM event_competitions ec JOIN events e ON e.id = ec.event_id
                               WHERE ec.competition_id = c.id ORDER BY e.slug)) AS event_titles
                   FROM competitions c"""
            )
        }
        self._rows: dict[int, list[_Row] | None] = {}
        self._rosters: dict[int, RosterIndex] = {}
        self._streaks: dict[int, list[_Run]] = {}

    def runs_after(self, cursor: int) -> tuple[list[_Run], int]:
        """Finished runs after ``cursor`` (at most MAX_WINDOW_RUNS, the newest), and the
        cursor to store: below any run still running, whose changes are not committed yet."""
        running = self.conn.execute(
            "SELECT min(id) FROM sync_runs WHERE status = 'running' AND id > ?", (cursor,)
        ).fetchone()[0]
        rows = self.conn.execute(
            """SELECT id, competition_id, board, status, finished_at, error_kind, error FROM sync_runs
               WHERE id > ? AND status != 'running' ORDER BY id DESC LIMIT ?""",
            (cursor, MAX_WINDOW_RUNS),
        ).fetchall()
        runs = [_Run(*row) for row in reversed(rows)]
        top = runs[-1].id if runs else cursor
        return runs, (min(top, running - 1) if running is not None else top)

    def had_ok_run_before(self, run: _Run) -> bool:
        """Whether the run's board was synced before (else the run announces nothing)."""
        row = self.conn.execute(
            """SELECT 1 FROM sync_runs WHERE competition_id = ? AND board = ? AND status = 'ok' AND id < ? LIMIT 1""",
            (run.competition_id, run.board, run.id),
        ).fetchone()
        return row is not None

    def changes(self, run: _Run) -> list[_Row] | None:
        """The run's change records that some target may announce; None for the board's
        first sync (nothing to compare).

        A new leader can shift every rank of a big board, so the filter runs in SQL: the
        teams in or out of the widest top N of the targets, and with a roster (when a
        target wants ``member``) the teams listing a member's username or listing none
        (matched by name in Python).
        """
        if run.id not in self._rows:
            if not self.had_ok_run_before(run):
                self._rows[run.id] = None
            else:
                competition = self.competitions[run.competition_id]
                # Every roster that may name a member of this board (it may be in several events).
                keys = self.roster_keys(competition) if self.want_members else []
                usernames = json.dumps(keys)
                rows = self.conn.execute(
                    """SELECT ch.team_id, ch.kind, ch.team_name, ch.rank, ch.previous_rank, ch.score, e.members
                       FROM entry_changes ch
                       LEFT JOIN entries e ON e.competition_id = ch.competition_id AND e.board = :board
                                          AND e.team_id = ch.team_id
                       WHERE ch.run_id = :run AND (
                           ch.rank BETWEEN 1 AND :top OR ch.previous_rank BETWEEN 1 AND :top
                           OR (:roster AND e.team_id IS NOT NULL AND (
                               e.members = '[]'
                               OR EXISTS (SELECT 1 FROM json_each(e.members) m
                                          WHERE lower(m.value) IN (SELECT value FROM json_each(:usernames))))))
                       ORDER BY ch.team_id""",
                    {
                        "board": run.board,
                        "run": run.id,
                        "top": self.widest_top,
                        "roster": bool(keys),
                        "usernames": usernames,
                    },
                )
                self._rows[run.id] = [
                    _Row(tid, kind, name, rank, prev, score, tuple(json.loads(members)) if members else ())
                    for tid, kind, name, rank, prev, score, members in rows
                ]
        return self._rows[run.id]

    def roster(self, event_id: int | None) -> RosterIndex | None:
        """An event's roster (None: no event, or an empty roster)."""
        if event_id is None:
            return None
        if event_id not in self._rosters:
            self._rosters[event_id] = RosterIndex(list_members(self.db, event_id))
        return self._rosters[event_id] or None

    def recent_runs(self, competition_id: int) -> list[_Run]:
        """The public board's latest ok/failed/held runs, newest first (busy and interrupted
        runs neither count as failures nor end a streak)."""
        if competition_id not in self._streaks:
            rows = self.conn.execute(
                """SELECT id, competition_id, board, status, finished_at, error_kind, error FROM sync_runs
                   WHERE competition_id = ? AND board = 'public' AND status IN ('ok', 'failed', 'held')
                   ORDER BY id DESC LIMIT 1000""",
                (competition_id,),
            ).fetchall()
            self._streaks[competition_id] = [_Run(*row) for row in rows]
        return self._streaks[competition_id]

    def entries(self, competition_id: int, board: str, where: str, params: Sequence[object]) -> list[_Entry]:
        """Teams of a stored board (``where`` is SQL of this module's own, never outside text)."""
        rows = self.conn.execute(
            f"""SELECT rank, team_id, team_name, score, members FROM entries
                WHERE competition_id = ? AND board = ? AND {where} ORDER BY rank, team_id""",
            (competition_id, board, *params),
        ).fetchall()
        return [
            _Entry(rank, team_id, name, score, tuple(json.loads(members)) if members else ())
            for rank, team_id, name, score, members in rows
        ]

    def roster_keys(self, competition: _Competition) -> list[str]:
        """Usernames of every roster that may name a member of this competition's boards."""
        keys: set[str] = set()
        for event_id in competition.event_ids:
            roster = self.roster(event_id)
            keys.update(member.key for member in (roster.members if roster else ()))
        return sorted(keys)


def _place(change: Change, competition: _Competition, target: Target) -> None:
    """Add the competition's fields to ``change``: its slug, title, link and events."""
    change["competition"] = competition.slug
    change["title"] = competition.title
    change["url"] = competition.url
    change["event"] = competition.event
    titles = dict(zip(competition.event_ids, competition.event_titles, strict=False))
    if target.event_id is not None:
        change["event_title"] = titles.get(target.event_id)
    else:
        change["event_title"] = competition.event_titles[0] if len(competition.event_titles) == 1 else None


def _roster_names(members: Sequence[str], roster: RosterIndex | None, team_name: str) -> list[str]:
    """Display names of a team's roster members."""
    if roster is None:
        return []
    found, _ = roster.match(members, team_name)
    return [m.display for m in found]


def _run_changes(target: Target, reader: Reader, run: _Run, competition: _Competition) -> list[Change]:
    """leader, top and member events of one ok public run."""
    rows = reader.changes(run)
    if not rows:
        return []
    roster = reader.roster(competition.roster_event(target.event_id))
    found: list[Change] = []
    leader_team: int | None = None
    if "leader" in target.kinds:
        for row in rows:
            if row.rank == 1 and row.previous_rank != 1:
                leader_team = row.team_id
                old = next((r for r in rows if r.previous_rank == 1 and r.team_id != row.team_id), None)
                leader = LeaderChange(
                    key=f"leader:{competition.slug}:{run.board}:{run.id}",
                    kind="leader",
                    text="",
                    at=run.finished_at,
                    board=run.board,
                    run_id=run.id,
                    team_id=row.team_id,
                    team_name=row.team_name,
                    members=list(row.members),
                    roster=_roster_names(row.members, roster, row.team_name),
                    score=row.score,
                    rank=1,
                    previous_rank=row.previous_rank,
                    previous_leader=old.team_name if old else None,
                )
                leader["text"] = team_line([leader])
                found.append(leader)
    if "top" in target.kinds:
        n = target.top_n
        for row in rows:
            was_in = row.previous_rank is not None and 1 <= row.previous_rank <= n
            is_in = row.kind != "removed" and row.rank is not None and 1 <= row.rank <= n
            if was_in == is_in or row.team_id == leader_team:
                continue
            top = TopChange(
                key=f"top:{competition.slug}:{run.board}:{run.id}:{row.team_id}:{'in' if is_in else 'out'}",
                kind="top",
                text="",
                at=run.finished_at,
                board=run.board,
                run_id=run.id,
                team_id=row.team_id,
                team_name=row.team_name,
                members=list(row.members),
                roster=_roster_names(row.members, roster, row.team_name),
                rank=row.rank if row.kind != "removed" else None,
                previous_rank=row.previous_rank,
                direction="in" if is_in else "out",
                top_n=n,
                score=row.score,
            )
            top["text"] = team_line([top])
            found.append(top)
    if "member" in target.kinds and roster is not None:
        found += _member_changes(target, roster, rows, run, competition)
    for change in found:
        _place(change, competition, target)
    return found


def _member_changes(
    target: Target, roster: RosterIndex, rows: list[_Row], run: _Run, competition: _Competition
) -> list[Change]:
    found: list[Change] = []
    for row in rows:
        if row.kind == "removed" or not row.rank:
            continue
        members, _ = roster.match(row.members, row.team_name)
        first = row.kind == "new"
        movement = (row.previous_rank - row.rank) if row.previous_rank else None
        if not first and (movement is None or abs(movement) < target.member_move):
            continue
        for member in members:
            change = MemberChange(
                key=f"member:{competition.slug}:{run.board}:{run.id}:{member.key}",
                kind="member",
                text="",
                at=run.finished_at,
                board=run.board,
                run_id=run.id,
                username=member.username,
                name=member.name,
                group=member.group,
                team_id=row.team_id,
                team_name=row.team_name,
                rank=row.rank,
                previous_rank=row.previous_rank,
                movement=movement,
                first=first,
                score=row.score,
            )
            change["text"] = team_line([change])
            found.append(change)
    return found


def _final_change(target: Target, reader: Reader, run: _Run, competition: _Competition) -> FinalChange | None:
    """The private board is out, the first time it is stored: podium, shake-up, and
    where each member of the target's roster finished."""
    earlier = reader.conn.execute(
        "SELECT 1 FROM sync_runs WHERE competition_id = ? AND board = 'private' AND status = 'ok' AND id < ? LIMIT 1",
        (competition.id, run.id),
    ).fetchone()
    if earlier is not None:
        return None
    top10 = reader.entries(competition.id, "private", "rank BETWEEN 1 AND 10", ())
    if not top10:
        return None
    roster = reader.roster(competition.roster_event(target.event_id))
    mine: list[tuple[_Entry, str, str | None]] = []
    if roster is not None:
        keys = json.dumps(sorted(member.key for member in roster.members))
        candidates = reader.entries(
            competition.id,
            "private",
            """(members = '[]' OR EXISTS (SELECT 1 FROM json_each(members) m
                                          WHERE lower(m.value) IN (SELECT value FROM json_each(?))))""",
            (keys,),
        )
        for entry in candidates:
            for member in roster.match(entry.members, entry.team_name)[0]:
                mine.append((entry, member.username, member.name))
    ids = sorted({entry.team_id for entry in top10} | {entry.team_id for entry, _, _ in mine})
    public = _public_ranks(reader, competition.id, ids)
    podium = [
        FinalTeam(
            rank=e.rank, team_id=e.team_id, team_name=e.team_name, score=e.score, public_rank=public.get(e.team_id)
        )
        for e in top10[:3]
    ]
    kept = sum(1 for e in top10 if 1 <= public.get(e.team_id, 0) <= 10)
    climbs = [
        (public[e.team_id] - e.rank, e.team_name, public[e.team_id], e.rank) for e in top10 if public.get(e.team_id)
    ]
    best = max(climbs, default=None)
    climb = (best[1], best[2], best[3]) if best is not None and best[0] > 0 else None
    results = [
        FinalMember(
            username=username,
            name=name,
            team_name=entry.team_name,
            rank=entry.rank,
            public_rank=public.get(entry.team_id),
            movement=public[entry.team_id] - entry.rank if public.get(entry.team_id) else None,
        )
        for entry, username, name in sorted(mine, key=lambda m: (m[0].rank, m[1].lower()))
    ]
    change = FinalChange(
        key=f"final:{competition.slug}",
        kind="final",
        text=final_text(podium, kept, climb, results),
        at=run.finished_at,
        board="private",
        run_id=run.id,
        podium=podium,
        kept_in_top10=kept,
        biggest_climb=None if climb is None else {"team_name": climb[0], "public_rank": climb[1], "rank": climb[2]},
        roster_results=results,
    )
    _place(change, competition, target)
    return change


def _public_ranks(reader: Reader, competition_id: int, team_ids: Sequence[int]) -> dict[int, int]:
    """Public ranks of these teams (in chunks: SQLite caps a statement's parameters)."""
    ranks: dict[int, int] = {}
    for start in range(0, len(team_ids), 500):
        chunk = team_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        ranks.update(
            reader.conn.execute(
                f"""SELECT team_id, rank FROM entries
                    WHERE competition_id = ? AND board = 'public' AND team_id IN ({marks})""",
                (competition_id, *chunk),
            ).fetchall()
        )
    return ranks


def _failing_changes(target: Target, reader: Reader, window: list[_Run], competition: _Competition) -> list[Change]:
    """``failing`` once per streak of failed syncs at least ``failing_ticks`` long, and the
    recovery; worded for the person who runs kagsync, not in its internal terms."""
    recent = reader.recent_runs(competition.id)
    found: list[Change] = []
    n = target.failing_ticks
    in_window = {run.id for run in window}
    streak: list[_Run] = []
    for run in recent:
        if run.status == "ok":
            break
        streak.append(run)
    if len(streak) >= n and any(run.id in in_window for run in streak):
        first, last = streak[-1], streak[0]
        error = printable((last.error or "").splitlines()[0][:200]) if last.error else ""
        since = f" since {_when(first.finished_at)}" if first.finished_at else ""
        failing = FailingChange(
            key=f"failing:{competition.slug}:{first.id}",
            kind="failing",
            text=f"the leaderboard could not be updated {len(streak):,} times in a row{since}: "
            f"{failure_reason(last.error_kind)}",
            at=last.finished_at,
            board="public",
            run_id=last.id,
            failures=len(streak),
            error_kind=last.error_kind,
            error=error or None,
        )
        found.append(failing)
    for position, run in enumerate(recent):
        if run.status != "ok" or run.id not in in_window:
            continue
        before = 0
        for older in recent[position + 1 :]:
            if older.status == "ok":
                break
            before += 1
        if before >= n:
            found.append(
                FailingChange(
                    key=f"recovered:{competition.slug}:{run.id}",
                    kind="failing",
                    text=f"the leaderboard is updated again, after {before:,} failed attempts",
                    at=run.finished_at,
                    board="public",
                    run_id=run.id,
                    failures=before,
                    recovered=True,
                )
            )
    for change in found:
        _place(change, competition, target)
    return found


def _date_changes(target: Target, reader: Reader, now: str) -> list[Change]:
    """A start or end that passed since the target was added, once the status followed it."""
    found: list[Change] = []
    for competition in reader.competitions.values():
        if not competition.in_event(target.event_id):
            continue
        start, end = competition.start, competition.end
        if start and target.created_at < start <= now and competition.status in ("ongoing", "completed"):
            found.append(
                DatesChange(
                    key=f"dates:{competition.slug}:start:{start}",
                    kind="dates",
                    text=f"has started ({_when(start)})",
                    at=now,
                    what="start",
                    time=start,
                )
            )
            _place(found[-1], competition, target)
        if end and target.created_at < end <= now and competition.status == "completed":
            found.append(
                DatesChange(
                    key=f"dates:{competition.slug}:end:{end}",
                    kind="dates",
                    text=f"has ended ({_when(end)})",
                    at=now,
                    what="end",
                    time=end,
                )
            )
            _place(found[-1], competition, target)
    return found


def _when(iso: str) -> str:
    try:
        return to_datetime(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValidationError:
        return iso


def test_change(target: Target) -> TestChange:
    """The message ``notify test`` sends (recorded nowhere)."""
    return TestChange(
        key="test",
        kind="test",
        text=f"Test message from kagsync: notifications to {target.name} ({target.format}) work.",
        at=now_iso(),
    )


def find_changes(target: Target, reader: Reader, runs: list[_Run], now: str) -> list[Change]:
    """Every change event ``target`` wants in ``runs`` (before deduplication)."""
    found: list[Change] = []
    by_competition: dict[int, list[_Run]] = {}
    for run in runs:
        competition = reader.competitions.get(run.competition_id)
        if competition is None or not competition.in_event(target.event_id):
            continue
        by_competition.setdefault(run.competition_id, []).append(run)
        if run.status != "ok":
            continue
        if run.board == "public":
            found += _run_changes(target, reader, run, competition)
        elif "final" in target.kinds:
            final = _final_change(target, reader, run, competition)
            if final is not None:
                found.append(final)
    if "failing" in target.kinds:
        for competition_id, window in by_competition.items():
            if any(run.board == "public" and run.status in ("ok", "failed", "held") for run in window):
                found += _failing_changes(target, reader, window, reader.competitions[competition_id])
    if "dates" in target.kinds:
        found += _date_changes(target, reader, now)
    return found


def record_changes(database: Database, *, now: str | None = None) -> dict[str, int]:
    """Examine the runs each target has not seen yet and record their changes as pending.

    One write transaction: the changes and the advanced cursors are recorded together.
    Returns the number of new changes per target name.
    """
    now = now or now_iso()
    recorded: dict[str, int] = {}
    with write_transaction(database):
        all_targets = targets(database)
        if not all_targets:
            return recorded
        reader = Reader(database, all_targets)
        for target in all_targets:
            cursor = get_cursor(database, target.id)
            runs, new_cursor = reader.runs_after(cursor)
            count = 0
            for change in find_changes(target, reader, runs, now):
                inserted = database.conn.execute(
                    """INSERT OR IGNORE INTO notifications (target_id, change_key, payload, status, attempts, created_at)
                       VALUES (?, ?, ?, 'pending', 0, ?)""",
                    (target.id, change["key"], json.dumps(change, ensure_ascii=False), now),
                ).rowcount
                count += inserted
            if new_cursor != cursor:
                set_cursor(database, target.id, new_cursor, now)
            recorded[target.name] = count
    return recorded
