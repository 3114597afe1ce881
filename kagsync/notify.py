"""Notifications: tell a chat (Slack, Discord, any webhook, apprise) when the boards move.

**Targets** (``notify_targets``) are webhook URLs with the kinds of change they want,
their thresholds and optionally one event. A URL is a secret (whoever has it can post):
it is stored in the database (the user's own file) and never printed whole or logged;
:func:`mask_url` shows the scheme, the host and the first characters only.

**Changes** are found after a sync pass (a ``sync``, an ``import``, a ``watch`` tick),
after the commit, from what the syncs committed: the ``sync_runs`` of the pass and
their ``entry_changes`` (each team whose rank or score changed, with the rank before
and after). Kinds:

``leader``   a new rank 1 on a public board;
``top``      a team enters or leaves the top N (``top_n`` per target, default 10);
``member``   a roster member's team moves at least K places (``member_move``, default
             5), or appears for the first time (first submission);
``final``    the private (final) board is stored for the first time: podium and shake-up;
``dates``    a competition started or ended (its start or end passed and its status
             followed: ``ongoing``, then ``completed``);
``failing``  a competition's sync failed N times in a row (``failing_ticks``, default 3),
             and when it syncs again.

The first sync of a board announces nothing (everything on it is "new").

**Delivery** is recorded in ``notifications``: one row per target and change key (for
example ``leader:titanic:public:412``), written ``pending`` in the same transaction
that examines the runs, then ``sent`` once the target accepted the message. Each pass
sends at most one message per target, summarising every change not yet sent (this
pass's and earlier failed ones); a quiet pass sends nothing. A failed send (network,
timeout, 5xx, 429) leaves the rows ``failed`` with the error and they are sent with
the next pass (up to :data:`MAX_ATTEMPTS` passes). A change key is recorded once per
target (``UNIQUE``), so it is never announced twice; a crash after the commit loses
nothing, since each target's ``cursor`` row remembers the last run it examined and
the next pass picks up from there. The one gap: a process killed after a target
accepted a message but before the rows were marked sent sends it again.

Every send has a deadline (:data:`TARGET_DEADLINE`), targets are sent to in
parallel, and a 429's ``Retry-After`` (Slack, generic) or ``retry_after`` (Discord)
is waited for only when it fits the deadline: a slow or rate-limited target never
holds a ``watch`` tick for more than a few seconds.

This module never prints; it logs to ``kagsync.notify`` without URLs.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import re
import sqlite3
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from kagsync import __version__
from kagsync.db import Database, write_transaction
from kagsync.errors import AlreadyExistsError, KagsyncError, NotFoundError, ValidationError
from kagsync.roster import RosterIndex, RosterMember, list_members
from kagsync.values import now_iso, quote, to_datetime

__all__ = [
    "DEFAULT_KINDS",
    "FORMATS",
    "KINDS",
    "Delivery",
    "NotifyPass",
    "Target",
    "add_target",
    "build_payload",
    "detect_format",
    "get_target",
    "list_targets",
    "mask_url",
    "parse_kinds",
    "remove_target",
    "run_pass",
    "send_test",
]

log = logging.getLogger("kagsync.notify")

KINDS = ("leader", "top", "member", "final", "dates", "failing")
DEFAULT_KINDS = ("leader", "top", "final", "failing")
FORMATS = ("slack", "discord", "json", "apprise")
DEFAULT_TOP_N = 10
DEFAULT_MEMBER_MOVE = 5
DEFAULT_FAILING_TICKS = 3
MAX_THRESHOLD = 100_000

SEND_TIMEOUT = 4.0
"""Seconds one HTTP request may take (connect, then each read)."""
TARGET_DEADLINE = 5.0
"""Seconds a pass gives one target in all, a 429's wait included."""
MAX_RETRY_WAIT = 3.0
"""The longest Retry-After waited for within a pass; a longer one waits for the next pass."""
MAX_ATTEMPTS = 50
"""Passes a change is tried in before it is left ``failed`` for good."""
MAX_WINDOW_RUNS = 2_000
"""Runs examined by one pass at most (a database synced long without notifications)."""

CURSOR_KEY = "cursor"
"""The ``notifications`` row (status ``sent``) holding the last run a target examined."""

PAYLOAD_VERSION = 1

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_URL_LENGTH = 2_000


