"""The nouns every layer shares: events, competitions, sync outcomes, vocabularies.

This module imports nothing of kagsync, so every other module can name these types
without importing a layer above it. It also holds the one sync rule
(:func:`needs_sync`) and the one home of each default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Literal, TypedDict, get_args

from kagsync.metrics import DirectionNote

# -- vocabularies ----------------------------------------------------------------

Status = Literal["upcoming", "ongoing", "completed"]
STATUSES: tuple[Status, ...] = get_args(Status)

# What started a sync: `competition add`, a status change, `sync`, `import`, `watch`.
Trigger = Literal["add", "status", "manual", "import", "watch"]
TRIGGERS: tuple[Trigger, ...] = get_args(Trigger)

# A run is written as `running` when its sync starts and ends in one of the others.
RunStatus = Literal["running", "ok", "failed", "skipped", "held", "interrupted"]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)

# Why a sync failed, stored in sync_runs.error_kind (documented in the README).
ErrorKind = Literal[
    "auth",  # no credentials, or Kaggle rejected them (401)
    "forbidden",  # 403: the competition's rules are not accepted
    "not_found",  # 404, or the competition was removed during the sync
    "rate_limited",  # 429 after every retry
    "server",  # 5xx after every retry, or another Kaggle refusal
    "network",  # the endpoint could not be reached
    "too_large",  # a download past its size cap or deadline
    "source",  # a local file or folder that cannot provide the board
    "bad_file",  # the file is not a readable leaderboard
    "suspect",  # a board held back as suspect (see max_board_shrink)
    "busy",  # another sync of the competition held the lock too long
    "interrupted",  # Ctrl-C, SIGTERM, or a killed process
    "invalid",  # bad input or settings
    "database",  # the database could not be written
    "internal",  # a bug: see the log
]
ERROR_KINDS: tuple[ErrorKind, ...] = get_args(ErrorKind)

# Error kinds after which waiting longer before the next try is the right answer.
BACKOFF_KINDS: frozenset[ErrorKind] = frozenset({"rate_limited"})


class Hint(StrEnum):
    """What the caller can do about an error or an outcome, as data, not as advice text.

    The library never names a command-line flag: it attaches one of these (and the
    ``subject`` it is about, usually a competition or event slug) and the CLI turns
    it into flag advice. A Python caller reads it as the argument to pass instead.
    """

    FORCE = "force"
    """A board was held back as suspect: sync again with ``force=True`` to apply it."""
    PRIVATE_FORCE = "private_force"
    """A private board was held back: check it again with ``force=True`` to apply it."""
    PRIVATE_EARLY = "private_early"
    """The competition has not ended: a private board now is not final (``force=True`` takes it anyway)."""
    CHOOSE_EVENT = "choose_event"
    """The competition is in several events: say which one (``event=``)."""
    ALL = "all"
    """Nothing was named: name some, or ask for every one (``all_competitions=True``)."""
    ALL_ACTIVE = "all_active"
    """Nothing was named: name some, or ask for every active one (``all_active=True``)."""
    CASCADE = "cascade"
    """The event still has competitions: remove them first, or ``cascade=True``."""
    LOWER_IS_BETTER = "lower_is_better"
    """The direction was guessed as higher-is-better: set ``lower_is_better`` if it is not."""
    DIRECTION_UNKNOWN = "direction_unknown"
    """The scores' direction is not known: set ``lower_is_better``."""
    GIVE_SLUG = "give_slug"
    """No slug can be made from the title: give one (``slug=``)."""
    CREATE_EVENTS = "create_events"
    """An import names unknown events: add them first, or ``create_events=True``."""
    SYNC = "sync"
    """No board is stored yet: sync the competition first."""
    SYNC_PRIVATE = "sync_private"
    """No private board is stored yet: look for it (``boards.check_private``)."""
    SOURCE_DETAILS = "source_details"
    """Details come from Kaggle or from a source folder's ``<slug>.json``: neither is available."""
    NO_DATABASE = "no_database"
    """No database at the path: a writing open (``mode="create"``) makes it, or check the path."""


Board = Literal["public", "private"]
BOARDS: tuple[Board, ...] = get_args(Board)

# -- defaults: the one home of each --------------------------------------------------

