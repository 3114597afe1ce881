"""kagsync.csvout: safe CSV cells (formula guard, quoting, NUL) and plain TSV."""

from __future__ import annotations

import csv
import enum
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kagsync.csvout import csv_row, safe_cell, unescape_cell, write_csv, write_tsv

CALC = "=cmd|' /C calc'!A0"

# What a spreadsheet may run as a formula at the start of a cell or of a line.
RISKY_START = re.compile(r"[=+\-@\t\r]")
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def written(fields, records) -> tuple[int, str]:
    out = io.StringIO(newline="")
    count = write_csv(out, fields, records)
    return count, out.getvalue()


# ---------------------------------------------------------------------- safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        # The rules export.safe_cell had, unchanged.
        ("=1+1", "'=1+1"),
        ("+1", "+1"),
        ("-1.5e3", "-1.5e3"),
        ("- 1", "'- 1"),
        ("@x", "'@x"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'x", "'x"),
        ("x=1", "x=1"),
        ("", ""),
        (None, ""),
        (True, "1"),
        (False, "0"),
        (3, "3"),
        (0.5, "0.5"),
        ("-nan", "'-nan"),
        ("-inf", "'-inf"),
        (CALC, "'" + CALC),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tTabbed", "'\tTabbed"),
        ("-0.5", "-0.5"),
        ("'-0.5", "''-0.5"),
        ('Plain, "quoted" name', 'Plain, "quoted" name'),
        ("🚀 ロケット", "🚀 ロケット"),
        # Numbers as numbers; non-finite floats are text to a spreadsheet.
        (-0.5, "-0.5"),
        (-1e-05, "-1e-05"),
        (-7, "-7"),
        (float("-inf"), "'-inf"),
        (float("nan"), "nan"),
        # Only ASCII digits make a plain number.
        ("-١", "'-١"),
        # Every line of a multi-line cell is guarded.
        ("Evil\r" + CALC, "Evil\r'" + CALC),
        ("Evil\n" + CALC, "Evil\n'" + CALC),
        ("Evil\r\n" + CALC, "Evil\r\n'" + CALC),
        ("a\r\nb", "a\r\nb"),
        ("=a\n=b\r+c\r\n-d", "'=a\n'=b\r'+c\r\n'-d"),
        ("x\n-0.5", "x\n'-0.5"),
        ("x\n'=y", "x\n''=y"),
        ("x\n\tTab", "x\n'\tTab"),
        # NUL is dropped, then the rest is judged.
        ("Te\x00am", "Team"),
        ("\x00" + CALC, "'" + CALC),
        ("-0.5\x00", "-0.5"),
        ("\x00", ""),
        # Lists (members) are joined with commas.
        (["a", "b"], "a,b"),
        (["=a", "b"], "'=a,b"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell
    if isinstance(value, str):
        assert unescape_cell(cell) == value.replace("\x00", "")


def test_int_enum_is_its_number():
    class Kind(enum.IntEnum):
        FIVE = 5

    assert safe_cell(Kind.FIVE) == "5"


@pytest.mark.parametrize("text", ["x", "'x", "''", "a\n'b", "-0.5", "'", "it's"])
def test_unescape_leaves_unguarded_text_alone(text):
    assert unescape_cell(text) == text


def test_csv_row_takes_fields_in_order_and_missing_as_empty():
    record = {"b": "=x", "a": 1, "members": ["u", "v"]}
    assert csv_row(record, ["a", "b", "c", "members"]) == ["1", "'=x", "", "u,v"]
    assert csv_row(record, iter(["b"])) == ["'=x"]


# ---------------------------------------------------------------------- write_csv

HOSTILE = [
    CALC,
    "Evil\r" + CALC,  # the bug report: a bare CR split the row, the rest ran
    "Crlf\r\n" + CALC,
    "Lf\n@SUM(A1)",
    "Nul\x00\x00name",
    "\x00=nul first",
    "\tLeading tab",
    "+1",
    "-0.5",
    "\r",
    'quote " and, comma',
]


def test_hostile_names_round_trip_and_no_line_starts_a_formula():
    records = [
        {"team_name": name, "score": score, "rank": rank}
        for rank, (name, score) in enumerate(
            zip(HOSTILE, [-0.5, "-0.5", "+1", 0.25, "1e-3", "-7", "x", "=1", "", None, 3]), 1
        )
    ]
    fields = ["rank", "team_name", "score"]
    count, text = written(fields, records)
    assert count == len(records)
    rows = read_back(text)
    assert rows[0] == fields
    assert len(rows) == len(records) + 1  # no row was split
    for record, row in zip(records, rows[1:]):
        back = [unescape_cell(cell) for cell in row]
        assert back[1] == record["team_name"].replace("\x00", "")
        assert "\x00" not in "".join(row)
    # A reader that breaks lines at any CR or LF (or a line-based tool) still finds
    # no line starting with a formula character, except plain numbers.
    for line in re.split(r"[\r\n]", text):
        for cell in line.split(","):
            cell = cell.lstrip('"')
            if RISKY_START.match(cell):
                assert PLAIN_NUMBER.fullmatch(cell), line


def test_cells_with_cr_or_lf_are_quoted():
    _, text = written(["a", "b"], [{"a": "x\ry", "b": "plain"}, {"a": "x\ny", "b": "p\r\nq"}])
    assert text == 'a,b\n"x\ry",plain\n"x\ny","p\r\nq"\n'


def test_numbers_stay_unprefixed():
    _, text = written(["name", "score"], [{"name": "+1", "score": -0.5}, {"name": "n", "score": "-0.5"}])
    assert text == "name,score\n+1,-0.5\nn,-0.5\n"


def test_header_is_guarded_too():
    _, text = written(["=bad", "ok"], [])
    assert text == "'=bad,ok\n"


def test_write_csv_counts_rows_and_takes_any_mapping():
    class Row(dict):
        pass

    count, text = written(("a",), (Row(a=i) for i in range(3)))
    assert count == 3
    assert text == "a\n0\n1\n2\n"


# ---------------------------------------------------------------------- write_tsv


def test_write_tsv_one_line_per_record():
    out = io.StringIO(newline="")
    records = [
        {"name": "tab\there", "score": -0.5, "members": ["a", "b"]},
        {"name": "lines\r\nand\rmore\n\u2028x", "score": None, "members": []},
        {"name": "=cmd\x00", "score": True},
    ]
    count = write_tsv(out, ["name", "score", "members"], records)
    assert count == 3
    assert out.getvalue() == ("name\tscore\tmembers\ntab here\t-0.5\ta,b\nlines  and more  x\t\t\n=cmd\t1\t\n")
    for line in out.getvalue().splitlines():
        assert line.count("\t") == 2


# ------------------------------------------------------------------ property

TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("=+-@\t\r\n'\x00\",. 0123456789eE"),
        st.characters(codec="utf-8"),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), max_size=5))
def test_write_csv_round_trips(pairs):
    records = [{"a": a, "b": b} for a, b in pairs]
    count, text = written(["a", "b"], records)
    assert count == len(records)
    rows = read_back(text)
    assert rows[0] == ["a", "b"]
    back = [[unescape_cell(cell) for cell in row] for row in rows[1:]]
    assert back == [[a.replace("\x00", ""), b.replace("\x00", "")] for a, b in pairs]


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_no_line_of_a_cell_starts_a_formula(text):
    cell = safe_cell(text)
    assert "\x00" not in cell
    if PLAIN_NUMBER.fullmatch(cell):
        return
    for line in re.split(r"[\r\n]", cell):
        assert not RISKY_START.match(line), cell
    # The first line may not start with a CR either (some spreadsheets trim it).
    assert not cell.startswith("\r")
