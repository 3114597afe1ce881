"""Parse a Kaggle leaderboard download (a zip holding one CSV, or the CSV itself).

Pure parsing: bytes in, :class:`LeaderboardEntry` tuples out. No database, no network,
no printing. Every problem with the file becomes a one-line
:class:`~kagsync.errors.LeaderboardFormatError` naming the file and the physical CSV
line (header = line 1), e.g. ``board.zip:orbit-wars-publicleaderboard.csv line 17:
TeamId 'abc' is not an integer``.

Kaggle has served three CSV shapes over the years::

    A  TeamId,TeamName,SubmissionDate,Score   many rows per team (submission history)
    B  TeamId,TeamName,SubmissionDate,Score   one row per team
    C  Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames

Shape C is streamed row by row (a board of a million teams parses in small, constant
memory apart from a bitmap of seen TeamIds), so a format error can surface after
entries were already yielded: callers must stage what they receive and discard it on
error. Shapes A and B carry no rank; the whole file is read, aggregated per team and
ranked here, which is fine because those boards are small (at most tens of
thousands of rows).

Hostile input is refused early and cheaply: a zip member (or plain CSV) larger than
``max_uncompressed_bytes`` or, above 1 MiB, compressed more than
``max_compression_ratio`` to 1 is refused before a byte of it is read; blank lines
beyond two per row and the first 10,000 end the parse; integers must be plain
ASCII digits that fit SQLite's signed 64 bits; NUL characters are dropped from text.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date as _date
from datetime import datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from kagsync.boardfile import (
    _ZIP_STREAM_ERRORS,
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    _detail,
    _error,
    _find_bad_utf8_line,
    _Limits,
    _open,
    _Opened,
    _show,
    _zip_damage,
    open_leaderboard_file,
)
from kagsync.errors import LeaderboardFormatError

if TYPE_CHECKING:  # the reader's type has no public runtime name before Python 3.12
    from _csv import Reader as _CsvReader

__all__ = [
    "DEFAULT_MAX_COMPRESSION_RATIO",
    "DEFAULT_MAX_UNCOMPRESSED_BYTES",
    "SHAPE_CURRENT",
    "SHAPE_HISTORY",
    "SHAPE_PER_TEAM",
    "LeaderboardEntry",
    "LeaderboardInfo",
    "iter_leaderboard",
    "iter_leaderboard_rows",
    "open_leaderboard_file",
    "parse_leaderboard_text",
]

SHAPE_HISTORY = "A"
"""``TeamId,TeamName,SubmissionDate,Score`` with some TeamId on several rows."""
SHAPE_PER_TEAM = "B"
"""``TeamId,TeamName,SubmissionDate,Score`` with every TeamId on one row."""
SHAPE_CURRENT = "C"
"""``Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames``."""


class LeaderboardEntry(NamedTuple):
    """One team on a leaderboard; field order matches the staging table's columns."""

    rank: int
    """1..N; 0 for a host benchmark row of shape C."""
    team_id: int
    """Kaggle's TeamId: stable across renames, the team's key within a competition."""
    team_name: str
    """Exactly as given: surrounding spaces kept, ``98074`` stays text."""
    score: str
    """Kaggle's display text exactly (``0.77990``, ``1652.8``); ``""`` when empty."""
    score_value: float | None
    """``float(score)``, or None when the score is empty."""
    last_submission: str | None
    """ISO 8601 UTC ``2026-05-05T12:22:42Z``, or None when empty."""
    submission_count: int
    """Shape C: SubmissionCount; shape A: the team's number of rows; shape B: 1."""
    members: str
    """JSON array text of usernames, ``'["a","b"]'``; ``'[]'`` when none are given."""
    is_benchmark: bool
    """True for shape C rank-0 rows; shapes A and B do not mark benchmarks."""


