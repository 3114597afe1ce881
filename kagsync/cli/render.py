"""Rendering helpers shared by the commands: tables, JSON and CSV (sync progress and
outcomes are in :mod:`kagsync.cli.outcomes`).

Every table goes through :func:`table`. On a terminal it is fitted to the screen's
width: each column has a priority, and when the table would not fit, the columns of
the lowest priority are left out (a note under the table names them) before any
column would be squeezed; long text wraps inside its column, and no header is ever
cut. When stdout is not a terminal, the same table is printed as plain
tab-separated lines with a header, every row, for ``cut``, ``awk`` and ``grep``.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape

from kagsync.cli.app import SafeConsole, Screen, State, screen, stderr
from kagsync.errors import ValidationError
from kagsync.models import MAX_COUNT, Note
from kagsync.text import printable

if TYPE_CHECKING:
    # Only for annotations: rich's tables and progress bars are imported when drawn.
    from rich.console import Console
    from rich.table import Table

    from kagsync.models import SyncOutcome

# -- options shared by commands ------------------------------------------------------

# Rows of a board shown on a terminal unless --top or --all says otherwise.
DEFAULT_TOP = 50

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV (formula-safe) instead of a table.")]
AllOption = Annotated[bool, typer.Option("--all", help="Every row (on a terminal only the first 50 are shown).")]
TopOption = Annotated[
    int | None,
    typer.Option(
        "--top",
        help=f"Only the first N rows (1-{MAX_COUNT:,}; on a terminal the default is {DEFAULT_TOP}).",
        min=1,
        max=MAX_COUNT,
        metavar="N",
        show_default=False,
    ),
]


def one_format(json_output: bool, csv_output: bool) -> None:
    """Refuse --json together with --csv (exit 2)."""
    if json_output and csv_output:
        raise ValidationError("choose one of --json and --csv")


def is_terminal() -> bool:
    """Whether stdout gets tables drawn for a terminal (else tab-separated lines)."""
    return screen().terminal


def board_limit(top: int | None, all_rows: bool, *, machine: bool = False) -> int | None:
    """How many board rows to show: --top, or all (--all, JSON/CSV, a pipe), else 50."""
    if top is not None and all_rows:
        raise ValidationError("choose one of --top N and --all")
    if top is not None:
        return top
    if all_rows or machine or not screen().terminal:
        return None
    return DEFAULT_TOP


def more_line(total: int, shown: int) -> str | None:
    """The line under a shortened board: "… N more (--all)"."""
    hidden = total - shown
    return f"… {hidden:,} more (--all)" if hidden > 0 else None


# -- shell completion ----------------------------------------------------------------------


def _complete_slugs(ctx: typer.Context, incomplete: str, *, events: bool) -> list[str]:
    """Slugs from the database (read-only) that start with ``incomplete``; [] on any problem."""
    import logging

    logger = logging.getLogger("kagsync")
    if not logger.handlers:  # a completion never prints, not even a warning
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    try:
        from kagsync.api import Kagsync
        from kagsync.settings import load_settings

        db = ctx.find_root().params.get("db")
        with Kagsync(load_settings({"db": db} if db else {}), mode="read") as ks:
            items = ks.events.all() if events else ks.competitions.all()
            prefix = incomplete.lower()
            return [item.slug for item in items if item.slug.startswith(prefix)]
    except Exception:  # noqa: BLE001 -- a completion must stay silent
        return []


def complete_event(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of an event slug."""
    return _complete_slugs(ctx, incomplete, events=True)


