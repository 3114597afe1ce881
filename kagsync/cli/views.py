"""Commands that show stored data: leaderboard, history, movers, standings, export, report."""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TextIO

import typer
from rich.markup import escape

from kagsync.cli import piped, standing
from kagsync.cli.app import app, get_state
from kagsync.cli.catalog import EventArgument, SlugArgument, event_app
from kagsync.cli.names import event_option
from kagsync.cli.render import (
    AllOption,
    Col,
    CsvOption,
    JsonOption,
    TopOption,
    board_limit,
    cell_text,
    complete_competition,
    complete_event,
    dash,
    echo,
    is_terminal,
    more_line,
    one_format,
    print_csv,
    print_json,
    say,
    table,
)
from kagsync.errors import KagsyncError, NotFoundError, ValidationError
from kagsync.models import MAX_COUNT
from kagsync.output import is_stream, open_output

# `history` on a terminal shows the newest syncs only (--limit N, --all).
HISTORY_LIMIT = 20

if TYPE_CHECKING:
    from kagsync.api import Kagsync
    from kagsync.cli.piped import SectionMover
    from kagsync.rows import LeaderboardEntry, Mover

SchemeOption = Annotated[
    str,
    typer.Option(
        "--scheme",
        help="points (Kaggle-style, higher is better), rank-sum or best-percentile (lower is better).",
        metavar="SCHEME",
    ),
]

LEADERBOARD_CSV_FIELDS = (
    "rank",
    "team_id",
    "team_name",
    "members",
    "score",
    "score_value",
    "submission_count",
    "last_submission",
    "is_benchmark",
    "movement",
    "is_new",
)


# The leaderboard's columns; on a narrow terminal the last submission goes first.
BOARD_COLUMNS = [
    Col("Rank", 0, "short"),
    Col("Team", 0, "text"),
    Col("Members", 2, "text"),
    Col("Score", 0, "short"),
    Col("Subs", 3, "num"),
    Col("Last submission", 4, "time"),
    Col("Move", 1, "short"),
]


def _time(iso: str | None) -> str:
    return dash(iso) if iso else "never"


# -- leaderboard ----------------------------------------------------------------


def _reading(ctx: typer.Context) -> Kagsync:
    """The API in read mode, reading from one snapshot of the database.

    A command here makes several queries (the board, then the movement basis...); a
    sync committing in between would mix two states. :func:`~kagsync.views.read_snapshot`,
    held until the command ends, pins one state; it blocks no writer (WAL).
    """
    ks = get_state(ctx).api(mode="read")
    ctx.with_resource(ks.snapshot())  # ends with the command
    return ks