# -- targets --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A notification target. ``url`` is a secret: show :attr:`masked_url` instead."""

    id: int
    name: str
    url: str = field(repr=False)
    format: str
    event: str | None
    kinds: tuple[str, ...]
    top_n: int
    member_move: int
    failing_ticks: int
    created_at: str
    event_id: int | None = None

    @property
    def masked_url(self) -> str:
        """The URL with its secret parts hidden."""
        return mask_url(self.url)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the URL masked."""
        return {
            "name": self.name,
            "url": self.masked_url,
            "format": self.format,
            "event": self.event,
            "on": list(self.kinds),
            "top": self.top_n,
            "member_move": self.member_move,
            "failing_ticks": self.failing_ticks,
            "created_at": self.created_at,
        }


def mask_url(url: str) -> str:
    """``https://hooks.slack.com/serv…``: scheme, host and the first characters only.

    For a URL that is not http(s) (an apprise URL such as ``tgram://TOKEN/CHAT``) the
    host may itself be the secret: only the scheme and three characters are shown.
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https") and parts.hostname:
            shown = parts.hostname + (f":{parts.port}" if parts.port else "")
            return f"{scheme}://{shown}/{parts.path.lstrip('/')[:4]}…"
    except ValueError:  # a bad port
        return "(hidden)"
    body = url.split("://", 1)[1] if "://" in url else url
    return f"{scheme or '?'}://{body[:3]}…"


def _secrets(url: str) -> list[str]:
    """Pieces of a URL that must not appear in a message or a log line, longest first.

    The scheme and an http(s) host are not secret (they are shown); the path, query,
    user info and every long piece of them are. Of another scheme (apprise), everything
    after ``://`` may be a token.
    """
    pieces = {url, url.rstrip("/")}
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    web = parts.scheme.lower() in ("http", "https")
    secret_parts = [parts.path, parts.query, parts.fragment]
    if web:
        secret_parts += [parts.username or "", parts.password or ""]
    else:
        secret_parts.append(parts.netloc)
    for piece in secret_parts:
        if len(piece) >= 6:
            pieces.add(piece)
        for segment in re.split(r"[/?&=#:@]", piece):
            if len(segment) >= 8:
                pieces.add(segment)
    return sorted(pieces, key=len, reverse=True)


def scrub(text: str, urls: Iterable[str]) -> str:
    """``text`` with every secret piece of ``urls`` replaced by its masked URL (in one pass,
    so a mask is never scrubbed again)."""
    masks: dict[str, str] = {}
    for url in urls:
        for piece in _secrets(url):
            masks.setdefault(piece, mask_url(url))
    if not masks:
        return text
    pattern = re.compile("|".join(re.escape(piece) for piece in sorted(masks, key=len, reverse=True)))
    return pattern.sub(lambda match: masks[match.group(0)], text)


def detect_format(url: str) -> str:
    """The format a URL gets: Slack's and Discord's webhooks theirs, other http(s) ``json``,
    anything else ``apprise``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https"):
        return "apprise"
    if host == "hooks.slack.com":
        return "slack"
    if host in ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com") and parts.path.startswith(
        "/api/webhooks/"
    ):
        return "discord"
    return "json"


def parse_kinds(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Kinds from a comma list (``leader,top``) or a sequence; ``all`` means every kind."""
    if text is None:
        return DEFAULT_KINDS
    items = text.split(",") if isinstance(text, str) else list(text)
    kinds: list[str] = []
    for item in items:
        kind = item.strip().lower()
        if not kind:
            continue
        if kind == "all":
            return KINDS
        if kind not in KINDS:
            raise ValidationError(f"--on: unknown kind {quote(item.strip())} (choose from {', '.join(KINDS)}, or all)")
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise ValidationError(f"--on: name at least one kind ({', '.join(KINDS)})")
    return tuple(k for k in KINDS if k in kinds)


def _threshold(value: int | None, default: int, *, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THRESHOLD:
        raise ValidationError(f"{name}: expected a whole number from 1 to {MAX_THRESHOLD:,}, got {quote(value)}")
    return value


def _check_url(url: str, fmt: str) -> None:
    if not url:
        raise ValidationError("the URL is empty")
    if len(url) > _MAX_URL_LENGTH:
        raise ValidationError(f"the URL is longer than {_MAX_URL_LENGTH:,} characters")
    if any(unicodedata.category(ch) in ("Cc", "Zs") for ch in url):
        raise ValidationError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() in ("http", "https"):
            parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise ValidationError(f"not a URL: {mask_url(url)}") from None
    if fmt == "apprise":
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or "") or "://" not in url:
            raise ValidationError(f"not a URL: {mask_url(url)} (an apprise URL looks like tgram://TOKEN/CHAT)")
        return
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"a {fmt} target needs an http(s) URL, got {mask_url(url)}"
            " (other URLs need --format apprise and pip install 'kagsync[notify]')"
        )


