"""Tests for kagsync.leaderboard: real CSV and zip files built in tmp_path.

Rows are copied from real Kaggle downloads (orbit-wars 2026 for shape C,
nlp-getting-started 2019-20 for shape A, sberbank-russian-housing-market 2017 for
shape B), trimmed and sometimes edited to hit one case each.
"""

from __future__ import annotations

import inspect
import io
import json
import zipfile
from pathlib import Path

import pytest

from kagsync.errors import LeaderboardFormatError, SyncError
from kagsync.leaderboard import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    SHAPE_CURRENT,
    SHAPE_HISTORY,
    SHAPE_PER_TEAM,
    LeaderboardEntry,
    LeaderboardInfo,
    iter_leaderboard,
    iter_leaderboard_rows,
    open_leaderboard_file,
    parse_leaderboard_text,
)

BOM = "\ufeff"
HEADER_C = "Rank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames"
HEADER_AB = "TeamId,TeamName,SubmissionDate,Score"
MEMBER = "orbit-wars-publicleaderboard-2026-05-05T15:36:33.csv"

# Shape C as Kaggle writes it: a rank-0 host benchmark at its score's position, a
# multi-member team (quoted), a benchmark without members, no trailing newline.
ROWS_C = [
    '1,15648364,bowwowforeach,"2026-05-05 12:22:42",1652.8,2,bowwowforeach',
    '2,15637383,Shun_PI,"2026-05-03 16:04:11",1544.1,2,shunrcn',
    '3,15633381,"Orbit Team","2026-05-05 08:25:21",1370.6,2,"markorupnik,woosungyoon"',
    '0,15632861,"Strategy Optimized Agent","2026-04-16 17:27:43",811.5,1,',
    '4,15670515,"Timo Vehviläinen","2026-04-28 05:26:17",815.3,2,kvantti',
]
EXPECTED_C = [
    LeaderboardEntry(
        1,
        15648364,
        "bowwowforeach",
        "1652.8",
        1652.8,
        "2026-05-05T12:22:42Z",
        2,
        '["bowwowforeach"]',
        False,
    ),
    LeaderboardEntry(
        2,
        15637383,
        "Shun_PI",
        "1544.1",
        1544.1,
        "2026-05-03T16:04:11Z",
        2,
        '["shunrcn"]',
        False,
    ),
    LeaderboardEntry(
        3,
        15633381,
        "Orbit Team",
        "1370.6",
        1370.6,
        "2026-05-05T08:25:21Z",
        2,
        '["markorupnik","woosungyoon"]',
        False,
    ),
    LeaderboardEntry(
        0,
        15632861,
        "Strategy Optimized Agent",
        "811.5",
        811.5,
        "2026-04-16T17:27:43Z",
        1,
        "[]",
        True,
    ),
    LeaderboardEntry(
        4,
        15670515,
        "Timo Vehviläinen",
        "815.3",
        815.3,
        "2026-04-28T05:26:17Z",
        2,
        '["kvantti"]',
        False,
    ),
]


def csv_text(header: str, rows: list[str], *, bom: bool = True, eol: str = "\n") -> bytes:
    """A Kaggle-style CSV: BOM, header, rows joined by eol, no trailing newline."""
    return ((BOM if bom else "") + eol.join([header, *rows])).encode("utf-8")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def parse(path: Path, *, lower_is_better: bool = False, info: LeaderboardInfo | None = None):
    return list(iter_leaderboard(path, lower_is_better=lower_is_better, info=info))


def parse_error(path: Path, *, lower_is_better: bool = False) -> str:
    with pytest.raises(LeaderboardFormatError) as caught:
        parse(path, lower_is_better=lower_is_better)
    return str(caught.value)


# ----------------------------------------------------------------------- interface


def test_entry_is_a_namedtuple_with_the_agreed_field_order():
    assert LeaderboardEntry._fields == (
        "rank",
        "team_id",
        "team_name",
        "score",
        "score_value",
        "last_submission",
        "submission_count",
        "members",
        "is_benchmark",
    )
    assert (SHAPE_HISTORY, SHAPE_PER_TEAM, SHAPE_CURRENT) == ("A", "B", "C")
    assert issubclass(LeaderboardFormatError, SyncError)


# ------------------------------------------------------------------------ shape C


def test_shape_c_rows_in_file_order_with_benchmark_and_members(tmp_path):
    path = write(tmp_path, "orbit-wars.csv", csv_text(HEADER_C, ROWS_C))
    info = LeaderboardInfo()
    entries = parse(path, info=info)
    assert entries == EXPECTED_C
    assert [type(value) for value in entries[0]] == [
        int,
        int,
        str,
        str,
        float,
        str,
        int,
        str,
        bool,
    ]
    assert info == LeaderboardInfo("orbit-wars.csv", SHAPE_CURRENT, 5, 5)


def test_shape_c_trusts_kaggle_ranks_whatever_the_direction(tmp_path):
    # Kaggle already ranked the board: lower_is_better must not reorder or re-rank.
    path = write(tmp_path, "orbit-wars.csv", csv_text(HEADER_C, ROWS_C))
    assert parse(path, lower_is_better=True) == EXPECTED_C


def test_shape_c_header_columns_in_any_order(tmp_path):
    header = "TeamMemberUserNames,Score,TeamId,Rank,SubmissionCount,LastSubmissionDate,TeamName"
    rows = [
        '"a,b",0.77990,42,1,3,"2026-05-05 12:22:42",Alpha',
        ',,43,0,1,,"Sample Submission Benchmark"',
    ]
    entries = parse(write(tmp_path, "x.csv", csv_text(header, rows)))
    assert entries == [
        LeaderboardEntry(
            1,
            42,
            "Alpha",
            "0.77990",
            0.7799,
            "2026-05-05T12:22:42Z",
            3,
            '["a","b"]',
            False,
        ),
        LeaderboardEntry(0, 43, "Sample Submission Benchmark", "", None, None, 1, "[]", True),
    ]