@app.command("leaderboard")
def leaderboard_command(
    ctx: typer.Context,
    slug: SlugArgument,
    top: TopOption = None,
    all_rows: AllOption = False,
    team: Annotated[
        str | None, typer.Option("--team", help="Only teams whose name contains TEXT (any case).", metavar="TEXT")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Only the team with this member username (any case).", metavar="NAME")
    ] = None,
    board: Annotated[
        str | None,
        typer.Option(
            "--board",
            help="public or private (default: the final private board once stored, else public).",
            metavar="BOARD",
            show_default=False,
        ),
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(
            "--event", help="Mark the teams of this event's roster members.", metavar="EVENT", callback=event_option
        ),
    ] = None,
    members_only: Annotated[
        bool, typer.Option("--members-only", help="Only the teams of roster members (with --event).")
    ] = False,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """Print the stored leaderboard of a competition, with movement since the previous sync.

    With --event EVENT, the teams of that event's roster members are marked (★ and their
    display names); --members-only shows only those.

    After a competition closes and Kaggle releases its private (final) board, that board
    is shown (the header says "final (private)"); --board public shows the public one.
    Move shows ▲ n (climbed n places), ▼ n (fell), new (first seen in the last sync) or
    – (unchanged), against the previous sync of the same board. A filter that matches no
    team is an error (exit 1). When stdout is not a terminal, Move is a signed integer
    (+3, -2, 0; empty when new or not compared) and New, Benchmark and (with --event)
    Roster are columns of their own.

    \b
    Example:
      kagsync leaderboard titanic --top 20 --team "data"
    """
    from kagsync.export import write_csv
    from kagsync.values import parse_board
    from kagsync.views import movement_text

    one_format(json_output, csv_output)
    if members_only and event is None:
        raise ValidationError("--members-only needs --event EVENT (whose roster decides)")
    ks = _reading(ctx)
    competition = ks.competitions.get(slug)
    chosen = parse_board(board) if board is not None else ks.boards.default(competition.slug)
    # On a terminal the first 50 rows, with a "… N more" line (N from the stored count when unfiltered).
    limit = board_limit(top, all_rows, machine=json_output or csv_output)
    counted = team is None and user is None and chosen == "public" and not members_only
    if event is not None:
        entries: Sequence[LeaderboardEntry] = ks.roster.leaderboard(
            competition.slug,
            event,
            top=limit if counted or members_only else None,
            team=team,
            user=user,
            members_only=members_only,
            board=chosen,
        )
    else:
        entries = ks.boards.leaderboard(
            competition.slug, top=limit if counted else None, team=team, user=user, board=chosen
        )
    total = (competition.entry_count or len(entries)) if counted else len(entries)
    entries = entries if limit is None else entries[:limit]
    if not entries and (team is not None or user is not None):
        wanted = " and ".join(
            part
            for part in (
                f"a name containing {team!r}" if team is not None else "",
                f"member {user!r}" if user is not None else "",
            )
            if part
        )
        raise NotFoundError(f"no team on {competition.slug} has {wanted}")
    if json_output:
        print_json(entries)
        return
    if csv_output:
        write_csv(sys.stdout, LEADERBOARD_CSV_FIELDS, entries)
        return
    if not is_terminal():
        piped.leaderboard(entries, roster=event is not None)
        return
    basis = ks.boards.movement_basis(competition.slug, board=chosen)
    if basis["previous_run_id"] is not None:
        caption = f"Move: since the previous sync ({_time(basis['previous_synced_at'])})"
    elif basis["run_id"] is not None:
        caption = "Move: shown from the second sync on"
    else:
        caption = "Not synced yet: kagsync sync " + competition.slug
    if chosen == "private":
        heading = f"{competition.title}: final (private) board, synced {_time(competition.private_synced_at)}"
    else:
        heading = f"{competition.title}: public board ({competition.entry_count or 0:,} teams, synced {_time(competition.last_synced_at)})"
    table(
        heading,
        BOARD_COLUMNS,
        [
            (
                "bench" if e["is_benchmark"] else e["rank"],
                e["team_name"]
                + (" (benchmark)" if e["is_benchmark"] else "")
                + (
                    " ★ " + ", ".join(m["name"] or m["username"] for m in matches)
                    if (matches := piped.roster_matches(e))
                    else ""
                ),
                ", ".join(e["members"]),
                e["score"],
                e["submission_count"],
                e["last_submission"],
                movement_text(e),
            )
            for e in entries
        ],
        caption=caption,
        more=more_line(total, len(entries)),
    )


# -- history ----------------------------------------------------------------------

BOARD_HISTORY_COLUMNS = [
    Col("Synced", 0, "time"),
    Col("Teams", 0, "num"),
    Col("Top score", 1, "short"),
    Col("New", 2, "num"),
    Col("Changed", 2, "num"),
    Col("Removed", 2, "num"),
]
TEAM_HISTORY_COLUMNS = [
    Col("Synced", 0, "time"),
    Col("Rank", 0, "num"),
    Col("Move", 0, "short"),
    Col("Score", 1, "short"),
    Col("Previous score", 3, "short"),
    Col("Name then", 2, "text"),
]
HISTORY_CSV_FIELDS = ("run_id", "synced_at", "entries", "top_score", "created", "updated", "removed")
TEAM_HISTORY_CSV_FIELDS = (
    "run_id",
    "synced_at",
    "kind",
    "rank",
    "previous_rank",
    "movement",
    "score",
    "previous_score",
    "team_name",
)


@app.command("history")
def history_command(
    ctx: typer.Context,
    slug: SlugArgument,
    team: Annotated[
        str | None,
        typer.Option(
            "--team", help="A team id or name: its rank and score at each sync where they changed.", metavar="TEAM"
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="The team with this member username (any case), as --team.", metavar="NAME"),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help="The newest N syncs (default: 20 on a terminal, all otherwise).",
            min=1,
            max=MAX_COUNT,
            metavar="N",
            show_default=False,
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every sync where the board changed.")] = False,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """Show a board's history: its size and top score at each sync where it changed, or one team's ranks.

    Newest first; syncs that changed nothing (a quiet board re-synced by watch) are left
    out, so the list stays short even for a board synced every few minutes. A name
    matching several teams is an error: give the team id (see `kagsync leaderboard SLUG
    --team NAME`).

    \b
    Example:
      kagsync history titanic --team "Data Wizards"
      kagsync history titanic --user kenji1231
    """
    from kagsync.views import movement_text

    one_format(json_output, csv_output)
    if team is not None and user is not None:
        raise ValidationError("choose one of --team TEAM and --user NAME")
    ks = _reading(ctx)
    competition = ks.competitions.get(slug)
    if user is not None:
        teams = ks.boards.leaderboard(competition.slug, user=user)
        if not teams:
            raise NotFoundError(f"no team on {competition.slug} has member {user!r}")
        team = str(teams[0]["team_id"])
    if team is None:
        shown = None if every or (limit is None and not is_terminal()) else (limit or HISTORY_LIMIT)
        syncs = ks.boards.history(competition.slug, limit=shown)
        if json_output:
            print_json({"competition": competition.slug, "syncs": syncs})
            return
        if csv_output:
            print_csv(list(syncs[0]) if syncs else HISTORY_CSV_FIELDS, syncs)
            return
        table(
            f"{competition.title}: the board at each sync where it changed, newest first",
            BOARD_HISTORY_COLUMNS,
            [(s["synced_at"], s["entries"], s["top_score"], s["created"], s["updated"], s["removed"]) for s in syncs],
            caption=None if syncs else "No successful sync yet.",
        )
        return
    history = ks.boards.team_history(competition.slug, team)
    if json_output:
        print_json(history)
        return
    if csv_output:
        changes = history["changes"]
        print_csv(list(changes[0]) if changes else TEAM_HISTORY_CSV_FIELDS, changes)
        return
    if not is_terminal():
        piped.team_history(history["changes"])
        return
    found = history["team"]
    now = f"now rank {found['rank']}" if found["on_board"] else "no longer on the board"
    rows = []
    for change in history["changes"]:
        if change["kind"] == "removed":
            move = "left"
        elif change["kind"] == "new":
            move = "new"
        else:
            move = movement_text({"movement": change["movement"]})
        rows.append(
            (
                change["synced_at"],
                change["rank"] if change["kind"] != "removed" else None,
                move,
                change["score"],
                change["previous_score"],
                change["team_name"],
            )
        )
    table(
        f"{found['team_name']} (team {found['team_id']}) on {competition.slug}: {now}",
        TEAM_HISTORY_COLUMNS,
        rows,
        caption="One row per sync where the team's rank or score changed.",
    )


# -- movers -------------------------------------------------------------------------

MoversSection = Literal["climbers", "fallers", "new", "departed"]
MOVERS_SECTIONS: tuple[MoversSection, ...] = ("climbers", "fallers", "new", "departed")
MOVERS_CSV_FIELDS = (
    "section",
    "team_id",
    "team_name",
    "rank",
    "previous_rank",
    "movement",
    "score",
    "previous_score",
)
_MOVE_COLUMNS = [
    Col("Rank", 0, "num"),
    Col("Team", 0, "text"),
    Col("Move", 0, "short"),
    Col("Was", 1, "num"),
    Col("Score", 2, "short"),
]


@app.command("movers")
def movers_command(
    ctx: typer.Context,
    slug: SlugArgument,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Compare with the board as of this time: a duration ago (90m, 2h, 1d) or a date/date-time. Default: the previous sync.",
            metavar="TIME",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", help="At most N teams per list.", min=1, max=MAX_COUNT, metavar="N"),
    ] = 10,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """Show the biggest climbers and fallers, and new and departed teams.

    With --csv (and when stdout is not a terminal) the four lists are one table with
    a section column: climbers, fallers, new, departed.

    \b
    Example:
      kagsync movers titanic --since 1d --limit 5
    """
    from kagsync.values import parse_duration_or_time
    from kagsync.views import movement_text

    one_format(json_output, csv_output)
    since_iso = None
    if since is not None:
        try:
            since_iso = parse_duration_or_time(since)
        except ValidationError:
            raise ValidationError(
                f"--since: cannot read {since!r}: give a duration ago (90m, 2h, 1d, 1d12h) "
                "or a date or date-time (2025-03-01, 2025-03-01T18:00)"
            ) from None
    ks = _reading(ctx)
    competition = ks.competitions.get(slug)
    result = ks.boards.movers(competition.slug, since=since_iso, limit=limit)
    if json_output:
        print_json(result)
        return
    records: list[SectionMover] = [{"section": key, **item} for key in MOVERS_SECTIONS for item in result[key]]
    if csv_output:
        print_csv(MOVERS_CSV_FIELDS, records)
        return
    if not is_terminal():
        piped.movers(records)
        if not result["compared"]:
            typer.echo(f"{competition.slug} was synced once so far: nothing to compare yet.", err=True)
        return
    if not result["compared"]:
        echo(f"{competition.slug} was synced once so far: nothing to compare yet.")
        return
    baseline = result["baseline"]
    if baseline is None:
        start = f"before the first sync (nothing stored as of {cell_text(since_iso)})"
    elif since_iso is None:
        start = f"the previous sync ({cell_text(baseline['synced_at'])})"
    else:
        start = f"the sync of {cell_text(baseline['synced_at'])} (last one at or before {cell_text(since_iso)})"
    latest = result["latest"]
    assert latest is not None  # compared: there is a latest sync to compare with
    echo(f"{competition.title}: changes from {start} to the latest sync ({cell_text(latest['synced_at'])})")
    totals = result["totals"]
    sections: tuple[tuple[MoversSection, str, Sequence[Col], Callable[[Mover], tuple[object, ...]]], ...] = (
        (
            "climbers",
            "Climbers",
            _MOVE_COLUMNS,
            lambda i: (i["rank"], i["team_name"], movement_text(i), i["previous_rank"], i["score"]),
        ),
        (
            "fallers",
            "Fallers",
            _MOVE_COLUMNS,
            lambda i: (i["rank"], i["team_name"], movement_text(i), i["previous_rank"], i["score"]),
        ),
        (
            "new",
            "New teams",
            [Col("Rank", 0, "num"), Col("Team", 0, "text"), Col("Score", 1, "short")],
            lambda i: (i["rank"], i["team_name"], i["score"]),
        ),
        (
            "departed",
            "Departed teams",
            [Col("Was", 0, "num"), Col("Team", 0, "text"), Col("Score", 1, "short")],
            lambda i: (i["previous_rank"], i["team_name"], i["previous_score"]),
        ),
    )
    for key, title, columns, row in sections:
        items = result[key]
        if not items:
            echo(f"No {title.lower()}.")
            continue
        count = f"{len(items)} of {totals[key]}" if totals[key] > len(items) else f"{totals[key]}"
        table(f"{title}: {count}", columns, [row(i) for i in items])


# -- standings ---------------------------------------------------------------------------


@app.command("standings")
@event_app.command("standings", hidden=True)  # its name before views became top-level
def event_standings_command(
    ctx: typer.Context,
    event: EventArgument,
    scheme: SchemeOption = "points",
    top: TopOption = None,
    all_rows: AllOption = False,
    everyone: Annotated[
        bool, typer.Option("--everyone", help="Rank every participant, not only the roster's members.")
    ] = False,
    group: Annotated[
        str | None, typer.Option("--group", help="Only the roster members of this group.", metavar="GROUP")
    ] = None,
    groups_only: Annotated[
        bool, typer.Option("--groups", help="Only the ranking of the roster's groups (by their best member).")
    ] = False,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """One ranking across the event's competitions, by Kaggle username.

    A team's result goes to each member; teams without known members count under their
    name. Missing a competition is the worst outcome; the method is printed under the
    table. On a terminal the first 50 participants are shown (--top N, --all).

    When the event has a roster (kagsync roster import), only its members are ranked,
    under their display names, members who entered nothing last ("not entered"), and the
    groups are ranked by their best member; --group G ranks one group, --everyone all.

    When stdout is not a terminal, one table of tab-separated lines: the participants
    (plain numbers, ranks per competition slug, kind and "by team name" as columns), or
    with --groups the groups.

    \b
    Example:
      kagsync standings neural-night-2025 --scheme rank-sum
      kagsync standings "Neural Night 2025" --groups | sort -t$'\\t' -k3n
    """
    from kagsync.export import standings_fields, standings_records
    from kagsync.standings import SCHEME_LABELS, parse_scheme

    one_format(json_output, csv_output)
    limit = board_limit(top, all_rows, machine=json_output or csv_output)
    scheme = parse_scheme(scheme)
    standings = _reading(ctx).events.standings(event, scheme=scheme, everyone=everyone, group=group)
    if json_output:
        import dataclasses

        shown = standings if limit is None else dataclasses.replace(standings, rows=standings.rows[:limit])
        print_json(shown.to_dict())
        return
    if csv_output:
        records = standings_records(standings)
        print_csv(standings_fields(standings), records if limit is None else itertools.islice(records, limit))
        return
    label = SCHEME_LABELS[scheme]
    if groups_only and not standings.groups:
        raise NotFoundError(f"{event}: no groups to rank (a roster with a group column ranks its groups)")
    rows = standings.rows if limit is None else standings.rows[:limit]
    if not is_terminal():
        if groups_only:
            piped.groups(standings)
        else:
            piped.standings(standings, rows, label)
        return
    title = get_state(ctx).api(mode="read").events.get(event).title  # the heading names the event as people do
    if groups_only:
        standing.groups_table(title, standings)
        return
    standing.terminal(event, title, standings, rows, scheme)


# -- export ---------------------------------------------------------------------------


def _is_stdout(path: Path | None) -> bool:
    return path is None or str(path) == "-"


@contextmanager
def _output(path: Path | None, *, bom: bool) -> Iterator[TextIO]:
    """stdout (no path, or -), a stream (device, FIFO), or a file replaced whole when complete."""
    with open_output(path or "-", encoding="utf-8-sig" if bom else "utf-8") as handle:
        yield handle


@app.command("export")
def export_command(
    ctx: typer.Context,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            help="Export every board of this event, and its standings.",
            metavar="EVENT",
            autocompletion=complete_event,
            callback=event_option,
        ),
    ] = None,
    competition: Annotated[
        str | None,
        typer.Option(
            "--competition",
            help="Export this competition's board.",
            metavar="SLUG",
            autocompletion=complete_competition,
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, json or jsonl.", metavar="FORMAT")] = "csv",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to FILE instead of stdout (- is stdout; an event's CSV also writes FILE-standings.csv).",
            metavar="FILE",
        ),
    ] = None,
    scheme: SchemeOption = "points",
    everyone: Annotated[
        bool, typer.Option("--everyone", help="Standings of every participant, not only the roster's members.")
    ] = False,
) -> None:
    """Export stored boards (and an event's standings) for spreadsheets and scripts.

    CSV cells a spreadsheet would run as a formula (starting with = + - @) get a
    leading ' (plain numbers such as -0.5 are left alone). CSV written with -o is UTF-8
    with a BOM, for Excel.

    \b
    Example:
      kagsync export --event neural-night-2025 --format csv -o results.csv
    """
    from kagsync.export import parse_format, standings_path
    from kagsync.standings import parse_scheme

    if (event is None) == (competition is None):
        raise ValidationError("give exactly one of --event EVENT and --competition SLUG")
    fmt = parse_format(fmt)
    scheme = parse_scheme(scheme)
    to_stdout = is_stream(output)  # stdout, a device or a FIFO: no BOM, no companion file
    if event is not None and fmt == "csv" and to_stdout:
        raise ValidationError("a CSV export of an event is two files (boards and standings): give -o FILE")
    state = get_state(ctx)
    ks = state.api(mode="read")
    with _output(output, bom=fmt == "csv" and not to_stdout) as out, contextlib.ExitStack() as stack:
        standings_out = None
        if event is not None and fmt == "csv" and output is not None:
            standings_out = stack.enter_context(_output(standings_path(output), bom=True))
        summary = ks.boards.export(
            out,
            fmt=fmt,
            competition=competition,
            event=event,
            scheme=scheme,
            standings_out=standings_out,
            everyone=everyone,
        )
    if output is not None and not to_stdout:
        extra = ""
        if summary.standings_rows is not None:
            extra = f" and {summary.standings_rows:,} standings"
            if fmt == "csv":
                extra += f" (in {escape(str(standings_path(output)))})"
        say(
            state,
            f"Wrote {summary.entries:,} entries of {summary.competitions} competition(s){extra} to {escape(str(output))}",
        )


# -- report ------------------------------------------------------------------------------


@app.command("report")
def report_command(
    ctx: typer.Context,
    event: EventArgument,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML file to write (- is stdout).", metavar="FILE")
    ] = Path("results.html"),
    scheme: SchemeOption = "points",
    top: Annotated[
        int,
        typer.Option(
            "--top", help="Rows per board (and of the standings) on the page.", min=1, max=MAX_COUNT, metavar="N"
        ),
    ] = 100,
    chart_teams: Annotated[
        int, typer.Option("--chart-teams", help="Teams drawn in each rank-over-time chart.", min=1, max=8, metavar="N")
    ] = 6,
    everyone: Annotated[
        bool, typer.Option("--everyone", help="Standings of every participant, not only the roster's members.")
    ] = False,
) -> None:
    """Write one self-contained HTML results page: standings, boards, rank-over-time charts.

    Nothing is loaded from the network: open it offline, mail it, or put it on any web
    server. -o - writes the page to stdout.

    \b
    Example:
      kagsync report neural-night-2025 -o results.html
    """
    from kagsync.report import write_report
    from kagsync.standings import parse_scheme

    scheme = parse_scheme(scheme)
    to_stdout = _is_stdout(output)
    if not to_stdout and output.is_dir():
        raise ValidationError(f"{output}: is a folder; give a file name")
    state = get_state(ctx)
    html = state.api(mode="read").events.report(
        event, scheme=scheme, top=top, chart_teams=chart_teams, everyone=everyone
    )
    if to_stdout:
        sys.stdout.write(html)
        return
    try:
        write_report(output, html)
    except OSError as exc:
        raise KagsyncError(f"{output}: cannot write ({exc.strerror})") from None
    say(state, f"Wrote {escape(str(output))} ({len(html.encode()) / 1024:,.0f} KiB)")
