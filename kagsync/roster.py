"""An event's roster: the club's members, by Kaggle username, with display names and groups.

A roster turns an event's standings from "every Kaggle user on every board" into "our
40 members": only members are ranked, under their display names, and a member who
entered nothing still gets a line. It lives in ``roster_members`` (one row per member
of an event; usernames unique per event, compared case-insensitively).

Roster files are CSV with a header: ``kaggle`` (the username; required), ``name`` and
``group`` (optional), and any other column, kept as extra text. Like ``kagsync
import``, the whole file is checked before anything is written: every bad line is
reported with the file's name and the line number, and nothing is written.

Matching a board's team to members (:class:`RosterIndex`): a team's usernames
(``TeamMemberUserNames``) decide. Kaggle's older files carry no usernames; such a team
counts for the member whose username or display name equals the team's name
(case-insensitive). A name that two members share matches neither (``roster check``
lists it).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypedDict
from urllib.parse import urlparse

from kagsync.db import Database, write_transaction
from kagsync.errors import NotFoundError, ValidationError
from kagsync.importer import ImportValidationError, _read_text, _records, table_lines
from kagsync.values import now_iso, quote

__all__ = [
    "MAX_MEMBERS",
    "AmbiguousTeam",
    "MemberFinding",
    "MemberRecord",
    "MissingMember",
    "NameMatch",
    "RosterCheck",
    "RosterImport",
    "RosterIndex",
    "RosterMember",
    "RosterValidationError",
    "add_member",
    "check_roster",
    "import_roster",
    "list_members",
    "parse_username",
    "read_roster",
    "remove_member",
]

MAX_MEMBERS = 10_000
"""At most this many members per roster file (a club, a course: far fewer)."""

MAX_NAME_LENGTH = 200
MAX_GROUP_LENGTH = 100
MAX_EXTRA_LENGTH = 1_000
MAX_EXTRA_COLUMNS = 50
MAX_USERNAME_LENGTH = 64

COLUMNS = ("kaggle", "name", "group")
"""The columns with a meaning (``kaggle`` is required); any other column is extra text."""

COLUMN_ALIASES = {
    "username": "kaggle",
    "kaggle_username": "kaggle",
    "kaggle_user": "kaggle",
    "display_name": "name",
}
"""Other names accepted for a column."""

# Kaggle usernames are ASCII letters and digits (older accounts also have - _ .). Being
# ASCII, they compare case-insensitively in SQLite too (roster_members.username is
# COLLATE NOCASE, which folds ASCII only).
_USERNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_KAGGLE_HOSTS = {"kaggle.com", "www.kaggle.com"}


class RosterValidationError(ImportValidationError):
    """A roster file with problems; :attr:`problems` holds one line per problem."""


class MemberRecord(TypedDict):
    """A roster member as JSON: the columns of ``roster_members`` (``member_group`` as ``group``)."""

    username: str
    name: str | None
    group: str | None
    extra: dict[str, str]
    created_at: str | None
    updated_at: str | None


@dataclass(frozen=True)
class RosterMember:
    """One member of an event's roster."""

    username: str
    name: str | None = None
    group: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def key(self) -> str:
        """The username folded: how members are compared and keyed in standings."""
        return self.username.lower()

    @property
    def display(self) -> str:
        """The name to show: the display name, else the username."""
        return self.name or self.username

    def to_dict(self) -> MemberRecord:
        """JSON-ready form (the columns of ``roster_members``, ``member_group`` as ``group``)."""
        return {
            "username": self.username,
            "name": self.name,
            "group": self.group,
            "extra": dict(self.extra),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


# -- values -------------------------------------------------------------------------


def parse_username(text: str) -> str:
    """A Kaggle username from text: ``alice``, ``@alice`` or ``https://www.kaggle.com/alice``."""
    value = text.strip()
    if value.startswith(("http://", "https://")):
        parsed = urlparse(value)
        parts = [part for part in parsed.path.split("/") if part]
        if (parsed.hostname or "").lower() in _KAGGLE_HOSTS and len(parts) == 1:
            value = parts[0]
        else:
            raise ValidationError(f"username {quote(text)}: a Kaggle profile URL is https://www.kaggle.com/USERNAME")
    value = value.removeprefix("@")
    if not value:
        raise ValidationError("username is empty")
    if len(value) > MAX_USERNAME_LENGTH or not _USERNAME.fullmatch(value):
        raise ValidationError(
            f"invalid Kaggle username {quote(value)}: use letters, digits, and - _ . "
            f"(at most {MAX_USERNAME_LENGTH} characters)"
        )
    return value


def _text(value: str | None, *, what: str, limit: int) -> str | None:
    """A display text (name, group, extra cell): trimmed, None when empty, no control characters."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise ValidationError(f"{what}: at most {limit} characters, got {len(value)}")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        # Names end up in terminals and chat messages: no escape sequences, no line breaks.
        raise ValidationError(f"{what} {quote(value)} contains a control character")
    return value


def _fold(text: str) -> str:
    return text.strip().casefold()


# -- reading a file -----------------------------------------------------------------


@dataclass
class RosterLine:
    """One checked line of a roster file."""

    line: int
    username: str
    name: str | None
    group: str | None
    extra: dict[str, str]


def _normalise_column(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return COLUMN_ALIASES.get(key, key)


def _header(name: str, line: int, header: list[str]) -> tuple[list[str | None], list[str]]:
    """Each column's role (``kaggle``/``name``/``group``, ``extra:<Header>``, or None for an
    unnamed column) and the header's problems."""
    columns: list[str | None] = []
    problems: list[str] = []
    seen: set[str] = set()
    extras = 0
    for raw in header:
        label = raw.strip()
        if not label:
            columns.append(None)  # fine as long as its cells are empty (spreadsheets add such columns)
            continue
        column = _normalise_column(label)
        if column not in COLUMNS:
            column = "extra:" + label
            extras += 1
        folded = column.casefold()
        if folded in seen:
            problems.append(f"{name} line {line}: column {label!r} appears twice")
        seen.add(folded)
        columns.append(column)
    if "kaggle" not in columns:
        problems.append(
            f"{name} line {line}: no kaggle column (the members' Kaggle usernames; "
            "it may also be called username or kaggle_username)"
        )
    if extras > MAX_EXTRA_COLUMNS:
        problems.append(f"{name} line {line}: {extras} extra columns, at most {MAX_EXTRA_COLUMNS}")
    return columns, problems