@pytest.mark.parametrize(
    ("field", "members"),
    [
        ("bowwowforeach", ["bowwowforeach"]),
        ('"akhileshgodugu,ashokgodugu"', ["akhileshgodugu", "ashokgodugu"]),
        ('" a , b ,,c, "', ["a", "b", "c"]),
        ('" , "', []),
        ("", []),
        ("del=4326cb61a9d48773", ["del=4326cb61a9d48773"]),
        ("ユーザー", ["ユーザー"]),
        ('"we""ird,back\\slash"', ['we"ird', "back\\slash"]),
    ],
)
def test_members_become_compact_json(tmp_path, field, members):
    row = f'1,42,Alpha,"2026-05-05 12:22:42",0.5,1,{field}'
    (entry,) = parse(write(tmp_path, "x.csv", csv_text(HEADER_C, [row])))
    assert entry.members == json.dumps(members, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(entry.members) == members


def test_shape_c_is_streamed():
    # The first entry must come out before the rest of the input is even read.
    def lines():
        yield HEADER_C + "\n"
        yield ROWS_C[0] + "\n"
        raise AssertionError("read past the first row")

    entries = parse_leaderboard_text(lines(), source_name="s.csv", lower_is_better=False)
    assert next(entries) == EXPECTED_C[0]


def test_shape_c_error_after_entries_were_yielded(tmp_path):
    rows = [*ROWS_C[:2], '3,15633381,"Orbit Team","2026-05-05 08:25:21",1370.6,two,x']
    iterator = iter_leaderboard(write(tmp_path, "x.csv", csv_text(HEADER_C, rows)), lower_is_better=False)
    assert next(iterator) == EXPECTED_C[0]
    assert next(iterator) == EXPECTED_C[1]
    with pytest.raises(LeaderboardFormatError, match=r"^x\.csv line 4: SubmissionCount 'two'"):
        next(iterator)


def test_shape_c_large_team_ids(tmp_path):
    # Ids far beyond today's ~16M still parse, and duplicates among them are caught.
    rows = [
        '1,900000000,Alpha,"2026-05-05 12:22:42",1,1,a',
        '2,1000000000000,Beta,"2026-05-05 12:22:42",1,1,b',
        '3,3,Gamma,"2026-05-05 12:22:42",1,1,c',
    ]
    entries = parse(write(tmp_path, "x.csv", csv_text(HEADER_C, rows)))
    assert [e.team_id for e in entries] == [900000000, 1000000000000, 3]
    for dup in ("900000000", "1000000000000"):
        path = write(
            tmp_path,
            "d.csv",
            csv_text(HEADER_C, [*rows, f'4,{dup},Delta,"2026-05-05 12:22:42",1,1,d']),
        )
        assert parse_error(path) == f"d.csv line 5: duplicate TeamId {dup}"


# -------------------------------------------------------------------- shapes A/B

# nlp-getting-started history (F1, higher is better): each row a submission that
# improved or tied the team's best. Team 4172298 renamed itself on its last row.
ROWS_A = [
    '4172298,"Chris X","2019-12-24 10:08:26",0.00000',
    '4172298,"Chris X","2019-12-24 10:12:41",0.71165',
    '4152525,"Yufeng Guo","2019-12-20 15:33:49",0.81083',
    '4172298,"Chris X","2019-12-31 17:15:24",0.83435',
    '4169658,Zhenlan,"2019-12-23 23:10:24",0.77505',
    '4172298,"Chris Xu","2020-01-01 10:48:07",0.80000',
]


def test_shape_a_aggregates_per_team_higher_is_better(tmp_path):
    info = LeaderboardInfo()
    entries = parse(write(tmp_path, "nlp.csv", csv_text(HEADER_AB, ROWS_A)), info=info)
    assert entries == [
        # best row 0.83435, latest row (and current name) 2020-01-01, 4 rows
        LeaderboardEntry(
            1,
            4172298,
            "Chris Xu",
            "0.83435",
            0.83435,
            "2020-01-01T10:48:07Z",
            4,
            "[]",
            False,
        ),
        LeaderboardEntry(
            2,
            4152525,
            "Yufeng Guo",
            "0.81083",
            0.81083,
            "2019-12-20T15:33:49Z",
            1,
            "[]",
            False,
        ),
        LeaderboardEntry(
            3,
            4169658,
            "Zhenlan",
            "0.77505",
            0.77505,
            "2019-12-23T23:10:24Z",
            1,
            "[]",
            False,
        ),
    ]
    assert info == LeaderboardInfo("nlp.csv", SHAPE_HISTORY, 6, 3, ranked_lower_is_better=False)


def test_shape_a_aggregates_per_team_lower_is_better(tmp_path):
    entries = parse(write(tmp_path, "nlp.csv", csv_text(HEADER_AB, ROWS_A)), lower_is_better=True)
    assert [(e.rank, e.team_id, e.score, e.submission_count) for e in entries] == [
        (1, 4172298, "0.00000", 4),
        (2, 4169658, "0.77505", 1),
        (3, 4152525, "0.81083", 1),
    ]
    assert entries[0].last_submission == "2020-01-01T10:48:07Z"
    assert entries[0].team_name == "Chris Xu"


# sberbank-russian-housing-market (RMSLE, lower is better), in TeamId order as some
# shape-B files are.
ROWS_B = [
    '638600,"Maria Simbiryakova","2017-06-05 19:05:49",35.09525',
    '640447,"alijs & Evgeny","2017-06-29 17:50:18",0.29755',
    '651738,"Sher Dil","2017-06-29 06:54:20",0.30069',
    '723746,Gustavo,"2017-06-29 00:12:24",0.30629',
    '758230,"Andrey Vykhodtsev","2017-06-27 22:24:27",11.77794',
]


def test_shape_b_ranks_lower_is_better(tmp_path):
    info = LeaderboardInfo()
    entries = parse(
        write(tmp_path, "sberbank.csv", csv_text(HEADER_AB, ROWS_B)),
        lower_is_better=True,
        info=info,
    )
    assert [(e.rank, e.team_id, e.score) for e in entries] == [
        (1, 640447, "0.29755"),
        (2, 651738, "0.30069"),
        (3, 723746, "0.30629"),
        (4, 758230, "11.77794"),
        (5, 638600, "35.09525"),
    ]
    assert entries[0] == LeaderboardEntry(
        1,
        640447,
        "alijs & Evgeny",
        "0.29755",
        0.29755,
        "2017-06-29T17:50:18Z",
        1,
        "[]",
        False,
    )
    assert {e.submission_count for e in entries} == {1}
    assert info == LeaderboardInfo("sberbank.csv", SHAPE_PER_TEAM, 5, 5, ranked_lower_is_better=True)


def test_shape_b_higher_is_better_reverses(tmp_path):
    entries = parse(write(tmp_path, "b.csv", csv_text(HEADER_AB, ROWS_B)))
    assert [e.team_id for e in entries] == [638600, 758230, 723746, 651738, 640447]


def test_tie_breaking_between_teams(tmp_path):
    rows = [
        '30,Late,"2020-01-03 00:00:00",0.90000',
        '20,Early,"2020-01-01 00:00:00",0.90000',
        '11,SameTimeHigherId,"2020-01-02 00:00:00",0.90000',
        '10,SameTimeLowerId,"2020-01-02 00:00:00",0.90000',
        '40,NoScore,"2019-01-01 00:00:00",',
        '50,Worse,"2019-01-01 00:00:00",0.10000',
        "60,NoDate,,0.90000",
    ]
    entries = parse(write(tmp_path, "t.csv", csv_text(HEADER_AB, rows)))
    assert [(e.rank, e.team_name) for e in entries] == [
        (1, "Early"),
        (2, "SameTimeLowerId"),
        (3, "SameTimeHigherId"),
        (4, "Late"),
        (5, "NoDate"),
        (6, "Worse"),
        (7, "NoScore"),
    ]
    assert entries[-1].score == "" and entries[-1].score_value is None
    assert entries[4].last_submission is None


def test_tie_within_a_team_keeps_the_earlier_submission_as_best(tmp_path):
    # Team 1 tied its 0.9 later: its best row stays the early one, so it beats team 2,
    # whose 0.9 came in between. The later tie still counts as its last submission.
    rows = [
        '1,One,"2020-01-01 00:00:00",0.9',
        '2,Two,"2020-01-02 00:00:00",0.9',
        '1,One,"2020-01-03 00:00:00",0.90',
    ]
    entries = parse(write(tmp_path, "t.csv", csv_text(HEADER_AB, rows)))
    assert [(e.team_id, e.score, e.last_submission, e.submission_count) for e in entries] == [
        (1, "0.9", "2020-01-03T00:00:00Z", 2),
        (2, "0.9", "2020-01-02T00:00:00Z", 1),
    ]


def test_same_score_same_time_keeps_the_first_row_as_best(tmp_path):
    rows = [
        '1,One,"2020-01-01 00:00:00",0.9',
        '1,One,"2020-01-01 00:00:00",0.90',
    ]
    (entry,) = parse(write(tmp_path, "t.csv", csv_text(HEADER_AB, rows)))
    assert (entry.score, entry.submission_count) == ("0.9", 2)


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_teams_without_score_rank_last_in_both_directions(tmp_path, lower_is_better):
    rows = [
        '1,Empty,"2020-01-01 00:00:00",',
        '2,Negative,"2020-01-02 00:00:00",-5',
        '3,Positive,"2020-01-03 00:00:00",5',
        '4,Zero,"2020-01-04 00:00:00",0',
    ]
    entries = parse(
        write(tmp_path, "t.csv", csv_text(HEADER_AB, rows)),
        lower_is_better=lower_is_better,
    )
    expected = ["Negative", "Zero", "Positive"]
    if not lower_is_better:
        expected.reverse()
    assert [e.team_name for e in entries] == [*expected, "Empty"]
    assert entries[-1][3:5] == ("", None)


def test_team_name_comes_from_the_latest_row_not_file_order(tmp_path):
    rows = [
        '1,NewName,"2020-01-05 00:00:00",0.5',
        '1,OldName,"2020-01-01 00:00:00",0.9',
    ]
    (entry,) = parse(write(tmp_path, "t.csv", csv_text(HEADER_AB, rows)))
    assert (entry.team_name, entry.score, entry.last_submission) == (
        "NewName",
        "0.9",
        "2020-01-05T00:00:00Z",
    )


# ------------------------------------------------------------- bytes and quoting


@pytest.mark.parametrize("bom", [True, False])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_bom_and_line_endings_do_not_matter(tmp_path, bom, eol):
    path = write(tmp_path, "x.csv", csv_text(HEADER_C, ROWS_C, bom=bom, eol=eol) + eol.encode())
    assert parse(path) == EXPECTED_C
    path = write(tmp_path, "a.csv", csv_text(HEADER_AB, ROWS_A, bom=bom, eol=eol))
    assert [e.team_name for e in parse(path)] == ["Chris Xu", "Yufeng Guo", "Zhenlan"]


def test_crlf_does_not_leak_into_last_field(tmp_path):
    path = write(tmp_path, "x.csv", csv_text(HEADER_C, ROWS_C, eol="\r\n"))
    assert [e.members for e in parse(path)][:2] == ['["bowwowforeach"]', '["shunrcn"]']


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ('"Larry ""DJ"" Cukierski"', 'Larry "DJ" Cukierski'),
        ('"Parag, Adam, & BreakfastPirate"', "Parag, Adam, & BreakfastPirate"),
        ('"two\nlines, really"', "two\nlines, really"),
        ('"crlf\r\ninside"', "crlf\r\ninside"),
        ("98074", "98074"),
        ("01520410", "01520410"),
        ("747.", "747."),
        ('" Haris Zuber"', " Haris Zuber"),
        ('"Salomon Kabongo "', "Salomon Kabongo "),
        ("[Deleted]", "[Deleted]"),
        ("🚀 ロケット", "🚀 ロケット"),
        ('""', ""),
    ],
)
def test_team_names_stay_exact_text(tmp_path, field, name):
    row_c = f'1,42,{field},"2026-05-05 12:22:42",0.5,1,a'
    (entry,) = parse(write(tmp_path, "c.csv", csv_text(HEADER_C, [row_c])))
    assert entry.team_name == name
    row_a = f'42,{field},"2026-05-05 12:22:42",0.5'
    (entry,) = parse(write(tmp_path, "a.csv", csv_text(HEADER_AB, [row_a])))
    assert entry.team_name == name


