"""Property tests for kagsync.leaderboard: whatever the bytes, a board or a format error.

For any file (random bytes; valid boards of each shape with random edits; zips of
them, edited or cut short), parsing either yields entries or raises
LeaderboardFormatError with a one-line message that names the file and, when one
line is at fault, that line. Never another exception: the sync turns anything
else into "unexpected error" without file or line.

Example counts are kept modest so that the file runs in a few seconds.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kagsync.errors import LeaderboardFormatError
from kagsync.leaderboard import iter_leaderboard, iter_leaderboard_rows, parse_leaderboard_text

HEADER_C = "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames"
HEADER_AB = "TeamId,TeamName,SubmissionDate,Score"
MEMBER = "orbit-wars-publicleaderboard-2026-05-05T15:36:33.csv"

# Rows copied from the real boards (see tests/test_leaderboard.py).
VALID = {
    "C": [
        HEADER_C,
        '1,15648364,bowwowforeach,"2026-05-05 12:22:42",1652.8,2,bowwowforeach',
        '2,15637383,"Shun PI","2026-05-03 16:04:11",1544.1,2,shunrcn',
        '0,15632861,"Strategy Optimized Agent","2026-04-16 17:27:43",811.5,1,',
        '3,15633381,"Orbit Team","2026-05-05 08:25:21",1370.6,2,"markorupnik,woosungyoon"',
    ],
    "A": [
        HEADER_AB,
        '4172298,"Chris X","2019-12-24 10:08:26",0.00000',
        '4152525,"Yufeng Guo","2019-12-20 15:33:49",0.81083',
        '4172298,"Chris Xu","2020-01-01 10:48:07",0.80000',
    ],
    "B": [
        HEADER_AB,
        '638600,"Maria Simbiryakova","2017-06-05 19:05:49",35.09525',
        '640447,"alijs & Evgeny","2017-06-29 17:50:18",0.29755',
        "723746,Gustavo,,0.30629",
    ],
}

# Problems of the file as a whole: the only messages without a line number.
FILE_PROBLEMS = (
    "empty file",
    "not a zip file",
    "truncated or corrupt zip",
    "no CSV file inside",
    "the CSV is encrypted",
    "unsupported compression method",
    "the CSV is too large",
    "compressed ",
)
SEVERAL_CSVS = re.compile(r"\d+ CSV files inside and ")

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def board_bytes(shape: str, eol: str = "\n", bom: bool = True) -> bytes:
    return (("\ufeff" if bom else "") + eol.join(VALID[shape])).encode("utf-8")


def zip_of(data: bytes, method: int = zipfile.ZIP_DEFLATED, name: str = MEMBER) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def physical_lines(data: bytes) -> int:
    """An upper bound of the physical lines a reader can count in ``data``."""
    return data.count(b"\n") + data.count(b"\r") + 1


def check_message(message: str, name: str, max_line: int) -> None:
    """One line, names the file; a line number in range unless the file is at fault."""
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(name), message
    found = re.match(re.escape(name) + r" line ([0-9]+): \S", message)
    if found is not None:
        assert 1 <= int(found.group(1)) <= max_line, message
        return
    file_name = name.split(":", 1)[0]
    problem = message.split(": ", 1)[1] if ": " in message else ""
    assert message.startswith(file_name + ": ") or message.startswith(name + ": "), message
    assert problem.startswith(FILE_PROBLEMS) or SEVERAL_CSVS.match(problem), message


def parse_file(path: Path, data: bytes, max_line: int | None = None) -> None:
    """Parse ``path`` every way there is; check the outcome is a board or a good error."""
    path.write_bytes(data)
    limit = physical_lines(data) if max_line is None else max_line
    for lower_is_better, function in itertools.product((False, True), (iter_leaderboard, iter_leaderboard_rows)):
        try:
            entries = list(function(path, lower_is_better=lower_is_better))
        except LeaderboardFormatError as exc:
            message = str(exc)
            name = message.split(" line ", 1)[0].split(": ", 1)[0]
            assert name.startswith(path.name), message
            check_message(message, name, limit)
        else:
            check_board(entries)


def check_board(entries: list) -> None:
    ids = [entry[1] for entry in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        rank, team_id, name, score, value, last, count, members, benchmark = entry
        assert 0 <= rank < 2**63 and 0 <= team_id < 2**63 and 0 <= count < 2**63
        assert "\x00" not in name + score + (last or "") + members
        assert value is None or value - value == 0


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


# ----------------------------------------------------------------------- any bytes


@PROPERTY
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".zip"]))
def test_any_bytes(scratch, data, suffix):
    parse_file(scratch / f"any{suffix}", data)


@PROPERTY
@given(data=st.binary(max_size=300))
def test_any_bytes_after_zip_magic(scratch, data):
    parse_file(scratch / "magic.zip", b"PK\x03\x04" + data)


@PROPERTY
@given(text=st.text(max_size=300))
def test_any_text_lines(text):
    lines = text.splitlines(keepends=True)
    try:
        entries = list(parse_leaderboard_text(lines, source_name="t.csv", lower_is_better=False))
    except LeaderboardFormatError as exc:
        check_message(str(exc), "t.csv", len(lines) + 1)
    else:
        check_board(entries)


# ------------------------------------------------------------------ edited boards

# Bytes that matter to the parser: separators, quotes, line ends, NUL, invalid
# UTF-8, digits and signs, other scripts' digits, a BOM.
INTERESTING = st.sampled_from(
    [
        b",",
        b'"',
        b"\n",
        b"\r",
        b"\r\n",
        b"\x00",
        b"\xff",
        b"\xc3",
        b"0",
        b"9",
        b"-",
        b"+",
        b" ",
        b"_",
        b".",
        b"e",
        b"nan",
        b":",
        b"T",
        "١".encode(),
        "\ufeff".encode(),
        b"9223372036854775808",
        b"99999999999999999999999",
        b"\n\n\n",
        b"a",
    ]
)


@st.composite
def edited(draw, data: bytes) -> bytes:
    """``data`` with a few insertions, deletions and replacements at random places."""
    result = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(result)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(INTERESTING, st.binary(min_size=1, max_size=3)))
        if action == "insert":
            result[position:position] = piece
        elif action == "delete":
            result[position : position + draw(st.integers(1, 8))] = b""
        else:
            result[position : position + len(piece)] = piece
    return bytes(result)


@st.composite
def edited_board(draw) -> bytes:
    shape = draw(st.sampled_from(sorted(VALID)))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return draw(edited(board_bytes(shape, eol, bom=draw(st.booleans()))))


def test_valid_boards_parse(scratch):
    # The starting points of the edits are boards (so edits do reach the rows).
    for shape in VALID:
        path = scratch / f"valid-{shape}.csv"
        path.write_bytes(board_bytes(shape))
        teams = {"A": 2, "B": 3, "C": 4}[shape]
        assert len(list(iter_leaderboard(path, lower_is_better=False))) == teams


@PROPERTY
@given(data=edited_board())
def test_edited_csv(scratch, data):
    parse_file(scratch / "edited.csv", data)


# --------------------------------------------------------------------------- zips


@PROPERTY
@given(
    data=edited_board(),
    method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]),
)
def test_zip_of_edited_csv(scratch, data, method):
    parse_file(scratch / "board.zip", zip_of(data, method), physical_lines(data))


@st.composite
def damaged_zip(draw) -> bytes:
    shape = draw(st.sampled_from(sorted(VALID)))
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    data = zip_of(board_bytes(shape), method)
    how = draw(st.sampled_from(["cut", "edit", "flip"]))
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if how == "flip":
        result = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            position = draw(st.integers(0, len(result) - 1))
            result[position] ^= draw(st.integers(1, 255))
        return bytes(result)
    return draw(edited(data))


@PROPERTY
@given(data=damaged_zip())
def test_damaged_zip(scratch, data):
    # Lines are counted in the member; bound them by what the zip could expand to.
    parse_file(scratch / "board.zip", data, max_line=10_000)


@PROPERTY
@given(
    names=st.lists(st.text(min_size=1, max_size=20), min_size=0, max_size=3),
    csv_name=st.booleans(),
)
def test_zip_member_names(scratch, names, csv_name):
    # Member names come from the download: whatever they are, errors stay one line.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, name in enumerate(names):
            member = name + (".csv" if csv_name else "")
            archive.writestr(f"{index}{member}", board_bytes("C"))
    parse_file(scratch / "names.zip", buffer.getvalue(), max_line=10)
