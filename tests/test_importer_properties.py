"""Property tests: an import file of any bytes is either a plan or one line per problem."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kagsync.errors import ValidationError
from kagsync.importer import ImportValidationError, read_import

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HEADER = "slug,title,event,status,start,end,lower_is_better,weight,description\n"
CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "titanic",
            "ongoing",
            "upcoming",
            "2025-03-01",
            "999-01-01",
            "true",
            "1e308",
            "=cmd",
            "night",
            "1_000",
            "١٢٣",
            "https://www.kaggle.com/c/titanic",
            "",
            " ",
            '"',
            "\r\n",
            "\x00",
        ]
    ),
)


def check(repo, tmp_path, data: bytes) -> None:
    path = tmp_path / "comps.csv"
    path.write_bytes(data)
    try:
        plan = read_import(path, repo, create_events=True)
    except ImportValidationError as error:
        assert error.problems
        for problem in error.problems:
            assert "\n" not in problem
            assert problem.startswith(("comps.csv", "--event")), problem
            assert re.match(r"comps\.csv( line \d+)?:", problem), problem
        return
    except ValidationError as error:
        assert "comps.csv" in str(error)
        return
    for row in plan.rows:
        assert row.line >= 2 and row.slug


@SETTINGS
@given(data=st.binary(max_size=400))
def test_any_bytes(repo, tmp_path, data):
    check(repo, tmp_path, data)


@SETTINGS
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=10), max_size=6))
def test_any_cells_under_a_valid_header(repo, tmp_path, rows):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    check(repo, tmp_path, (HEADER + buffer.getvalue()).encode("utf-8", "surrogatepass"))
