"""kagsync.kaggle.board: the paged view and the private board, against the stand-in."""

# The imported pytest fixture `kaggle_standin` is "redefined" by each test parameter.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from kagsync.errors import (
    KaggleError,
    KaggleForbiddenError,
    KaggleNotFoundError,
    KaggleRateLimitError,
)
from kagsync.kaggle import (
    fetch_leaderboard_page,
    fetch_private_board,
    fetch_public_view,
    private_board_released,
)
from tests.kaggle_standin import (
    GET_LEADERBOARD_PATH,
    KaggleStandin,
    kaggle_standin,  # noqa: F401  (fixture)
    make_board,
)

SLUG = "playground-series-s6e5"


class Sleeps(list):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# --------------------------------------------------------------------------------------
# The paged leaderboard view and the private board
# --------------------------------------------------------------------------------------


def view_rows(n: int, seed: int) -> list[dict]:
    return make_board(n, seed=seed)


def expected_rows(rows: list[dict]) -> list[dict]:
    return [
        {
            "team_id": r["TeamId"],
            "team_name": r["TeamName"],
            "submission_date": r["LastSubmissionDate"].replace(" ", "T") + "Z",
            "score": r["Score"],
        }
        for r in rows
    ]


def test_fetch_leaderboard_page_request_and_rows(kaggle_standin: KaggleStandin) -> None:
    public = view_rows(450, seed=1)
    kaggle_standin.serve_board_pages(SLUG, public)

    rows, token = fetch_leaderboard_page(SLUG, override_public=True)
    assert rows == expected_rows(public[:200]) and token
    assert all(type(r["team_id"]) is int and type(r["score"]) is str for r in rows)
    rows2, token2 = fetch_leaderboard_page(SLUG, override_public=False, page_token=token, page_size=150)
    assert rows2 == expected_rows(public[200:350]) and token2 and token2 != token
    first, second = kaggle_standin.leaderboard_calls(SLUG)
    assert first.path == GET_LEADERBOARD_PATH
    assert first.json == {"competitionName": SLUG, "overridePublic": True, "pageSize": 200}
    assert second.json == {"competitionName": SLUG, "pageSize": 150, "pageToken": token}