def apprise_available() -> bool:
    """Whether the optional apprise package can be imported."""
    try:
        _import_apprise()
    except ImportError:
        return False
    return True


def _import_apprise() -> Any:
    # By name: apprise is an optional extra, without type information for mypy.
    import importlib

    return importlib.import_module("apprise")


APPRISE_MISSING = "apprise URLs need the optional extra: pip install 'kagsync[notify]'"


def _target(row: Mapping[str, Any]) -> Target:
    return Target(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        format=row["format"],
        event=row["event"],
        kinds=tuple(k for k in row["kinds"].split(",") if k),
        top_n=row["top_n"],
        member_move=row["member_move"],
        failing_ticks=row["failing_ticks"],
        created_at=row["created_at"],
        event_id=row["event_id"],
    )


_TARGET_SELECT = """SELECT t.*, e.slug AS event FROM notify_targets t LEFT JOIN events e ON e.id = t.event_id"""


def add_target(
    database: Database,
    url: str,
    *,
    event_id: int | None = None,
    kinds: str | Sequence[str] | None = None,
    name: str | None = None,
    fmt: str | None = None,
    top_n: int | None = None,
    member_move: int | None = None,
    failing_ticks: int | None = None,
) -> Target:
    """Store a target. The name defaults to the URL's host; the format follows the URL.

    The target starts from the runs stored now: what was synced before is never announced.
    """
    url = url.strip()
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise ValidationError(f"--format: unknown format {quote(fmt)} (choose from {', '.join(FORMATS)})")
    chosen = fmt or (detect_format(url) if url else "json")
    _check_url(url, chosen)
    if chosen == "apprise" and not apprise_available():
        raise KagsyncError(APPRISE_MISSING)
    chosen_kinds = parse_kinds(kinds)
    values = (
        _threshold(top_n, DEFAULT_TOP_N, name="--top"),
        _threshold(member_move, DEFAULT_MEMBER_MOVE, name="--member-move"),
        _threshold(failing_ticks, DEFAULT_FAILING_TICKS, name="--failing-ticks"),
    )
    if name is None:
        # An apprise URL's host can be its token (tgram://TOKEN/...): name it by its scheme.
        name = (urlsplit(url).hostname or "") if chosen != "apprise" else urlsplit(url).scheme.lower()
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"invalid target name {quote(name)}: use letters, digits and . _ - (at most 64 characters)"
        )
    now = now_iso()
    with write_transaction(database):
        try:
            cursor = database.conn.execute(
                """INSERT INTO notify_targets (name, url, format, event_id, kinds, top_n, member_move,
                                               failing_ticks, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (name, url, chosen, event_id, ",".join(chosen_kinds), *values, now),
            )
        except sqlite3.IntegrityError:
            raise AlreadyExistsError(
                f"a notification target named {name!r} already exists: give another --name, "
                "or remove it first (kagsync notify remove)"
            ) from None
        target_id = cursor.lastrowid
        last = database.conn.execute("SELECT coalesce(max(id), 0) FROM sync_runs").fetchone()[0]
        _set_cursor(database, int(target_id or 0), int(last), now)
    return get_target(database, name)


def get_target(database: Database, name: str) -> Target:
    """One target by name."""
    rows = database.query(_TARGET_SELECT + " WHERE t.name = ?", (name.strip(),))
    if not rows:
        raise NotFoundError(f"no notification target {name.strip()!r} (see `kagsync notify list`)")
    return _target(rows[0])


def targets(database: Database) -> list[Target]:
    """Every target, by name."""
    return [_target(row) for row in database.query(_TARGET_SELECT + " ORDER BY t.name")]


def list_targets(database: Database) -> list[dict[str, Any]]:
    """Every target (URL masked) with its deliveries: ``sent``, ``pending``, ``failed``,
    ``last_sent_at`` and ``last_error``."""
    counts: dict[int, dict[str, Any]] = {}
    for target_id, status, count, last_sent in database.conn.execute(
        """SELECT target_id, status, count(*), max(sent_at) FROM notifications
           WHERE change_key != ? GROUP BY target_id, status""",
        (CURSOR_KEY,),
    ):
        entry = counts.setdefault(target_id, {"sent": 0, "pending": 0, "failed": 0, "last_sent_at": None})
        entry[status] = count
        if status == "sent":
            entry["last_sent_at"] = last_sent
    listed = []
    for target in targets(database):
        info = target.to_dict()
        info.update(counts.get(target.id, {"sent": 0, "pending": 0, "failed": 0, "last_sent_at": None}))
        row = database.conn.execute(
            """SELECT error FROM notifications WHERE target_id = ? AND status = 'failed' AND error IS NOT NULL
               ORDER BY id DESC LIMIT 1""",
            (target.id,),
        ).fetchone()
        info["last_error"] = scrub(row[0], [target.url]) if row else None
        listed.append(info)
    return listed


def remove_target(database: Database, name: str) -> Target:
    """Delete a target and its delivery record."""
    target = get_target(database, name)
    with write_transaction(database):
        database.conn.execute("DELETE FROM notify_targets WHERE id = ?", (target.id,))
    return target


# -- the cursor -----------------------------------------------------------------------


def _get_cursor(database: Database, target_id: int) -> int:
    row = database.conn.execute(
        "SELECT payload FROM notifications WHERE target_id = ? AND change_key = ?", (target_id, CURSOR_KEY)
    ).fetchone()
    if row is None:
        return 0
    try:
        return int(json.loads(row[0])["run_id"])
    except (ValueError, KeyError, TypeError):
        return 0


def _set_cursor(database: Database, target_id: int, run_id: int, now: str) -> None:
    database.conn.execute(
        """INSERT INTO notifications (target_id, change_key, payload, status, attempts, created_at, sent_at)
           VALUES (?, ?, ?, 'sent', 0, ?, ?)
           ON CONFLICT (target_id, change_key) DO UPDATE SET payload = excluded.payload, sent_at = excluded.sent_at""",
        (target_id, CURSOR_KEY, json.dumps({"run_id": run_id}), now, now),
    )


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
            cursor = _get_cursor(database, target.id)
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
                _set_cursor(database, target.id, new_cursor, now)
            recorded[target.name] = count
    return recorded


# -- messages ------------------------------------------------------------------------

_SLACK_BLOCKS = 45
_SLACK_SECTION = 2_900
_DISCORD_CONTENT = 2_000
_DISCORD_EMBEDS = 10
_DISCORD_TOTAL = 5_800
_DISCORD_DESCRIPTION = 4_000
_KAGGLE_BLUE = 0x20BEFF
_MAX_LINES = 40


def _groups(events: Sequence[Mapping[str, Any]]) -> list[tuple[str | None, str | None, list[str]]]:
    """(title, url, lines) per competition, in the order they first appear."""
    groups: dict[str | None, tuple[str | None, str | None, list[str]]] = {}
    for event in events:
        slug = event.get("competition")
        if slug not in groups:
            groups[slug] = (event.get("title"), event.get("url"), [])
        groups[slug][2].append(str(event.get("text", "")))
    return list(groups.values())


def headline(events: Sequence[Mapping[str, Any]]) -> str:
    """One line saying what the message is about."""
    if len(events) == 1:
        event = events[0]
        title = event.get("title")
        return f"{title}: {event.get('text', '')}" if title else str(event.get("text", ""))
    competitions = {e.get("competition") for e in events if e.get("competition")}
    where = (
        f" on {len(competitions)} competitions"
        if len(competitions) > 1
        else (f" on {events[0].get('title')}" if competitions else "")
    )
    return f"kagsync: {len(events)} changes{where}"


def plain_text(events: Sequence[Mapping[str, Any]], *, limit: int = 4_000) -> str:
    """The message as plain text (Slack's fallback, apprise's body)."""
    lines = [headline(events)] if len(events) > 1 else []
    shown = 0
    for title, _, items in _groups(events):
        for item in items:
            if shown >= _MAX_LINES:
                break
            lines.append(f"• {title}: {item}" if title else f"• {item}")
            shown += 1
    if len(events) > shown and len(events) > 1:
        lines.append(f"… and {len(events) - shown} more")
    if len(events) == 1:
        lines = [headline(events)]
    return _cut("\n".join(lines), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Markdown that would change how a team's name shows (bold, strike, code, spoilers,
# quotes, masked links); our lines start with "• ", so headings and lists cannot start.
_DISCORD_SPECIAL = re.compile(r"([\\*_~`|>\[\]])")


def _discord_escape(text: str) -> str:
    return _DISCORD_SPECIAL.sub(r"\\\1", text)


def slack_payload(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Slack's incoming-webhook payload: ``text`` (the fallback) and ``blocks``."""
    blocks: list[dict[str, Any]] = []
    if len(events) > 1:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*" + _slack_escape(_cut(headline(events), 2_000)) + "*"},
            }
        )
    groups = _groups(events)
    for title, url, items in groups[:_SLACK_BLOCKS]:
        head = ""
        if title:
            label = _slack_escape(title).replace("|", "¦")
            head = f"*<{url}|{label}>*\n" if url else f"*{label}*\n"
        body = "\n".join("• " + _slack_escape(item) for item in items[:_MAX_LINES])
        if len(items) > _MAX_LINES:
            body += f"\n… and {len(items) - _MAX_LINES} more"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(head + body, _SLACK_SECTION)}})
    if len(groups) > _SLACK_BLOCKS:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"… and {len(groups) - _SLACK_BLOCKS} more competitions"}],
            }
        )
    return {"text": plain_text(events, limit=3_000), "blocks": blocks}


