"""Every read and write of events and competitions.

This is also the one place where "a competition was inserted" or "its status changed
into a sync status" turns into a sync: see :meth:`Repository._sync_after_write`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NotRequired, TypedDict

from kagsync.db import Database, write_transaction
from kagsync.errors import AlreadyExistsError, Hint, NotFoundError, ValidationError
from kagsync.models import (
    DEFAULT_STATUS,
    DEFAULT_SYNC_STATUSES,
    DEFAULT_WEIGHT,
    Competition,
    CompetitionFields,
    Event,
    Saved,
    Status,
    SyncOutcome,
    Trigger,
    needs_sync,
)
from kagsync.values import (
    check_range,
    now_iso,
    parse_competition_slug,
    parse_status,
    parse_time,
    parse_weight,
    slugify,
    validate_event_slug,
)

# Called with (competition, trigger) pairs that need a sync; returns one outcome each.
SyncHook = Callable[[Sequence[tuple[Competition, Trigger]]], list[SyncOutcome]]

# The columns a competition is read with: every stored field, its event's slug.
_COMPETITION_SELECT = """
    SELECT c.*, (SELECT json_group_array(slug) FROM (
                     SELECT e.slug FROM event_competitions ec JOIN events e ON e.id = ec.event_id
                     WHERE ec.competition_id = c.id ORDER BY e.slug)) AS events
    FROM competitions c
"""

_EVENT_SELECT = """
    SELECT e.*, (SELECT count(*) FROM event_competitions ec WHERE ec.event_id = e.id) AS competition_count
    FROM events e
