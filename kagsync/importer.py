"""Bulk import of competitions from a CSV file.

Reading is separate from writing: :func:`read_import` checks the whole file against
the database and returns an :class:`ImportPlan` (what each line would do) without
writing anything; :func:`apply_import` writes a plan; :func:`import_file` does both
(or only the first, for a dry run).

The file is CSV with a header. Column names are case-insensitive, surrounding spaces
are ignored, and ``-`` or a space count as ``_`` (``Lower Is Better``). Columns:

- ``slug`` (also ``kaggle_id``, ``kaggle_competition_id``): required; the value may be
  a Kaggle URL of the competition;
- optional ``title``, ``event``, ``status``, ``start``, ``end``, ``description``,
  ``lower_is_better`` (true/false/yes/no/1/0) and ``weight``.

An empty cell means "not given": a new competition gets the default, an existing one
keeps its stored value. Columns the file does not have are never touched either.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kagsync.errors import Hint, KagsyncError, NotFoundError, UnknownCompetitionError, ValidationError
from kagsync.final import DETAIL_ONLY_COLUMNS, fill_from_details
from kagsync.models import (
    DEFAULT_STATUS,
    DEFAULT_WEIGHT,
    Competition,
    CompetitionFields,
    Saved,
    SyncOutcome,
    needs_sync,
)
from kagsync.repository import Repository
from kagsync.sources import Details
from kagsync.values import (
    check_range,
    parse_bool_text,
    parse_competition_slug,
    parse_status,
    parse_time,
    parse_weight,
    validate_event_slug,
)

__all__ = [
    "COLUMNS",
    "COLUMN_ALIASES",
    "ImportPlan",
    "ImportResult",
    "ImportValidationError",
    "RowChange",
    "apply_import",
    "import_file",
    "read_import",
]

COLUMNS = ("slug", *CompetitionFields.__dataclass_fields__)
"""The columns an import file may have (``slug`` is required)."""

COLUMN_ALIASES = {"kaggle_id": "slug", "kaggle_competition_id": "slug"}
"""Other names accepted for a column."""


class ImportValidationError(ValidationError):
    """An import file with problems; :attr:`problems` holds one line per problem.

    The message is the first problem, followed by "(and N more)" when there are more.
    """

    def __init__(self, problems: Sequence[str], *, hint: Hint | None = None) -> None:
        self.problems = list(problems)
        message = self.problems[0] if self.problems else "the import file has problems"
        if len(self.problems) > 1:
            message += f" (and {len(self.problems) - 1} more)"
        super().__init__(message, hint=hint)


@dataclass
class RowChange:
    """What one line of the file does.

    ``action`` is ``new``, ``updated`` or ``unchanged``; ``changes`` maps each field
    that would change to its (stored, new) values, for display; ``record`` is what is
    handed to :meth:`Repository.import_competitions`; ``would_sync`` is True for a new
    competition and one whose status changes into a sync status (whether a sync really
    happens also depends on the repository having a sync hook).
    """

    line: int
    slug: str
    action: str
    record: dict[str, object]
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)
    would_sync: bool = False
    # An existing competition that has never synced successfully (an interrupted import).
    pending: bool = False
    # What Kaggle's details fill in (column -> value), and notes (details not fetched...).
    filled: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    """A validated import file: its lines in file order and the events to create."""

    path: Path
    rows: list[RowChange]
    events_to_create: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        """How many lines have this action."""
        return sum(1 for row in self.rows if row.action == action)


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    plan: ImportPlan
    dry_run: bool = False
    syncing: bool = False
    events_created: list[str] = field(default_factory=list)
    saved: list[Saved] = field(default_factory=list)

    @property
    def outcomes(self) -> list[SyncOutcome]:
        """The sync outcomes, in file order."""
        return [outcome for saved in self.saved for outcome in saved.syncs]


# -- reading ------------------------------------------------------------------


def _normalise_column(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return COLUMN_ALIASES.get(key, key)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValidationError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportValidationError([f"{path.name} line {line}: not UTF-8 text (save the file as CSV UTF-8)"]) from None


def table_lines(
    name: str, records: Iterator[tuple[int, list[str] | None, str | None]], width: int, problems: list[str]
) -> Iterator[tuple[int, list[str]]]:
    """The data lines after the header: (line number, cells), blank lines skipped.

    A line with the wrong number of cells is a problem (and skipped); a CSV error is a
    problem and ends the file. Shared by the competition and the roster import.
    """
    for line, cells, csv_error in records:
        if csv_error is not None:
            problems.append(f"{name} line {line}: {csv_error}")
            return
        assert cells is not None
        if all(not cell.strip() for cell in cells):
            continue
        if len(cells) != width:
            problems.append(f"{name} line {line}: {len(cells)} values, but the header has {width} columns")
            continue
        yield line, cells


def _records(text: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line number, cells, csv error) for each record of the file."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield previous + 1, None, f"not valid CSV ({exc})"
            return
        yield previous + 1, cells, None
        previous = reader.line_num


def read_import(
    path: Path | str,
    repository: Repository,
    *,
    event: str | None = None,
    create_events: bool = False,
    details_of: DetailsLookup | None = None,
) -> ImportPlan:
    """Read and check a whole import file against the database; write nothing.

    ``details_of`` looks up Kaggle's details of each new competition (see
    :func:`kagsync.details.fetch_details`): they fill what the line leaves empty, and a
    slug Kaggle does not know is a bad line like any other.

    ``event`` applies to lines with no event. An event that does not exist is a problem
    unless ``create_events`` (then it is listed in :attr:`ImportPlan.events_to_create`).

    Raises:
        ImportValidationError: every problem of the file, one line each, naming the
            file and the line ("comps.csv line 4: ...").
        ValidationError: the file cannot be read at all.
    """
    path = Path(path)
    name = path.name
    text = _read_text(path)
    problems: list[str] = []
    events = repository.list_events()
    event_slugs = {e.id: e.slug for e in events}
    event_problem = _EventCheck({e.slug for e in events}, create_events)
    to_create = event_problem.to_create

    default_event = (event or "").strip() or None
    default_event_ok = True
    if default_event is not None:
        reason = event_problem(default_event)
        if reason is not None:
            problems.append(f"the default event: {reason}")
            default_event_ok = False

    records = _records(text)
    header_line, header, csv_error = next(records, (1, None, None))
    if csv_error is not None:
        raise ImportValidationError([f"{name} line {header_line}: {csv_error}"])
    if not header or all(not cell.strip() for cell in header):
        raise ImportValidationError(
            [f"{name}: no header line (the first line must name the columns, e.g. slug,title,status)"]
        )
    columns, header_problems = _header_columns(name, header_line, header)
    if header_problems:
        # Without a usable header, the lines cannot be read.
        raise ImportValidationError(problems + header_problems, hint=event_problem.hint)

    rows: list[RowChange] = []
    seen: dict[str, int] = {}
    for line, cells in table_lines(name, records, len(columns), problems):
        values = {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}
        reasons: list[str] = []
        row = _check_row(
            values,
            repository,
            default_event if default_event_ok else None,
            event_problem,
            reasons,
            to_create,
            event_slugs,
        )
        slug = _slug_or_none(values.get("slug", ""))
        if slug is not None and slug in seen:
            reasons.append(f"competition {slug!r} is already on line {seen[slug]}")
        elif slug is not None:
            seen[slug] = line
        if reasons:
            problems.append(f"{name} line {line}: " + "; ".join(reasons))
            continue
        assert row is not None
        row.line = line
        rows.append(row)
    if not problems:
        problems += _whole_file_checks(name, rows, details_of)
    if problems:
        raise ImportValidationError(problems, hint=event_problem.hint)
    used = {row.record.get("event_slug") for row in rows}
    return ImportPlan(path=path, rows=rows, events_to_create=[e for e in to_create if e in used])


# slug -> (Kaggle's details or None, a note when they could not be fetched); raises
# UnknownCompetitionError for a slug Kaggle does not know.
DetailsLookup = Callable[[str], tuple[Details | None, str | None]]

# Lookups of details run a few at a time: each is one small request to Kaggle.
_DETAIL_LOOKUPS_AT_ONCE = 4


def _whole_file_checks(name: str, rows: Sequence[RowChange], details_of: DetailsLookup | None) -> list[str]:
    """Checks once every line is valid: something to import, and Kaggle knows each new slug."""
    if not rows:
        return [f"{name}: no competitions after the header line"]
    if details_of is None:
        return []
    return _fill_from_details(name, [row for row in rows if row.action == "new"], details_of)


def _fill_from_details(name: str, rows: Sequence[RowChange], details_of: DetailsLookup) -> list[str]:
    """Fill new lines from Kaggle's details; returns the problems (slugs Kaggle does not know)."""
    from concurrent.futures import ThreadPoolExecutor

    def look_up(row: RowChange) -> tuple[Details | None, str | None] | str:
        try:
            return details_of(row.slug)
        except UnknownCompetitionError as error:
            return f"{name} line {row.line}: {error}"

    with ThreadPoolExecutor(max_workers=_DETAIL_LOOKUPS_AT_ONCE) as pool:
        found = list(pool.map(look_up, rows))
    problems: list[str] = []
    for row, result in zip(rows, found, strict=True):
        if isinstance(result, str):
            problems.append(result)
            continue
        details, note = result
        if note:
            row.notes.append(note)
        given = {key: value for key, value in row.record.items() if key in _USER_COLUMNS}
        fill = fill_from_details(given, details)
        row.notes += fill.notes
        row.filled = dict(fill.filled)
        for key, value in fill.fields.items():
            if key in fill.filled or key in DETAIL_ONLY_COLUMNS:
                row.record[key] = int(value) if isinstance(value, bool) else value
        row.record["user_fields"] = json.dumps(sorted(given))
    return problems