@dataclass
class LeaderboardInfo:
    """What a parse found; pass one as ``info=`` to have it filled in.

    ``source_name`` and ``shape`` are set by the time the first entry is yielded
    (shape C: after the header; A or B: once all rows were read); ``rows`` (data
    rows, blank lines excluded) and ``entries`` (teams yielded) once iteration has
    completed.
    """

    source_name: str = ""
    shape: str | None = None
    rows: int = 0
    entries: int = 0
    file_order_direction: bool | None = None
    """Shapes A and B read with ``from_file_order``: ``lower_is_better`` as the file's
    own order shows it (its scores never rise, or never fall, and do change), or
    None when the order shows nothing (scores go both ways, or never change)."""
    ranked_lower_is_better: bool | None = None
    """Shapes A and B: the direction the teams were ranked in (None for shape C)."""


# --------------------------------------------------------------------------- header

_COLUMNS_CURRENT = (
    "Rank",
    "TeamId",
    "TeamName",
    "LastSubmissionDate",
    "Score",
    "SubmissionCount",
    "TeamMemberUserNames",
)
_COLUMNS_HISTORY = ("TeamId", "TeamName", "SubmissionDate", "Score")
# Columns that only shape C has: any of them in a header means "this meant to be C".
_ONLY_CURRENT = frozenset(_COLUMNS_CURRENT) - frozenset(_COLUMNS_HISTORY)

# ------------------------------------------------------------------------ values

# Kaggle writes "YYYY-MM-DD HH:MM:SS" (UTC, no zone). Fast path, ~4x cheaper than a
# regex: 19 characters with "-", "-", " ", ":", ":" at positions 4, 7, 10, 13, 16
# (the slice [4:17:3]) leaves datetime.fromisoformat (C code, checks ASCII digits,
# ranges and the calendar) only that exact layout to accept. Every other form goes
# through _normalize_date. ASCII classes on purpose: \d also matches other scripts.
_KAGGLE_DATE_MARKS = "-- ::"
_fromisoformat = datetime.fromisoformat
_ANY_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]"
    r"((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])(?:\.[0-9]{1,9})?(?:Z|\+00:?00)?"
).fullmatch

# json.dumps(..., ensure_ascii=False) escapes only these; text without them can be
# quoted by plain concatenation and gives byte-identical JSON.
_JSON_UNSAFE = re.compile(r'[\x00-\x1f"\\]').search

# Members text that needs neither stripping nor escaping: non-empty names without
# whitespace, quotes, backslashes or control characters, separated by single commas
# (Python's \s and str.strip() agree on what whitespace is). Its JSON array is the
# text with each comma replaced by '","', inside '["' and '"]'.
_PLAIN_MEMBERS = re.compile(r'[^\s,"\\\x00-\x1f]+(?:,[^\s,"\\\x00-\x1f]+)*').fullmatch


# SQLite's INTEGER is a signed 64-bit value: anything larger would fail (OverflowError)
# only when the sync inserts it, far from the file and line at fault.
_INT64_MAX = (1 << 63) - 1
_INT64_DIGITS = len(str(_INT64_MAX))  # 19


# Blank lines are skipped, but each still costs a trip through the CSV reader: a file
# of nothing but (or mostly) blank lines is refused once it has this many more than
# two per row. Real files have at most a trailing one; a CSV rewritten in text mode
# on Windows ("\r\r\n") has one per row.
_MAX_BLANK_LINES = 10_000

# TeamIds below this are tracked in a bitmap (2 MB covers today's ~16M ids, 32 MB at
# most); larger, implausible ids fall back to a set, so a hostile id cannot make us
# allocate a huge bitmap.
_BITMAP_LIMIT = 1 << 28


