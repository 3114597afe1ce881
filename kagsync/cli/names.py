"""What the commands are called: aliases, the order of ``--help``, "did you mean", and
competitions and events named by their title.

The rule for what is top-level: a command that *does* something with the data --
syncs it (sync, watch, import, runs) or shows it (leaderboard, history, movers,
standings, shakeup, report, export) -- is top-level; the noun groups (event,
competition, roster, notify) create, list, show, edit and remove their records.
``event standings`` is still accepted (hidden) as the old name of ``standings``.

Aliases, for users of the kaggle CLI and gh: the plural nouns (``competitions``,
``events``) and ``ls`` for ``list``. A mistyped command is answered with the command
of that name in another group (``kagsync refresh`` → ``kagsync competition
refresh``), else with the closest names here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from kagsync.models import Competition, Event

# Typer 0.28 carries its own copy of click (typer._click, private) and does not export
# its Context and Command classes: the group methods below that override typer's cannot
# name them. Elsewhere a context is typer.Context (what typer documents for a callback's
# ctx) and a command is narrowed to typer's public TyperGroup.

ALIASES = {"competitions": "competition", "events": "event", "ls": "list"}

# `kagsync --help` lists the commands in the order a club uses them.
WORKFLOW = (
    "event",
    "competition",
    "import",
    "sync",
    "watch",
    "runs",
    "leaderboard",
    "history",
    "movers",
    "standings",
    "shakeup",
    "report",
    "serve",
    "export",
    "roster",
    "notify",
    "config",
)


def _paths(group: object, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of names of every visible command under ``group`` (none under a command)."""
    if not isinstance(group, TyperGroup):
        return
    for name, command in group.commands.items():
        if command.hidden:
            continue
        yield (*prefix, name)
        yield from _paths(command, (*prefix, name))


def elsewhere(ctx: typer.Context, name: str) -> list[str]:
    """Where a command called ``name`` lives in another group: ``["kagsync competition refresh"]``."""
    root = ctx.find_root()
    here = tuple(ctx.command_path.split()[1:])
    wanted = ALIASES.get(name, name)
    return [" ".join(("kagsync", *path)) for path in _paths(root.command) if path[-1] == wanted and path[:-1] != here]


class KagsyncGroup(TyperGroup):
    """A group that knows the aliases and says where a mistyped command really is."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in ALIASES:
            command = super().get_command(ctx, ALIASES[cmd_name])
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            places = elsewhere(ctx, name)
            if places:
                ctx.fail(f"No such command {name!r}. Did you mean: {' or '.join(places)}?")
        return super().resolve_command(ctx, args)


class WorkflowGroup(KagsyncGroup):
    """The root group: its commands listed in the order of :data:`WORKFLOW`."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        order = {name: index for index, name in enumerate(WORKFLOW)}
        return sorted(names, key=lambda name: (order.get(name, len(order)), names.index(name)))


# -- competitions and events by slug, URL or title ---------------------------------------


def _close(value: str, names: Sequence[str]) -> list[str]:
    lowered = {name.lower(): name for name in names}
    return [lowered[match] for match in difflib.get_close_matches(value.lower(), list(lowered), n=3, cutoff=0.6)]


def _known(ctx: typer.Context, *, events: bool) -> list[tuple[str, str]] | None:
    """(slug, title) of every event or competition, from the database read-only; None
    when there is none to read (the command then says what is wrong)."""
    from kagsync.cli.app import get_state

    state = get_state(ctx)
    try:
        if not state.settings.db.exists():
            return None
        from kagsync.api import Kagsync

        with Kagsync(state.settings, mode="read") as ks:
            items: Sequence[Event | Competition] = ks.events() if events else ks.competitions()
            return [(item.slug, item.title or item.slug) for item in items]
    except Exception:  # noqa: BLE001 -- a lookup only helps; the command reports any real problem
        return None


def _resolve(ctx: typer.Context, value: str, *, events: bool) -> str:
    """``value`` as given when it is a slug (or URL) here or nothing is known; the slug of
    the one event/competition whose title it is; else a one-line "did you mean" (exit 1)."""
    if ctx.resilient_parsing or not value:
        return value
    known = _known(ctx, events=events)
    if not known:
        return value
    slug = value
    if not events:
        from kagsync.errors import KagsyncError
        from kagsync.values import parse_competition_slug

        try:
            slug = parse_competition_slug(value)
        except KagsyncError:
            slug = value
    slugs = {s for s, _ in known}
    if slug in slugs or slug.lower() in slugs:
        return value if slug in slugs else slug.lower()
    titled = [s for s, title in known if title.strip().lower() == value.strip().lower()]
    if len(titled) == 1:
        return titled[0]
    guesses = _close(value, [s for s, _ in known]) or [
        s for s, title in known if title in _close(value, [t for _, t in known])
    ]
    if not guesses:
        return value  # the command says it does not exist, as usual
    from kagsync.cli.app import report_error

    noun = "event" if events else "competition"
    report_error(f"no {noun} {value!r}; did you mean {' or '.join(repr(g) for g in guesses)}?")
    raise typer.Exit(1)


def competition_name(ctx: typer.Context, value: str) -> str:
    """Argument callback: a competition's slug, URL or title -> what the command looks up."""
    return _resolve(ctx, value, events=False)


def competition_option(ctx: typer.Context, value: str | None) -> str | None:
    """Callback of an optional competition argument (None when not given)."""
    return None if value is None else _resolve(ctx, value, events=False)


def competition_names(ctx: typer.Context, values: list[str] | None) -> list[str] | None:
    """Callback of a list of competitions: each by slug, URL or title."""
    return None if values is None else [_resolve(ctx, value, events=False) for value in values]


def event_name(ctx: typer.Context, value: str) -> str:
    """Argument callback: an event's slug or title -> its slug."""
    return _resolve(ctx, value, events=True)


def event_names(ctx: typer.Context, values: list[str] | None) -> list[str] | None:
    """Callback of a repeatable event option: each by slug or title (events that must exist)."""
    return None if values is None else [_resolve(ctx, value, events=True) for value in values]


def event_option(ctx: typer.Context, value: str | None) -> str | None:
    """Option callback: an event's slug or title -> its slug (None when not given)."""
    return None if value is None else _resolve(ctx, value, events=True)