def discord_payload(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Discord's webhook payload: ``content`` (at most 2,000 characters) and up to 10 ``embeds``.

    Mentions are switched off (``allowed_mentions``): a team called ``@everyone`` pings nobody.
    """
    groups = _groups(events)
    shown = groups if len(groups) <= _DISCORD_EMBEDS else groups[: _DISCORD_EMBEDS - 1]
    # Discord refuses a message whose embeds hold more than 6,000 characters in all:
    # each competition gets an equal share (a "more" note keeps a little).
    share = (_DISCORD_TOTAL - 200) // max(len(shown), 1)
    embeds: list[dict[str, Any]] = []
    for title, url, items in shown:
        name = _cut(title or "kagsync", 256)
        lines = ["• " + _discord_escape(item) for item in items[:_MAX_LINES]]
        if len(items) > _MAX_LINES:
            lines.append(f"… and {len(items) - _MAX_LINES} more")
        description = _cut("\n".join(lines), min(_DISCORD_DESCRIPTION, share - len(name)))
        embed: dict[str, Any] = {"title": name, "description": description, "color": _KAGGLE_BLUE}
        if url:
            embed["url"] = url
        embeds.append(embed)
    if len(groups) > len(shown):
        embeds.append({"description": f"… and {len(groups) - len(shown)} more competitions", "color": _KAGGLE_BLUE})
    return {
        "content": _cut(_discord_escape(headline(events)), _DISCORD_CONTENT),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    }


def json_payload(events: Sequence[Mapping[str, Any]], *, target: str, sent_at: str) -> dict[str, Any]:
    """The generic payload: every change event in full (documented in the README)."""
    return {
        "source": "kagsync",
        "version": PAYLOAD_VERSION,
        "target": target,
        "sent_at": sent_at,
        "text": plain_text(events),
        "events": list(events),
    }


def build_payload(
    fmt: str, events: Sequence[Mapping[str, Any]], *, target: str = "", sent_at: str | None = None
) -> Any:
    """The message for ``events`` in ``fmt`` (apprise: ``{"title", "body"}``)."""
    if fmt == "slack":
        return slack_payload(events)
    if fmt == "discord":
        return discord_payload(events)
    if fmt == "apprise":
        return {"title": _cut(headline(events), 250), "body": plain_text(events)}
    return json_payload(events, target=target, sent_at=sent_at or now_iso())


# -- sending --------------------------------------------------------------------------


@dataclass
class Delivery:
    """The outcome of one send: ``ok``, or the ``error`` (never containing the URL)."""

    ok: bool
    error: str | None = None
    status: int | None = None
    retry_after: float | None = None
    attempts: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET elsewhere; a webhook answers directly.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _retry_after(headers: Any, body: bytes) -> float | None:
    """Seconds to wait from a 429: the ``Retry-After`` header (seconds or a date) or
    Discord's ``retry_after`` in the JSON body."""
    waits: list[float] = []
    value = (headers or {}).get("Retry-After")
    if value:
        try:
            waits.append(float(value))
        except ValueError:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                waits.append(parsedate_to_datetime(value).timestamp() - time.time())
    try:
        data = json.loads(body.decode("utf-8", "replace") or "null")
        if isinstance(data, dict) and isinstance(data.get("retry_after"), (int, float)):
            waits.append(float(data["retry_after"]))
    except ValueError:
        pass
    finite = [w for w in waits if math.isfinite(w)]
    return max(0.0, max(finite)) if finite else None


def _post_once(url: str, body: bytes, timeout: float) -> Delivery:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"kagsync/{__version__}"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(65_536)
            return Delivery(True, status=response.status)
    except urllib.error.HTTPError as error:
        try:
            answer = error.read(65_536)
        except (OSError, ValueError):
            answer = b""
        detail = answer.decode("utf-8", "replace").strip().splitlines()[0][:120] if answer.strip() else ""
        message = f"HTTP {error.code}" + (f": {detail}" if detail else "")
        wait = _retry_after(error.headers, answer) if error.code == 429 else None
        return Delivery(False, message, status=error.code, retry_after=wait)
    except TimeoutError:
        return Delivery(False, f"no answer within {timeout:.0f} s")
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            return Delivery(False, f"no answer within {timeout:.0f} s")
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        return Delivery(False, f"cannot reach the target: {text}")
    except (OSError, ValueError, http.client.HTTPException) as error:
        return Delivery(False, f"cannot reach the target: {type(error).__name__}: {error}")


def post_json(url: str, payload: Any, *, deadline: float, clock: Callable[[], float] = time.monotonic) -> Delivery:
    """POST ``payload`` as JSON before the monotonic ``deadline``; wait out one 429 if it fits."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    attempts = 0
    while True:
        remaining = deadline - clock()
        if remaining <= 0.2:
            return Delivery(False, "no time left for this target in this pass", attempts=attempts)
        attempts += 1
        result = _post_once(url, body, min(SEND_TIMEOUT, remaining))
        result.attempts = attempts
        if result.ok or result.status != 429 or attempts >= 2:
            return result
        wait = 1.0 if result.retry_after is None else result.retry_after
        if wait > MAX_RETRY_WAIT or clock() + wait + 0.5 >= deadline:
            result.error = f"rate limited (HTTP 429); retry after {wait:g} s"
            return result
        time.sleep(wait)


def send_apprise(url: str, payload: Mapping[str, str]) -> Delivery:
    """Send through apprise (the optional extra)."""
    try:
        apprise = _import_apprise()
    except ImportError:
        return Delivery(False, APPRISE_MISSING)
    sender = apprise.Apprise()
    if not sender.add(url):
        return Delivery(False, "apprise does not understand this URL")
    ok = bool(sender.notify(body=payload["body"], title=payload["title"]))
    return Delivery(ok, None if ok else "apprise could not deliver the message (see apprise's log)", attempts=1)


def send(target: Target, payload: Any, *, deadline: float) -> Delivery:
    """Deliver one payload to a target; never raises, never returns the URL in an error."""
    try:
        if target.format == "apprise":
            result = send_apprise(target.url, payload)
        else:
            result = post_json(target.url, payload, deadline=deadline)
    except Exception as error:  # noqa: BLE001 -- a send must never end a pass
        result = Delivery(False, f"unexpected error: {type(error).__name__}: {error}")
    if result.error:
        result.error = scrub(result.error, [target.url])[:500]
    return result


def send_all(jobs: Sequence[tuple[Target, Any]], *, budget: float = TARGET_DEADLINE) -> dict[int, Delivery]:
    """Send each (target, payload) in its own thread; wait at most ``budget`` (+ a margin).

    A target still busy then is reported as failed (its thread is left to end alone;
    in the rare case it delivered late, the message is sent again next pass).
    """
    deadline = time.monotonic() + budget
    results: dict[int, Delivery] = {}

    def work(target: Target, payload: Any) -> None:
        results[target.id] = send(target, payload, deadline=deadline)

    threads = []
    for target, payload in jobs:
        thread = threading.Thread(target=work, args=(target, payload), name=f"notify-{target.name}", daemon=True)
        thread.start()
        threads.append((target, thread))
    for target, thread in threads:
        thread.join(max(0.0, deadline + 0.5 - time.monotonic()))
        if target.id not in results:
            results[target.id] = Delivery(False, f"no answer within {budget:.0f} s")
    return dict(results)


def send_test(target: Target) -> Delivery:
    """Send a test message to one target now (recorded nowhere)."""
    event = _event(
        "test",
        "test",
        None,
        f"Test message from kagsync: notifications to {target.name} ({target.format}) work.",
        at=now_iso(),
    )
    payload = build_payload(target.format, [event], target=target.name)
    return send_all([(target, payload)])[target.id]


# -- a pass ---------------------------------------------------------------------------


@dataclass
class NotifyPass:
    """What one pass did: changes recorded and messages sent or failed, per target name."""

    recorded: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: bool = False


def _pending(database: Database, target: Target) -> list[tuple[int, dict[str, Any]]]:
    rows = database.conn.execute(
        """SELECT id, payload FROM notifications
           WHERE target_id = ? AND status != 'sent' AND attempts < ? ORDER BY id""",
        (target.id, MAX_ATTEMPTS),
    ).fetchall()
    pending = []
    for row_id, payload in rows:
        try:
            pending.append((row_id, json.loads(payload)))
        except ValueError:
            log.warning("notification %d has an unreadable payload; skipped", row_id)
    return pending


def deliver(database: Database, *, budget: float = TARGET_DEADLINE) -> NotifyPass:
    """Send every target's pending changes as one message each, in parallel; record the outcome."""
    report = NotifyPass()
    jobs: list[tuple[Target, Any]] = []
    rows: dict[int, list[int]] = {}
    sent_at = now_iso()
    for target in targets(database):
        pending = _pending(database, target)
        if not pending:
            continue
        # By competition (stable: in the order found within one), whatever order parallel syncs finished in.
        events = sorted((event for _, event in pending), key=lambda e: str(e.get("competition") or ""))
        jobs.append((target, build_payload(target.format, events, target=target.name, sent_at=sent_at)))
        rows[target.id] = [row_id for row_id, _ in pending]
    if not jobs:
        return report
    results = send_all(jobs, budget=budget)
    now = now_iso()
    with write_transaction(database):
        for target, _ in jobs:
            result = results[target.id]
            ids = rows[target.id]
            marks = ", ".join("?" for _ in ids)
            if result.ok:
                database.conn.execute(
                    f"""UPDATE notifications SET status = 'sent', attempts = attempts + 1, error = NULL, sent_at = ?
                        WHERE id IN ({marks})""",
                    (now, *ids),
                )
                report.sent[target.name] = len(ids)
            else:
                database.conn.execute(
                    f"""UPDATE notifications SET status = 'failed', attempts = attempts + 1, error = ?
                        WHERE id IN ({marks})""",
                    (result.error, *ids),
                )
                report.failed[target.name] = result.error or "failed"
    for name, count in report.sent.items():
        log.info("notify: sent %d change(s) to %s", count, name)
    for name, error in report.failed.items():
        log.warning("notify: could not send to %s: %s (retried next pass)", name, error)
    return report


def run_pass(database: Database, *, budget: float = TARGET_DEADLINE, lock_timeout: float | None = None) -> NotifyPass:
    """Record the changes of the runs not examined yet, then send what is pending.

    Sending is claimed with a lock beside the database (``<db>.locks/_notify.lock``), so
    two processes never send the same pending rows; one that finds the lock taken for
    longer than ``lock_timeout`` (default: ``budget``) leaves its rows to the next pass.
    """
    from kagsync.errors import SyncBusyError
    from kagsync.sync import named_lock

    if database.conn.execute("SELECT 1 FROM notify_targets LIMIT 1").fetchone() is None:
        return NotifyPass()
    report = NotifyPass(recorded=record_changes(database))
    lock = named_lock(database.path, "notify")  # <db>.locks/_notify.lock
    try:
        claimed = lock.acquire(budget if lock_timeout is None else lock_timeout)
    except SyncBusyError as error:
        log.warning("notify: %s", error)
        claimed = False
    if not claimed:
        report.skipped = True
        return report
    try:
        delivered = deliver(database, budget=budget)
    finally:
        lock.release()
    report.sent, report.failed = delivered.sent, delivered.failed
    return report
