"""Commands for notification targets: add, list, remove, test, send.

Webhook URLs are secrets: these commands never print one whole (see
:func:`kagsync.notify.mask_url`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape

from kagsync.cli.app import EXIT_ERROR, app, get_state, new_app, report_error
from kagsync.cli.render import JsonOption, print_json, say, table
from kagsync.errors import KagsyncError, ValidationError
from kagsync.models import MAX_COUNT
from kagsync.notify.targets import (
    HINT_APPRISE,
    HINT_FAILING_TICKS,
    HINT_FORMAT,
    HINT_KINDS,
    HINT_LIST,
    HINT_MEMBER_MOVE,
    HINT_NAME,
    HINT_NAME_TAKEN,
    HINT_TOP,
)

notify_app = new_app(
    "Notification targets: post to Slack, Discord or any webhook when the boards move.\n\n"
    "\b\nExample:\n  kagsync notify add https://hooks.slack.com/services/T000/B000/XXXX --event neural-night-2025"
)
app.add_typer(notify_app, name="notify")

NameArgument = Annotated[str, typer.Argument(help="The target's name (see `kagsync notify list`).", metavar="NAME")]


# How the library's notify hints read on the command line: (option, advice).
_ADVICE: dict[str, tuple[str | None, str | None]] = {
    HINT_KINDS: ("--on", None),
    HINT_FORMAT: ("--format", None),
    HINT_TOP: ("--top", None),
    HINT_MEMBER_MOVE: ("--member-move", None),
    HINT_FAILING_TICKS: ("--failing-ticks", None),
    HINT_NAME: ("--name", None),
    HINT_NAME_TAKEN: (None, "give another --name, or remove it first (kagsync notify remove NAME)"),
    HINT_APPRISE: (None, "other URLs need --format apprise and pip install 'kagsync[notify]'"),
    HINT_LIST: (None, "see `kagsync notify list`"),
}


@contextmanager
def _advised() -> Iterator[None]:
    """Turn a notify error's structured hint into advice that names this CLI's options."""
    try:
        yield
    except KagsyncError as error:
        option, advice = _ADVICE.get(error.hint or "", (None, None))
        if option is None and advice is None:
            raise
        text = f"{option}: {error}" if option else str(error)
        text += f" ({advice})" if advice else ""
        raise type(error)(text) from None


def _read_url(url: str) -> str:
    """The URL, or with ``-`` the first line of stdin (keeps it out of the shell's history)."""
    if url != "-":
        return url
    line = sys.stdin.readline().strip()
    if not line:
        raise ValidationError("no URL on standard input")
    return line


@notify_app.command("add")
def notify_add(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Argument(
            help="Webhook URL (Slack, Discord, any http(s) endpoint, or an apprise URL); - reads it from stdin.",
            metavar="URL",
            show_default=False,
        ),
    ],
    event: Annotated[
        str | None, typer.Option("--event", help="Only this event's competitions (default: all).", metavar="EVENT")
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            help="Kinds of change, comma-separated: leader, top, member, final, dates, failing, or all "
            "[default: leader,top,member,final; member speaks only where the event has a roster].",
            metavar="KINDS",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of the target (default: the URL's host).", metavar="NAME")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="slack, discord, json or apprise (default: from the URL).",
            metavar="FORMAT",
            show_default=False,
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", help="N for 'top': entering or leaving the top N.", min=1, max=MAX_COUNT, metavar="N"),
    ] = 10,
    member_move: Annotated[
        int,
        typer.Option(
            "--member-move",
            help="K for 'member': a member's move of at least K places.",
            min=1,
            max=MAX_COUNT,
            metavar="N",
        ),
    ] = 5,
    failing_ticks: Annotated[
        int,
        typer.Option(
            "--failing-ticks", help="N for 'failing': N failed syncs in a row.", min=1, max=MAX_COUNT, metavar="N"
        ),
    ] = 3,
) -> None:
    """Add a notification target: one message per sync pass when the boards move.

    The format follows the URL: Slack incoming webhooks get Slack's payload, Discord
    webhooks Discord's, any other http(s) URL a JSON document of the change events. The
    URL is stored in the database and never printed whole. Only changes synced from now
    on are announced.

    \b
    Example:
      kagsync notify add https://discord.com/api/webhooks/123/abc --name club-discord --on leader,member
    """
    state = get_state(ctx)
    with _advised():
        target = state.api(mode="create").notifications.add(
            _read_url(url),
            event=event,
            on=on,
            name=name,
            format=fmt,
            top=top,
            member_move=member_move,
            failing_ticks=failing_ticks,
        )
    scope = f"event {escape(target.event)}" if target.event else "every event"
    say(
        state,
        f"Added notification target [bold]{escape(target.name)}[/] ({target.format}, "
        f"{escape(target.masked_url)}) for {scope}, on {', '.join(target.kinds)}",
    )


def _joined(names: object) -> str:
    """A listed target's ``on`` (a list of kinds) as one cell: ``sync,rank``."""
    # The listing is plain JSON-ready data (dict[str, object]): the list is narrowed here.
    return ",".join(str(name) for name in names) if isinstance(names, list) else str(names)


@notify_app.command("list")
def notify_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List notification targets (URLs masked) with their deliveries.

    \b
    Example:
      kagsync notify list --json
    """
    targets = get_state(ctx).api(mode="read").notifications.targets()
    if json_output:
        print_json(targets)
        return
    table(
        "Notification targets",
        ["Name", "Format", "URL", "Event", "On", "Top", "Move", "Failing", "Sent", "Pending", "Failed", "Last error"],
        [
            (
                t["name"],
                t["format"],
                t["url"],
                t["event"] or "all",
                _joined(t["on"]),
                t["top"],
                t["member_move"],
                t["failing_ticks"],
                t["sent"],
                t["pending"],
                t["failed"],
                t["last_error"],
            )
            for t in targets
        ],
        caption=None if targets else "No targets yet: kagsync notify add URL",
    )


@notify_app.command("remove")
def notify_remove(ctx: typer.Context, name: NameArgument) -> None:
    """Remove a notification target and its delivery record.

    \b
    Example:
      kagsync notify remove hooks.slack.com
    """
    state = get_state(ctx)
    with _advised():
        target = state.api(mode="write").notifications.remove(name)
    say(state, f"Removed notification target [bold]{escape(target.name)}[/]")


@notify_app.command("test")
def notify_test(ctx: typer.Context, name: NameArgument) -> None:
    """Send a test message to a target now (exit 1 when it does not arrive).

    \b
    Example:
      kagsync notify test hooks.slack.com
    """
    state = get_state(ctx)
    with _advised():
        result = state.api(mode="read").notifications.test(name)  # sends; writes nothing
    if not result.ok:
        report_error(f"could not send to {name}: {result.error}")
        raise typer.Exit(EXIT_ERROR)
    say(state, f"Sent a test message to [bold]{escape(name)}[/]")


@notify_app.command("send")
def notify_send(ctx: typer.Context) -> None:
    """Announce now what was synced and not announced yet, and retry failed messages.

    Every sync pass (sync, import, watch) does this by itself; use it after a target was
    down, or from cron. Exit 1 when a target could not be reached.

    \b
    Example:
      kagsync notify send
    """
    state = get_state(ctx)
    report = state.api(mode="write").notifications.run_pass()
    for target, count in report.sent.items():
        say(state, f"Sent {count} change(s) to [bold]{escape(target)}[/]")
    for target, error in report.failed.items():
        report_error(f"could not send to {target}: {error} (retried with the next pass)")
    if report.skipped:
        say(state, "Another kagsync is sending right now: what is pending goes with the next pass.")
    elif not report.sent and not report.failed:
        say(state, "Nothing to send.")
    if report.failed:
        raise typer.Exit(EXIT_ERROR)