def read_roster(path: Path | str) -> list[RosterLine]:
    """Read and check a whole roster file; write nothing.

    Raises:
        RosterValidationError: every problem of the file, one line each, naming the
            file and the line ("club.csv line 4: ...").
        ValidationError: the file cannot be read at all.
    """
    path = Path(path)
    name = path.name
    try:
        text = _read_text(path)
    except ImportValidationError as error:
        raise RosterValidationError(error.problems) from None
    records = _records(text)
    header_line, header, csv_error = next(records, (1, None, None))
    if csv_error is not None:
        raise RosterValidationError([f"{name} line {header_line}: {csv_error}"])
    if not header or all(not cell.strip() for cell in header):
        raise RosterValidationError(
            [f"{name}: no header line (the first line must name the columns, e.g. kaggle,name,group)"]
        )
    columns, problems = _header(name, header_line, header)
    if problems:
        raise RosterValidationError(problems)
    lines: list[RosterLine] = []
    seen: dict[str, int] = {}
    for line, cells in table_lines(name, records, len(columns), problems):
        reasons: list[str] = []
        member = _check_line(columns, cells, reasons)
        if member is not None:
            key = member.username.lower()
            if key in seen:
                reasons.append(f"member {member.username!r} is already on line {seen[key]}")
            else:
                seen[key] = line
        if reasons:
            problems.append(f"{name} line {line}: " + "; ".join(reasons))
            continue
        assert member is not None
        member.line = line
        lines.append(member)
    if not problems and not lines:
        problems.append(f"{name}: no members after the header line")
    if len(lines) > MAX_MEMBERS:
        problems.append(f"{name}: {len(lines):,} members, at most {MAX_MEMBERS:,}")
    if problems:
        raise RosterValidationError(problems)
    return lines


def _check_line(columns: list[str | None], cells: list[str], reasons: list[str]) -> RosterLine | None:
    """One line's member; every reason it is bad goes to ``reasons``."""
    username: str | None = None
    name = group = None
    extra: dict[str, str] = {}
    for position, (column, cell) in enumerate(zip(columns, cells, strict=True), start=1):
        try:
            if column is None:
                if cell.strip():
                    reasons.append(f"a value in column {position}, which has no name in the header")
            elif column == "kaggle":
                if not cell.strip():
                    reasons.append("no kaggle username")
                else:
                    username = parse_username(cell)
            elif column == "name":
                name = _text(cell, what="name", limit=MAX_NAME_LENGTH)
            elif column == "group":
                group = _text(cell, what="group", limit=MAX_GROUP_LENGTH)
            else:
                label = column.removeprefix("extra:")
                value = _text(cell, what=label, limit=MAX_EXTRA_LENGTH)
                if value is not None:
                    extra[label] = value
        except ValidationError as error:
            reasons.append(str(error))
    if reasons or username is None:
        return None
    return RosterLine(0, username, name, group, extra)


# -- storing ------------------------------------------------------------------------

_SELECT = """SELECT username, name, member_group, extra, created_at, updated_at
             FROM roster_members WHERE event_id = ?"""


# A row of _SELECT, typed as the schema stores it (username and extra are NOT NULL).
_MemberRow = tuple[str, str | None, str | None, str, str | None, str | None]