def _normalize_date(text: str, column: str, name: str, line: int) -> str | None:
    """A non-empty date -> ``YYYY-MM-DDTHH:MM:SSZ``, or raise naming the column.

    NULs are dropped first (None if nothing is left). The shape-C loop inlines the
    common case and calls this for the rest.
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
        if not text:
            return None
    m = _ANY_DATE(text)
    if m is not None:
        year, month, day, clock = m.groups()
        try:
            _date(int(year), int(month), int(day))
        except ValueError:
            pass
        else:
            return f"{year}-{month}-{day}T{clock}Z"
    raise _error(
        name,
        line,
        f"{column} {_show(text)} is not a date (expected YYYY-MM-DD HH:MM:SS)",
    )


def _parse_score(text: str, name: str, line: int) -> float | None:
    """Score text -> float; empty -> None.

    NaN and infinities are rejected: no leaderboard shows them, they cannot be
    ranked, and SQLite would store NaN as NULL. The caller drops NULs first
    (see :func:`_score_without_nul`).
    """
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _error(name, line, f"Score {_show(text)} is not a number") from None
    if value - value:  # nan or ±inf (finite values give 0.0)
        raise _error(name, line, f"Score {_show(text)} is not a finite number")
    return value


def _parse_count(text: str, column: str, name: str, line: int) -> int:
    """A non-negative integer column (shapes A/B, and the shape-C error path).

    Only plain ASCII digits: ``int()`` alone would also take `` 12 ``, ``+12``,
    ``1_000`` and other scripts' digits (``١٢٣``). The value must fit SQLite's
    signed 64-bit INTEGER; leading zeros are allowed.
    """
    # isascii() is O(1) (a flag of the string); isdigit() is only ASCII 0-9 then.
    if text.isascii() and text.isdigit():
        if len(text) < _INT64_DIGITS:  # the common case: at most 18 digits always fit
            return int(text)
        # Strip leading zeros before int(): Python refuses to convert more than 4300
        # digits, and the length alone then tells a value that cannot fit.
        significant = text.lstrip("0") or "0"
        if len(significant) <= _INT64_DIGITS and int(significant) <= _INT64_MAX:
            return int(significant)
        raise _error(name, line, f"{column} {_show(text)} is too large (at most {_INT64_MAX})")
    if text[:1] == "-" and text[1:].isascii() and text[1:].isdigit() and text.strip("-0"):
        raise _error(name, line, f"{column} {_show(text)} is negative")
    raise _error(name, line, f"{column} {_show(text)} is not an integer")


def _score_without_nul(text: str, name: str, line: int) -> tuple[str, float | None]:
    """The shape-C loop's path when ``float()`` failed: drop NULs, then parse or raise."""
    text = text.replace("\x00", "")
    return text, _parse_score(text, name, line)


def _members_json(text: str) -> str:
    """TeamMemberUserNames ("a,b", quoted by Kaggle when several) -> JSON array text.

    The shape-C loop handles the common forms itself (see _PLAIN_MEMBERS, which
    excludes NUL: the NULs dropped here cost the common case nothing).
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    names = [part for part in (raw.strip() for raw in text.split(",")) if part]
    if not names:
        return "[]"
    # Test the names, not their joined form: the '","' separator is itself unsafe.
    if _JSON_UNSAFE(text) is None:
        return '["' + '","'.join(names) + '"]'
    return json.dumps(names, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class _Direction:
    """How shapes A and B rank: ``lower_is_better``, unless ``from_file_order`` and the
    file's order shows the direction (see :func:`parse_leaderboard_text`)."""

    lower_is_better: bool
    from_file_order: bool = False


# ------------------------------------------------------------------------ parsing


def iter_leaderboard(
    path: Path | str,
    *,
    lower_is_better: bool,
    info: LeaderboardInfo | None = None,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO,
    from_file_order: bool = False,
) -> Iterator[LeaderboardEntry]:
    """Yield the entries of a leaderboard ``.zip`` (as Kaggle serves it) or ``.csv``.

    Lazy: the file is opened on the first ``next()`` and closed when iteration ends
    or the iterator is closed. ``lower_is_better`` is the competition's metric
    direction; only shapes A and B use it (to compute ranks). See
    :func:`parse_leaderboard_text` for the rules, and :func:`open_leaderboard_file`
    for how the file is opened and what ``max_uncompressed_bytes`` and
    ``max_compression_ratio`` limit (checked before the CSV is read).

    Errors: :class:`LeaderboardFormatError` for anything wrong with the file's
    content, possibly after some entries were yielded (shape C streams). For invalid
    UTF-8 the file is rescanned so the message gives the exact line. A damaged zip
    gives ``board.zip: truncated or corrupt zip`` (with zipfile's reason in
    parentheses when the damage is found inside the member): when any format error
    arises in a zip member, the member is first read to its end so that a CRC
    failure is reported instead of the garbage it produced.
    """
    limits = _Limits(max_uncompressed_bytes, max_compression_ratio)
    direction = _Direction(lower_is_better, from_file_order)
    return _entries(Path(path), None, "", direction, info, _ENTRY_ROWS, limits)