"""


class CompetitionRecord(TypedDict):
    """A competition's fields checked and in their stored form (the schema's column names).

    What :meth:`Repository.validate_competition` returns and
    :meth:`Repository.import_competitions` writes. ``event_slug`` names an event that
    will exist by the write (created by the import); ``event_id`` one that exists.
    """

    slug: str
    title: str
    description: str | None
    status: Status
    start: str | None
    end: str | None
    lower_is_better: int
    weight: NotRequired[float]
    event_slug: NotRequired[str]
    event_id: NotRequired[int]


# The columns of a competition to write, by name: a CompetitionRecord, a part of one
# (an import line writes only what it gives) or more (the columns Kaggle's details fill).
Columns = Mapping[str, object]

# A written competition: its stored state and its status before the write (None
# when the write inserted it), the input of the sync rule.
Written = tuple[Competition, Status | None]


class EventStore:
    """Events, and the links (with weights) between events and competitions.

    The base of :class:`Repository`: both share one database and one way to update a row.
    """

    def __init__(
        self,
        db: Database,
        *,
        sync_hook: SyncHook | None = None,
        sync_statuses: Iterable[Status] = DEFAULT_SYNC_STATUSES,
    ) -> None:
        self.db = db
        self.sync_hook = sync_hook
        self.sync_statuses: tuple[Status, ...] = tuple(sync_statuses)

    # -- events ---------------------------------------------------------------

    def add_event(
        self,
        title: str,
        *,
        slug: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
    ) -> Event:
        """Create an event; the slug is derived from the title when not given."""
        if not title.strip():
            raise ValidationError("event title is empty")
        slug = validate_event_slug(slug) if slug else slugify(title)
        start = parse_time(start, name="start") if start else None
        end = parse_time(end, name="end") if end else None
        check_range(start, end)
        now = now_iso()
        record = {
            "slug": slug,
            "title": title.strip(),
            "description": description,
            "start": start,
            "end": end,
            "created_at": now,
            "updated_at": now,
        }
        with write_transaction(self.db):
            try:
                self.db.utils.table("events").insert(record)
            except sqlite3.IntegrityError:
                raise AlreadyExistsError(f"event {slug!r} already exists") from None
        return self.get_event(slug)

    def get_event(self, slug: str) -> Event:
        """One event by slug."""
        rows = self.db.query(_EVENT_SELECT + " WHERE e.slug = ?", (slug,))
        if not rows:
            raise NotFoundError(f"no event {slug!r} (see `kagsync event list`)")
        return Event.from_row(rows[0])

    def list_events(self) -> list[Event]:
        """Every event, by start then slug."""
        rows = self.db.query(_EVENT_SELECT + " ORDER BY e.start IS NULL, e.start, e.slug")
        return [Event.from_row(row) for row in rows]

    def edit_event(
        self,
        slug: str,
        *,
        title: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
    ) -> Event:
        """Change the given fields of an event; an empty start/end/description clears it."""
        event = self.get_event(slug)
        changes: dict[str, object] = {}
        if title is not None:
            if not title.strip():
                raise ValidationError("event title is empty")
            changes["title"] = title.strip()
        changes |= _dates(start, end, event.start, event.end)
        if description is not None:
            changes["description"] = description or None
        if changes:
            self._update("events", event.id, changes)
        return self.get_event(slug)

    def check_remove_event(self, slug: str, *, cascade: bool = False) -> Event:
        """Refuse (as :meth:`remove_event` would) to remove an event that still has
        competitions, unless ``cascade``; writes nothing."""
        event = self.get_event(slug)
        if event.competition_count and not cascade:
            raise ValidationError(
                f"event {slug!r} still has {event.competition_count} competition(s): remove them first",
                hint=Hint.CASCADE,
                subject=slug,
            )
        return event

    def remove_event(self, slug: str, *, cascade: bool = False) -> int:
        """Delete an event; with ``cascade`` also its competitions that belong to no other
        event (with their boards). Competitions shared with other events stay there.

        Returns the number of competitions removed with it.
        """
        with write_transaction(self.db):
            event = self.check_remove_event(slug, cascade=cascade)
            removed = self.db.conn.execute(
                """DELETE FROM competitions WHERE id IN (
                       SELECT competition_id FROM event_competitions WHERE event_id = :event)
                   AND NOT EXISTS (SELECT 1 FROM event_competitions other
                                   WHERE other.competition_id = competitions.id AND other.event_id != :event)""",
                {"event": event.id},
            ).rowcount
            self.db.conn.execute("DELETE FROM events WHERE id = ?", (event.id,))
        return int(removed)

    def event_weights(self, slug: str) -> dict[str, float]:
        """The weight of each competition of an event (competition slug -> weight)."""
        event = self.get_event(slug)
        rows = self.db.conn.execute(
            """SELECT c.slug, ec.weight FROM event_competitions ec JOIN competitions c ON c.id = ec.competition_id
               WHERE ec.event_id = ?""",
            (event.id,),
        )
        return {row[0]: float(row[1]) for row in rows}

    def _weight_event(self, competition: Competition, event: str | None, adding: Sequence[str]) -> int:
        """The event whose weight a weight sets: the one named, else the only one."""
        events = sorted(set(competition.events) | set(adding))
        if event is not None:
            if event not in events:
                raise ValidationError(f"competition {competition.slug!r} is not in event {event!r}")
            return self.get_event(event).id
        if len(events) == 1:
            return self.get_event(events[0]).id
        if not events:
            raise ValidationError(f"competition {competition.slug!r} is in no event: a weight is per event")
        raise ValidationError(
            f"competition {competition.slug!r} is in {len(events)} events ({', '.join(events)}): say which",
            hint=Hint.CHOOSE_EVENT,
            subject=competition.slug,
        )

    def _link(self, competition_id: int, event_id: int, *, weight: float | None = None) -> None:
        """Put a competition in an event (caller holds the transaction); with ``weight``, set it."""
        self.db.conn.execute(
            """INSERT INTO event_competitions (event_id, competition_id, weight, added_at)
               VALUES (:event, :competition, coalesce(:weight, :default), :now)
               ON CONFLICT (event_id, competition_id) DO UPDATE SET weight = coalesce(:weight, weight)""",
            {
                "event": event_id,
                "competition": competition_id,
                "weight": weight,
                "default": DEFAULT_WEIGHT,
                "now": now_iso(),
            },
        )

    def _record_event(self, values: dict[str, object]) -> int | None:
        """Take the event of a record (by id, or by slug for an event created meanwhile)."""
        if "event_slug" in values:
            return self.get_event(str(values.pop("event_slug"))).id
        event_id = values.pop("event_id", None)
        if event_id is None:
            return None
        assert isinstance(event_id, int), event_id  # an id read from the events table
        return event_id

    def _competition_by_id(self, competition_id: int) -> Competition:
        rows = self.db.query(_COMPETITION_SELECT + " WHERE c.id = ?", (competition_id,))
        return Competition.from_row(rows[0])

    def _update(self, table: str, row_id: int, changes: Columns, *, in_transaction: bool = False) -> None:
        values = dict(changes)
        event_id = self._record_event(values) if table == "competitions" else None
        weight = _pop_weight(values) if table == "competitions" else None
        values["updated_at"] = now_iso()
        with contextlib.ExitStack() as stack:
            if not in_transaction:
                stack.enter_context(write_transaction(self.db))
            self.db.utils.table(table).update(row_id, values)
            if event_id is not None:
                # An import adds to the event it names and never removes from others.
                self._link(row_id, event_id, weight=weight)
            elif weight is not None:
                competition = self._competition_by_id(row_id)
                self._link(row_id, self._weight_event(competition, None, ()), weight=weight)


class CompetitionRecords(EventStore):
    """Reading a competition and turning a person's fields into a stored record."""

    def competition_weights(self, slug: str) -> dict[str, float]:
        """The competition's weight in each of its events (event slug -> weight)."""
        return self._competition_weights(self.get_competition(slug).id)

    def _competition_weights(self, competition_id: int) -> dict[str, float]:
        rows = self.db.conn.execute(
            """SELECT e.slug, ec.weight FROM event_competitions ec JOIN events e ON e.id = ec.event_id
               WHERE ec.competition_id = ?""",
            (competition_id,),
        )
        return {row[0]: float(row[1]) for row in rows}

    def get_competition(self, slug_or_url: str) -> Competition:
        """One competition by slug or Kaggle URL."""
        slug = parse_competition_slug(slug_or_url)
        found = self.find_competition(slug)
        if found is None:
            raise NotFoundError(f"no competition {slug!r} (see `kagsync competition list`)")
        return found

    def find_competition(self, slug: str) -> Competition | None:
        """One competition by slug, or None."""
        rows = self.db.query(_COMPETITION_SELECT + " WHERE c.slug = ?", (slug,))
        return Competition.from_row(rows[0]) if rows else None

    def _competition_record(
        self, slug_or_url: str, fields: CompetitionFields, *, known_events: set[str] | None = None
    ) -> CompetitionRecord:
        """The stored form of a new competition: its fields checked, with their defaults
        (title: the slug, status: upcoming, higher is better, weight 1)."""
        slug = parse_competition_slug(slug_or_url)
        start = parse_time(fields.start, name="start") if fields.start else None
        end = parse_time(fields.end, name="end") if fields.end else None
        check_range(start, end)
        record: CompetitionRecord = {
            "slug": slug,
            "title": (fields.title or "").strip() or slug,
            "description": fields.description or None,
            "status": parse_status(fields.status or DEFAULT_STATUS),
            "start": start,
            "end": end,
            "lower_is_better": int(bool(fields.lower_is_better)),
        }
        if fields.weight is not None:
            record["weight"] = parse_weight(fields.weight)
        event = fields.event
        if event:
            if known_events is not None and event in known_events:
                record["event_slug"] = event
            else:
                record["event_id"] = self.get_event(event).id
        return record

    def _insert_competition(self, record: Columns) -> int:
        values = dict(record)
        event_id = self._record_event(values)
        weight = _pop_weight(values)
        # A sparse record (an import line that gives only some columns) gets the
        # schema's defaults for the rest; only the title's default is the slug.
        values.setdefault("title", values["slug"])
        now = now_iso()
        values.update(created_at=now, updated_at=now)
        try:
            competition_id = self.db.utils.table("competitions").insert(values).last_rowid
        except sqlite3.IntegrityError:
            raise AlreadyExistsError(
                f"competition {values['slug']!r} already exists (change it with `kagsync competition edit`)"
            ) from None
        assert competition_id is not None
        if event_id is not None:
            self._link(competition_id, event_id, weight=weight)
        return competition_id

    def _stored(self, competition: Competition, key: str, record: Columns) -> object:
        """A competition's stored value under a record's key, for change detection.

        An event is "stored" when the competition is already in it; a weight is the one
        of the record's event (or of the competition's only event).
        """
        if key == "event_slug":
            return record[key] if record[key] in competition.events else None
        if key == "event_id":
            linked = {self.get_event(slug).id for slug in competition.events}
            return record[key] if record[key] in linked else None
        if key == "weight":
            named = record.get("event_slug")
            event = named if isinstance(named, str) and named else self._event_slug(record.get("event_id"))
            weights = {slug: w for slug, w in self._competition_weights(competition.id).items()}
            if event is None and len(weights) == 1:
                return next(iter(weights.values()))
            return weights.get(event) if event else None
        if key == "lower_is_better":
            return int(competition.lower_is_better)
        return getattr(competition, key)

    def _event_slug(self, event_id: object) -> str | None:
        row = self.db.conn.execute("SELECT slug FROM events WHERE id = ?", (event_id,)).fetchone()
        return str(row[0]) if row else None


