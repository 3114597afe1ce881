"""Every read of kagsync data that the web pages and the HTML report make.

One small module on purpose: it calls only the public Python API (a
:class:`kagsync.api.Kagsync` opened read-only) and turns what it returns into plain,
JSON-ready dicts with the API's own keys. The pages render those dicts and serve them
as JSON beside the HTML, so a page and its JSON always say the same thing.

Nothing here returns what is not a page's subject: a competition's last sync error
(free text that may hold a file path), a run's source, the roster's extra columns and
the notification targets are never read into a page.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kagsync.errors import NotFoundError, ValidationError
from kagsync.serve.charts import Chart, rank_chart
from kagsync.values import parse_time

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.models import Board, Competition
    from kagsync.standings import Standings

# JSON-ready data, typed as the API's own rows are (the views return such dicts): the
# pages pass these rows through unchanged, and their JSON is exactly the API's.
Data = dict[str, Any]

PAGE_SIZE = 50
CHART_TEAMS = 6
SHAKEUP_ROWS = 10
# Fields of a competition that are not shown: free text that may name server paths.
_HIDDEN_COMPETITION_FIELDS = ("last_sync_error",)
BASELINES = ("previous", "start")
KEPT_STANDINGS = 3


@dataclass(frozen=True)
class BoardQuery:
    """What a competition page asks for: which board, which rows, movement since when."""

    board: Board | None = None
    q: str | None = None
    page: int = 1
    size: int = PAGE_SIZE
    since: str = "previous"
    event: str | None = None
    chart: bool = True


def public_competition(competition: Competition) -> Data:
    """The competition as the API's ``to_dict`` has it, without the hidden fields."""
    data = competition.to_dict()
    for name in _HIDDEN_COMPETITION_FIELDS:
        data.pop(name, None)
    return data


def _start_of(text: str | None) -> str | None:
    return parse_time(text, name="start") if text else None


class KeptStandings:
    """Standings computed lately, by what they were computed from (shared by the readers).

    One entry per event and scheme/everyone/group: new boards replace the old entry,
    and at most :data:`KEPT_STANDINGS` are kept (a big event's standings weigh tens of MB).
    """

    def __init__(self, release: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], tuple[tuple[object, ...], Standings]] = {}
        self.release = release

    def get(self, key: tuple[object, ...]) -> Standings | None:
        """The standings kept for exactly this key."""
        with self._lock:
            entry = self._entries.get(key[:4])
            return entry[1] if entry is not None and entry[0] == key else None

    def discard(self, key: tuple[object, ...]) -> None:
        """Forget the standings kept for this event and variant (before computing new
        ones: the old and the new never weigh on memory together)."""
        with self._lock:
            dropped = self._entries.pop(key[:4], None)
        if dropped is not None and self.release is not None:
            del dropped
            self.release()

    def put(self, key: tuple[object, ...], standings: Standings) -> None:
        """Keep these standings (replacing older ones of the same event and variant)."""
        with self._lock:
            self._entries.pop(key[:4], None)
            self._entries[key[:4]] = (key, standings)
            while len(self._entries) > KEPT_STANDINGS:
                self._entries.pop(next(iter(self._entries)))


