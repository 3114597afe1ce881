"""Commands for an event's roster: import, list, add, remove, check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from kagsync.cli import piped
from kagsync.cli.app import app, get_state, new_app, report_error
from kagsync.cli.names import event_name
from kagsync.cli.render import JsonOption, echo, is_terminal, print_json, say, table
from kagsync.errors import ValidationError

roster_app = new_app(
    "An event's roster: the members ranked by `standings` and watched by notifications.\n\n"
    "\b\nExample:\n  kagsync roster import neural-night-2025 members.csv"
)
app.add_typer(roster_app, name="roster")

EventArgument = Annotated[str, typer.Argument(help="Event slug (or title).", metavar="EVENT", callback=event_name)]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV (formula-safe) instead of a table.")]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@roster_app.command("import")
def roster_import(
    ctx: typer.Context,
    event: EventArgument,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header: kaggle (the username; also username, kaggle_username), and optionally "
            "name, group and any other column (kept as extra text).",
            metavar="FILE",
            show_default=False,
        ),
    ],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Make the roster exactly the file: remove members not in it; empty cells clear fields."
        ),
    ] = False,
) -> None:
    """Add and update an event's members from a CSV file.

    The whole file is checked first: every bad line is reported with its line number and
    nothing is written (exit 2). Usernames compare case-insensitively; importing the same
    file twice changes nothing. Without --replace an empty cell keeps the stored value.

    \b
    Example:
      kagsync roster import neural-night-2025 members.csv --replace
    """
    from kagsync.roster import RosterValidationError

    state = get_state(ctx)
    try:
        result = state.api(mode="write").roster.import_csv(event, file, replace=replace)
    except RosterValidationError as error:
        for problem in error.problems:
            report_error(problem)
        say(state, f"Nothing was imported ({_plural(len(error.problems), 'problem')}).")
        raise typer.Exit(error.exit_code) from None
    parts = [f"{len(result.added)} added", f"{len(result.updated)} updated", f"{len(result.unchanged)} unchanged"]
    if replace:
        parts.append(f"{len(result.removed)} removed")
    say(state, f"Roster of [bold]{escape(event)}[/]: {', '.join(parts)}.")


@roster_app.command("list")
def roster_list(
    ctx: typer.Context, event: EventArgument, json_output: JsonOption = False, csv_output: CsvOption = False
) -> None:
    """List an event's members (the CSV can be imported again).

    \b
    Example:
      kagsync roster list neural-night-2025 --csv > members.csv
    """
    from kagsync.export import write_csv

    if json_output and csv_output:
        raise ValidationError("choose one of --json and --csv")
    members = get_state(ctx).api(mode="read").roster.members(event)
    if json_output:
        print_json([m.to_dict() for m in members])
        return
    extras: list[str] = []
    for member in members:
        extras += [key for key in member.extra if key not in extras]
    records: list[dict[str, object]] = [
        {"kaggle": m.username, "name": m.name, "group": m.group, **m.extra} for m in members
    ]
    if csv_output:
        write_csv(sys.stdout, ["kaggle", "name", "group", *extras], records)
        return
    table(
        f"Roster of {event} ({_plural(len(members), 'member')})",
        ["Username", "Name", "Group", *extras],
        [(r["kaggle"], r["name"], r["group"], *[r.get(key) for key in extras]) for r in records],
        caption=None if members else f"No members yet: kagsync roster import {event} FILE.csv",
    )


@roster_app.command("add")
def roster_add(
    ctx: typer.Context,
    event: EventArgument,
    username: Annotated[str, typer.Argument(help="The member's Kaggle username (or profile URL).", metavar="USERNAME")],
    name: Annotated[str | None, typer.Option("--name", help="Display name shown in standings.", metavar="NAME")] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Group (team, class, section...).", metavar="GROUP")
    ] = None,
) -> None:
    """Add a member to an event's roster (or change the name and group of one).

    \b
    Example:
      kagsync roster add neural-night-2025 kenji1231 --name "Kenji Sato" --group blue
    """
    state = get_state(ctx)
    action, member = state.api(mode="write").roster.add(event, username, name=name, group=group)
    shown = escape(member.username) + (f" ({escape(member.name)})" if member.name else "")
    text = {"added": "Added", "updated": "Updated", "unchanged": "Already on the roster, unchanged:"}[action]
    say(state, f"{text} {shown} in the roster of [bold]{escape(event)}[/]")


@roster_app.command("remove")
def roster_remove(
    ctx: typer.Context,
    event: EventArgument,
    username: Annotated[str, typer.Argument(help="The member's Kaggle username (any case).", metavar="USERNAME")],
) -> None:
    """Remove a member from an event's roster.

    \b
    Example:
      kagsync roster remove neural-night-2025 kenji1231
    """
    state = get_state(ctx)
    member = state.api(mode="write").roster.remove(event, username)
    say(state, f"Removed {escape(member.username)} from the roster of [bold]{escape(event)}[/]")


@roster_app.command("check")
def roster_check(ctx: typer.Context, event: EventArgument, json_output: JsonOption = False) -> None:
    """Show how the roster meets the event's boards, to fix the roster.

    Lists the teams without usernames (older leaderboard files) that count for a member
    because their name is the member's username or display name, team names that fit
    several members (counted for none), and the members found on no board.

    When stdout is not a terminal, the findings are one table with a Finding column
    (name-match, ambiguous, not-found) and the summary goes to stderr.

    \b
    Example:
      kagsync roster check neural-night-2025
      kagsync roster check neural-night-2025 | grep not-found
    """
    check = get_state(ctx).api(mode="read").roster.check(event)
    if json_output:
        print_json(check.to_dict())
        return
    total = len(check.members)
    if not total:
        typer.echo(f"{event} has no roster: kagsync roster import {event} FILE.csv", err=not is_terminal())
        return
    found = total - len(check.not_found)
    by_name = sum(1 for m in check.members if m["by_team_name"])
    summary = (
        f"{found} of {_plural(total, 'member')} found on at least one of {_plural(len(check.competitions), 'board')}"
        f" ({by_name} through a team's name)."
    )
    if not is_terminal():  # one table for programs; the sentence is for a person
        piped.roster_check(check)
        typer.echo(summary, err=True)
        return
    if check.name_matches:
        table(
            f"Teams matched to a member by name ({len(check.name_matches)})",
            ["Competition", "Rank", "Team", "Member", "Name", "Matched by"],
            [
                (m["competition"], m["rank"], m["team_name"], m["username"], m["name"], m["matched"])
                for m in check.name_matches
            ],
            caption="These teams carry no usernames (older leaderboard files).",
        )
    if check.ambiguous:
        table(
            f"Team names that fit several members ({len(check.ambiguous)}), counted for none",
            ["Competition", "Rank", "Team", "Members"],
            [(a["competition"], a["rank"], a["team_name"], ", ".join(a["candidates"])) for a in check.ambiguous],
            caption="Give the members distinct display names.",
        )
    if check.not_found:
        table(
            f"Members found on no board ({len(check.not_found)})",
            ["Username", "Name", "Group"],
            [(m["username"], m["name"], m["group"]) for m in check.not_found],
            caption="Check their usernames, or they have not entered yet.",
        )
    echo(summary)