def test_embedded_newlines_count_as_physical_lines(tmp_path):
    rows = [
        '1,42,"two\nlines",,0.5,1,a',
        '2,43,"three\n\nlines",,0.5,1,b',
        "3,44,ok,,0.5,1",  # physical line 7 (header 1, rows 2-3 and 4-6)
    ]
    path = write(tmp_path, "x.csv", csv_text(HEADER_C, rows))
    assert parse_error(path) == "x.csv line 7: expected 7 fields, found 6"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.77990", 0.7799),
        ("1.00000", 1.0),
        ("1652.8", 1652.8),
        ("1e-5", 1e-5),
        ("-0.3", -0.3),
        ("0", 0.0),
        ("", None),
    ],
)
def test_score_text_is_kept_exactly(tmp_path, text, value):
    row = f'1,42,Alpha,"2026-05-05 12:22:42",{text},1,a'
    (entry,) = parse(write(tmp_path, "x.csv", csv_text(HEADER_C, [row])))
    assert (entry.score, entry.score_value) == (text, value)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-05-05 12:22:42", "2026-05-05T12:22:42Z"),
        ("2024-02-29 23:59:59", "2024-02-29T23:59:59Z"),
        ("2026-01-31 00:00:00", "2026-01-31T00:00:00Z"),
        ("2026-05-05T12:22:42", "2026-05-05T12:22:42Z"),
        ("2026-05-05T12:22:42Z", "2026-05-05T12:22:42Z"),
        ("2026-05-05T12:22:42.123Z", "2026-05-05T12:22:42Z"),
        ("2026-05-05 12:22:42.5", "2026-05-05T12:22:42Z"),
        ("", None),
    ],
)
def test_dates_become_iso_utc(tmp_path, text, iso):
    row_c = f'1,42,Alpha,"{text}",0.5,1,a'
    (entry,) = parse(write(tmp_path, "x.csv", csv_text(HEADER_C, [row_c])))
    assert entry.last_submission == iso
    row_a = f'42,Alpha,"{text}",0.5'
    (entry,) = parse(write(tmp_path, "a.csv", csv_text(HEADER_AB, [row_a])))
    assert entry.last_submission == iso