# The columns a line can give (the user's, which Kaggle's details never overwrite).
_USER_COLUMNS = frozenset(set(CompetitionFields.__dataclass_fields__) - {"event"} | {"event_id", "event_slug"})


class _EventCheck:
    """Whether an event named by the file exists or will be created (with ``create_events``)."""

    def __init__(self, existing: set[str], create: bool) -> None:
        self.existing = existing
        self.create = create
        self.to_create: list[str] = []
        # True once an unknown event was met: the error then carries the CREATE_EVENTS hint.
        self.unknown = False

    @property
    def hint(self) -> Hint | None:
        """CREATE_EVENTS once an unknown event was met."""
        return Hint.CREATE_EVENTS if self.unknown else None

    def __call__(self, slug: str) -> str | None:
        """None when the event exists or will be created; else the reason."""
        if slug in self.existing or slug in self.to_create:
            return None
        if not self.create:
            self.unknown = True
            return f"unknown event {slug!r}"
        try:
            validate_event_slug(slug)
        except ValidationError as error:
            return str(error)
        if slug != slug.lower():
            return f"invalid event slug {slug!r}: use lowercase letters, digits and hyphens"
        self.to_create.append(slug)
        return None


def _header_columns(name: str, line: int, header: list[str]) -> tuple[list[str], list[str]]:
    """The header's column names and every problem with them."""
    columns: list[str] = []
    problems: list[str] = []
    for position, raw in enumerate(header, start=1):
        column = _normalise_column(raw)
        if not column:
            problems.append(f"{name} line {line}: column {position} has no name")
        elif column not in COLUMNS:
            problems.append(
                f"{name} line {line}: unknown column {raw.strip()!r} "
                f"(known: {', '.join(COLUMNS)}; slug may also be called kaggle_id or kaggle_competition_id)"
            )
        elif column in columns:
            problems.append(f"{name} line {line}: column {column!r} appears twice")
        columns.append(column)
    if "slug" not in columns:
        problems.append(f"{name} line {line}: no slug column (name it slug, kaggle_id or kaggle_competition_id)")
    return columns, problems