def iter_leaderboard_rows(
    path: Path | str,
    *,
    lower_is_better: bool,
    info: LeaderboardInfo | None = None,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO,
    from_file_order: bool = False,
) -> Iterator[tuple[object, ...]]:
    """:func:`iter_leaderboard` for bulk inserts: plain tuples, ``is_benchmark`` 0 or 1.

    Same values, order, laziness, limits and errors; only the row type differs.
    sqlite3 binds an exact tuple of exact ints, floats and strings fastest: a
    ``NamedTuple`` row or a ``bool`` value sends every row through its adapter
    lookup, which costs about as much as the insert itself.
    """
    limits = _Limits(max_uncompressed_bytes, max_compression_ratio)
    return _entries(Path(path), None, "", _Direction(lower_is_better, from_file_order), info, _PLAIN_ROWS, limits)


def parse_leaderboard_text(
    lines: Iterable[str],
    *,
    source_name: str,
    lower_is_better: bool,
    info: LeaderboardInfo | None = None,
    from_file_order: bool = False,
) -> Iterator[LeaderboardEntry]:
    """Yield the entries of leaderboard CSV text.

    ``lines`` is what ``csv.reader`` accepts: ideally a text file opened with
    ``newline=""`` (quoted fields may then hold newlines), or a list of strings.
    A leading BOM is dropped. ``source_name`` names the text in error messages.

    The shape is chosen by the header: exact column names (after the BOM) in any
    order; an unknown, duplicated or missing column is an error. Blank lines are
    skipped, but 10,000 of them before the header, or more than 10,000 beyond two
    per row after it, are refused (``no leaderboard rows``): a file of blank lines
    must not take minutes. Every other row must have as many fields as the header.

    Shape C (``Rank,...,TeamMemberUserNames``) is streamed in file order, which is
    Kaggle's rank order; its Rank column is trusted (rank 0 = host benchmark,
    ``is_benchmark=True``, sitting at its score's position). Ranks, TeamIds and
    SubmissionCounts must be plain ASCII digits (no sign, spaces, ``_`` or other
    scripts' digits; leading zeros allowed) of at most 2**63 - 1, SQLite's largest
    INTEGER; TeamIds unique.

    Shapes A and B (``TeamId,TeamName,SubmissionDate,Score``; A if any TeamId
    repeats, else B) are read whole and aggregated per team:

    * best row: the best score in the competition's direction; among equal scores
      the earlier submission (then the earlier row in the file); an empty score is
      worse than any score;
    * ``score``/``score_value``: those of the best row;
    * ``last_submission``: the team's *latest* SubmissionDate over all its rows
      (its most recent activity, like shape C's LastSubmissionDate), not the date
      of the best row;
    * ``team_name``: the name on the team's latest row (ties: later in the file),
      so a renamed team shows its current name;
    * ``submission_count``: the team's number of rows (so 1 for shape B). In shape
      A Kaggle kept only improving submissions, so this undercounts real ones;
    * ranks 1..N by best score, ties broken by the best row's submission time
      (earlier first, unknown last), then TeamId; teams without a score last.

    ``from_file_order`` is for a competition whose direction is not known (no
    metric, or one not in kagsync's table): Kaggle serves these files in leaderboard
    order more often than not, so when a file of one row per team (shape B) has
    scores that never rise (or never fall) and do change, that order decides the
    direction instead of
    ``lower_is_better``; ``info`` tells which (``file_order_direction``,
    ``ranked_lower_is_better``). Otherwise ``lower_is_better`` is used.

    Values: NUL characters are dropped from every text field (name, score, dates,
    members) and the header: they are never meaningful, and break C strings,
    terminals and spreadsheets downstream (integer fields refuse them). The score
    text is then kept exactly; ``score_value =
    float(score)``, which accepts forms like ``1e-5`` and ``-0.3``, but NaN and
    infinities are rejected (no board shows them and they cannot be ranked). Dates
    ``YYYY-MM-DD HH:MM:SS`` (Kaggle, UTC without zone) or
    ``YYYY-MM-DDTHH:MM:SS[.fff][Z]`` become ``YYYY-MM-DDTHH:MM:SSZ`` (fractions
    dropped); empty -> None. Members are split on commas, stripped, empties
    dropped, and serialized as compact JSON.

    Errors are :class:`LeaderboardFormatError` naming ``source_name`` and the
    physical line (for a row spanning several lines, its last one). Invalid UTF-8
    raised by ``lines`` is reported at the line the reader was about to read.
    """
    return _entries(None, lines, source_name, _Direction(lower_is_better, from_file_order), info, _ENTRY_ROWS, None)


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    """Drop a BOM from the first line (text not decoded with utf-8-sig)."""
    iterator = iter(lines)
    for first in iterator:
        yield first[1:] if first.startswith("\ufeff") else first
        break
    yield from iterator


