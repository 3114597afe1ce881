"""Finding changes: after a sync pass, what each target wants to hear of the runs it has
not examined yet, recorded as ``pending`` notifications in one write transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kagsync.db import Database, write_transaction
from kagsync.errors import ValidationError
from kagsync.notify.targets import Target, get_cursor, set_cursor, targets
from kagsync.roster import RosterIndex, RosterMember, list_members
from kagsync.values import now_iso, to_datetime

MAX_WINDOW_RUNS = 2_000
"""Runs examined by one pass at most (a database synced long without notifications)."""

# -- finding changes ------------------------------------------------------------------


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
class _Row:
    """One change record of a run, with the team's members as stored now."""

    team_id: int
    kind: str
    team_name: str
    rank: int | None
    previous_rank: int | None
    score: str | None
    members: tuple[str, ...]


class _Reader:
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
            )
            for row in database.query(
                """SELECT c.id, c.slug, c.title, c.status, c.start, c."end",
                          (SELECT json_group_array(id) FROM (
                               SELECT e.id FROM event_competitions ec JOIN events e ON e.id = ec.event_id
                               WHERE ec.competition_id = c.id ORDER BY e.slug)) AS event_ids,
                          (SELECT json_group_array(slug) FROM (
                               SELECT e.slug FROM event_competitions ec JOIN events e ON e.id = ec.event_id
                               WHERE ec.competition_id = c.id ORDER BY e.slug)) AS events
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
                keys: set[str] = set()
                for event_id in competition.event_ids if self.want_members else ():
                    roster = self.roster(event_id)
                    keys.update(member.key for member in (roster.members if roster else ()))
                usernames = json.dumps(sorted(keys))
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

    def entries(self, competition_id: int, board: str, where: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            f"""SELECT rank, team_id, team_name, score, members FROM entries
                WHERE competition_id = ? AND board = ? AND {where} ORDER BY rank, team_id""",
            (competition_id, board, *params),
        ).fetchall()


def _event(kind: str, key: str, competition: _Competition | None, text: str, **data: Any) -> dict[str, Any]:
    """One change event, as stored in ``notifications.payload`` and sent in the json format."""
    event: dict[str, Any] = {"key": key, "kind": kind}
    if competition is not None:
        event.update(
            competition=competition.slug, title=competition.title, url=competition.url, event=competition.event
        )
    event["text"] = text
    event.update(data)
    return event


def _names(members: Sequence[str], roster: RosterIndex | None, team_name: str) -> list[str]:
    """Display names of a team's roster members."""
    if roster is None:
        return []
    found, _ = roster.match(members, team_name)
    return [m.display for m in found]


def _team(name: str, who: Sequence[str]) -> str:
    return f"{name} ({', '.join(who)})" if who else name


def _run_events(target: Target, reader: _Reader, run: _Run, competition: _Competition) -> list[dict[str, Any]]:
    """leader, top and member events of one ok public run."""
    rows = reader.changes(run)
    if not rows:
        return []
    roster = reader.roster(competition.roster_event(target.event_id))
    base = {"board": run.board, "run_id": run.id, "at": run.finished_at}
    events: list[dict[str, Any]] = []
    leader_team: int | None = None
    if "leader" in target.kinds:
        for row in rows:
            if row.rank == 1 and row.previous_rank != 1:
                leader_team = row.team_id
                old = next((r for r in rows if r.previous_rank == 1 and r.team_id != row.team_id), None)
                who = _names(row.members, roster, row.team_name)
                was = f"was #{row.previous_rank}" if row.previous_rank else "new team"
                text = f"{_team(row.team_name, who)} took the lead with {row.score} ({was}"
                text += f"; before: {old.team_name})" if old else ")"
                events.append(
                    _event(
                        "leader",
                        f"leader:{competition.slug}:{run.board}:{run.id}",
                        competition,
                        text,
                        **base,
                        team_id=row.team_id,
                        team_name=row.team_name,
                        members=list(row.members),
                        roster=who,
                        score=row.score,
                        rank=1,
                        previous_rank=row.previous_rank,
                        previous_leader=old.team_name if old else None,
                    )
                )
    if "top" in target.kinds:
        n = target.top_n
        for row in rows:
            was_in = row.previous_rank is not None and 1 <= row.previous_rank <= n
            is_in = row.kind != "removed" and row.rank is not None and 1 <= row.rank <= n
            if was_in == is_in or row.team_id == leader_team:
                continue
            who = _names(row.members, roster, row.team_name)
            if is_in:
                was = f"was #{row.previous_rank}" if row.previous_rank else "new team"
                text = f"{_team(row.team_name, who)} entered the top {n} at #{row.rank} ({was})"
            else:
                now = "left the board" if row.kind == "removed" or not row.rank else f"now #{row.rank}"
                text = f"{_team(row.team_name, who)} left the top {n} ({now})"
            events.append(
                _event(
                    "top",
                    f"top:{competition.slug}:{run.board}:{run.id}:{row.team_id}:{'in' if is_in else 'out'}",
                    competition,
                    text,
                    **base,
                    team_id=row.team_id,
                    team_name=row.team_name,
                    members=list(row.members),
                    roster=who,
                    rank=row.rank if row.kind != "removed" else None,
                    previous_rank=row.previous_rank,
                    direction="in" if is_in else "out",
                    top_n=n,
                    score=row.score,
                )
            )
    if "member" in target.kinds and roster is not None:
        events += _member_events(target, roster, rows, competition, base)
    return events


def _member_events(
    target: Target, roster: RosterIndex, rows: list[_Row], competition: _Competition, base: dict[str, Any]
) -> list[dict[str, Any]]:
    events = []
    for row in rows:
        if row.kind == "removed" or not row.rank:
            continue
        found, _ = roster.match(row.members, row.team_name)
        first = row.kind == "new"
        movement = (row.previous_rank - row.rank) if row.previous_rank else None
        if not first and (movement is None or abs(movement) < target.member_move):
            continue
        for member in found:
            if first:
                text = f"{_label(member)} made a first submission: #{row.rank} ({row.team_name})"
            else:
                assert movement is not None
                verb = "climbed" if movement > 0 else "fell"
                text = f"{_label(member)} {verb} {abs(movement)} places to #{row.rank} (was #{row.previous_rank})"
            events.append(
                _event(
                    "member",
                    f"member:{competition.slug}:{base['board']}:{base['run_id']}:{member.key}",
                    competition,
                    text,
                    **base,
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
            )
    return events


def _label(member: RosterMember) -> str:
    return f"{member.name} ({member.username})" if member.name else member.username


def _final_event(reader: _Reader, run: _Run, competition: _Competition) -> dict[str, Any] | None:
    """The private board is out: podium and shake-up, the first time it is stored."""
    earlier = reader.conn.execute(
        "SELECT 1 FROM sync_runs WHERE competition_id = ? AND board = 'private' AND status = 'ok' AND id < ? LIMIT 1",
        (competition.id, run.id),
    ).fetchone()
    if earlier is not None:
        return None
    top10 = reader.entries(competition.id, "private", "rank BETWEEN 1 AND 10", ())
    if not top10:
        return None
    ids = [row[1] for row in top10]
    marks = ", ".join("?" for _ in ids)
    public = dict(
        reader.conn.execute(
            f"SELECT team_id, rank FROM entries WHERE competition_id = ? AND board = 'public' AND team_id IN ({marks})",
            (competition.id, *ids),
        ).fetchall()
    )
    podium = [
        {"rank": rank, "team_id": tid, "team_name": name, "score": score, "public_rank": public.get(tid)}
        for rank, tid, name, score, _ in top10[:3]
    ]
    kept = sum(1 for tid in ids if public.get(tid) is not None and 1 <= public[tid] <= 10)
    climbs = [(public[tid] - rank, name, public[tid], rank) for rank, tid, name, _, _ in top10 if public.get(tid)]
    best = max(climbs, default=None)
    parts = [
        f"{p['rank']}. {p['team_name']}" + (f" (public #{p['public_rank']})" if p["public_rank"] else "")
        for p in podium
    ]
    text = "final results: " + ", ".join(parts) + f"; {kept} of the public top 10 stayed in the top 10"
    if best is not None and best[0] > 0:
        text += f"; biggest climb: {best[1]}, #{best[2]} → #{best[3]}"
    return _event(
        "final",
        f"final:{competition.slug}",
        competition,
        text,
        board="private",
        run_id=run.id,
        at=run.finished_at,
        podium=podium,
        kept_in_top10=kept,
        biggest_climb=None
        if best is None or best[0] <= 0
        else {"team_name": best[1], "public_rank": best[2], "rank": best[3]},
    )


def _failing_events(
    target: Target, reader: _Reader, window: list[_Run], competition: _Competition
) -> list[dict[str, Any]]:
    """``failing`` once per streak of failed syncs at least ``failing_ticks`` long, and the recovery."""
    recent = reader.recent_runs(competition.id)
    events = []
    n = target.failing_ticks
    in_window = {run.id for run in window}
    streak: list[_Run] = []
    for run in recent:
        if run.status == "ok":
            break
        streak.append(run)
    if len(streak) >= n and any(run.id in in_window for run in streak):
        first, last = streak[-1], streak[0]
        error = (last.error or "").splitlines()[0][:200] if last.error else ""
        text = (
            f"sync failed {len(streak)} times in a row since {first.finished_at or '?'}: {last.error_kind or 'error'}"
        )
        text += f" ({error})" if error else ""
        events.append(
            _event(
                "failing",
                f"failing:{competition.slug}:{first.id}",
                competition,
                text,
                board="public",
                run_id=last.id,
                at=last.finished_at,
                failures=len(streak),
                error_kind=last.error_kind,
                error=error or None,
            )
        )
    for position, run in enumerate(recent):
        if run.status != "ok" or run.id not in in_window:
            continue
        before = 0
        for older in recent[position + 1 :]:
            if older.status == "ok":
                break
            before += 1
        if before >= n:
            events.append(
                _event(
                    "failing",
                    f"recovered:{competition.slug}:{run.id}",
                    competition,
                    f"syncing again after {before} failed syncs",
                    board="public",
                    run_id=run.id,
                    at=run.finished_at,
                    failures=before,
                    recovered=True,
                )
            )
    return events


def _date_events(target: Target, reader: _Reader, now: str) -> list[dict[str, Any]]:
    """A start or end that passed since the target was added, once the status followed it."""
    events = []
    for competition in reader.competitions.values():
        if not competition.in_event(target.event_id):
            continue
        start, end = competition.start, competition.end
        if start and target.created_at < start <= now and competition.status in ("ongoing", "completed"):
            events.append(
                _event(
                    "dates",
                    f"dates:{competition.slug}:start:{start}",
                    competition,
                    f"has started ({_when(start)})",
                    what="start",
                    time=start,
                    at=now,
                )
            )
        if end and target.created_at < end <= now and competition.status == "completed":
            events.append(
                _event(
                    "dates",
                    f"dates:{competition.slug}:end:{end}",
                    competition,
                    f"has ended ({_when(end)})",
                    what="end",
                    time=end,
                    at=now,
                )
            )
    return events


def _when(iso: str) -> str:
    try:
        return to_datetime(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValidationError:
        return iso


def find_changes(target: Target, reader: _Reader, runs: list[_Run], now: str) -> list[dict[str, Any]]:
    """Every change event ``target`` wants in ``runs`` (before deduplication)."""
    events: list[dict[str, Any]] = []
    by_competition: dict[int, list[_Run]] = {}
    for run in runs:
        competition = reader.competitions.get(run.competition_id)
        if competition is None or not competition.in_event(target.event_id):
            continue
        by_competition.setdefault(run.competition_id, []).append(run)
        if run.status != "ok":
            continue
        if run.board == "public":
            events += _run_events(target, reader, run, competition)
        elif "final" in target.kinds:
            final = _final_event(reader, run, competition)
            if final is not None:
                events.append(final)
    if "failing" in target.kinds:
        for competition_id, window in by_competition.items():
            if any(run.board == "public" and run.status in ("ok", "failed", "held") for run in window):
                events += _failing_events(target, reader, window, reader.competitions[competition_id])
    if "dates" in target.kinds:
        events += _date_events(target, reader, now)
    return events


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
        reader = _Reader(database, all_targets)
        for target in all_targets:
            cursor = get_cursor(database, target.id)
            runs, new_cursor = reader.runs_after(cursor)
            count = 0
            for event in find_changes(target, reader, runs, now):
                inserted = database.conn.execute(
                    """INSERT OR IGNORE INTO notifications (target_id, change_key, payload, status, attempts, created_at)
                       VALUES (?, ?, ?, 'pending', 0, ?)""",
                    (target.id, event["key"], json.dumps(event, ensure_ascii=False), now),
                ).rowcount
                count += inserted
            if new_cursor != cursor:
                set_cursor(database, target.id, new_cursor, now)
            recorded[target.name] = count
    return recorded