def _slug_or_none(text: str) -> str | None:
    try:
        return parse_competition_slug(text) if text else None
    except ValidationError:
        return None


# Each column's parser: the same ones `competition add/edit` use.
_PARSERS: dict[str, Callable[[str], object]] = {
    "status": parse_status,
    "start": lambda text: parse_time(text, name="start"),
    "end": lambda text: parse_time(text, name="end"),
    "lower_is_better": lambda text: parse_bool_text(text, name="lower_is_better"),
    "weight": parse_weight,
}


def _given_values(values: dict[str, str], reasons: list[str]) -> dict[str, object]:
    """The line's non-empty cells, each parsed once; a bad cell adds its reason."""
    given: dict[str, object] = {key: values[key] for key in ("title", "description") if values.get(key)}
    for key, parse in _PARSERS.items():
        if values.get(key):
            try:
                given[key] = parse(values[key])
            except ValidationError as error:
                reasons.append(str(error))
    return given


def _check_row(
    values: dict[str, str],
    repository: Repository,
    default_event: str | None,
    event_problem: _EventCheck,
    reasons: list[str],
    to_create: list[str],
    event_slugs: dict[int, str],
) -> RowChange | None:
    """Validate one line; append every reason it is bad to ``reasons``."""
    slug_text = values.get("slug", "")
    slug = None
    if not slug_text:
        reasons.append("no slug")
    else:
        try:
            slug = parse_competition_slug(slug_text)
        except ValidationError as error:
            reasons.append(str(error))

    given = _given_values(values, reasons)
    event = values.get("event") or default_event
    if values.get("event"):
        reason = event_problem(values["event"])
        if reason is not None:
            reasons.append(reason)
            event = None
    if event:
        given["event"] = event
    if reasons or slug is None:
        return None

    existing = repository.find_competition(slug)
    try:
        record = repository.validate_competition(
            slug,
            title=given.get("title"),
            event=given.get("event"),
            status=given.get("status", DEFAULT_STATUS),
            start=given.get("start"),
            end=given.get("end"),
            description=given.get("description"),
            lower_is_better=given.get("lower_is_better", False),
            weight=given.get("weight", DEFAULT_WEIGHT),
            known_events=to_create,
        )
        if existing is not None:
            # The range as it will be stored: given values over stored ones.
            check_range(
                record["start"] if "start" in given else existing.start,
                record["end"] if "end" in given else existing.end,
            )
    except KagsyncError as error:
        reasons.append(str(error))
        return None

    # Only what the file gives: a new competition gets the table's defaults for the
    # rest, and one that exists by the time of the write (another process may add it)
    # is updated without the defaults overwriting its stored values.
    keep = {"slug"} | {key for key in given if key != "event"}
    if "event" in given:
        keep |= {"event_id", "event_slug"}
    kept: dict[str, object] = {key: value for key, value in record.items() if key in keep}
    if existing is None:
        return RowChange(
            line=0,
            slug=slug,
            action="new",
            record=kept,
            would_sync=needs_sync(None, record["status"] if "status" in given else DEFAULT_STATUS),
        )
    changes = _changes(existing, kept, event_slugs, repository.competition_weights(existing.slug))
    pending = existing.last_synced_at is None  # never synced: due again, as when new
    would_sync = needs_sync(
        None if pending else existing.status,
        record["status"] if "status" in given else existing.status,
        repository.sync_statuses,
    )
    return RowChange(
        line=0,
        slug=slug,
        action="updated" if changes else "unchanged",
        record=kept,
        changes=changes,
        would_sync=would_sync,
        pending=pending,
    )