def complete_competition(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of a competition slug."""
    return _complete_slugs(ctx, incomplete, events=False)


# -- JSON and CSV ------------------------------------------------------------------------


# What json.dumps leaves raw although a terminal may obey it: DEL, C1 controls and
# bidi overrides (C0 controls are already escaped as \u00XX).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def print_json(data: object) -> None:
    """Pretty JSON on stdout, every control character escaped (``\\u001b``)."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    typer.echo(_JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text))


def print_csv(fields: Sequence[str], records: Iterable[Mapping[str, object]]) -> int:
    """Formula-safe CSV on stdout (a header, one line per record); the number of rows."""
    from kagsync.csvout import write_csv

    return write_csv(sys.stdout, fields, records)


def echo(text: str = "") -> None:
    """A line of a command's result on stdout, wrapped to the terminal's width on one."""
    shown = screen()
    text = printable(text, keep_newlines=True)
    if not shown.terminal:
        typer.echo(text)
        return
    from rich.text import Text

    output_console(shown).print(Text(text))


# -- tables ----------------------------------------------------------------------------

Kind = Literal["key", "text", "long", "line", "num", "time", "short"]

_NUMERIC_COLUMNS = {
    "rank",
    "entries",
    "created",
    "updated",
    "removed",
    "subs",
    "teams",
    "#",
    "points",
    "move",
    "line",
    "was",
    "entered",
    "competitions",
    "new",
    "changed",
    "rank sum",
    "best pct",
}
_TIME_COLUMNS = {"start", "end", "last synced", "started", "finished", "last submission", "synced", "time"}

# For each kind of wrapping column: the narrowest width it is given before columns are
# dropped instead, and the width it is comfortable at (columns of priority 2 and up are
# dropped until every column can have it).
_MIN_WIDTH = {"key": 16, "text": 10, "long": 16, "line": 10}
_COMFORT_WIDTH = {"key": 30, "text": 20, "long": 30, "line": 24}
_GAP = 2  # spaces between two columns


@dataclass(frozen=True)
class Col:
    """A table column: its header, its priority and the kind of its cells.

    ``priority`` 0 columns are always shown; on a narrow terminal the columns of the
    highest priority number go first (the rightmost first among equals). ``kind``:
    ``key`` (the row's name, wraps only at hyphens), ``text`` (wraps), ``long`` (wraps;
    a message), ``line`` (one line, cut with … when narrow), ``num`` (right-aligned),
    ``time`` and ``short`` (never wrap).
    """

    name: str
    priority: int = 0
    kind: Kind = "text"


def _col(column: Col | str, index: int) -> Col:
    """A column given by its header alone: the first two always stay; the others may
    go, the rightmost first, when the table would not fit even at its narrowest."""
    if isinstance(column, Col):
        return column
    lowered = column.lower()
    priority = 0 if index < 2 else 1
    if index == 0:
        return Col(column, 0, "key")
    if lowered in _NUMERIC_COLUMNS:
        return Col(column, priority, "num")
    if lowered in _TIME_COLUMNS:
        return Col(column, priority, "time")
    return Col(column, priority, "text")


_ISO_UTC = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}Z")


def cell_text(value: object) -> str:
    """A cell as shown on a terminal: None is an en dash, ISO times read "2025-03-01 18:00".

    Every table cell passes here, so outside text (team names, members, titles, error
    bodies) reaches a terminal with its control characters shown escaped
    (:func:`kagsync.text.printable`), never obeyed.
    """
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        if _ISO_UTC.fullmatch(value):
            return _ISO_UTC.sub(r"\1 \2", value).removesuffix(" 00:00")
        return printable(value, keep_newlines=True)
    return printable(str(value))


def dash(value: object) -> str:
    """:func:`cell_text`, escaped for rich markup."""
    return escape(cell_text(value))


_BREAKS = re.compile(r"[^\s-]*-+|[^\s-]+")
_TOKENS = re.compile(r"[^\s-]*-+|[^\s-]+|\s+")


def _pieces(text: str) -> list[str]:
    """Words, each hyphen kept at the end of its piece: the places a line may break."""
    return _BREAKS.findall(text)


