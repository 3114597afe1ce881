"""Export stored boards (and an event's standings) as CSV, JSON or JSON Lines.

Boards are written in the order ``kagsync leaderboard`` shows them, streamed, so a
board of a million teams is exported in small memory.

CSV is made safe for spreadsheets by :mod:`kagsync.csvout` (every CSV the tool
writes goes through it): a text cell, or any line inside a cell, that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets one ``'`` in front; a
plain number (``-0.5``) is left alone; a cell holding CR or LF is quoted and NUL is
removed, so no row can split. ``unescape_cell`` undoes the prefix.

Columns of a board (CSV and JSON alike): ``competition, rank, team_id, team_name,
score, score_value, submission_count, last_submission, members, is_benchmark``.
``score`` is Kaggle's text exactly; ``rank`` is 0 for a benchmark; ``board`` says
which board the rows are (``private``: Kaggle's final board, once stored). In CSV,
``members`` is the usernames joined with commas (as in Kaggle's own files) and
``is_benchmark`` is 1 or 0; in JSON they are a list and a boolean.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kagsync.csvout import csv_row, safe_cell, unescape_cell, write_csv
from kagsync.errors import ValidationError
from kagsync.models import Board, Competition, Event
from kagsync.rows import BoardRow
from kagsync.standings import SCHEME_VALUE_NAMES, Standings
from kagsync.views import iter_leaderboard_entries

if TYPE_CHECKING:
    from kagsync.db import Database

FORMATS = ("csv", "json", "jsonl")

ENTRY_FIELDS = (
    "competition",
    "rank",
    "team_id",
    "team_name",
    "score",
    "score_value",
    "submission_count",
    "last_submission",
    "members",
    "is_benchmark",
    "board",
)


class ExportEntry(BoardRow):
    """One team of an exported board: the keys of :data:`ENTRY_FIELDS`."""

    competition: str
    board: Board


def parse_format(text: str) -> str:
    """One of :data:`FORMATS`."""
    value = text.strip().lower()
    if value not in FORMATS:
        raise ValidationError(f"unknown format {text!r} (choose from {', '.join(FORMATS)})")
    return value


def final_board(competition: Competition) -> Board:
    """The board that holds a competition's result: the private (final) one once stored."""
    return "private" if competition.private_synced_at is not None else "public"


def board_records(database: Database, competition: Competition) -> Iterator[ExportEntry]:
    """The competition's result board (see :func:`final_board`) as export records, in board order."""
    board = final_board(competition)
    for entry in iter_leaderboard_entries(database, competition, board=board):
        yield {
            "competition": competition.slug,
            "rank": entry["rank"],
            "team_id": entry["team_id"],
            "team_name": entry["team_name"],
            "score": entry["score"],
            "score_value": entry["score_value"],
            "submission_count": entry["submission_count"],
            "last_submission": entry["last_submission"],
            "members": entry["members"],
            "is_benchmark": entry["is_benchmark"],
            "board": board,
        }


# -- CSV: the one formula-safe writer is kagsync.csvout ------------------------------


def standings_fields(standings: Standings) -> list[str]:
    """CSV columns of a standings table: the line, then rank and value per competition."""
    label = SCHEME_VALUE_NAMES[standings.scheme]
    fields = ["place", "name", "key", "kind", "total", "best_rank", "entered"]
    for competition in standings.competitions:
        fields += [f"{competition['slug']} rank", f"{competition['slug']} {label}"]
    return fields


def standings_records(standings: Standings) -> Iterator[dict[str, object]]:
    """Flat records of the standings for CSV (see :func:`standings_fields`)."""
    label = SCHEME_VALUE_NAMES[standings.scheme]
    for row in standings.rows:
        # Open-ended keys (two per competition of the event), so a plain dict, not a TypedDict.
        record: dict[str, object] = {
            "place": row.place,
            "name": row.name,
            "key": row.key,
            "kind": row.kind,
            "total": row.total,
            "best_rank": row.best_rank,
            "entered": row.entered,
        }
        for slug, result in row.results.items():
            record[f"{slug} rank"] = result.rank if result else None
            record[f"{slug} {label}"] = round(result.value, 6) if result else None
        yield record