DEFAULT_JOBS = 4
MAX_JOBS = 64
DEFAULT_LOCK_TIMEOUT = 600.0
DEFAULT_WATCH_INTERVAL = 300.0
# A week: the watch loop schedules in whole seconds and backs off up to 8x.
MAX_WATCH_INTERVAL = 7 * 24 * 3600.0
DEFAULT_SYNC_STATUSES: tuple[Status, ...] = ("ongoing",)
DEFAULT_STATUS: Status = "upcoming"
DEFAULT_WEIGHT = 1.0
MAX_WEIGHT = 1000.0
MAX_SLUG_LENGTH = 100
# --top and --limit: enough for the biggest board, small enough for SQLite and Python.
MAX_COUNT = 1_000_000


# -- the one sync rule ---------------------------------------------------------------


def needs_sync(
    previous_status: Status | None,
    status: Status,
    sync_statuses: tuple[Status, ...] = DEFAULT_SYNC_STATUSES,
) -> bool:
    """Whether a write to a competition calls for a sync of its leaderboard.

    ``previous_status`` is the stored status before the write, None when the write
    inserted the competition. A new competition always syncs (its board is the point
    of adding it); an existing one syncs when its status changed into one of
    ``sync_statuses``, or from one of them into ``completed``: that is the final sync
    of the public board (and then the private board is looked for). The repository,
    ``import`` (and its dry run), ``watch`` and ``sync --all-active`` all decide with
    this function.
    """
    if previous_status is None:
        return True
    if status == previous_status:
        return False
    return status in sync_statuses or (status == "completed" and previous_status in sync_statuses)


def status_from_dates(start: str | None, end: str | None, now: str) -> Status:
    """The status a competition's dates give (ISO 8601 UTC strings compare as times):
    before its start ``upcoming``, until its end ``ongoing``, after it ``completed``.
    Without dates it is ``upcoming``, as before kagsync knew Kaggle's dates."""
    if end is not None and end <= now:
        return "completed"
    if start is not None and start <= now:
        return "ongoing"
    return "upcoming"


def is_active(status: Status, sync_statuses: tuple[Status, ...] = DEFAULT_SYNC_STATUSES) -> bool:
    """Whether a competition with this status is kept synced (by watch, --all-active)."""
    return status in sync_statuses


# -- events and competitions ---------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """An event grouping several competitions."""

    id: int
    slug: str
    title: str
    description: str | None
    start: str | None
    end: str | None
    created_at: str
    updated_at: str
    competition_count: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Event:
        """An event from a row mapped by column name."""
        return cls(**{name: row[name] for name in _EVENT_FIELDS})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: the schema's column names, without the internal id."""
        data = asdict(self)
        del data["id"]
        return data


@dataclass(frozen=True)
class Competition:
    """A Kaggle competition tracked by kagsync.

    ``last_synced_at`` is the last *successful* sync; ``last_attempt_at`` the last
    attempt, whatever its outcome (``last_sync_status`` and ``last_sync_error`` are
    that attempt's).
    """

    id: int
    slug: str
    title: str
    description: str | None
    events: tuple[str, ...]
    status: Status
    start: str | None
    end: str | None
    lower_is_better: bool
    created_at: str
    updated_at: str
    last_synced_at: str | None
    last_attempt_at: str | None
    last_sync_status: RunStatus | None
    last_sync_error: str | None
    entry_count: int | None
    # Kaggle's details (GetCompetition), when fetched.
    metric: str | None = None
    team_count: int | None = None
    max_team_size: int | None = None
    reward: str | None = None
    category: str | None = None
    merger_deadline: str | None = None
    details_fetched_at: str | None = None
    # watch's back-off after failed details fetches (kagsync.details).
    details_failures: int = 0
    details_retry_at: str | None = None
    # Kaggle's private (final) board: when it was seen released, when it was stored.
    private_released_at: str | None = None
    private_synced_at: str | None = None
    private_checked_at: str | None = None
    # The fields the user set: a refresh from Kaggle never overwrites them.
    user_fields: tuple[str, ...] = ()
    # Where the direction came from, as stored (see kagsync.metrics.direction_origin).
    direction_source: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Competition:
        """A competition from a row mapped by column name."""
        values = {name: row[name] for name in _COMPETITION_FIELDS if name in row}
        values["lower_is_better"] = bool(values["lower_is_better"])
        values["user_fields"] = tuple(json.loads(str(row.get("user_fields") or "[]")))
        values["events"] = tuple(json.loads(str(row.get("events") or "[]")))
        return cls(**values)  # type: ignore[arg-type]

    @property
    def private_released(self) -> bool:
        """True once Kaggle's private (final) board was seen released."""
        return self.private_released_at is not None

    @property
    def url(self) -> str:
        """The competition's page on Kaggle."""
        return f"https://www.kaggle.com/competitions/{self.slug}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: the schema's column names, without the internal id."""
        data = asdict(self)
        del data["id"]
        data["url"] = self.url
        data["user_fields"] = list(self.user_fields)
        data["events"] = list(self.events)
        data["private_released"] = self.private_released
        return data


