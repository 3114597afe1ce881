"""kagsync.kaggle.details: GetCompetition (and its ListCompetitions fallback) against the stand-in."""

# The imported pytest fixture `kaggle_standin` is "redefined" by each test parameter.
# ruff: noqa: F811

from __future__ import annotations

import socket
from datetime import datetime

import pytest

from kagsync.errors import (
    KaggleAuthError,
    KaggleConnectionError,
    KaggleError,
    KaggleForbiddenError,
    KaggleNotFoundError,
    KaggleRateLimitError,
    KaggleServerError,
)
from kagsync.kaggle import (
    KaggleCredentials,
    fetch_competition_details,
)
from tests.kaggle_standin import (
    DEFAULT_KEY,
    DEFAULT_USERNAME,
    GET_COMPETITION_PATH,
    LIST_COMPETITIONS_PATH,
    KaggleStandin,
    kaggle_standin,  # noqa: F401  (fixture)
)

SLUG = "playground-series-s6e5"
TOKEN = "KGAT_0123456789abcdef0123456789abcdef"


class Sleeps(list):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def assert_safe(exc: BaseException, *secrets: str) -> None:
    text = str(exc)
    assert "\n" not in text
    for secret in secrets or (DEFAULT_KEY,):
        assert secret not in text
    assert "Usage:" not in text and "kaggle.com/docs/api" not in text


# --------------------------------------------------------------------------------------
# Competition details
# --------------------------------------------------------------------------------------

DETAILS_SLUG = "house-prices-advanced-regression-techniques"