def _read_header(reader: _CsvReader, name: str) -> tuple[str, tuple[int, ...], int] | None:
    """Return (kind, column indexes in canonical order, field count), or None if empty.

    ``kind`` is SHAPE_CURRENT, or SHAPE_HISTORY standing for "A or B" until the rows
    have been seen.
    """
    for blanks, header in enumerate(reader):
        if header:
            break
        if blanks + 1 >= _MAX_BLANK_LINES:
            raise _error(
                name,
                reader.line_num,
                f"no leaderboard rows: the first {blanks + 1:,} lines are blank",
            )
    else:
        return None
    line = reader.line_num
    header = [column.replace("\x00", "") for column in header]
    # (No BOM here: utf-8-sig or _strip_bom removed it before the CSV reader.)
    expected: tuple[str, ...]
    if _ONLY_CURRENT.intersection(header):
        kind, expected = SHAPE_CURRENT, _COLUMNS_CURRENT
    elif not set(_COLUMNS_CURRENT).intersection(header):
        raise _error(
            name,
            line,
            f"not a Kaggle leaderboard header: unknown column {_show(header[0])} "
            f"(expected {','.join(_COLUMNS_CURRENT)} or {','.join(_COLUMNS_HISTORY)})",
        )
    else:
        kind, expected = SHAPE_HISTORY, _COLUMNS_HISTORY
    seen: set[str] = set()
    for column in header:
        if column not in expected:
            raise _error(
                name,
                line,
                f"unknown header column {_show(column)} (expected {','.join(expected)})",
            )
        if column in seen:
            raise _error(name, line, f"duplicate header column {_show(column)}")
        seen.add(column)
    for column in expected:
        if column not in seen:
            raise _error(name, line, f"missing column {_show(column)}")
    return kind, tuple(header.index(column) for column in expected), len(header)


def _too_many_blanks(name: str, line: int, blanks: int, rows: int) -> LeaderboardFormatError:
    return _error(
        name,
        line,
        f"no leaderboard rows: {blanks:,} blank lines and only {rows:,} rows so far",
    )


# A row as the readers build it, in LeaderboardEntry's field order; is_benchmark is 0/1
# (False/True, which are ints too, for a LeaderboardEntry).
_Values = tuple[int, int, str, str, float | None, str | None, int, str, int]
_Row = TypeVar("_Row")
# How rows come out: (make the row from a _Values, the is_benchmark values for False/True).
_RowKind = tuple[Callable[[_Values], _Row], tuple[int, int]]
# tuple.__new__ bound to the class: C all the way (namedtuple's __new__ and _make are
# Python functions, a call per row).
_ENTRY_ROWS: _RowKind[LeaderboardEntry] = (partial(tuple.__new__, LeaderboardEntry), (False, True))
# tuple() of an exact tuple returns it as is; typeshed types the result as a tuple of
# any length, hence tuple[object, ...] (what executemany needs: a sequence of values).
_PLAIN_ROWS: _RowKind[tuple[object, ...]] = (tuple, (0, 1))