def _wrap_at_breaks(text: str, width: int) -> str:
    """Lines of at most ``width`` cells, broken at spaces and after hyphens.

    A piece longer than ``width`` keeps a line of its own (the table folds it).
    """
    from rich.cells import cell_len

    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _TOKENS.findall(paragraph):
            if token.isspace():
                if line:
                    line += " "
                continue
            if line.strip() and cell_len(line + token) > width:
                lines.append(line.rstrip())
                line = token
            else:
                line += token
        lines.append(line.rstrip())
    return "\n".join(lines)


@dataclass
class _Fit:
    columns: list[Col]
    widths: list[int]
    hidden: list[str]
    indexes: list[int]


def _measure(
    columns: Sequence[Col], texts: Sequence[Sequence[str]]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Each column's narrowest acceptable, comfortable, content (its longest cell, the
    header wrapped) and natural (nothing wrapped) widths."""
    from rich.cells import cell_len

    minimum: list[int] = []
    comfort: list[int] = []
    content: list[int] = []
    natural: list[int] = []
    for index, column in enumerate(columns):
        header_min = max((cell_len(piece) for piece in _pieces(column.name)), default=1)
        header_full = max((cell_len(line) for line in column.name.split("\n")), default=1)
        longest = 1
        for row in texts:
            cell = row[index]
            size = cell_len(cell) if "\n" not in cell else max(cell_len(line) for line in cell.split("\n"))
            if size > longest:
                longest = size
        full = max(header_full, longest)
        if column.kind in _MIN_WIDTH:
            low = max(header_min, min(longest, _MIN_WIDTH[column.kind]))
            good = max(low, min(full, _COMFORT_WIDTH[column.kind]))
        else:  # numbers, times and short words are never wrapped
            low = good = max(header_min, longest)
        minimum.append(low)
        comfort.append(good)
        content.append(max(low, header_min, longest))
        natural.append(max(full, good))
    return minimum, comfort, content, natural


def _fit(columns: Sequence[Col], texts: Sequence[Sequence[str]], width: int) -> _Fit:
    """Which columns to show at ``width`` and how wide each is.

    Columns of priority 2 and up go (the highest number first, the rightmost among
    equals) until the rest fit at comfortable widths; priority 1 columns go only when
    the rest would not fit even at their narrowest; priority 0 columns always stay.
    What room is left widens the wrapping columns towards their natural width.
    """
    minimum, comfort, content, natural = _measure(columns, texts)
    from rich.cells import cell_len

    header = [max(cell_len(line) for line in column.name.split("\n")) for column in columns]
    shown = list(range(len(columns)))

    def needed(widths: list[int]) -> int:
        return sum(widths[i] for i in shown) + _GAP * max(len(shown) - 1, 0)

    for floor, widths in ((2, comfort), (1, minimum)):
        while needed(widths) > width:
            droppable = [i for i in shown if columns[i].priority >= floor]
            if not droppable:
                break
            shown.remove(max(droppable, key=lambda i: (columns[i].priority, i)))
    room = width - _GAP * max(len(shown) - 1, 0)
    sizes = {i: minimum[i] for i in shown}
    extra = room - sum(sizes.values())
    if extra < 0:  # even the columns that always stay do not fit: share what there is
        total = max(sum(sizes.values()), 1)
        for i in shown:
            sizes[i] = max(1, sizes[i] * room // total)
    # What room is left goes, in turn, to: every cell at a comfortable width, headers on
    # one line, every cell unwrapped, then everything at its natural width.
    comfortable = [max(minimum[i], min(content[i], comfort[i])) for i in range(len(columns))]
    headed = [max(comfortable[i], header[i]) for i in range(len(columns))]
    for target in (comfortable, headed, content, natural):
        while extra > 0:
            wanting = [i for i in shown if sizes[i] < target[i]]
            if not wanting:
                break
            share = max(1, extra // len(wanting))
            for i in sorted(wanting, key=lambda i: target[i] - sizes[i]):
                step = min(share, target[i] - sizes[i], extra)
                sizes[i] += step
                extra -= step
                if extra <= 0:
                    break
    hidden = [columns[i].name for i in range(len(columns)) if i not in shown]
    return _Fit([columns[i] for i in shown], [sizes[i] for i in shown], hidden, shown)


def hidden_note(hidden: Sequence[str], width: int) -> str | None:
    """The note under a table that left columns out."""
    if not hidden:
        return None
    names = ", ".join(name.replace("\n", " ") for name in hidden)
    return f"Not shown at {width} columns: {names} (widen the terminal, or use --json or --csv)."


def build_table(
    columns: Sequence[Col | str],
    rows: Iterable[Sequence[object]],
    *,
    width: int,
    styles: Sequence[Sequence[str | None]] | None = None,
    drop_empty: bool = True,
) -> tuple[Table, list[str]]:
    """A rich table fitted to ``width`` columns, and the names of the columns left out.

    ``styles`` (optional, one per row and cell) gives rich styles to cells, such as
    the colour of an outcome; cell text is never read as markup. A column empty in
    every row is left out (unless its priority is 0), with no note: it had nothing to say
    (``drop_empty=False`` keeps it: a live display keeps its columns from one frame to the next).
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    specs = [_col(column, index) for index, column in enumerate(columns)]
    values = [list(row) for row in rows]
    # A column with nothing in it says nothing: left out, unless it always stays (priority 0).
    kept = [
        index
        for index, spec in enumerate(specs)
        if not drop_empty or spec.priority == 0 or not values or any(row[index] not in (None, "") for row in values)
    ]
    if len(kept) < len(specs):
        specs = [specs[index] for index in kept]
        values = [[row[index] for index in kept] for row in values]
        if styles is not None:
            styles = [[row_styles[index] for index in kept] for row_styles in styles]
    texts = [[cell_text(value) for value in row] for row in values]
    fit = _fit(specs, texts, width)
    grid = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style="bold",
    )
    for column, size in zip(fit.columns, fit.widths, strict=True):
        grid.add_column(
            Text(_wrap_at_breaks(column.name, size)),
            justify="right" if column.kind == "num" else "left",
            width=size,
            no_wrap=column.kind in ("num", "time", "short", "line"),
            overflow="ellipsis" if column.kind == "line" else "fold",
        )
    for row_index, row in enumerate(texts):
        cells = []
        for index, column, size in zip(fit.indexes, fit.columns, fit.widths, strict=True):
            cell = row[index]
            if column.kind == "key" and len(cell) > size:
                cell = _wrap_at_breaks(cell, size)
            style = styles[row_index][index] if styles is not None else None
            cells.append(Text(cell, style=style or ""))
        grid.add_row(*cells)
    return grid, fit.hidden


