"""Commands for events, competitions and settings."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from kagsync.cli.app import EXIT_USAGE, State, app, get_state, new_app, report_error, with_hint
from kagsync.cli.names import competition_name, event_name, event_names, event_option
from kagsync.cli.outcomes import SyncDisplay, exit_for, report_outcomes
from kagsync.cli.render import (
    Col,
    CsvOption,
    JsonOption,
    complete_competition,
    complete_event,
    is_terminal,
    notes_once,
    offline_skips_sync,
    one_format,
    print_csv,
    print_json,
    say,
    table,
)
from kagsync.errors import NotFoundError
from kagsync.models import Competition, CompetitionFields, Event

event_app = new_app(
    "Create and manage events (groups of competitions).\n\n"
    '\b\nExample:\n  kagsync event add "Neural Night 2025" --start 2025-03-01'
)
competition_app = new_app(
    "Create and manage competitions; adding one syncs its leaderboard.\n\n"
    "\b\nExample:\n  kagsync competition add titanic --event neural-night --status ongoing"
)
app.add_typer(event_app, name="event")
app.add_typer(competition_app, name="competition")

StartOption = Annotated[
    str | None,
    typer.Option("--start", help="Start: a date or date-time (UTC unless a zone is given).", metavar="TIME"),
]
EndOption = Annotated[str | None, typer.Option("--end", help="End: a date or date-time.", metavar="TIME")]
DescriptionOption = Annotated[str | None, typer.Option("--description", help="Free text.", metavar="TEXT")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
NoSyncOption = Annotated[bool, typer.Option("--no-sync", help="Only store; do not sync the leaderboard now.")]
EventArgument = Annotated[
    str,
    typer.Argument(
        help="Event slug (or title).",
        metavar="EVENT",
        autocompletion=complete_event,
        show_default=False,
        callback=event_name,
    ),
]
SlugArgument = Annotated[
    str,
    typer.Argument(
        help="Competition slug, Kaggle URL or title.",
        metavar="SLUG",
        autocompletion=complete_competition,
        show_default=False,
        callback=competition_name,
    ),
]


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _confirm(question: str, yes: bool) -> None:
    """Ask on the terminal; without one (a script, cron), refuse and point at --yes."""
    if yes:
        return
    if not _stdin_is_terminal():
        report_error(f"{question.rstrip('?')}: no terminal to confirm on; nothing was removed (use --yes)")
        raise typer.Exit(EXIT_USAGE)
    if not typer.confirm(question, default=False, err=True):
        report_error("cancelled; nothing was removed (use --yes to skip this question)")
        raise typer.Exit(EXIT_USAGE)


# -- events -------------------------------------------------------------------


@event_app.command("add")
def event_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="The event's title.", metavar="TITLE", show_default=False)],
    slug: Annotated[
        str | None, typer.Option("--slug", help="Short id (default: from the title).", metavar="SLUG")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    description: DescriptionOption = None,
) -> None:
    """Create an event.

    \b
    Example:
      kagsync event add "Neural Night 2025" --start 2025-03-01 --end 2025-03-02
    """
    event = get_state(ctx).api(mode="create").add_event(title, slug=slug, start=start, end=end, description=description)
    say(get_state(ctx), f"Added event [bold]{event.slug}[/] ({escape(event.title)})")


def _fields_of(model: type, *extra: str) -> list[str]:
    """The keys of ``model.to_dict()``: its fields without the internal id, then ``extra``."""
    return [name for name in model.__dataclass_fields__ if name != "id"] + list(extra)  # type: ignore[attr-defined]


@event_app.command("list")
def event_list(ctx: typer.Context, json_output: JsonOption = False, csv_output: CsvOption = False) -> None:
    """List events.

    \b
    Example:
      kagsync event list --json
    """
    one_format(json_output, csv_output)
    events = get_state(ctx).api(mode="read").events.all()
    if json_output:
        print_json([event.to_dict() for event in events])
        return
    if csv_output:
        print_csv(_fields_of(Event), (event.to_dict() for event in events))
        return
    table(
        "Events",
        [
            Col("Slug", 0, "key"),
            Col("Title", 1),
            Col("Start", 2, "time"),
            Col("End", 3, "time"),
            Col("Competitions", 0, "num"),
        ],
        [(e.slug, e.title, e.start, e.end, e.competition_count) for e in events],
    )


@event_app.command("show")
def event_show(
    ctx: typer.Context,
    event: EventArgument,
    json_output: JsonOption = False,
) -> None:
    """Show an event with its competitions.

    When stdout is not a terminal, only the competitions' table is printed, one line
    each (the event's own fields: --json).

    \b
    Example:
      kagsync event show neural-night-2025
      kagsync event show neural-night-2025 | cut -f1
    """
    ks = get_state(ctx).api(mode="read")
    with ks.snapshot():
        found = ks.events.get(event)
        competitions = ks.competitions.all(event=event)
    if json_output:
        weights = ks.events.weights(found.slug)
        print_json(
            {**found.to_dict(), "competitions": [{**c.to_dict(), "weight": weights[c.slug]} for c in competitions]}
        )
        return
    if not is_terminal():  # one table for programs
        _competition_table(competitions, title="Competitions")
        return
    table(
        f"Event {found.slug}",
        FIELD_COLUMNS,
        [
            ("title", found.title),
            ("description", found.description),
            ("start", found.start),
            ("end", found.end),
            ("created", found.created_at),
        ],
    )
    _competition_table(competitions, title="Competitions")


@event_app.command("edit")
def event_edit(
    ctx: typer.Context,
    event: EventArgument,
    title: Annotated[str | None, typer.Option("--title", help="New title.", metavar="TEXT")] = None,
    start: StartOption = None,
    end: EndOption = None,
    description: DescriptionOption = None,
) -> None:
    """Change an event's fields (an empty value clears start, end or description).

    \b
    Example:
      kagsync event edit neural-night-2025 --end "2025-03-02 23:00"
    """
    updated = get_state(ctx).api().events.edit(event, title=title, start=start, end=end, description=description)
    say(get_state(ctx), f"Updated event [bold]{updated.slug}[/]")


@event_app.command("remove")
def event_remove(
    ctx: typer.Context,
    event: EventArgument,
    cascade: Annotated[
        bool, typer.Option("--cascade", help="Also remove its competitions and their leaderboards.")
    ] = False,
    yes: YesOption = False,
) -> None:
    """Remove an event (refuses while it has competitions, unless --cascade).

    \b
    Example:
      kagsync event remove neural-night-2025 --yes
    """
    ks = get_state(ctx).api()
    found = ks.events.check_remove(event, cascade=cascade)  # refused before anything is asked
    what = f" and its {found.competition_count} competition(s)" if cascade and found.competition_count else ""
    _confirm(f"Remove event {found.slug!r}{what}?", yes)
    removed = ks.events.remove(event, cascade=cascade)
    suffix = f" and {removed} competition(s)" if removed else ""
    say(get_state(ctx), f"Removed event [bold]{found.slug}[/]{suffix}")


# -- competitions -------------------------------------------------------------


FIELD_COLUMNS = [Col("Field", 0, "short"), Col("Value", 0, "long")]
COMPETITION_COLUMNS = [
    Col("Slug", 0, "key"),
    Col("Title", 2),
    Col("Events", 2),
    Col("Status", 0, "short"),
    Col("Start", 4, "time"),
    Col("End", 4, "time"),
    Col("Better", 5, "short"),
    Col("Entries", 1, "num"),
    Col("Last synced", 3, "time"),
    Col("Sync", 1, "short"),
]


def _competition_table(competitions: list[Competition], *, title: str = "Competitions") -> None:
    table(
        title,
        COMPETITION_COLUMNS,
        [
            (
                c.slug,
                c.title,
                ", ".join(c.events),
                c.status,
                c.start,
                c.end,
                "lower" if c.lower_is_better else "higher",
                c.entry_count,
                c.last_synced_at,
                c.last_sync_status,
            )
            for c in competitions
        ],
    )


def _refuse_events_of_a_new_database(state: State, events: list[str]) -> None:
    """No event exists in a database that does not exist yet: say so before creating the file.

    (When the database exists, the library refuses an unknown event and writes nothing.)
    """
    if events and not state.settings.db.exists():
        raise NotFoundError(f"no event {events[0]!r} (see `kagsync event list`); nothing was saved")


@competition_app.command("add")
def competition_add(
    ctx: typer.Context,
    slug_or_url: Annotated[
        str,
        typer.Argument(help="Kaggle slug or any Kaggle URL of the competition.", metavar="SLUG", show_default=False),
    ],
    title: Annotated[str | None, typer.Option("--title", help="Title (default: the slug).", metavar="TEXT")] = None,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="An event it belongs to (repeat for several).",
            metavar="EVENT",
            autocompletion=complete_event,
            show_default=False,
            callback=event_names,
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="upcoming, ongoing or completed (default: from Kaggle's dates).",
            metavar="STATUS",
            show_default=False,
        ),
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    description: DescriptionOption = None,
    lower_is_better: Annotated[
        bool | None,
        typer.Option(
            "--lower-is-better/--higher-is-better",
            help="Score direction (default: from the metric's name; higher if unknown).",
            show_default=False,
        ),
    ] = None,
    no_sync: NoSyncOption = False,
) -> None:
    """Add a competition and sync its full leaderboard right away.

    Kaggle's details fill every field you do not give: title, start, end, description,
    metric (and from it the score direction). The status, when not given, follows the
    dates: upcoming before the start, ongoing until the deadline, completed after it. A
    slug Kaggle does not know is refused (exit 2) and nothing is saved; with --source DIR
    the details come from DIR/SLUG.json when present. --offline skips them, and the
    sync too unless --source DIR gives the board.

    \b
    Example:
      kagsync competition add https://www.kaggle.com/competitions/titanic --event neural-night --status ongoing
    """
    state = get_state(ctx)
    _refuse_events_of_a_new_database(state, events or [])
    no_sync = offline_skips_sync(state, no_sync, f"kagsync sync {slug_or_url}")
    with SyncDisplay(state) as display:
        fields = CompetitionFields(
            title=title, status=status, start=start, end=end, description=description, lower_is_better=lower_is_better
        )
        saved = state.api(mode="create", observer=display).competitions.add(
            slug_or_url,
            fields,  # the status is checked by the library, like every value
            events=events or [],
            sync=not no_sync,
        )
    c = saved.competition
    say(state, f"Added competition [bold]{c.slug}[/] ({c.status})")
    if saved.filled:
        filled = ", ".join(f"{key} {value}" for key, value in saved.filled.items() if key != "description")
        say(state, f"From Kaggle: {escape(filled)}")
    for note in notes_once(saved.notes, saved.syncs):
        say(state, f"Note: {escape(with_hint(note, getattr(note, 'hint', None), c.slug))}")
    report_outcomes(state, saved.syncs, saved_note=True)
    exit_for(saved.syncs)


@competition_app.command("list")
def competition_list(
    ctx: typer.Context,
    event: Annotated[
        str | None,
        typer.Option(
            "--event", help="Only this event's.", metavar="EVENT", autocompletion=complete_event, callback=event_option
        ),
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.", metavar="STATUS")] = None,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """List competitions.

    \b
    Example:
      kagsync competition list --event neural-night --status ongoing
    """
    one_format(json_output, csv_output)
    competitions = get_state(ctx).api(mode="read").competitions.all(event=event, status=status)
    if json_output:
        print_json([c.to_dict() for c in competitions])
        return
    if csv_output:
        records = [c.to_dict() for c in competitions]
        print_csv(list(records[0]) if records else _fields_of(Competition, "url"), records)
        return
    _competition_table(competitions)


@competition_app.command("show")
def competition_show(
    ctx: typer.Context,
    slug: SlugArgument,
    json_output: JsonOption = False,
) -> None:
    """Show one competition, with its last sync.

    \b
    Example:
      kagsync competition show titanic --json
    """
    ks = get_state(ctx).api(mode="read")
    c = ks.competitions.get(slug)
    weights = ks.competitions.weights(c.slug)
    if json_output:
        print_json(c.to_dict())
        return
    table(
        f"Competition {c.slug}",
        FIELD_COLUMNS,
        [
            ("title", c.title),
            ("url", c.url),
            ("events", ", ".join(c.events)),
            ("status", c.status),
            ("start", c.start),
            ("end", c.end),
            ("better", f"{'lower' if c.lower_is_better else 'higher'} ({_direction_origin(c) or 'unknown'})"),
            ("weights", ", ".join(f"{event} {weight:g}" for event, weight in sorted(weights.items()))),
            ("metric", c.metric),
            ("final board", c.private_synced_at or ("released" if c.private_released else None)),
            ("description", c.description),
            ("entries", c.entry_count),
            ("last synced", c.last_synced_at),
            ("last attempt", c.last_attempt_at),
            ("last sync status", c.last_sync_status),
            ("last sync error", c.last_sync_error),
        ],
    )


def _direction_origin(c: Competition) -> str | None:
    from kagsync.metrics import direction_origin

    return direction_origin(c.direction_source, user_set="lower_is_better" in c.user_fields, metric=c.metric)


@competition_app.command("edit")
def competition_edit(
    ctx: typer.Context,
    slug: SlugArgument,
    title: Annotated[str | None, typer.Option("--title", help="New title.", metavar="TEXT")] = None,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="Put it in this event too (repeatable); with --weight: the event the weight is for.",
            metavar="EVENT",
            autocompletion=complete_event,
            show_default=False,
            callback=event_names,
        ),
    ] = None,
    remove_events: Annotated[
        list[str] | None,
        typer.Option(
            "--remove-event",
            help="Take it out of this event (repeatable).",
            metavar="EVENT",
            autocompletion=complete_event,
            show_default=False,
        ),
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    description: DescriptionOption = None,
    lower_is_better: Annotated[
        bool | None,
        typer.Option("--lower-is-better/--higher-is-better", help="Score direction.", show_default=False),
    ] = None,
    weight: Annotated[
        float | None,
        typer.Option(
            "--weight",
            help="Weight in the event's standings (default 1); name the event with --event when it is in several.",
            metavar="NUMBER",
        ),
    ] = None,
) -> None:
    """Change a competition's fields (does not sync; use set-status or sync).

    \b
    Example:
      kagsync competition edit house-prices --event spring-league --weight 2
    """
    named = events or []
    fields = CompetitionFields(
        title=title,
        event=named[0] if weight is not None and len(named) == 1 else None,
        start=start,
        end=end,
        description=description,
        lower_is_better=lower_is_better,
        weight=weight,
    )
    updated = get_state(ctx).api().competitions.edit(slug, fields, add_events=named, remove_events=remove_events or [])
    say(get_state(ctx), f"Updated competition [bold]{updated.slug}[/]")


@competition_app.command("set-status")
def competition_set_status(
    ctx: typer.Context,
    slug: SlugArgument,
    status: Annotated[
        str, typer.Argument(help="upcoming, ongoing or completed.", metavar="STATUS", show_default=False)
    ],
    no_sync: NoSyncOption = False,
) -> None:
    """Change a competition's status; becoming ongoing syncs it.

    \b
    Example:
      kagsync competition set-status titanic ongoing
    """
    state = get_state(ctx)
    no_sync = offline_skips_sync(state, no_sync, f"kagsync sync {slug}")
    with SyncDisplay(state) as display:
        saved = state.api(observer=display).competitions.set_status(slug, status, sync=not no_sync)
    c = saved.competition
    if saved.changed:
        say(state, f"Competition [bold]{c.slug}[/] is now {c.status}")
    else:
        say(state, f"Competition [bold]{c.slug}[/] was already {c.status}")
    report_outcomes(state, saved.syncs, saved_note=True)
    exit_for(saved.syncs)


@competition_app.command("remove")
def competition_remove(
    ctx: typer.Context,
    slug: SlugArgument,
    yes: YesOption = False,
) -> None:
    """Remove a competition with its stored leaderboard and history.

    \b
    Example:
      kagsync competition remove titanic --yes
    """
    ks = get_state(ctx).api()
    found = ks.competitions.get(slug)
    _confirm(f"Remove competition {found.slug!r} and its leaderboard?", yes)
    ks.competitions.remove(slug)
    say(get_state(ctx), f"Removed competition [bold]{found.slug}[/]")


# -- settings -----------------------------------------------------------------


@app.command("config")
def config_show(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the effective settings and where each came from.

    \b
    Example:
      KAGSYNC_JOBS=8 kagsync config
    """
    settings = get_state(ctx).settings
    rows = settings.describe()
    if json_output:
        print_json({key: {"value": value, "origin": origin} for key, value, origin, _ in rows})
        return
    table(
        "Settings",
        [Col("Setting", 0, "key"), Col("Value", 0, "long"), Col("From", 1, "long"), Col("Meaning", 2, "long")],
        rows,
        caption=f"settings file: {settings.config_path or '(none)'}",
    )