def _member(row: _MemberRow) -> RosterMember:
    username, name, group, extra, created, updated = row
    return RosterMember(username, name, group, json.loads(extra), created, updated)


def list_members(database: Database, event_id: int) -> list[RosterMember]:
    """The event's roster, by username (case-insensitive)."""
    rows = database.conn.execute(_SELECT + " ORDER BY username COLLATE NOCASE", (event_id,))
    return [_member(row) for row in rows]


def find_member(database: Database, event_id: int, username: str) -> RosterMember | None:
    """One member by username (any case), or None."""
    row = database.conn.execute(_SELECT + " AND username = ? COLLATE NOCASE", (event_id, username)).fetchone()
    return None if row is None else _member(row)


@dataclass
class RosterImport:
    """What a roster import did: usernames added, updated, unchanged and removed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        """JSON-ready form."""
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "removed": self.removed}


def _upsert(
    database: Database, event_id: int, line: RosterLine, *, exact: bool, now: str, result: RosterImport
) -> None:
    """Insert or update one member; caller holds the transaction.

    ``exact`` sets the member to the line's values; otherwise only what the line gives
    changes (an empty cell keeps the stored value, extra columns are merged).
    """
    stored = find_member(database, event_id, line.username)
    if stored is None:
        database.conn.execute(
            """INSERT INTO roster_members (event_id, username, name, member_group, extra, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (event_id, line.username, line.name, line.group, json.dumps(line.extra, ensure_ascii=False), now, now),
        )
        result.added.append(line.username)
        return
    if exact:
        name, group, extra = line.name, line.group, dict(line.extra)
    else:
        name = line.name if line.name is not None else stored.name
        group = line.group if line.group is not None else stored.group
        extra = {**stored.extra, **line.extra}
    if (line.username, name, group, extra) == (stored.username, stored.name, stored.group, dict(stored.extra)):
        result.unchanged.append(line.username)
        return
    database.conn.execute(
        """UPDATE roster_members SET username = ?, name = ?, member_group = ?, extra = ?, updated_at = ?
           WHERE event_id = ? AND username = ? COLLATE NOCASE""",
        (line.username, name, group, json.dumps(extra, ensure_ascii=False), now, event_id, stored.username),
    )
    result.updated.append(line.username)


def import_roster(
    database: Database, event_id: int, lines: Sequence[RosterLine], *, replace: bool = False
) -> RosterImport:
    """Write checked lines in one transaction: add new members, update the others.

    Importing the same file twice changes nothing the second time. ``replace`` makes
    the roster exactly the file: members not in it are removed, and the others get the
    file's values (an empty cell clears a field).
    """
    result = RosterImport()
    now = now_iso()
    with write_transaction(database):
        if replace:
            keep = {line.username.lower() for line in lines}
            for member in list_members(database, event_id):
                if member.key not in keep:
                    database.conn.execute(
                        "DELETE FROM roster_members WHERE event_id = ? AND username = ?", (event_id, member.username)
                    )
                    result.removed.append(member.username)
        for line in lines:
            _upsert(database, event_id, line, exact=replace, now=now, result=result)
    return result


def add_member(
    database: Database, event_id: int, username: str, *, name: str | None = None, group: str | None = None
) -> tuple[str, RosterMember]:
    """Add a member, or update the name and group of one already there.

    Returns (``added``, ``updated`` or ``unchanged``, the member as stored).
    """
    line = RosterLine(
        0,
        parse_username(username),
        _text(name, what="name", limit=MAX_NAME_LENGTH),
        _text(group, what="group", limit=MAX_GROUP_LENGTH),
        {},
    )
    result = RosterImport()
    with write_transaction(database):
        _upsert(database, event_id, line, exact=False, now=now_iso(), result=result)
    member = find_member(database, event_id, line.username)
    assert member is not None
    action = "added" if result.added else "updated" if result.updated else "unchanged"
    return action, member


def remove_member(database: Database, event_id: int, username: str, *, event: str = "") -> RosterMember:
    """Remove a member (username in any case); NotFoundError when not on the roster."""
    value = parse_username(username)
    with write_transaction(database):
        member = find_member(database, event_id, value)
        if member is None:
            raise NotFoundError(f"{value!r} is not on the roster of {event or 'the event'} (see `kagsync roster list`)")
        database.conn.execute(
            "DELETE FROM roster_members WHERE event_id = ? AND username = ? COLLATE NOCASE", (event_id, value)
        )
    return member


# -- matching teams to members -------------------------------------------------------