def _changes(
    existing: Competition, record: Mapping[str, object], event_slugs: dict[int, str], weights: dict[str, float]
) -> dict[str, tuple[object, object]]:
    """The fields of ``record`` that differ from the stored competition: name -> (old, new).

    An event the competition is not in yet is added (never removed from others); a
    weight is compared with the competition's weight in the line's event.
    """
    changes: dict[str, tuple[object, object]] = {}
    named, event_id = record.get("event_slug"), record.get("event_id")
    event = named if isinstance(named, str) and named else None
    if event is None and isinstance(event_id, int):
        event = event_slugs.get(event_id)
    for key, value in record.items():
        if key == "slug":
            continue
        if key in ("event_slug", "event_id"):
            if event is not None and event not in existing.events:
                changes["events"] = (", ".join(existing.events) or None, ", ".join(sorted({*existing.events, event})))
        elif key == "weight":
            old = weights.get(event) if event else (next(iter(weights.values())) if len(weights) == 1 else None)
            if old != value:
                changes[key] = (old, value)
        elif key == "lower_is_better":
            if int(existing.lower_is_better) != value:
                changes[key] = (existing.lower_is_better, bool(value))
        else:
            old = getattr(existing, key)
            if old != value:
                changes[key] = (old, value)
    return changes


# -- writing ------------------------------------------------------------------


def apply_import(repository: Repository, plan: ImportPlan, *, sync: bool = True) -> ImportResult:
    """Create the plan's events, then insert or update every competition in one transaction.

    New competitions and those whose status changed into a sync status are then synced
    through the repository's sync hook (in parallel, trigger ``import``), unless
    ``sync`` is False or the repository has no hook. A failed sync keeps the competition.
    """
    # Events and competitions are written in one transaction: all or nothing.
    created = [slug for slug in plan.events_to_create if not _event_exists(repository, slug)]
    saved = repository.import_competitions(
        [row.record for row in plan.rows], new_events=created, sync=sync, trigger="import"
    )
    return ImportResult(
        plan=plan, events_created=created, saved=saved, syncing=sync and repository.sync_hook is not None
    )


def _event_exists(repository: Repository, slug: str) -> bool:
    try:
        repository.get_event(slug)
    except NotFoundError:
        return False
    return True


def import_file(
    repository: Repository,
    path: Path | str,
    *,
    event: str | None = None,
    create_events: bool = False,
    dry_run: bool = False,
    sync: bool = True,
    details_of: DetailsLookup | None = None,
) -> ImportResult:
    """Check a whole import file, then (unless ``dry_run``) write it and sync what needs it.

    Raises :class:`ImportValidationError` listing every bad line; nothing is written then.
    """
    plan = read_import(path, repository, event=event, create_events=create_events, details_of=details_of)
    if dry_run:
        return ImportResult(plan=plan, dry_run=True, syncing=sync and repository.sync_hook is not None)
    return apply_import(repository, plan, sync=sync)