def test_details_from_get_competition(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details(
        DETAILS_SLUG,
        title="House Prices - Advanced Regression Techniques",
        description=(
            "<p>Predict sales prices &amp; practice <b>feature</b> engineering,\n  RFs,"
            " and gradient boosting</p><p>Second&nbsp;para</p><script>alert('x')</script><style>p{}</style>"
        ),
        enabled_date=datetime(2016, 8, 30, 0, 0, 0),
        deadline="2030-01-01T23:59:00Z",
        merger_deadline="2029-12-25T23:59:00.123456789Z",
        new_entrant_deadline="2029-12-26T01:59:00+02:00",
        evaluation_metric="Root Mean Squared Error",
        team_count=4321,
        maxTeamSize=5,
        maxDailySubmissions="10",  # proto3 JSON may write int64 as text
        reward="Knowledge",
        category="Getting Started",
        host_name="",
        tags=[{"ref": "tabular"}],
    )
    details = fetch_competition_details(DETAILS_SLUG)
    assert details == {
        "slug": DETAILS_SLUG,
        "title": "House Prices - Advanced Regression Techniques",
        "url": f"https://www.kaggle.com/competitions/{DETAILS_SLUG}",
        "description": ("Predict sales prices & practice feature engineering, RFs, and gradient boosting Second para"),
        "enabled_date": "2016-08-30T00:00:00Z",
        "deadline": "2030-01-01T23:59:00Z",
        "merger_deadline": "2029-12-25T23:59:00Z",
        "new_entrant_deadline": "2029-12-25T23:59:00Z",
        "evaluation_metric": "Root Mean Squared Error",
        "team_count": 4321,
        "max_team_size": 5,
        "max_daily_submissions": 10,
        "reward": "Knowledge",
        "category": "Getting Started",
        "host_name": None,
        "notes": [],
    }
    [request] = kaggle_standin.requests
    assert request.path == GET_COMPETITION_PATH
    assert request.json == {"competitionName": DETAILS_SLUG}
    assert request.basic_auth == (DEFAULT_USERNAME, DEFAULT_KEY)


def test_details_missing_and_placeholder_values(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details(
        "titanic",
        ref="titanic",
        title=None,
        url=None,
        deadline="0001-01-01T00:00:00Z",
        enabledDate="1970-01-01T00:00:00Z",
        mergerDeadline="not a date",
        teamCount=True,
        maxTeamSize="5.5",
    )
    details = fetch_competition_details("titanic")
    assert details["slug"] == "titanic"
    assert details["title"] is None and details["description"] is None
    assert details["url"] == "https://www.kaggle.com/competitions/titanic"
    for name in ("deadline", "enabled_date", "merger_deadline", "new_entrant_deadline"):
        assert details[name] is None
    assert details["team_count"] is None and details["max_team_size"] is None


def test_details_description_cut_to_500_characters(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details("titanic", description="<div>" + "word " * 400 + "</div>")
    description = fetch_competition_details("titanic")["description"]
    assert isinstance(description, str) and len(description) == 500
    assert description.endswith("…") and "  " not in description


def test_details_fall_back_to_list_competitions_on_404(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details("titanic", via_get=False, evaluation_metric="Categorization Accuracy")
    kaggle_standin.serve_details("titanic-2", evaluation_metric="AUC")  # found by the search too
    details = fetch_competition_details("titanic")
    assert details["slug"] == "titanic"
    assert details["evaluation_metric"] == "Categorization Accuracy"
    assert len(kaggle_standin.details_calls("titanic")) == 1
    [search] = kaggle_standin.list_calls("titanic")
    assert search.path == LIST_COMPETITIONS_PATH and search.json == {"search": "titanic"}


def test_details_fallback_follows_search_pages(kaggle_standin: KaggleStandin) -> None:
    for i in range(25):
        kaggle_standin.serve_details(f"a-zeta-{i}")
    kaggle_standin.serve_details("zeta", via_get=False, title="The Zeta")
    assert fetch_competition_details("zeta")["title"] == "The Zeta"
    pages = kaggle_standin.list_calls("zeta")
    assert [p.json.get("pageToken") for p in pages] == [None, "list-20"]


@pytest.mark.parametrize("others", [[], ["titanic-2", "titanic-3"]])
def test_details_not_found(kaggle_standin: KaggleStandin, others: list[str]) -> None:
    for other in others:
        kaggle_standin.serve_details(other)
    with pytest.raises(KaggleNotFoundError) as info:
        fetch_competition_details("titanic")
    assert str(info.value) == "no competition 'titanic' on Kaggle"
    assert info.value.kind == "not_found"


def test_details_retries_and_errors(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_details("titanic", title="Titanic")
    kaggle_standin.serve_error("titanic", 429, headers={"Retry-After": "3"}, times=1, rpc="GetCompetition")
    kaggle_standin.serve_error("titanic", 502, times=1, rpc="GetCompetition")
    sleeps = Sleeps()
    assert fetch_competition_details("titanic", sleep=sleeps)["title"] == "Titanic"
    assert sleeps == [3.0, 2.0]

    cases = [
        (401, KaggleAuthError, "401"),
        (403, KaggleForbiddenError, "403"),
        (429, KaggleRateLimitError, "2 attempts"),
        (500, KaggleServerError, "500"),
        (400, KaggleError, "400"),
    ]
    for status, error, fragment in cases:
        kaggle_standin.reset()
        kaggle_standin.serve_details("titanic")
        kaggle_standin.serve_error("titanic", status, rpc="GetCompetition")
        with pytest.raises(error) as info:
            fetch_competition_details("titanic", max_attempts=2, sleep=Sleeps())
        assert fragment in str(info.value)
        assert status == 401 or "titanic" in str(info.value)
        assert_safe(info.value)


def test_details_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(KaggleConnectionError) as info:
        fetch_competition_details(
            "titanic",
            endpoint=f"http://127.0.0.1:{port}",
            credentials=KaggleCredentials(None, None, TOKEN, "t"),
            max_attempts=2,
            sleep=Sleeps(),
        )
    assert "refused" in str(info.value).lower() and "details of competition 'titanic'" in str(info.value)


def test_details_reply_that_is_not_json(kaggle_standin: KaggleStandin) -> None:
    kaggle_standin.serve_error("titanic", 200, b"\x00\x01 binary", rpc="GetCompetition")
    with pytest.raises(KaggleError, match="other than a JSON object"):
        fetch_competition_details("titanic")