@dataclass(frozen=True)
class CompetitionFields:
    """What a person says about a competition: each field None when not given.

    The one spelling of a competition's user-set fields, shared by
    :meth:`kagsync.catalog.Competitions.add` and ``edit``, the repository and the
    command line. ``event`` names the event it belongs to (and the one ``weight`` is
    for); an empty ``start``/``end``/``description`` in an edit clears that field.
    """

    title: str | None = None
    event: str | None = None
    status: str | None = None
    start: str | None = None
    end: str | None = None
    description: str | None = None
    lower_is_better: bool | None = None
    weight: float | None = None

    def given(self) -> dict[str, object]:
        """The fields given (not None), by name."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    @classmethod
    def from_values(cls, values: Mapping[str, object]) -> CompetitionFields:
        """The fields from loosely typed values (keywords, an import line, Kaggle's details).

        Like the constructor, an unknown name is a TypeError, and so is a value of the
        wrong kind: text fields take text, ``weight`` a number (checked, as every weight,
        by the repository). ``lower_is_better`` is read as true or false, as it is stored.
        """
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise TypeError(f"unknown competition field {unknown[0]!r}")

        def text(name: str) -> str | None:
            value = values.get(name)
            if value is None or isinstance(value, str):
                return value
            raise TypeError(f"competition field {name!r}: expected text, got {type(value).__name__}")

        weight = values.get("weight")
        if weight is not None and not isinstance(weight, (int, float)):
            raise TypeError(f"competition field 'weight': expected a number, got {type(weight).__name__}")
        lower = values.get("lower_is_better")
        return cls(
            title=text("title"),
            event=text("event"),
            status=text("status"),
            start=text("start"),
            end=text("end"),
            description=text("description"),
            lower_is_better=None if lower is None else bool(lower),
            weight=weight,
        )


_EVENT_FIELDS = tuple(Event.__dataclass_fields__)
_COMPETITION_FIELDS = tuple(Competition.__dataclass_fields__)


# -- syncs ---------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    """What one sync attempt did; its fields are the columns of its ``sync_runs`` row."""

    competition: str
    trigger: Trigger
    source: str
    status: RunStatus
    started_at: str
    finished_at: str
    seconds: float
    entries: int | None = None
    created: int = 0
    updated: int = 0
    removed: int = 0
    top_score: str | None = None
    previous_entries: int | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    run_id: int | None = None
    board: Board = "public"
    # A board without a rank column ranked in a direction nobody stated (issue 19).
    direction_note: DirectionNote | None = None

    @property
    def ok(self) -> bool:
        """True when the board was synced."""
        return self.status == "ok"

    @property
    def hint(self) -> Hint | None:
        """What can be done about it: a held board is applied by syncing again with force."""
        if self.status != "held":
            return None
        return Hint.PRIVATE_FORCE if self.board == "private" else Hint.FORCE

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


class Note(str):
    """A remark about a write that did not stop it (details not fetched, a guessed direction...).

    It is its text, so it prints and compares as one; ``hint`` says what can be done.
    """

    hint: Hint | None

    def __new__(cls, text: str, hint: Hint | None = None) -> Note:
        note = super().__new__(cls, text)
        note.hint = hint
        return note


@dataclass
class Saved:
    """A competition as written, with the syncs the write triggered (if any)."""

    competition: Competition
    syncs: list[SyncOutcome] = field(default_factory=list)
    created: bool = False
    changed: bool = False
    # Things the user should know that did not stop the write (details not fetched...).
    notes: list[str] = field(default_factory=list)
    # What Kaggle's details filled in (column -> value), for display.
    filled: dict[str, object] = field(default_factory=dict)


class RunRecord(TypedDict):
    """One row of ``kagsync runs``: a ``sync_runs`` row with its competition's slug."""

    id: int
    competition: str
    board: str
    trigger: str
    source: str
    status: str
    started_at: str
    finished_at: str | None
    entries: int | None
    created: int | None
    updated: int | None
    removed: int | None
    top_score: str | None
    error: str | None
    error_kind: str | None


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: entries, competitions, and standings rows (None without an event)."""

    entries: int
    competitions: int
    standings_rows: int | None = None