class Reader:
    """The read-only view of one database that the pages (and the report) use.

    One connection, used by one request at a time (a lock): a page's reads happen
    inside one read transaction, so a page never mixes the states before and after a
    sync landing meanwhile.
    """

    def __init__(self, ks: Kagsync, kept: KeptStandings | None = None) -> None:
        self.ks = ks
        self._lock = threading.RLock()
        self._kept = kept or KeptStandings()

    @classmethod
    def open(cls, path: Path | str, kept: KeptStandings | None = None) -> Reader:
        """Open the database at ``path`` read-only (works on read-only media)."""
        from kagsync.api import open as open_kagsync

        ks = open_kagsync(path, mode="read")
        ks.database  # noqa: B018 -- open now, so a missing or damaged file fails here
        return cls(ks, kept)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.ks.close()

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """One consistent read (one request at a time on this connection)."""
        with self._lock, self.ks.snapshot():
            yield self

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: changes whenever another connection commits.

        The cheap change check behind the live pages: no table is read.
        """
        with self._lock:
            return int(self.ks.database.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- home -------------------------------------------------------------------

    def health(self, competition: Competition) -> Data:
        """How syncing this competition goes: a state word, consecutive failures, the last
        error's kind (never its text)."""
        runs = self.ks.runs(competition.slug, limit=10)
        failures = 0
        for run in runs:
            if run["status"] == "running":
                continue
            if run["status"] == "ok":
                break
            failures += 1
        latest = next((run for run in runs if run["status"] != "running"), None)
        if runs and runs[0]["status"] == "running":
            state = "syncing"
        elif latest is None:
            state = "never synced"
        elif failures:
            state = "failing"
        else:
            state = "ok"
        return {
            "state": state,
            "failures": failures,
            "error_kind": latest["error_kind"] if latest is not None and latest["status"] != "ok" else None,
            "last_attempt_at": competition.last_attempt_at,
            "last_synced_at": competition.last_synced_at or competition.private_synced_at,
        }

    def competition_summary(self, competition: Competition) -> Data:
        """A competition with its health and whether its final board is out."""
        data = public_competition(competition)
        data["health"] = self.health(competition)
        data["final"] = competition.private_synced_at is not None
        return data

    def home(self) -> Data:
        """Every event with its competitions, and the competitions of no event."""
        events = self.ks.events()
        competitions = [self.competition_summary(c) for c in self.ks.competitions()]
        listed = []
        for event in events:
            data = event.to_dict()
            data["competitions"] = [c["slug"] for c in competitions if event.slug in c["events"]]
            listed.append(data)
        return {"events": listed, "competitions": competitions}

    # -- an event ---------------------------------------------------------------

    def event(
        self,
        slug: str,
        *,
        scheme: str | None = None,
        everyone: bool = False,
        group: str | None = None,
        page: int = 1,
        size: int | None = None,
    ) -> Data:
        """An event, its competitions (weight, health, deadlines) and its standings (with
        ``size``, one page of its lines: ``total`` and ``pages`` say how many there are)."""
        event = self.ks.events.get(slug)
        weights = self.ks.events.weights(event.slug)
        competitions = []
        for competition in self.ks.competitions(event=event.slug):
            data = self.competition_summary(competition)
            data["weight"] = weights.get(competition.slug, 1.0)
            competitions.append(data)
        standings = self._standings(event.slug, scheme, everyone, group)
        groups = sorted({m.group for m in self.ks.roster.members(event.slug) if m.group})
        total = len(standings.rows)
        pages = max(1, math.ceil(total / size)) if size else 1
        if page > pages:
            raise NotFoundError(f"the standings of {event.slug} have {pages} page(s)")
        shown = standings.rows[(page - 1) * size : page * size] if size else standings.rows
        lines = replace(standings, rows=shown).to_dict()
        return {
            "event": event.to_dict(),
            "competitions": competitions,
            "standings": lines,
            "total": total,
            "page": page,
            "pages": pages,
            "page_size": size,
            "roster_groups": groups,
        }

    def event_competitions(self, slug: str) -> list[str]:
        """The slugs of an event's competitions, in the event's order."""
        return [c.slug for c in self.ks.competitions(event=self.ks.events.get(slug).slug)]

    def _standings(self, event: str, scheme: str | None, everyone: bool, group: str | None) -> Standings:
        """The event's standings, computed again only when what they are made of changed.

        Every commit (a run starting, a notification sent) wakes the pages, but the
        standings of four 20,000-team boards take seconds: they are kept while each
        competition's latest boards, titles and weights and the roster stay the same.
        """
        competitions = self.ks.competitions(event=event)
        key = (
            event,
            scheme,
            everyone,
            group,
            tuple(
                (
                    c.slug,
                    c.title,
                    c.updated_at,
                    self.ks.boards.movement_basis(c.slug, board="public")["run_id"],
                    self.ks.boards.movement_basis(c.slug, board="private")["run_id"] if c.private_synced_at else None,
                )
                for c in competitions
            ),
            tuple(sorted(self.ks.events.weights(event).items())),
            tuple((m.username, m.name, m.group) for m in self.ks.roster.members(event)),
        )
        found = self._kept.get(key)
        if found is None:
            self._kept.discard(key)
            found = self.ks.events.standings(event, scheme=scheme, everyone=everyone, group=group)
            self._kept.put(key, found)
        return found

    # -- a competition ------------------------------------------------------------

    def _roster_event(self, competition: Competition, wanted: str | None) -> str | None:
        """The event whose roster marks this board: the one asked for, else the first with a roster."""
        candidates = [wanted] if wanted in competition.events else list(competition.events)
        for slug in candidates:
            if slug and self.ks.roster.members(slug):
                return slug
        return None

    def _entries(self, competition: Competition, query: BoardQuery, board: Board, limit: int | None) -> list[Data]:
        slug = competition.slug
        roster = self._roster_event(competition, query.event)

        def rows(team: str | None = None, user: str | None = None, top: int | None = None) -> list[Data]:
            if roster is not None:
                return cast(
                    "list[Data]", self.ks.roster.leaderboard(slug, roster, top=top, team=team, user=user, board=board)
                )
            return cast("list[Data]", self.ks.leaderboard(slug, top=top, team=team, user=user, board=board))

        if query.q:
            found = {row["team_id"]: row for row in rows(team=query.q)}
            for row in rows(user=query.q):
                found.setdefault(row["team_id"], row)
            return sorted(found.values(), key=_board_order)
        return rows(top=limit)

    def _baseline(self, competition: Competition, query: BoardQuery) -> tuple[str | None, str]:
        """(ISO time or None for the previous sync, what it is called)."""
        if query.since in ("", "previous"):
            return None, "the previous sync"
        if query.since == "start":
            event = query.event if query.event in competition.events else next(iter(competition.events), None)
            start = self.ks.events.get(event).start if event else None
            if start:
                return _start_of(start), "the event's start"
            if competition.start:
                return _start_of(competition.start), "the competition's start"
            raise ValidationError("since: this competition has no start date to compare with")
        return parse_time(query.since, name="since"), f"{query.since}"

    def competition(self, slug: str, query: BoardQuery | None = None) -> Data:
        """A competition's board (one page of it, or the teams matching ``q``), its movement
        since the baseline asked for, its chart and its shake-up."""
        query = query or BoardQuery()
        competition = self.ks.competitions.get(slug)
        if query.board == "private" and competition.private_synced_at is None:
            raise NotFoundError(f"{competition.slug} has no private (final) board yet")
        synced = competition.last_synced_at is not None or competition.private_synced_at is not None
        board: Board = query.board or self.ks.boards.default(competition.slug)
        data: Data = {
            "competition": self.competition_summary(competition),
            "board": board,
            "boards": ["public", "private"] if competition.private_synced_at else ["public"],
            "q": query.q,
            "page": query.page,
            "page_size": query.size,
            "since": query.since or "previous",
            "entries": [],
            "total": 0,
            "pages": 1,
            "basis": None,
            "baseline": None,
            "chart": None,
            "shakeup": None,
        }
        if not synced:
            return data
        counted = not query.q and board == "public" and competition.entry_count is not None
        limit = query.page * query.size if counted else None
        entries = self._entries(competition, query, board, limit)
        total = competition.entry_count if counted and competition.entry_count is not None else len(entries)
        pages = max(1, math.ceil(total / query.size))
        if query.page > pages:
            raise NotFoundError(f"{competition.slug} has {pages} page(s) of {query.size} teams")
        shown = entries[(query.page - 1) * query.size : query.page * query.size]
        data.update(
            entries=shown, total=total, pages=pages, basis=self.ks.boards.movement_basis(competition.slug, board=board)
        )
        since, label = self._baseline(competition, query)
        if since is not None and board == "public":
            movers = self.ks.boards.movers(competition.slug, since=since, limit=None)
            _apply_movers(shown, cast("Data", movers))
            data["baseline"] = {"since": since, "label": label, "run": movers["baseline"]}
        elif board == "public":
            data["baseline"] = {"since": None, "label": label, "run": None}
        if query.chart and board == "public" and query.page == 1 and not query.q:
            leaders = [e for e in shown if not e["is_benchmark"]][:CHART_TEAMS]
            data["chart"] = self.chart(competition, leaders, f"the current top {len(leaders)}")
        if competition.private_synced_at is not None:
            data["shakeup"] = self.ks.boards.shakeup(competition.slug, top=SHAKEUP_ROWS)
        return data

    def chart(self, competition: Competition, teams: Sequence[Data], what: str) -> Chart | None:
        """The rank-over-time chart of these teams (rows with ``team_id`` and ``team_name``)."""
        if not teams or competition.last_synced_at is None:
            return None
        syncs: list[Data] = cast(
            "list[Data]", list(self.ks.boards.history(competition.slug, board="public", every_sync=True))
        )
        runs = [(int(r["run_id"]), str(r["synced_at"])) for r in reversed(syncs)]
        series = {}
        for team in teams:
            history: Data = dict(self.ks.boards.team_history(competition.slug, str(team["team_id"])))
            series[int(team["team_id"])] = [(c["run_id"], c["synced_at"], c["rank"]) for c in history["changes"]]
        names = {int(t["team_id"]): str(t["team_name"]) for t in teams}
        return rank_chart(runs, series, names, label=f"Rank over time of {what} of {competition.title}", what=what)

    # -- a team, a member ---------------------------------------------------------

    def team(self, slug: str, team_id: int) -> Data:
        """One team's rank and score at every sync where either changed (``history``: the
        API's ``team_history``), its competition and its chart."""
        competition = self.ks.competitions.get(slug)
        if competition.last_synced_at is None:
            raise NotFoundError(f"{competition.slug} has no public board yet")
        found: Data = dict(self.ks.boards.team_history(competition.slug, str(team_id)))
        if found["team"]["team_id"] != team_id:
            raise NotFoundError(f"no team {team_id} on {competition.slug}")
        team = found["team"]
        return {
            "history": found,
            "competition": public_competition(competition),
            "chart": self.chart(competition, [team], str(team["team_name"])),
        }

    def member(self, username: str) -> Data:
        """A Kaggle username's teams on every stored board, each with its rank over time,
        and the member's roster entries (display name and group only)."""
        name = username.strip().lstrip("@")
        if not name:
            raise NotFoundError("no member given")
        teams = []
        for competition in self.ks.competitions():
            if competition.last_synced_at is None and competition.private_synced_at is None:
                continue
            board = self.ks.boards.default(competition.slug)
            for entry in self.ks.leaderboard(competition.slug, user=name, board=board):
                teams.append(
                    {
                        "competition": public_competition(competition),
                        "entry": entry,
                        "chart": self.chart(competition, [cast("Data", entry)], str(entry["team_name"])),
                    }
                )
        rosters = []
        for event in self.ks.events():
            for member in self.ks.roster.members(event.slug):
                if member.username.casefold() == name.casefold():
                    rosters.append(
                        {"event": event.slug, "event_title": event.title, "name": member.name, "group": member.group}
                    )
        if not teams and not rosters:
            raise NotFoundError(f"no team on any stored board has member {name!r}")
        return {"username": name, "teams": teams, "rosters": rosters}


