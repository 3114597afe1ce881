"""Write CSV and TSV cells safely: the one home for every CSV the tool writes.

Exports, ``kagsync leaderboard --csv`` and ``kagsync event standings --csv`` all
write their cells through here, so a team name chosen by anyone on Kaggle cannot
turn into a formula, split a row, or smuggle control bytes into a spreadsheet.

Rules of :func:`safe_cell` (what :func:`write_csv` writes):

* ``None`` is empty, ``True``/``False`` are ``1``/``0``, ints are their digits and
  floats their ``repr`` (finite ones are plain numbers, never formulas).
* NUL characters are dropped: they are never meaningful and some programs cut a
  cell (or the whole file) at the first one.
* Formula guard: a text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return (after any leading apostrophes) would be run as a formula by
  Excel, LibreOffice or Google Sheets, so it gets one ``'`` in front. The same
  holds for every line inside a multi-line cell, i.e. after each CR or LF: a
  reader that splits rows on a bare CR (or any line-based tool) must not find an
  unguarded ``=cmd|...`` at the start of a line. A text that is a plain number
  (ASCII digits, optional sign, point and exponent: a score such as ``-0.5`` or
  ``+1e-3``) is left alone: a spreadsheet reads it as a number, never a formula.
  The apostrophes counted before the risky character make the prefix reversible:
  :func:`unescape_cell` removes exactly one from each guarded line, so a cell reads
  back to the original text (minus NULs).

:func:`write_csv` quotes every cell holding a comma, a double quote, a CR or an LF.
(Python's ``csv`` module with ``lineterminator="\\n"`` quotes LF but not a bare CR,
which let a row split in two in a spreadsheet; :func:`write_csv` handles that case
itself. Write rows from :func:`csv_row` with :func:`write_csv`, not a plain
``csv.writer``.)

:func:`write_tsv` is for terminals and pipes (``cut``, ``awk``), not spreadsheets:
one line per record, cells separated by tabs, with tabs and line breaks inside
cells turned into spaces and NULs dropped; no formula guard, no quoting.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

__all__ = ["csv_row", "safe_cell", "unescape_cell", "write_csv", "write_tsv"]

# After any apostrophes, a character that makes a spreadsheet evaluate the cell.
_RISKY = re.compile(r"'*[=+\-@\t\r]")
# The formula guard at every line start (the cell's start, and after each CR or LF):
# a zero-width match where one apostrophe goes. _UNGUARD takes exactly that one back.
_GUARD = re.compile(r"(?:\A|(?<=[\r\n]))(?='*[=+\-@\t\r])")
_UNGUARD = re.compile(r"(?:\A|(?<=[\r\n]))'(?='*[=+\-@\t\r])")
# A plain number. ASCII digits only: \d would also take other scripts' digits, which
# a spreadsheet does not read as a number.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# First characters that can start a risky single-line cell (tab and CR are not
# printable, so single-line printable text never starts with them).
_RISKY_FIRST = frozenset("=+-@'")

# For TSV: tabs and everything str.splitlines() breaks a line at become spaces; NUL
# goes. Terminal tools and Python's splitlines() alike then see one line per record.
_TSV_TABLE = str.maketrans(
    {
        **dict.fromkeys("\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029", " "),
        "\x00": None,
    }
)


def _plain(value: object) -> str:
    """A value's text before any guarding (see the module's doc for the forms)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))  # int(): an IntEnum's str() would be its name
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))  # members, as in Kaggle's own files
    return str(value)


def safe_cell(value: object) -> str:
    """A CSV cell that no spreadsheet runs as a formula (see the module's doc).

    ``None`` -> ``""``, booleans -> ``1``/``0``, numbers as digits; text has NULs
    dropped and one ``'`` put before each line that would start a formula, unless
    the whole text is a plain number. A list or tuple is joined with commas.
    """
    # Exact types first: this runs for every cell of a million-row export.
    if type(value) is str:
        text = value
    elif type(value) is int or type(value) is bool or value is None:
        return _plain(value)
    elif type(value) is float and math.isfinite(value):
        return repr(value)
    else:
        # nan and ±inf are no numbers to a spreadsheet: "-inf" is guarded as text.
        text = _plain(value)
        if isinstance(value, (int, float)) and _NUMBER.fullmatch(text):
            return text
    if text.isprintable():
        # The common case, one C call: no CR, LF, tab, NUL or other control
        # character, so a single line and only its first character matters.
        if text and text[0] in _RISKY_FIRST and _RISKY.match(text) and not _NUMBER.fullmatch(text):
            return "'" + text
        return text
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _NUMBER.fullmatch(text):
        return text
    return _GUARD.sub("'", text)


def unescape_cell(text: str) -> str:
    """Undo :func:`safe_cell`'s guard: one ``'`` off each guarded line (for reading back).

    ``unescape_cell(safe_cell(s)) == s.replace("\\0", "")`` for every string ``s``.
    """
    if "'" not in text:
        return text
    return _UNGUARD.sub("", text)


def csv_row(record: Mapping[str, object], fields: Iterable[str]) -> list[str]:
    """One record's safe cells, in ``fields`` order; a missing field is empty.

    Write them with :func:`write_csv`: a plain ``csv.writer`` leaves a cell with a
    bare CR unquoted.
    """
    return [safe_cell(record.get(name)) for name in fields]


def write_csv(out: TextIO, fields: Sequence[str], records: Iterable[Mapping[str, object]]) -> int:
    """Write a header of ``fields`` and one row per record; return the number of rows.

    Cells go through :func:`safe_cell` (the header too); a cell holding a comma,
    a double quote, a CR or an LF is quoted, quotes doubled; rows end with ``\n``.
    """
    fields = list(fields)
    writerow = csv.writer(out, lineterminator="\n").writerow
    safe = safe_cell
    join = "".join
    header = [safe(name) for name in fields]
    if "\r" in join(header):
        _write_cr_row(out, header)
    else:
        writerow(header)
    count = 0
    for record in records:
        get = record.get
        cells = [safe(get(name)) for name in fields]
        # One join and scan per row is cheaper than a test per cell; rows with a
        # bare CR are rare and take the slow road.
        if "\r" in join(cells):
            _write_cr_row(out, cells)
        else:
            writerow(cells)
        count += 1
    return count


def _write_cr_row(out: TextIO, cells: list[str]) -> None:
    """Write a row with a bare CR in some cell, quoting it (csv.writer would not).

    With "\r\n" as line terminator the csv module quotes CR and LF alike; the row
    is then written with "\n", like every other row.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    out.write(buffer.getvalue()[:-2] + "\n")


def _tsv_cell(value: object) -> str:
    text = _plain(value)
    if text.isprintable():  # nothing to replace (the common case, one C call)
        return text
    return text.translate(_TSV_TABLE)


def write_tsv(out: TextIO, fields: Sequence[str], records: Iterable[Mapping[str, object]]) -> int:
    """Tab-separated lines for terminals and pipes; return the number of rows.

    A header line of ``fields``, then one line per record, ending with ``\\n``.
    Values become text as in :func:`safe_cell` but without its formula guard
    and without quoting: tabs and line breaks inside a cell become spaces and NULs
    are dropped, so every record is exactly one line of ``len(fields)`` cells.
    """
    fields = list(fields)
    out.write("\t".join(_tsv_cell(name) for name in fields) + "\n")
    count = 0
    for record in records:
        out.write("\t".join([_tsv_cell(record.get(name)) for name in fields]) + "\n")
        count += 1
    return count
