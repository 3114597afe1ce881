"""Notification targets: webhook URLs with the kinds of change they want, URL masking and
scrubbing, and each target's cursor (the last run it examined).

A URL is a secret (whoever has it can post): it is stored in the database (the user's
own file) and never printed whole or logged; :func:`mask_url` shows the scheme, the host
and the first characters only.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from kagsync.db import Database, write_transaction
from kagsync.errors import AlreadyExistsError, KagsyncError, NotFoundError, ValidationError
from kagsync.secrets import mask_url, url_secrets
from kagsync.text import printable
from kagsync.values import now_iso, quote

KINDS = ("leader", "top", "member", "final", "dates", "failing")
DEFAULT_KINDS = ("leader", "top", "member", "final")
"""What a target hears unless told: ``member`` speaks only where the event has a roster;
``failing`` (an operator's alarm) and ``dates`` are asked for."""
FORMATS = ("slack", "discord", "json", "apprise")
DEFAULT_TOP_N = 10
DEFAULT_MEMBER_MOVE = 5
DEFAULT_FAILING_TICKS = 3
MAX_THRESHOLD = 100_000

MAX_ATTEMPTS = 50
"""Passes a change is tried in before it is left ``failed`` for good."""

CURSOR_KEY = "cursor"
"""The ``notifications`` row (status ``sent``) holding the last run a target examined."""

# Hints carried by this module's errors (see KagsyncError.hint): the CLI names its options.
HINT_KINDS = "notify.kinds"
"""An unknown or empty list of kinds."""
HINT_FORMAT = "notify.format"
"""An unknown format."""
HINT_APPRISE = "notify.apprise"
"""A URL that is not http(s): it needs the apprise format (and the extra)."""
HINT_TOP = "notify.top"
HINT_MEMBER_MOVE = "notify.member-move"
HINT_FAILING_TICKS = "notify.failing-ticks"
HINT_NAME = "notify.name"
"""A name that cannot be a target's."""
HINT_NAME_TAKEN = "notify.name-taken"
"""A target of that name exists: choose another name or remove it."""
HINT_LIST = "notify.list"
"""No such target: list them."""

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

    def to_dict(self) -> dict[str, object]:
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


def scrub(text: str, urls: Iterable[str]) -> str:
    """``text`` with every secret piece of ``urls`` replaced by its masked URL (in one pass,
    so a mask is never scrubbed again)."""
    masks: dict[str, str] = {}
    for url in urls:
        for piece in url_secrets(url):
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
            raise ValidationError(
                f"unknown notification kind {quote(item.strip())} (choose from {', '.join(KINDS)}, or all)",
                hint=HINT_KINDS,
            )
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise ValidationError(f"name at least one notification kind ({', '.join(KINDS)})", hint=HINT_KINDS)
    return tuple(k for k in KINDS if k in kinds)


def _threshold(value: int | None, default: int, *, name: str, hint: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THRESHOLD:
        raise ValidationError(
            f"{name}: expected a whole number from 1 to {MAX_THRESHOLD:,}, got {quote(value)}", hint=hint
        )
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
        raise ValidationError(f"a {fmt} target needs an http(s) URL, got {mask_url(url)}", hint=HINT_APPRISE)


def apprise_available() -> bool:
    """Whether the optional apprise package can be imported."""
    try:
        import_apprise()
    except ImportError:
        return False
    return True


def import_apprise() -> ModuleType:
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
            raise ValidationError(
                f"unknown notification format {quote(fmt)} (choose from {', '.join(FORMATS)})", hint=HINT_FORMAT
            )
    chosen = fmt or (detect_format(url) if url else "json")
    _check_url(url, chosen)
    if chosen == "apprise" and not apprise_available():
        raise KagsyncError(APPRISE_MISSING)
    chosen_kinds = parse_kinds(kinds)
    values = (
        _threshold(top_n, DEFAULT_TOP_N, name="top N", hint=HINT_TOP),
        _threshold(member_move, DEFAULT_MEMBER_MOVE, name="member move", hint=HINT_MEMBER_MOVE),
        _threshold(failing_ticks, DEFAULT_FAILING_TICKS, name="failing ticks", hint=HINT_FAILING_TICKS),
    )
    if name is None:
        # An apprise URL's host can be its token (tgram://TOKEN/...): name it by its scheme.
        name = (urlsplit(url).hostname or "") if chosen != "apprise" else urlsplit(url).scheme.lower()
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"invalid target name {quote(name)}: use letters, digits and . _ - (at most 64 characters)",
            hint=HINT_NAME,
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
                f"a notification target named {name!r} already exists", hint=HINT_NAME_TAKEN
            ) from None
        target_id = cursor.lastrowid
        last = database.conn.execute("SELECT coalesce(max(id), 0) FROM sync_runs").fetchone()[0]
        set_cursor(database, int(target_id or 0), int(last), now)
    return get_target(database, name)


def get_target(database: Database, name: str) -> Target:
    """One target by name."""
    rows = database.query(_TARGET_SELECT + " WHERE t.name = ?", (name.strip(),))
    if not rows:
        raise NotFoundError(f"no notification target {name.strip()!r}", hint=HINT_LIST)
    return _target(rows[0])


def targets(database: Database) -> list[Target]:
    """Every target, by name."""
    return [_target(row) for row in database.query(_TARGET_SELECT + " ORDER BY t.name")]


def list_targets(database: Database) -> list[dict[str, object]]:
    """Every target (URL masked) with its deliveries: ``sent``, ``pending``, ``failed``,
    ``last_sent_at`` and ``last_error``."""
    counts: dict[int, dict[str, object]] = {}
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
        info["last_error"] = printable(scrub(row[0], [target.url])) if row else None
        listed.append(info)
    return listed


def remove_target(database: Database, name: str) -> Target:
    """Delete a target and its delivery record."""
    target = get_target(database, name)
    with write_transaction(database):
        database.conn.execute("DELETE FROM notify_targets WHERE id = ?", (target.id,))
    return target


# -- the cursor -----------------------------------------------------------------------


def get_cursor(database: Database, target_id: int) -> int:
    row = database.conn.execute(
        "SELECT payload FROM notifications WHERE target_id = ? AND change_key = ?", (target_id, CURSOR_KEY)
    ).fetchone()
    if row is None:
        return 0
    try:
        return int(json.loads(row[0])["run_id"])
    except (ValueError, KeyError, TypeError):
        return 0


def set_cursor(database: Database, target_id: int, run_id: int, now: str) -> None:
    database.conn.execute(
        """INSERT INTO notifications (target_id, change_key, payload, status, attempts, created_at, sent_at)
           VALUES (?, ?, ?, 'sent', 0, ?, ?)
           ON CONFLICT (target_id, change_key) DO UPDATE SET payload = excluded.payload, sent_at = excluded.sent_at""",
        (target_id, CURSOR_KEY, json.dumps({"run_id": run_id}), now, now),
    )