def _board_order(row: Data) -> tuple[int, int]:
    return (int(row["rank"]) or 10**9, int(row["team_id"]))


def _apply_movers(entries: list[Data], movers: Data) -> None:
    """Replace each entry's movement by the one since the movers' baseline."""
    moved: dict[int, Data] = {}
    for key in ("climbers", "fallers"):
        for item in movers[key]:
            moved[item["team_id"]] = item
    new = {item["team_id"] for item in movers["new"]}
    for entry in entries:
        if entry["is_benchmark"]:
            entry["movement"], entry["is_new"] = None, False
        elif entry["team_id"] in new:
            entry["movement"], entry["is_new"] = None, True
        elif entry["team_id"] in moved:
            entry["movement"], entry["is_new"] = moved[entry["team_id"]]["movement"], False
        else:
            entry["movement"], entry["is_new"] = (0 if movers["compared"] else None), False


class ReaderPool:
    """A few readers over one database: each request borrows one for its reads."""

    def __init__(self, path: Path | str, size: int) -> None:
        kept = KeptStandings()
        self.all = [Reader.open(path, kept) for _ in range(max(1, size))]
        self._free: queue.SimpleQueue[Reader] = queue.SimpleQueue()
        for reader in self.all:
            self._free.put(reader)

    @contextmanager
    def borrow(self) -> Iterator[Reader]:
        """A free reader, inside one read transaction, for the time of one page."""
        reader = self._free.get()
        try:
            with reader.reading():
                yield reader
        finally:
            self._free.put(reader)

    def close(self) -> None:
        """Close every reader."""
        for reader in self.all:
            reader.close()