def _entries(
    path: Path | None,
    lines: Iterable[str] | None,
    name: str,
    direction: _Direction,
    info: LeaderboardInfo | None,
    row_kind: _RowKind[_Row],
    limits: _Limits | None,
) -> Iterator[_Row]:
    """The generator behind the public functions: opens, reads the header, translates
    errors raised by the stream itself, closes. The shape readers it delegates to do
    the row work (``yield from`` adds only a C-level hop per entry)."""
    opened: _Opened | None = None
    if path is not None:
        opened = _open(path, limits or _Limits())
        name = opened.name
        lines = opened.stream
    else:
        assert lines is not None
        lines = _strip_bom(lines)
    reader = csv.reader(lines, strict=True)
    stream_errors = _ZIP_STREAM_ERRORS if opened is not None and opened.is_zip else ()
    try:
        found = _read_header(reader, name)
        if found is None:
            raise _error(name, None, "empty file")
        kind, indexes, width = found
        if info is not None:
            info.source_name = name
            info.shape = kind
        if kind == SHAPE_CURRENT:
            yield from _current(reader, name, indexes, width, info, row_kind)
        else:
            yield from _history(reader, name, indexes, width, direction, info, row_kind)
    except stream_errors as exc:
        # Found while decompressing, which runs ahead of the CSV reader: a line
        # number would be a guess, so the message names the zip.
        assert opened is not None
        detail = _detail(exc)
        raise _error(opened.file_name, None, f"truncated or corrupt zip ({detail})") from None
    except (csv.Error, UnicodeDecodeError, LeaderboardFormatError) as exc:
        if opened is not None and opened.is_zip:
            damage = _zip_damage(opened)
            if damage is not None:
                raise _error(opened.file_name, None, f"truncated or corrupt zip ({damage})") from None
        if isinstance(exc, LeaderboardFormatError):
            raise
        if isinstance(exc, csv.Error):
            raise _error(name, reader.line_num, f"bad CSV ({_detail(exc)})") from None
        line = _find_bad_utf8_line(opened.reopen_binary) if opened is not None else None
        raise _error(name, line or reader.line_num + 1, "not valid UTF-8") from None
    finally:
        if opened is not None:
            opened.stream.close()