def test_blank_lines_are_skipped_and_header_only_is_an_empty_board(tmp_path):
    rows = ["", ROWS_C[0], "", ""]
    assert parse(write(tmp_path, "x.csv", csv_text(HEADER_C, rows))) == EXPECTED_C[:1]
    info = LeaderboardInfo()
    assert parse(write(tmp_path, "h.csv", csv_text(HEADER_C, [])), info=info) == []
    assert info == LeaderboardInfo("h.csv", SHAPE_CURRENT, 0, 0)


def test_parse_leaderboard_text_takes_lines_with_a_bom(tmp_path):
    text = BOM + HEADER_C + "\n" + "\n".join(ROWS_C)
    entries = parse_leaderboard_text(io.StringIO(text, newline=""), source_name="mem.csv", lower_is_better=False)
    assert list(entries) == EXPECTED_C
    lines = [BOM + HEADER_AB, ROWS_B[0], "oops,x,,1"]
    with pytest.raises(LeaderboardFormatError) as caught:
        list(parse_leaderboard_text(lines, source_name="mem.csv", lower_is_better=True))
    assert str(caught.value) == "mem.csv line 3: TeamId 'oops' is not an integer"


# ---------------------------------------------------------------------------- zip


def test_zip_with_kaggle_member_name(tmp_path):
    path = write(tmp_path, "orbit-wars.zip", zip_bytes({MEMBER: csv_text(HEADER_C, ROWS_C)}))
    info = LeaderboardInfo()
    assert parse(path, info=info) == EXPECTED_C
    assert info.source_name == f"orbit-wars.zip:{MEMBER}"
    assert info.shape == SHAPE_CURRENT


def test_zip_is_recognized_by_content_not_name(tmp_path):
    path = write(tmp_path, "download.csv", zip_bytes({MEMBER: csv_text(HEADER_AB, ROWS_B)}))
    assert len(parse(path, lower_is_better=True)) == 5


def test_zip_with_several_csvs_takes_the_leaderboard(tmp_path):
    path = write(
        tmp_path,
        "board.zip",
        zip_bytes(
            {
                "readme.csv": b"not,a,board\n",
                "sub/": b"",
                MEMBER: csv_text(HEADER_C, ROWS_C),
                "notes.txt": b"hello",
            }
        ),
    )
    assert parse(path) == EXPECTED_C


def test_open_leaderboard_file_gives_name_and_text_without_bom(tmp_path):
    path = write(tmp_path, "board.zip", zip_bytes({MEMBER: csv_text(HEADER_C, ROWS_C)}))
    name, stream = open_leaderboard_file(path)
    with stream:
        assert name == f"board.zip:{MEMBER}"
        assert stream.readline() == HEADER_C + "\n"
    assert stream.closed