class Repository(CompetitionRecords):
    """Events and competitions in one kagsync database."""

    # -- competitions ---------------------------------------------------------

    def add_competition(
        self,
        slug_or_url: str,
        *,
        sync: bool = True,
        extra: Mapping[str, object] | None = None,
        more_events: Sequence[str] = (),
        **fields: object,
    ) -> Saved:
        """Store a new competition, then sync it (unless ``sync`` is False or no hook is set).

        ``fields`` are those of :meth:`validate_competition`: title, event, status,
        start, end, description, lower_is_better, weight.
        """
        record = self._competition_record(slug_or_url, CompetitionFields.from_values(fields))
        others = [self.get_event(slug) for slug in more_events]
        with write_transaction(self.db):
            competition_id = self._insert_competition({**record, **(extra or {})})
            for other in others:
                self._link(competition_id, other.id, weight=record.get("weight"))
        competition = self.get_competition(record["slug"])
        saved = Saved(competition, created=True, changed=True)
        if sync:
            saved.syncs = self.sync_after_write([(competition, None)], trigger="add")
        return saved

    def list_competitions(
        self, *, event: str | None = None, status: str | Iterable[str] | None = None
    ) -> list[Competition]:
        """Competitions, optionally of one event and/or with the given status(es)."""
        where: list[str] = []
        params: list[object] = []
        if event is not None:
            where.append("c.id IN (SELECT competition_id FROM event_competitions WHERE event_id = ?)")
            params.append(self.get_event(event).id)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            statuses = [parse_status(s) for s in statuses]
            where.append(f"c.status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        sql = _COMPETITION_SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.slug"
        return [Competition.from_row(row) for row in self.db.query(sql, params)]

    def edit_competition(
        self,
        slug_or_url: str,
        *,
        title: str | None = None,
        event: str | None = None,
        start: str | None = None,
        end: str | None = None,
        description: str | None = None,
        lower_is_better: bool | None = None,
        weight: float | None = None,
        add_events: Sequence[str] = (),
        remove_events: Sequence[str] = (),
    ) -> Competition:
        """Change the given fields; empty start/end/description clear them.

        ``add_events`` links the competition to more events, ``remove_events`` unlinks
        it. ``weight`` is its weight in ``event`` (which may be omitted while the
        competition is in one event only). Never triggers a sync: only inserts and
        status changes do.
        """
        competition = self.get_competition(slug_or_url)
        added = [self.get_event(slug) for slug in add_events]
        for slug in remove_events:
            self.get_event(slug)
            if slug not in competition.events:
                raise ValidationError(f"competition {competition.slug!r} is not in event {slug!r}")
        weight_event = self._weight_event(competition, event, [e.slug for e in added]) if weight is not None else None
        changes: dict[str, object] = {}
        if title is not None:
            if not title.strip():
                raise ValidationError("competition title is empty")
            changes["title"] = title.strip()
        changes |= _dates(start, end, competition.start, competition.end)
        if description is not None:
            changes["description"] = description or None
        if lower_is_better is not None:
            changes["lower_is_better"] = int(lower_is_better)
            changes["direction_source"] = "user"  # never again guessed from a board (issue 19)
        with write_transaction(self.db):
            if changes:
                self._update("competitions", competition.id, changes, in_transaction=True)
            for found in added:
                self._link(competition.id, found.id)
            for slug in remove_events:
                self.db.conn.execute(
                    "DELETE FROM event_competitions WHERE competition_id = ? AND event_id = ?",
                    (competition.id, self.get_event(slug).id),
                )
            if weight is not None and weight_event is not None:
                self._link(competition.id, weight_event, weight=parse_weight(weight))
        return self.get_competition(competition.slug)

    def set_status(
        self,
        slug_or_url: str,
        status: str,
        *,
        sync: bool = True,
        trigger: Trigger = "status",
        only_if: Callable[[Competition], bool] | None = None,
    ) -> Saved:
        """Change a competition's status; entering a sync status syncs it.

        The status is read and written in one write transaction, so two processes
        changing it at once cannot both see the old status (and both sync).
        ``only_if`` is checked on the competition as it is inside that transaction;
        when it says no, nothing changes (``watch`` uses it to act on fresh dates).
        """
        new_status = parse_status(status)
        slug = parse_competition_slug(slug_or_url)
        with write_transaction(self.db):
            competition = self.get_competition(slug)
            unchanged = competition.status == new_status or (only_if is not None and not only_if(competition))
            if not unchanged:
                self._update("competitions", competition.id, {"status": new_status}, in_transaction=True)
        if unchanged:
            return Saved(competition)
        updated = self.get_competition(slug)
        saved = Saved(updated, changed=True)
        if sync:
            saved.syncs = self.sync_after_write([(updated, competition.status)], trigger=trigger)
        return saved

    def update_details(self, slug: str, changes: Mapping[str, object]) -> Competition:
        """Store what a refresh of Kaggle's details changed (see :func:`kagsync.final.refreshed_fields`)."""
        competition = self.get_competition(slug)
        if "start" in changes or "end" in changes:
            check_range(
                str(changes["start"]) if changes.get("start") else competition.start,
                str(changes["end"]) if changes.get("end") else competition.end,
            )
        self._update("competitions", competition.id, dict(changes))
        return self.get_competition(slug)

    def mark_private_checked(self, slug: str, *, released: bool, at: str) -> None:
        """Record that the private board was looked for (and whether it was out)."""
        with write_transaction(self.db):
            self.db.conn.execute(
                """UPDATE competitions SET private_checked_at = ?,
                       private_released_at = CASE WHEN ? THEN coalesce(private_released_at, ?) ELSE private_released_at END
                   WHERE slug = ?""",
                (at, int(released), at, slug),
            )

    def remove_competition(self, slug_or_url: str) -> Competition:
        """Delete a competition with its board, runs and history."""
        competition = self.get_competition(slug_or_url)
        with write_transaction(self.db):
            self.db.utils.table("competitions").delete(competition.id)
        return competition

    def import_competitions(
        self,
        records: Sequence[Columns],
        *,
        new_events: Sequence[str] = (),
        sync: bool = True,
        trigger: Trigger = "import",
    ) -> list[Saved]:
        """Insert or update many competitions in one transaction, then sync what needs it.

        Each record holds already-validated values (see :meth:`validate_competition`):
        a slug that exists is updated, not duplicated. ``new_events`` (slugs) are
        created first, in the same transaction, with their slug as title, unless they
        exist by then. New competitions and those whose status changed into a sync
        status are synced together, in parallel if the hook supports it.
        """
        written: list[tuple[str, Status | None, bool, bool]] = []
        with write_transaction(self.db):
            now = now_iso()
            for event_slug in new_events:
                self.db.utils.table("events").insert(
                    {
                        "slug": validate_event_slug(event_slug),
                        "title": event_slug,
                        "created_at": now,
                        "updated_at": now,
                    },
                    ignore=True,
                )
            for record in records:
                slug = record["slug"]
                assert isinstance(slug, str), slug  # every record is made by validate_competition
                existing = self.find_competition(slug)
                if existing is None:
                    self._insert_competition(record)
                    written.append((slug, None, True, True))
                    continue
                changes = {
                    key: value
                    for key, value in record.items()
                    if key != "slug" and self._stored(existing, key, record) != value
                }
                if changes:
                    self._update("competitions", existing.id, changes, in_transaction=True)
                written.append((slug, existing.status, False, bool(changes)))
        results: list[Saved] = []
        pending: list[Written] = []
        for slug, previous_status, created, changed in written:
            competition = self.get_competition(slug)
            results.append(Saved(competition, created=created, changed=changed))
            # A competition whose board was never stored counts as new for the sync rule:
            # re-running an import that was interrupted before its syncs finishes them.
            never_synced = competition.last_synced_at is None
            pending.append((competition, None if created or never_synced else previous_status))
        if sync:
            outcomes = self.sync_after_write(pending, trigger=trigger)
            by_slug = {outcome.competition: outcome for outcome in outcomes}
            for saved in results:
                if saved.competition.slug in by_slug:
                    saved.syncs = [by_slug[saved.competition.slug]]
        return results

    def validate_competition(
        self, slug_or_url: str, *, known_events: Iterable[str] = (), **fields: object
    ) -> CompetitionRecord:
        """Check and normalise a competition's fields without writing anything.

        ``fields``: title (default: the slug), event (an event slug), status (default
        upcoming), start, end, description, lower_is_better (default False), weight
        (default 1). ``known_events`` are event slugs that will exist by the time it
        is written.
        """
        fields_given = CompetitionFields.from_values(fields)
        return self._competition_record(slug_or_url, fields_given, known_events=set(known_events))

    # -- internals ------------------------------------------------------------

    def due_syncs(self, written: Sequence[Written], *, trigger: Trigger) -> list[tuple[Competition, Trigger]]:
        """The written competitions that the sync rule says to sync, with their trigger.

        ``written`` pairs each competition as now stored with its status before the
        write (None when it was just inserted); :func:`kagsync.models.needs_sync`
        decides. A new competition's trigger is ``add`` (``import`` in an import).
        """
        due: list[tuple[Competition, Trigger]] = []
        for competition, previous_status in written:
            if needs_sync(previous_status, competition.status, self.sync_statuses):
                inserted_trigger: Trigger = "import" if trigger == "import" else "add"
                due.append((competition, inserted_trigger if previous_status is None else trigger))
        return due

    def sync_after_write(self, written: Sequence[Written], *, trigger: Trigger) -> list[SyncOutcome]:
        """The one place where writes turn into syncs (when a sync hook is set)."""
        if self.sync_hook is None:
            return []
        due = self.due_syncs(written, trigger=trigger)
        return self.sync_hook(due) if due else []


def _dates(start: str | None, end: str | None, stored_start: str | None, stored_end: str | None) -> dict[str, object]:
    """The start/end changes of an edit (an empty text clears), checked as they will be stored."""
    changes: dict[str, object] = {}
    if start is not None:
        changes["start"] = stored_start = parse_time(start, name="start") if start else None
    if end is not None:
        changes["end"] = stored_end = parse_time(end, name="end") if end else None
    check_range(stored_start, stored_end)
    return changes


def _pop_weight(values: dict[str, object]) -> float | None:
    """Take the weight out of the columns to write (it is stored on the event link)."""
    weight = values.pop("weight", None)
    if weight is None:
        return None
    assert isinstance(weight, (int, float)), weight  # every weight went through parse_weight
    return weight