# The per-row loop is one flat function on purpose (a helper call per row would cost
# more than several of its checks together), hence its complexity.
def _current(  # noqa: C901
    reader: _CsvReader,
    name: str,
    indexes: tuple[int, ...],
    width: int,
    info: LeaderboardInfo | None,
    row_kind: _RowKind[_Row],
) -> Iterator[_Row]:
    """Stream shape C. The per-row path is kept flat on purpose: it runs 1M times.

    Exceptions from ``reader`` itself (csv, decoding, zip) are translated by the
    caller, :func:`_entries`; a ``yield from`` delegation costs far less than the
    row work.
    """
    # Locals are faster than globals/attributes inside the loop.
    pick = itemgetter(*indexes)  # columns in canonical order, whatever the header order
    make, flags = row_kind
    plain_members = _PLAIN_MEMBERS
    kaggle_marks = _KAGGLE_DATE_MARKS
    fromisoformat = _fromisoformat
    int64_max = _INT64_MAX
    max_blanks = _MAX_BLANK_LINES
    to_int = int
    to_float = float
    length = len
    # Duplicate TeamIds: a growable bitmap indexed by TeamId (a million teams with ids
    # near 16M cost 2 MB; a set of the same ints would cost ~60 MB).
    bits = bytearray(1 << 16)
    nbytes = length(bits)
    big_ids: set[int] = set()
    blanks = 0
    count = 0
    value: float | None
    last: str | None
    for count, row in enumerate(reader, 1):  # count is also used after the loop
        if length(row) != width:
            if not row:  # a blank line
                blanks += 1
                # blanks > max_blanks + 2 * rows, where rows = count - blanks
                if 3 * blanks > max_blanks + 2 * count:
                    raise _too_many_blanks(name, reader.line_num, blanks, count - blanks)
                continue
            raise _error(name, reader.line_num, f"expected {width} fields, found {length(row)}")
        rank_text, id_text, team, date_text, score, count_text, members = pick(row)
        # int() alone would take " 12 ", "+12", "1_000" and "١٢٣". The cheapest strict
        # test found: join the three (an f-string is one step), encode (a plain copy
        # for ASCII text) and ask bytes.isdigit(), which knows only ASCII 0-9 and is
        # ~4x faster than str.isdigit(). An empty text passes it hidden among the
        # others but then fails int(), as does a number of over 4300 digits.
        try:
            if not f"{rank_text}{id_text}{count_text}".encode().isdigit():
                raise ValueError
            rank = to_int(rank_text)
            team_id = to_int(id_text)
            subs = to_int(count_text)
        except ValueError:
            line = reader.line_num
            rank = _parse_count(rank_text, "Rank", name, line)
            team_id = _parse_count(id_text, "TeamId", name, line)
            subs = _parse_count(count_text, "SubmissionCount", name, line)
        # One test for three limits: an OR of non-negative ints is at least their max,
        # and below 2**63 when each of them is.
        if (rank | team_id | subs) > int64_max:
            line = reader.line_num
            _parse_count(rank_text, "Rank", name, line)
            _parse_count(id_text, "TeamId", name, line)
            _parse_count(count_text, "SubmissionCount", name, line)

        # NUL is dropped from text (see parse_leaderboard_text). Only the name needs
        # a test here: the other text fields' fast paths fail on a NUL, and their
        # slow paths drop it.
        if "\x00" in team:
            team = team.replace("\x00", "")

        byte = team_id >> 3
        if byte < nbytes:
            mask = 1 << (team_id & 7)
            if bits[byte] & mask:
                raise _error(name, reader.line_num, f"duplicate TeamId {team_id}")
            bits[byte] |= mask
        elif team_id < _BITMAP_LIMIT:
            bits.extend(bytes(max(byte + 1, 2 * nbytes) - nbytes))
            nbytes = length(bits)
            bits[byte] |= 1 << (team_id & 7)
        elif team_id in big_ids:
            raise _error(name, reader.line_num, f"duplicate TeamId {team_id}")
        else:
            big_ids.add(team_id)

        if score:
            try:
                value = to_float(score)
            except ValueError:  # not a number, or holding NULs
                score, value = _score_without_nul(score, name, reader.line_num)
            else:
                if value - value:  # nan or ±inf (finite values give 0.0)
                    _parse_score(score, name, reader.line_num)
        else:
            value = None

        if date_text[4:17:3] == kaggle_marks and length(date_text) == 19:
            try:
                fromisoformat(date_text)  # validation only
            except ValueError:  # raises, unless only NULs made the layout look wrong
                last = _normalize_date(date_text, "LastSubmissionDate", name, reader.line_num)
            else:
                last = date_text.replace(" ", "T") + "Z"
        elif date_text:
            last = _normalize_date(date_text, "LastSubmissionDate", name, reader.line_num)
        else:
            last = None

        # Nearly every team is one plain lowercase-alphanumeric username, or several.
        if members.isalnum():
            members = '["' + members + '"]'
        elif plain_members(members) is not None:
            members = '["' + members.replace(",", '","') + '"]'
        elif members:
            members = _members_json(members)
        else:  # host benchmarks have no members
            members = "[]"

        yield make((rank, team_id, team, score, value, last, subs, members, flags[rank == 0]))
    if info is not None:
        info.rows = info.entries = count - blanks