# -- JSON ---------------------------------------------------------------------


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_competition_json(out: TextIO, database: Database, competition: Competition) -> int:
    """``{"competition": {...}, "entries": [...]}``, streamed; returns the number of entries."""
    out.write('{"competition": ' + _dumps(competition.to_dict()) + ', "entries": [')
    count = _write_json_list(out, board_records(database, competition))
    out.write("]}\n")
    return count


def write_event_json(
    out: TextIO, database: Database, event: Event, competitions: list[Competition], standings: Standings
) -> int:
    """``{"event", "competitions": [{"competition", "final", "entries"}], "standings"}``, streamed.

    ``final`` is true for a competition whose private (final) board is stored: its
    entries are that board; otherwise they are the public board (provisional).
    """
    out.write('{"event": ' + _dumps(event.to_dict()) + ', "competitions": [')
    count = 0
    for index, competition in enumerate(competitions):
        out.write(",\n" if index else "\n")
        final = "true" if final_board(competition) == "private" else "false"
        out.write('{"competition": ' + _dumps(competition.to_dict()) + ', "final": ' + final + ', "entries": [')
        count += _write_json_list(out, board_records(database, competition))
        out.write("]}")
    out.write('\n], "standings": ' + _dumps(standings.to_dict()) + "}\n")
    return count


def _write_json_list(out: TextIO, records: Iterable[Mapping[str, object]]) -> int:
    count = 0
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(_dumps(record))
        count += 1
    if count:
        out.write("\n")
    return count


def write_jsonl(out: TextIO, records: Iterable[Mapping[str, object]]) -> int:
    """One JSON object per line; returns the number of lines."""
    count = 0
    for record in records:
        out.write(_dumps(record) + "\n")
        count += 1
    return count


def jsonl_records(
    database: Database, competitions: list[Competition], standings: Standings | None = None
) -> Iterator[dict[str, object]]:
    """Lines for JSON Lines: ``{"type": "entry", ...}`` per team, then ``{"type": "standing", ...}``."""
    for competition in competitions:
        for record in board_records(database, competition):
            yield {"type": "entry", **record}
    if standings is not None:
        for row in standings.rows:
            yield {"type": "standing", "event": standings.event, "scheme": standings.scheme, **row.to_dict()}


# -- files --------------------------------------------------------------------


def standings_path(path: Path) -> Path:
    """Where an event's CSV export puts the standings beside the boards' FILE."""
    return path.with_name(f"{path.stem}-standings{path.suffix or '.csv'}")


def export(
    database: Database,
    *,
    fmt: str,
    out: TextIO,
    competitions: list[Competition],
    event: Event | None = None,
    standings: Standings | None = None,
    standings_out: TextIO | None = None,
) -> int:
    """Write the export to ``out`` (and an event's CSV standings to ``standings_out``).

    Returns the number of board entries written.
    """
    fmt = parse_format(fmt)
    if fmt == "json":
        if event is not None:
            assert standings is not None
            return write_event_json(out, database, event, competitions, standings)
        return write_competition_json(out, database, competitions[0])
    if fmt == "jsonl":
        records = jsonl_records(database, competitions, standings)
        written = write_jsonl(out, records)
        return written - (len(standings.rows) if standings is not None else 0)
    count = write_csv(
        out,
        ENTRY_FIELDS,
        (record for competition in competitions for record in board_records(database, competition)),
    )
    if standings is not None and standings_out is not None:
        write_csv(standings_out, standings_fields(standings), standings_records(standings))
    return count


__all__ = [
    "ENTRY_FIELDS",
    "FORMATS",
    "ExportEntry",
    "board_records",
    "csv_row",
    "export",
    "parse_format",
    "safe_cell",
    "standings_fields",
    "standings_records",
    "unescape_cell",
    "write_csv",
]