def test_error_inside_zip_names_zip_and_member(tmp_path):
    rows = [*ROWS_C[:3], '4,abc,"X","2026-05-05 12:22:42",1,1,x']
    path = write(tmp_path, "board.zip", zip_bytes({MEMBER: csv_text(HEADER_C, rows)}))
    assert parse_error(path) == f"board.zip:{MEMBER} line 5: TeamId 'abc' is not an integer"


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (
            HEADER_C,
            [*ROWS_C[:2], '3,abc,"Orbit Team",,1,2,x'],
            "line 4: TeamId 'abc' is not an integer",
        ),
        (HEADER_C, ["x,1,A,,1,1,a"], "line 2: Rank 'x' is not an integer"),
        (HEADER_C, ["-1,1,A,,1,1,a"], "line 2: Rank '-1' is negative"),
        (
            HEADER_C,
            ["1,1,A,,1,1.5,a"],
            "line 2: SubmissionCount '1.5' is not an integer",
        ),
        (HEADER_C, ["1,1,A,,1,-2,a"], "line 2: SubmissionCount '-2' is negative"),
        (HEADER_C, ["1,-7,A,,1,1,a"], "line 2: TeamId '-7' is negative"),
        (HEADER_C, ["1,1,A,,,1"], "line 2: expected 7 fields, found 6"),
        (
            HEADER_C,
            [ROWS_C[0], "2,2,A,,1,1,a,extra"],
            "line 3: expected 7 fields, found 8",
        ),
        (
            HEADER_AB,
            ["1,A,,0.5", "2,B,,1.2.3"],
            "line 3: Score '1.2.3' is not a number",
        ),
        (HEADER_C, ["1,1,A,,1.2.3,1,a"], "line 2: Score '1.2.3' is not a number"),
        (HEADER_C, ["1,1,A,,nan,1,a"], "line 2: Score 'nan' is not a finite number"),
        (HEADER_AB, ["1,A,,-inf"], "line 2: Score '-inf' is not a finite number"),
        (
            HEADER_C,
            ['1,1,A,"2026-02-30 10:00:00",1,1,a'],
            "line 2: LastSubmissionDate '2026-02-30 10:00:00' is not a date (expected YYYY-MM-DD HH:MM:SS)",
        ),
        (
            HEADER_C,
            ['1,1,A,"2026-05-05 25:00:00",1,1,a'],
            "line 2: LastSubmissionDate '2026-05-05 25:00:00' is not a date (expected YYYY-MM-DD HH:MM:SS)",
        ),
        (
            HEADER_AB,
            ['1,A,"2026-05-05 12:22:42",1', "1,A,yesterday,1"],
            "line 3: SubmissionDate 'yesterday' is not a date (expected YYYY-MM-DD HH:MM:SS)",
        ),
        (
            HEADER_C,
            [ROWS_C[0], ROWS_C[1], ROWS_C[0].replace("1,", "9,", 1)],
            "line 4: duplicate TeamId 15648364",
        ),
        (
            HEADER_C.replace("TeamName", "Foo"),
            [],
            "line 1: unknown header column 'Foo' (expected Rank,TeamId,TeamName,"
            "LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames)",
        ),
        (
            HEADER_AB + ",Foo",
            [],
            f"line 1: unknown header column 'Foo' (expected {HEADER_AB})",
        ),
        (HEADER_AB.replace(",Score", ""), [], "line 1: missing column 'Score'"),
        (
            HEADER_C.replace(",TeamMemberUserNames", ""),
            [],
            "line 1: missing column 'TeamMemberUserNames'",
        ),
        (
            "teamid,teamname,submissiondate,score",
            [],
            f"line 1: not a Kaggle leaderboard header: unknown column 'teamid' (expected {HEADER_C} or {HEADER_AB})",
        ),
        (HEADER_AB + ",Score", [], "line 1: duplicate header column 'Score'"),
        (HEADER_C, [ROWS_C[0], '2,2,"A"x,,1,1,a'], "line 3: bad CSV ("),
        (HEADER_C, [ROWS_C[0], '2,2,"unterminated,,1,1,a'], "line 3: bad CSV ("),
    ],
)
def test_format_errors_name_file_and_line(tmp_path, header, rows, message):
    path = write(tmp_path, "orbit-wars.csv", csv_text(header, rows))
    assert parse_error(path).startswith(f"orbit-wars.csv {message}")


@pytest.mark.parametrize("data", [b"", BOM.encode(), b"\n\n", BOM.encode() + b"\r\n"])
def test_empty_file(tmp_path, data):
    assert parse_error(write(tmp_path, "x.csv", data)) == "x.csv: empty file"


def test_invalid_utf8_gives_exact_line(tmp_path):
    rows = [f'{i},{i},Team{i},"2026-05-05 12:22:42",1,1,u{i}' for i in range(1, 5001)]
    data = csv_text(HEADER_C, rows).splitlines(keepends=True)
    data[2] = data[2].replace(b"Team2", b"Team\xff")  # line 3, inside the first chunk
    assert parse_error(write(tmp_path, "x.csv", b"".join(data))) == "x.csv line 3: not valid UTF-8"
    data[2] = data[2].replace(b"Team\xff", b"Team2")
    data[4000] = data[4000].replace(b"Team4000", b"Team\xc3(")  # far beyond the chunk
    assert parse_error(write(tmp_path, "x.csv", b"".join(data))) == "x.csv line 4001: not valid UTF-8"
    path = write(tmp_path, "board.zip", zip_bytes({MEMBER: b"".join(data)}))
    assert parse_error(path) == f"board.zip:{MEMBER} line 4001: not valid UTF-8"


def test_not_a_zip(tmp_path):
    assert parse_error(write(tmp_path, "board.zip", b"<html>Rate limited</html>")) == "board.zip: not a zip file"
    assert parse_error(write(tmp_path, "empty.zip", b"")) == "empty.zip: not a zip file"


