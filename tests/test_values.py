import pytest

from kagsync.errors import ValidationError
from kagsync.values import (
    parse_competition_slug,
    parse_duration_or_time,
    parse_status,
    parse_time,
    slugify,
)


@pytest.mark.parametrize(
    "given, slug",
    [
        ("titanic", "titanic"),
        ("https://www.kaggle.com/competitions/spaceship-titanic", "spaceship-titanic"),
        ("https://www.kaggle.com/c/titanic/leaderboard", "titanic"),
        ("www.kaggle.com/competitions/house-prices-advanced-regression-techniques/data",
         "house-prices-advanced-regression-techniques"),
        ("https://kaggle.com/competitions/playground-series-s5e3?tab=overview", "playground-series-s5e3"),
    ],
)
def test_slug_from_slug_or_url(given, slug):
    assert parse_competition_slug(given) == slug


@pytest.mark.parametrize(
    "bad",
    ["Titanic", "tit anic", "-titanic", "titanic_2", "https://example.com/competitions/titanic",
     "https://www.kaggle.com/datasets/foo/bar", "https://www.kaggle.com/competitions/", ""],
)
def test_bad_slugs_are_refused(bad):
    with pytest.raises(ValidationError):
        parse_competition_slug(bad)


def test_slugify():
    assert slugify("Neural Night 2025") == "neural-night-2025"
    assert slugify("  Café & Code!  ") == "cafe-code"
    with pytest.raises(ValidationError):
        slugify("!!!")


@pytest.mark.parametrize(
    "given, iso",
    [
        ("2025-03-01", "2025-03-01T00:00:00Z"),
        ("2025-03-01 18:30", "2025-03-01T18:30:00Z"),
        ("2025-03-01T18:30:00+02:00", "2025-03-01T16:30:00Z"),
        ("2025-03-01T18:30:00Z", "2025-03-01T18:30:00Z"),
    ],
)
def test_times_are_stored_as_utc(given, iso):
    assert parse_time(given) == iso


def test_bad_time_names_the_value():
    with pytest.raises(ValidationError, match="'next tuesday'"):
        parse_time("next tuesday", name="start")


def test_status():
    assert parse_status("Ongoing") == "ongoing"
    with pytest.raises(ValidationError, match="unknown status 'running'"):
        parse_status("running")


def test_duration():
    from datetime import datetime, timezone

    now = datetime(2025, 3, 2, 12, 0, tzinfo=timezone.utc)
    assert parse_duration_or_time("90m", now=now) == "2025-03-02T10:30:00Z"
    assert parse_duration_or_time("1d2h", now=now) == "2025-03-01T10:00:00Z"
    assert parse_duration_or_time("2025-03-01", now=now) == "2025-03-01T00:00:00Z"


@pytest.mark.parametrize("bad", ["inf", "1e999", "nan", "-1", "heavy"])
def test_weight_must_be_finite_and_not_negative(bad):
    from kagsync.values import parse_weight

    with pytest.raises(ValidationError):
        parse_weight(bad)


def test_duration_too_far_back():
    with pytest.raises(ValidationError, match="too far back"):
        parse_duration_or_time("99999999999w")