def _history(  # noqa: C901 -- one loop over every row, kept flat like _current's
    reader: _CsvReader,
    name: str,
    indexes: tuple[int, ...],
    width: int,
    direction: _Direction,
    info: LeaderboardInfo | None,
    row_kind: _RowKind[_Row],
) -> Iterator[_Row]:
    """Read shape A or B whole, keep each team's best row, rank, then yield.

    With ``direction.from_file_order`` the direction may only be known at the end:
    each team's best row is then kept for both directions, and the scores' order in
    the file is watched (rising, falling).
    """
    pick = itemgetter(*indexes)
    sign = 1.0 if direction.lower_is_better else -1.0
    both = direction.from_file_order
    # team_id -> [best_key, best_score, best_value, rows,
    #             latest_key, latest_name, latest,
    #             other_key, other_score, other_value]   (the last three: both only)
    # best_key = (no score?, signed value, submission time or "~" if unknown): the
    # smallest is the best row; "~" sorts after any digit, so unknown times lose ties.
    # other_key is the same with the opposite sign: the best row the other way.
    # A list, not a class, for speed (one per team, updated per row); its items differ
    # in type, which a list's type cannot say item by item: the one untyped spot here.
    teams: dict[int, list[Any]] = {}
    rows = 0
    blanks = 0
    previous: float | None = None
    rising = falling = False
    for row in reader:
        if len(row) != width:
            if not row:
                blanks += 1
                if blanks > _MAX_BLANK_LINES + 2 * rows:
                    raise _too_many_blanks(name, reader.line_num, blanks, rows)
                continue
            raise _error(name, reader.line_num, f"expected {width} fields, found {len(row)}")
        rows += 1
        id_text, team_name, date_text, score = pick(row)
        line = reader.line_num
        team_id = _parse_count(id_text, "TeamId", name, line)
        if "\x00" in team_name:  # NUL is dropped from text (see parse_leaderboard_text)
            team_name = team_name.replace("\x00", "")
        if "\x00" in score:
            score = score.replace("\x00", "")
        when = _normalize_date(date_text, "SubmissionDate", name, line) if date_text else None
        value = _parse_score(score, name, line)
        key_value = (1, 0.0) if value is None else (0, sign * value)
        best_key = (*key_value, when or "~")
        other_key = (1, 0.0, when or "~") if value is None else (0, -sign * value, when or "~")
        if both and value is not None:
            if previous is not None:
                rising = rising or value > previous
                falling = falling or value < previous
            previous = value
        state = teams.get(team_id)
        if state is None:
            teams[team_id] = [best_key, score, value, 1, when or "", team_name, when, other_key, score, value]
            continue
        state[3] += 1
        if best_key < state[0]:  # strict: an equal later row does not replace
            state[0], state[1], state[2] = best_key, score, value
        if both and other_key < state[7]:
            state[7], state[8], state[9] = other_key, score, value
        if (when or "") >= state[4]:  # >=: on equal times the later row is newer
            state[4], state[5], state[6] = when or "", team_name, when

    lower = direction.lower_is_better
    # Only a file of one row per team (shape B) can be in leaderboard order; shape A
    # is a submission history, whose scores rise as teams improve, whatever the metric.
    if both and rising != falling and rows == len(teams):
        found = rising  # scores that only rise down the board: lower is better
        if info is not None:
            info.file_order_direction = found
        if found != lower:
            lower = found
            for state in teams.values():
                state[0], state[1], state[2] = state[7], state[8], state[9]
    ranked = sorted(teams.items(), key=lambda item: (item[1][0], item[0]))
    if info is not None:
        info.shape = SHAPE_HISTORY if rows > len(teams) else SHAPE_PER_TEAM
        info.rows = rows
        info.entries = len(teams)
        info.ranked_lower_is_better = lower
    make, flags = row_kind
    for rank, (team_id, state) in enumerate(ranked, 1):
        score, value, count, team_name, latest = state[1], state[2], state[3], state[5], state[6]
        yield make((rank, team_id, team_name, score, value, latest, count, "[]", flags[0]))