def real_zip(rows: int = 3000) -> bytes:
    lines = [f'{i},{1000 + i},"Team {i}","2026-05-05 12:22:42",{i / 7:.5f},2,user{i}' for i in range(1, rows + 1)]
    return zip_bytes({MEMBER: csv_text(HEADER_C, lines)})


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1, 10])
def test_truncated_zip(tmp_path, keep):
    data = real_zip()
    cut = data[: int(len(data) * keep)] if keep < 1 else data[:keep]
    assert parse_error(write(tmp_path, "board.zip", cut)) == "board.zip: truncated or corrupt zip"


def test_corrupt_zip_data_is_a_format_error(tmp_path):
    data = bytearray(real_zip())
    for offset in range(200, 600, 7):  # scramble compressed data, keep the directory
        data[offset] ^= 0x5A
    message = parse_error(write(tmp_path, "board.zip", bytes(data)))
    assert message.startswith("board.zip: truncated or corrupt zip (")


def test_damage_found_by_crc_wins_over_the_garbage_it_produced(tmp_path):
    # A stored (uncompressed) member with a byte changed: zipfile notices only at
    # the end (CRC), after the CSV reader already met the bad line.
    csv_bytes = csv_text(
        HEADER_C,
        [
            ROWS_C[0],
            ROWS_C[1],
            *[f'{i},{100 + i},T{i},"2026-05-05 12:22:42",1,1,u{i}' for i in range(3, 2000)],
        ],
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(MEMBER, csv_bytes)
    data = buffer.getvalue().replace(b"15637383,Shun_PI", b"15637383,Shun\xffPI", 1)
    message = parse_error(write(tmp_path, "board.zip", data))
    assert message.startswith("board.zip: truncated or corrupt zip (Bad CRC-32")
    data = buffer.getvalue().replace(b"15637383,Shun_PI", b"15637383;Shun_PI", 1)
    message = parse_error(write(tmp_path, "board.zip", data))
    assert message.startswith("board.zip: truncated or corrupt zip (Bad CRC-32")


def test_zip_without_csv(tmp_path):
    path = write(tmp_path, "board.zip", zip_bytes({"readme.txt": b"hi"}))
    assert parse_error(path) == "board.zip: no CSV file inside"
    path = write(tmp_path, "empty.zip", zip_bytes({}))
    assert parse_error(path) == "empty.zip: no CSV file inside"


def test_zip_member_with_an_empty_name(tmp_path):
    # Found by the property tests: zipfile's is_dir() fails on an empty name.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"x")
    path = write(tmp_path, "board.zip", buffer.getvalue())
    assert parse_error(path) == "board.zip: no CSV file inside"


def test_zip_of_an_unknown_version_is_a_format_error(tmp_path):
    # Found by the property tests: zipfile raises NotImplementedError when opening.
    data = bytearray(zip_bytes({MEMBER: csv_text(HEADER_C, ROWS_C)}))
    directory = data.index(b"PK\x01\x02")
    data[directory + 6 : directory + 8] = (110).to_bytes(2, "little")  # version 11.0
    message = parse_error(write(tmp_path, "board.zip", bytes(data)))
    assert message == "board.zip: truncated or corrupt zip (zip file version 11.0)"


def test_member_names_in_messages_stay_on_one_line(tmp_path):
    path = write(tmp_path, "board.zip", zip_bytes({"a\n.csv": b"x", "b\r\x85.csv": b"y"}))
    assert parse_error(path) == (
        "board.zip: 2 CSV files inside and none named like a leaderboard: a\\n.csv, b\\r\\x85.csv"
    )
    path = write(tmp_path, "one.zip", zip_bytes({"x\n.csv": b"Foo\n"}))
    assert parse_error(path).startswith("one.zip:x\\n.csv line 1: ")


def test_zip_with_several_csvs_but_no_leaderboard(tmp_path):
    path = write(tmp_path, "board.zip", zip_bytes({"a.csv": b"x", "b.csv": b"y"}))
    assert parse_error(path) == ("board.zip: 2 CSV files inside and none named like a leaderboard: a.csv, b.csv")


def test_missing_file_is_not_a_format_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        parse(tmp_path / "nope.zip")


# ---------------------------------------------------------------------- NUL bytes


def test_nul_is_dropped_from_every_text_field(tmp_path):
    row = '1,42,"Te\x00am \x00X","2026-05-05 12:22:\x0042",0.5\x00,1,"a\x00b,c"'
    header = HEADER_C.replace("TeamName", "Team\x00Name")
    expected = LeaderboardEntry(1, 42, "Team X", "0.5", 0.5, "2026-05-05T12:22:42Z", 1, '["ab","c"]', False)
    (entry,) = parse(write(tmp_path, "c.csv", csv_text(header, [row])))
    assert entry == expected
    path = write(tmp_path, "c.zip", zip_bytes({MEMBER: csv_text(header, [row])}))
    assert parse(path) == [expected]
    lines = [header, row]
    assert list(parse_leaderboard_text(lines, source_name="m.csv", lower_is_better=False)) == [expected]
    # Fields that are nothing but NUL become empty.
    row = '0,43,Bench,"\x00",\x00,1,\x00'
    (entry,) = parse(write(tmp_path, "c.csv", csv_text(HEADER_C, [row])))
    assert entry == LeaderboardEntry(0, 43, "Bench", "", None, None, 1, "[]", True)


def test_nul_is_dropped_from_text_fields_of_shapes_a_and_b(tmp_path):
    rows = ['42,"Chris\x00 X","2019-12-24 10:08:26\x00",0.7\x00', '43,\x00Y,"\x00",0.5']
    entries = parse(write(tmp_path, "a.csv", csv_text(HEADER_AB, rows)))
    assert [(e.team_name, e.score, e.last_submission) for e in entries] == [
        ("Chris X", "0.7", "2019-12-24T10:08:26Z"),
        ("Y", "0.5", None),
    ]


def test_nul_in_an_integer_is_an_error(tmp_path):
    path = write(tmp_path, "x.csv", csv_text(HEADER_C, ["1,4\x002,A,,1,1,a"]))
    assert parse_error(path) == "x.csv line 2: TeamId '4\\x002' is not an integer"


# ----------------------------------------------------------------------- integers

ROW_C_COLUMNS = {"Rank": 0, "TeamId": 1, "SubmissionCount": 5}


def row_c_with(column: str, text: str) -> str:
    fields = ["1", "42", "Alpha", '"2026-05-05 12:22:42"', "0.5", "1", "a"]
    fields[ROW_C_COLUMNS[column]] = '"' + text + '"'
    return ",".join(fields)


@pytest.mark.parametrize(
    "text",
    ["١٢٣", "٤", "1_000", " 12 ", "12 ", " 12", "+5", "²", "0x1F", "1e3", "1.0", ""],
)
@pytest.mark.parametrize("column", ["Rank", "TeamId", "SubmissionCount"])
def test_integers_are_plain_ascii_digits(tmp_path, column, text):
    path = write(tmp_path, "x.csv", csv_text(HEADER_C, [row_c_with(column, text)]))
    assert parse_error(path) == f"x.csv line 2: {column} {text!r} is not an integer"


@pytest.mark.parametrize("text", ["١٢٣", "1_000", " 12 ", "+5", ""])
def test_team_id_of_shapes_a_and_b_is_plain_ascii_digits(tmp_path, text):
    rows = ['1,A,"2020-01-01 00:00:00",0.5', f'"{text}",B,"2020-01-01 00:00:00",0.5']
    path = write(tmp_path, "a.csv", csv_text(HEADER_AB, rows))
    assert parse_error(path) == f"a.csv line 3: TeamId {text!r} is not an integer"


INT64_MAX = 2**63 - 1


@pytest.mark.parametrize("column", ["Rank", "TeamId", "SubmissionCount"])
@pytest.mark.parametrize(
    "text",
    [str(2**63), str(2**64 + 1), "1" + "0" * 30, "9" * 5000, "1" * 19 + "0"],
)
def test_integers_must_fit_sqlite(tmp_path, column, text):
    path = write(tmp_path, "x.csv", csv_text(HEADER_C, [row_c_with(column, text)]))
    shown = repr(text) if len(text) <= 40 else repr(text[:40] + "...")
    assert parse_error(path) == (f"x.csv line 2: {column} {shown} is too large (at most {INT64_MAX})")


def test_team_id_of_shape_a_must_fit_sqlite(tmp_path):
    rows = ['1,A,"2020-01-01 00:00:00",0.5', f'{2**63},B,"2020-01-01 00:00:00",0.5']
    path = write(tmp_path, "a.csv", csv_text(HEADER_AB, rows))
    assert parse_error(path) == (f"a.csv line 3: TeamId '{2**63}' is too large (at most {INT64_MAX})")


def test_largest_integers_and_leading_zeros_are_accepted(tmp_path):
    rows = [
        f'1,{INT64_MAX},A,"2026-05-05 12:22:42",1,{INT64_MAX},a',
        f'0002,{"0" * 30}7,B,"2026-05-05 12:22:42",1,{"0" * 5000}3,b',
        f'3,0{INT64_MAX},C,"2026-05-05 12:22:42",1,1,c',
    ]
    entries = parse(write(tmp_path, "x.csv", csv_text(HEADER_C, rows[:2])))
    assert [(e.rank, e.team_id, e.submission_count) for e in entries] == [
        (1, INT64_MAX, INT64_MAX),
        (2, 7, 3),
    ]
    # Leading zeros do not hide a duplicate.
    path = write(tmp_path, "d.csv", csv_text(HEADER_C, rows))
    assert parse_error(path) == f"d.csv line 4: duplicate TeamId {INT64_MAX}"
    rows = [f'{INT64_MAX},A,"2020-01-01 00:00:00",0.5', '007,B,"2020-01-01 00:00:00",0.6']
    entries = parse(write(tmp_path, "a.csv", csv_text(HEADER_AB, rows)))
    assert [e.team_id for e in entries] == [7, INT64_MAX]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("-1", "is negative"), ("-0", "is not an integer"), ("--1", "is not an integer")],
)
def test_signs_are_refused(tmp_path, text, problem):
    path = write(tmp_path, "x.csv", csv_text(HEADER_C, [row_c_with("TeamId", text)]))
    assert parse_error(path) == f"x.csv line 2: TeamId {text!r} {problem}"