class RosterIndex:
    """Finds the members behind a board's team (see the module's doc)."""

    def __init__(self, members: Iterable[RosterMember]) -> None:
        self.members = list(members)
        self.by_username: dict[str, RosterMember] = {m.key: m for m in self.members}
        names: dict[str, list[RosterMember]] = {}
        for member in self.members:
            for label in {_fold(member.username), *([_fold(member.name)] if member.name else [])}:
                holders = names.setdefault(label, [])
                if member not in holders:
                    holders.append(member)
        self.by_name = {label: holders[0] for label, holders in names.items() if len(holders) == 1}
        self.ambiguous = {label: holders for label, holders in names.items() if len(holders) > 1}

    def __bool__(self) -> bool:
        return bool(self.members)

    def match(self, members: Sequence[str], team_name: str) -> tuple[list[RosterMember], bool]:
        """The roster members of a team and whether they were matched by the team's name.

        A team with usernames is matched by them alone; a team without usernames by its
        name (one member at most).
        """
        usernames = [m for m in members if m.strip()]
        if usernames:
            found = []
            for username in usernames:
                member = self.by_username.get(username.strip().lower())
                if member is not None and member not in found:
                    found.append(member)
            return found, False
        member = self.by_name.get(_fold(team_name))
        return ([member], True) if member is not None else ([], False)


class BoardLike(Protocol):
    """What :func:`check_roster` reads of a board (``kagsync.standings.Board`` has it)."""

    slug: str

    @property
    def entries(self) -> Sequence[EntryLike]: ...


class EntryLike(Protocol):
    """What :func:`check_roster` reads of a board's team."""

    @property
    def rank(self) -> int: ...

    @property
    def team_name(self) -> str: ...

    @property
    def members(self) -> tuple[str, ...]: ...


class MemberFinding(TypedDict):
    """Where a roster member was found: boards listing the username, boards by team name."""

    username: str
    name: str | None
    group: str | None
    boards: list[str]
    by_team_name: list[str]


class NameMatch(TypedDict):
    """A team without usernames matched to a member by its name."""

    competition: str
    rank: int
    team_name: str
    username: str
    name: str | None
    matched: Literal["username", "name"]


class AmbiguousTeam(TypedDict):
    """A team without usernames whose name fits several members."""

    competition: str
    rank: int
    team_name: str
    candidates: list[str]


class MissingMember(TypedDict):
    """A roster member found on no board."""

    username: str
    name: str | None
    group: str | None


@dataclass
class RosterCheck:
    """How an event's roster meets its boards, for the organiser to fix the roster.

    ``members``: per member, the competitions where a team lists their username and
    those where a team without usernames carries their username or name.
    ``name_matches``: each such team. ``not_found``: members on no board.
    ``ambiguous``: teams without usernames whose name fits several members (counted for none).
    """

    event: str
    competitions: list[str]
    members: list[MemberFinding]
    name_matches: list[NameMatch]
    ambiguous: list[AmbiguousTeam]
    not_found: list[MissingMember]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "event": self.event,
            "competitions": self.competitions,
            "members": self.members,
            "name_matches": self.name_matches,
            "ambiguous": self.ambiguous,
            "not_found": self.not_found,
        }


def check_roster(event: str, index: RosterIndex, boards: Iterable[BoardLike]) -> RosterCheck:
    """Match every team of ``boards`` against the roster (see :class:`RosterCheck`)."""
    by_username: dict[str, list[str]] = {m.key: [] for m in index.members}
    by_name: dict[str, list[str]] = {m.key: [] for m in index.members}
    name_matches: list[NameMatch] = []
    ambiguous: list[AmbiguousTeam] = []
    slugs = []
    for board in boards:
        slugs.append(board.slug)
        for entry in board.entries:
            found, via_name = index.match(entry.members, entry.team_name)
            for member in found:
                seen = by_name[member.key] if via_name else by_username[member.key]
                if board.slug not in seen:
                    seen.append(board.slug)
            if via_name:
                member = found[0]
                name_matches.append(
                    {
                        "competition": board.slug,
                        "rank": entry.rank,
                        "team_name": entry.team_name,
                        "username": member.username,
                        "name": member.name,
                        "matched": "username" if _fold(entry.team_name) == _fold(member.username) else "name",
                    }
                )
            elif not entry.members and _fold(entry.team_name) in index.ambiguous:
                ambiguous.append(
                    {
                        "competition": board.slug,
                        "rank": entry.rank,
                        "team_name": entry.team_name,
                        "candidates": [m.username for m in index.ambiguous[_fold(entry.team_name)]],
                    }
                )
    members: list[MemberFinding] = [
        {
            "username": m.username,
            "name": m.name,
            "group": m.group,
            "boards": by_username[m.key],
            "by_team_name": by_name[m.key],
        }
        for m in index.members
    ]
    not_found: list[MissingMember] = [
        {"username": m["username"], "name": m["name"], "group": m["group"]}
        for m in members
        if not m["boards"] and not m["by_team_name"]
    ]
    return RosterCheck(event, slugs, members, name_matches, ambiguous, not_found)