def test_leaderboard_page_odd_values(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_board_pages(
        SLUG,
        [
            {
                "teamId": "123456789012",
                "teamName": "Big Id",
                "submissionDate": "2026-05-01T10:00:00.123456789Z",
                "score": 0.5,
            },
            {"teamName": "No Id Or Score"},  # proto3 JSON leaves defaults out
            (7, " Leading space", None, "1.00000"),
        ],
    )
    rows, token = fetch_leaderboard_page(SLUG, override_public=True)
    assert token == ""
    assert rows == [
        {
            "team_id": 123456789012,
            "team_name": "Big Id",
            "submission_date": "2026-05-01T10:00:00.123456789Z",
            "score": "0.5",
        },
        {"team_id": 0, "team_name": "No Id Or Score", "submission_date": None, "score": ""},
        {"team_id": 7, "team_name": " Leading space", "submission_date": None, "score": "1.00000"},
    ]


def test_leaderboard_page_arguments_checked(kaggle_standin: KaggleStandin) -> None:
    for size in (0, 201, True):
        with pytest.raises(ValueError):
            fetch_leaderboard_page(SLUG, override_public=True, page_size=size)
    with pytest.raises(ValueError):
        fetch_private_board(SLUG, max_pages=0)
    assert kaggle_standin.requests == []


def test_private_board_not_released(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_board_pages(SLUG, view_rows(30, seed=2))
    assert private_board_released(SLUG) is False
    assert fetch_private_board(SLUG) is None
    calls = kaggle_standin.leaderboard_calls(SLUG)
    assert len(calls) == 4
    assert [c.json.get("overridePublic") for c in calls] == [None, True, None, True]


def test_private_board_all_pages_in_kaggle_order(kaggle_standin: KaggleStandin) -> None:
    public = view_rows(450, seed=3)
    private = list(reversed(view_rows(450, seed=3)))  # same teams, another order
    kaggle_standin.serve_board_pages(SLUG, public, private)

    assert private_board_released(SLUG) is True
    kaggle_standin.reset()
    kaggle_standin.serve_board_pages(SLUG, public, private)
    rows = fetch_private_board(SLUG)

    assert rows == expected_rows(private)
    calls = kaggle_standin.leaderboard_calls(SLUG)
    # private page 1, public page 1, then private pages 2 and 3 (page 1 is reused).
    assert len(calls) == 4
    assert [c.json.get("overridePublic") for c in calls] == [None, True, None, None]
    assert all(c.json["pageSize"] == 200 for c in calls)
    assert calls[2].json["pageToken"] and calls[3].json["pageToken"] != calls[2].json["pageToken"]


def test_private_board_honours_retry_after_between_pages(kaggle_standin: KaggleStandin) -> None:
    public, private = view_rows(500, seed=4), view_rows(500, seed=5)
    kaggle_standin.serve_board_pages(SLUG, public, private)
    # The 3rd GetLeaderboard call (private page 2) is rate-limited once.
    kaggle_standin.serve_error(SLUG, 429, headers={"Retry-After": "7"}, times=1, rpc="GetLeaderboard", skip=2)
    sleeps = Sleeps()
    rows = fetch_private_board(SLUG, sleep=sleeps)
    assert rows == expected_rows(private)
    assert sleeps == [7.0]
    calls = kaggle_standin.leaderboard_calls(SLUG)
    assert [c.status for c in calls] == [200, 200, 429, 200, 200]
    assert calls[2].json == calls[3].json  # the same page asked again


def test_private_board_rate_limited_for_good(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_board_pages(SLUG, view_rows(300, seed=4), view_rows(300, seed=5))
    kaggle_standin.serve_error(SLUG, 429, rpc="GetLeaderboard", skip=2)
    with pytest.raises(KaggleRateLimitError) as info:
        fetch_private_board(SLUG, max_attempts=3, sleep=Sleeps())
    assert "leaderboard view" in str(info.value) and "3 attempts" in str(info.value)


def test_private_board_page_limit(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_board_pages(SLUG, view_rows(500, seed=4), view_rows(500, seed=5))
    with pytest.raises(KaggleError, match="more than 2 pages"):
        fetch_private_board(SLUG, max_pages=2)


def test_public_view_all_pages(kaggle_standin: KaggleStandin) -> None:
    public = view_rows(401, seed=6)
    kaggle_standin.serve_board_pages(SLUG, public, view_rows(401, seed=7))
    assert fetch_public_view(SLUG) == expected_rows(public)
    calls = kaggle_standin.leaderboard_calls(SLUG)
    assert len(calls) == 3 and all(c.json.get("overridePublic") is True for c in calls)


def test_empty_board(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_board_pages(SLUG, [])
    assert fetch_public_view(SLUG) == []
    assert private_board_released(SLUG) is False


def test_board_of_unknown_competition(kaggle_standin: KaggleStandin) -> None:
    with pytest.raises(KaggleNotFoundError, match="check the slug"):
        fetch_public_view("no-such-competition")


def test_board_403_says_accept_the_rules(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_board_pages(SLUG, view_rows(3, seed=1))
    kaggle_standin.serve_error(SLUG, 403, rpc="GetLeaderboard")
    with pytest.raises(KaggleForbiddenError, match="/rules"):
        fetch_private_board(SLUG)


def test_repeated_page_token_stops(kaggle_standin: KaggleStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    kaggle_standin.serve_board_pages(SLUG, view_rows(10, seed=1))
    loop = {"submissions": [{"teamId": 1, "score": "1"}], "nextPageToken": "again"}
    kaggle_standin.serve_error(SLUG, 200, loop, rpc="GetLeaderboard")
    with pytest.raises(KaggleError, match="repeated a page token"):
        fetch_public_view(SLUG)
    assert len(kaggle_standin.leaderboard_calls(SLUG)) == 2


def test_standin_rejects_foreign_page_tokens(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_board_pages(SLUG, view_rows(300, seed=1), view_rows(300, seed=2))
    _, public_token = fetch_leaderboard_page(SLUG, override_public=True)
    with pytest.raises(KaggleError, match="400"):
        fetch_leaderboard_page(SLUG, override_public=False, page_token=public_token)
    with pytest.raises(KaggleError, match="400"):
        fetch_leaderboard_page(SLUG, override_public=True, page_token="made-up")