# Characters a TSV line must not hold, as csvout.write_tsv treats them: spaces for
# what would split a cell or a line, nothing for NUL.
_TSV_BLANKS = str.maketrans({**dict.fromkeys("\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029", " "), "\x00": None})


def write_rows_tsv(names: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Tab-separated lines on stdout: a header, then one line per row (see csvout.write_tsv).

    Rows of plain text and numbers, nearly all of them, are joined here directly (a
    100,000-team board in a fraction of a second); any other row goes through
    :func:`kagsync.csvout.write_tsv`, the home of the TSV rules.
    """
    from kagsync.csvout import safe_cell, write_tsv

    out = sys.stdout
    write_tsv(out, names, ())
    write = out.write
    join = "\t".join
    numbers = (int, float)
    for row in rows:
        cells: list[str] = []
        for value in row:
            # Exact types (as in csvout.safe_cell): a str subclass takes the careful way below.
            if type(value) is str:
                cells.append(value)
            elif value is None:
                cells.append("")
            elif type(value) in numbers or type(value) is bool:
                cells.append(safe_cell(value))  # for numbers, the same text as a TSV cell
            else:
                break
        else:
            if "".join(cells).isprintable():
                write(join(cells) + "\n")
                continue
        # Outside text with control characters: tabs and line breaks become spaces (one
        # line per row), NULs go, every other one is shown escaped as on a terminal.
        safe = [printable(value.translate(_TSV_BLANKS)) if isinstance(value, str) else value for value in row]
        one = io.StringIO()
        write_tsv(one, names, [dict(zip(names, safe, strict=True))])
        write(one.getvalue().split("\n", 1)[1])


def _print_title(console: Console, text: str, style: str = "bold") -> None:
    from rich.text import Text

    console.print(Text(printable(text, keep_newlines=True), style=style))


def output_console(shown: Screen | None = None) -> SafeConsole:
    """A rich console on stdout drawn for the terminal described by ``shown``."""
    shown = shown or screen()
    return SafeConsole(
        file=sys.stdout,
        width=shown.width,
        force_terminal=shown.terminal,
        color_system="auto" if shown.color else None,
        highlight=False,
        emoji=False,
    )


def table(
    title: str | None,
    columns: Sequence[Col | str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
    more: str | None = None,
) -> None:
    """Print a table: fitted to the terminal, or tab-separated lines when stdout is not one.

    ``title`` is printed above it and ``caption`` and ``more`` (a "… N more" line)
    under it, on a terminal only. When columns were left out to fit, a note says which.
    """
    shown = screen()
    if not shown.terminal:
        names = [(column.name if isinstance(column, Col) else column).replace("\n", " ") for column in columns]
        write_rows_tsv(names, rows)
        return
    console = output_console(shown)
    grid, hidden = build_table(columns, rows, width=shown.width)
    if title:
        _print_title(console, title)
    console.print(grid)
    from rich.text import Text

    if more:
        console.print(Text(printable(more), style="bold"))
    if caption:
        console.print(Text(printable(caption, keep_newlines=True), style="dim" if shown.color else ""))
    note = hidden_note(hidden, shown.width)
    if note:
        console.print(Text(note, style="dim" if shown.color else ""))


def message(markup: str) -> None:
    """A message (rich markup) on stderr: wrapped at word boundaries on a terminal, one
    line otherwise (for logs and scripts). Control characters of outside text are shown
    escaped (markup itself has none)."""
    stderr.print(printable(markup, keep_newlines=True), soft_wrap=not stderr.is_terminal)


def say(state: State, markup: str) -> None:
    """A human message (rich markup) on stderr, unless --quiet (see :func:`message`)."""
    if not state.quiet:
        message(markup)


def notes_once(notes: Sequence[str], outcomes: Sequence[SyncOutcome]) -> list[Note]:
    """``notes`` with any reason that a failed sync's line will give again replaced by a
    pointer to it, so a long reason (no credentials...) is printed once."""
    reasons = [o.error for o in outcomes if not o.ok and o.error and len(o.error) >= 20]
    shown = []
    for note in notes:
        text = str(note)
        for reason in reasons:
            text = text.replace(f"({reason})", "(the reason is below)").replace(reason, "(the reason is below)")
        shown.append(Note(text, getattr(note, "hint", None)))
    return shown


# -- --offline -------------------------------------------------------------------------


def reaches_kaggle(state: State) -> bool:
    """Whether boards would come from Kaggle: no --source folder (nor KAGSYNC_SOURCE)."""
    return state.settings.source is None


def offline_refused(state: State, what: str) -> None:
    """With --offline, refuse ``what`` when it would need Kaggle: one line, exit 2."""
    if state.offline and reaches_kaggle(state):
        raise ValidationError(f"--offline: {what} needs Kaggle (give --source DIR, or leave out --offline)")


def offline_skips_sync(state: State, no_sync: bool, later: str) -> bool:
    """``no_sync``, or True when --offline leaves no board to read (said once, unless -q,
    with ``later``: the command that syncs later)."""
    if no_sync or not (state.offline and reaches_kaggle(state)):
        return no_sync
    say(state, f"--offline: nothing is synced now (later: {escape(later)})")
    return True