# ------------------------------------------------------------ limits before reading

GIB = 1 << 30


@pytest.mark.parametrize("function", [iter_leaderboard, iter_leaderboard_rows, open_leaderboard_file])
def test_limits_are_keyword_parameters_with_defaults(function):
    parameters = inspect.signature(function).parameters
    assert parameters["max_uncompressed_bytes"].default == 2 * GIB
    assert parameters["max_uncompressed_bytes"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["max_compression_ratio"].default == 100
    assert parameters["max_compression_ratio"].kind is inspect.Parameter.KEYWORD_ONLY
    assert (DEFAULT_MAX_UNCOMPRESSED_BYTES, DEFAULT_MAX_COMPRESSION_RATIO) == (2 * GIB, 100)


@pytest.fixture
def no_member_reads(monkeypatch):
    """Make any attempt to read a zip member fail the test (writing still works)."""
    original = zipfile.ZipFile.open

    def refuse(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            raise AssertionError("a zip member was opened for reading")
        return original(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def test_zip_member_too_large_is_refused_before_reading(tmp_path, no_member_reads):
    data = csv_text(HEADER_C, ROWS_C)
    path = write(tmp_path, "board.zip", zip_bytes({MEMBER: data}))
    expected = (
        f"board.zip:{MEMBER}: the CSV is too large: {len(data):,} bytes, more than the limit of {len(data) - 1:,}"
    )
    with pytest.raises(LeaderboardFormatError) as caught:
        list(iter_leaderboard(path, lower_is_better=False, max_uncompressed_bytes=len(data) - 1))
    assert str(caught.value) == expected
    with pytest.raises(LeaderboardFormatError, match="the CSV is too large"):
        list(iter_leaderboard_rows(path, lower_is_better=False, max_uncompressed_bytes=100))
    with pytest.raises(LeaderboardFormatError, match="the CSV is too large"):
        open_leaderboard_file(path, max_uncompressed_bytes=100)


def test_zip_member_at_the_size_limit_is_read(tmp_path):
    data = csv_text(HEADER_C, ROWS_C)
    path = write(tmp_path, "board.zip", zip_bytes({MEMBER: data}))
    assert list(iter_leaderboard(path, lower_is_better=False, max_uncompressed_bytes=len(data))) == EXPECTED_C


def test_plain_csv_too_large_is_refused(tmp_path):
    data = csv_text(HEADER_C, ROWS_C)
    path = write(tmp_path, "x.csv", data)
    with pytest.raises(LeaderboardFormatError) as caught:
        list(iter_leaderboard(path, lower_is_better=False, max_uncompressed_bytes=100))
    assert str(caught.value) == (f"x.csv: the CSV is too large: {len(data):,} bytes, more than the limit of 100")
    name, stream = open_leaderboard_file(path, max_uncompressed_bytes=len(data))
    stream.close()


def test_zip_bomb_is_refused_before_reading(tmp_path, no_member_reads):
    # 4 MiB of newlines after a header: ~4 KB compressed, a ratio of about 1000.
    data = (HEADER_C + "\n").encode() + b"\n" * (4 << 20)
    path = write(tmp_path, "board.zip", zip_bytes({MEMBER: data}))
    message = parse_error(path)
    assert message.startswith(f"board.zip:{MEMBER}: compressed ")
    assert message.endswith(" to 1, more than the limit of 100 to 1 (a zip bomb?)")


def test_zip_that_lies_about_its_size_yields_no_more_than_it_claims(tmp_path):
    # The checks trust the zip's directory; zipfile stops at the size given there
    # (then fails the CRC), so a lie cannot make us decompress more.
    data = (HEADER_C + "\n").encode() + b"\n" * (8 << 20)
    archive = bytearray(zip_bytes({MEMBER: data}))
    directory = archive.index(b"PK\x01\x02")
    archive[directory + 24 : directory + 28] = (5000).to_bytes(4, "little")
    archive[22:26] = (5000).to_bytes(4, "little")  # the local header says so too
    message = parse_error(write(tmp_path, "board.zip", bytes(archive)))
    assert message.startswith("board.zip: truncated or corrupt zip (Bad CRC-32")


def test_compression_ratio_applies_above_one_mib_only(tmp_path):
    # Real rows compress ~5 to 1: a limit of 2 refuses a member of over 1 MiB only.
    small = write(tmp_path, "small.zip", real_zip(3000))  # ~0.2 MB uncompressed
    assert len(list(iter_leaderboard(small, lower_is_better=False, max_compression_ratio=2))) == 3000
    big = write(tmp_path, "big.zip", real_zip(20000))  # ~1.4 MB uncompressed
    assert len(parse(big)) == 20000
    with pytest.raises(LeaderboardFormatError, match=r"more than the limit of 2 to 1"):
        list(iter_leaderboard(big, lower_is_better=False, max_compression_ratio=2))
    with pytest.raises(LeaderboardFormatError, match=r"more than the limit of 2\.5 to 1"):
        open_leaderboard_file(big, max_compression_ratio=2.5)


# ------------------------------------------------------------------- blank lines


def test_a_file_of_blank_lines_stops_early(tmp_path):
    path = write(tmp_path, "x.csv", b"\n" * 50_000)
    assert parse_error(path) == ("x.csv line 10000: no leaderboard rows: the first 10,000 lines are blank")

    def lines():
        for _ in range(10_000):
            yield "\r\n"
        raise AssertionError("read on past 10,000 blank lines")

    with pytest.raises(LeaderboardFormatError, match="no leaderboard rows"):
        list(parse_leaderboard_text(lines(), source_name="s", lower_is_better=False))


@pytest.mark.parametrize("header", [HEADER_C, HEADER_AB])
def test_header_and_blank_lines_stop_early(tmp_path, header):
    path = write(tmp_path, "x.csv", (header + "\n").encode() + b"\n" * 50_000)
    assert parse_error(path) == ("x.csv line 10002: no leaderboard rows: 10,001 blank lines and only 0 rows so far")


def test_blank_lines_up_to_twice_the_rows_are_fine(tmp_path):
    # "\r\r\n" (a CSV written in text mode on Windows) gives a blank line per row.
    rows_c = [f'{i},{i},T{i},"2026-05-05 12:22:42",1,1,u{i}' for i in range(1, 12_001)]
    path = write(tmp_path, "c.csv", csv_text(HEADER_C, rows_c, eol="\r\r\n"))
    assert len(parse(path)) == 12_000
    rows_a = [f'{i},T{i},"2020-01-01 00:00:00",0.5' for i in range(1, 12_001)]
    path = write(tmp_path, "a.csv", csv_text(HEADER_AB, rows_a, eol="\n\n\n"))
    assert len(parse(path)) == 12_000
    # 10,000 blank lines beyond two per row are refused.
    path = write(tmp_path, "c.csv", csv_text(HEADER_C, rows_c, eol="\n\n\n\n"))
    assert parse_error(path) == ("c.csv line 39996: no leaderboard rows: 29,997 blank lines and only 9,998 rows so far")
