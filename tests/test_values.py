import re
from datetime import UTC, datetime

import pytest

from kagsync.errors import ValidationError
from kagsync.models import MAX_COUNT, MAX_SLUG_LENGTH, MAX_WEIGHT
from kagsync.values import (
    format_time,
    parse_bool_text,
    parse_competition_slug,
    parse_count,
    parse_duration_or_time,
    parse_int_text,
    parse_number,
    parse_status,
    parse_time,
    parse_weight,
    slugify,
    to_datetime,
    validate_event_slug,
)


@pytest.mark.parametrize(
    "given, slug",
    [
        ("titanic", "titanic"),
        ("https://www.kaggle.com/competitions/spaceship-titanic", "spaceship-titanic"),
        ("https://www.kaggle.com/c/titanic/leaderboard", "titanic"),
        (
            "www.kaggle.com/competitions/house-prices-advanced-regression-techniques/data",
            "house-prices-advanced-regression-techniques",
        ),
        ("https://kaggle.com/competitions/playground-series-s5e3?tab=overview", "playground-series-s5e3"),
    ],
)
def test_slug_from_slug_or_url(given, slug):
    assert parse_competition_slug(given) == slug


@pytest.mark.parametrize(
    "bad",
    [
        "tit anic",
        "-titanic",
        "titanic_2",
        "https://example.com/competitions/titanic",
        "https://www.kaggle.com/datasets/foo/bar",
        "https://www.kaggle.com/competitions/",
        "",
    ],
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
    now = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
    assert parse_duration_or_time("90m", now=now) == "2025-03-02T10:30:00Z"
    assert parse_duration_or_time("1d2h", now=now) == "2025-03-01T10:00:00Z"
    assert parse_duration_or_time("2025-03-01", now=now) == "2025-03-01T00:00:00Z"


@pytest.mark.parametrize("bad", ["inf", "1e999", "nan", "-1", "heavy"])
def test_weight_must_be_finite_and_not_negative(bad):
    with pytest.raises(ValidationError):
        parse_weight(bad)


def test_duration_too_far_back():
    with pytest.raises(ValidationError, match="too far back"):
        parse_duration_or_time("99999999999w")


# -- ranges as Kaggle has them -------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["0999-12-31", "0001-01-01", "1969-12-31", "1970-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00"],
)
def test_years_outside_1970_to_9999_are_refused(bad):
    with pytest.raises(ValidationError, match=re.escape(f"start: '{bad}' is out of range (years 1970 to 9999)")):
        parse_time(bad, name="start")


@pytest.mark.parametrize("edge", ["1970-01-01", "9999-12-31T23:59:59Z"])
def test_edge_years_are_accepted_and_stored_with_four_digits(edge):
    stored = parse_time(edge)
    assert stored[:4] in ("1970", "9999")
    assert to_datetime(stored).year in (1970, 9999)


def test_duration_reaching_before_1970_means_since_1970():
    now = datetime(2025, 3, 2, tzinfo=UTC)
    assert parse_duration_or_time("3000w", now=now) == "1970-01-01T00:00:00Z"  # about 1967
    assert parse_duration_or_time("5000w", now=now) == "1970-01-01T00:00:00Z"  # about 1929


def test_slug_errors_quote_the_text_as_typed():
    with pytest.raises(ValidationError, match="invalid competition slug 'Not A Slug'"):
        parse_competition_slug("Not A Slug")
    with pytest.raises(ValidationError, match="invalid competition slug 'Bad_Slug'"):
        parse_competition_slug("https://www.kaggle.com/competitions/Bad_Slug")
    with pytest.raises(ValidationError, match="invalid event slug 'Bad Event'"):
        validate_event_slug("Bad Event")


@pytest.mark.parametrize("junk", ["999-12-31T00:00:00Z", "", "yesterday", "2025-13-01T00:00:00Z", None, 12])
def test_to_datetime_refuses_what_it_cannot_read_with_a_validation_error(junk):
    with pytest.raises(ValidationError, match="time"):
        to_datetime(junk)


def test_to_datetime_is_always_utc_aware():
    assert to_datetime("2025-03-01T18:30:00Z") == datetime(2025, 3, 1, 18, 30, tzinfo=UTC)
    # A stored value without a zone is UTC, as parse_time reads it, and stays comparable.
    assert to_datetime("2025-03-01T18:30:00").tzinfo is not None
    assert to_datetime("2025-03-01T20:30:00+02:00") == datetime(2025, 3, 1, 18, 30, tzinfo=UTC)
    assert format_time(to_datetime("2025-03-01T18:30:00Z")) == "2025-03-01T18:30:00Z"


def test_slugs_up_to_the_length_limit():
    longest = "a" * MAX_SLUG_LENGTH
    assert parse_competition_slug(longest) == longest
    assert validate_event_slug(longest) == longest
    with pytest.raises(ValidationError, match=f"competition slug .* too long.*at most {MAX_SLUG_LENGTH}"):
        parse_competition_slug("a" * 260)
    with pytest.raises(ValidationError, match=f"event slug .* too long.*at most {MAX_SLUG_LENGTH}"):
        validate_event_slug("a" * 260)
    with pytest.raises(ValidationError, match="too long"):
        parse_competition_slug("https://www.kaggle.com/competitions/" + "a" * 101)


def test_long_slug_error_is_one_short_line():
    with pytest.raises(ValidationError) as raised:
        parse_competition_slug("a" * 100_000)
    assert "\n" not in str(raised.value)
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize(
    "given, slug",
    [
        ("Titanic", "titanic"),
        ("  Spaceship-Titanic ", "spaceship-titanic"),
        ("https://www.Kaggle.com/Competitions/Titanic/Leaderboard", "titanic"),
        ("HTTPS://WWW.KAGGLE.COM/C/PLAYGROUND-SERIES-S5E3", "playground-series-s5e3"),
    ],
)
def test_competition_slugs_are_lowercased(given, slug):
    assert parse_competition_slug(given) == slug


def test_event_slugs_are_lowercased_by_the_same_rule():
    assert validate_event_slug("Neural-Night-2025") == "neural-night-2025"
    for bad in ("neural_night", "-x", "x--y", "x y", "", "naïve"):
        with pytest.raises(ValidationError, match="event slug"):
            validate_event_slug(bad)


def test_slugify_keeps_within_the_length_limit():
    slug = slugify("Word " * 100)
    assert len(slug) <= MAX_SLUG_LENGTH
    assert validate_event_slug(slug) == slug  # no trailing hyphen after the cut


@pytest.mark.parametrize(
    "bad", ["1e308", 1e308, float("inf"), float("nan"), MAX_WEIGHT + 0.5, 10**400, True, "1_0", "١", None, [1]]
)
def test_weight_is_bounded_and_strict(bad):
    with pytest.raises(ValidationError, match="weight"):
        parse_weight(bad)


@pytest.mark.parametrize(
    "good, weight",
    [(0, 0.0), ("0", 0.0), ("2.5", 2.5), (" 3 ", 3.0), (MAX_WEIGHT, MAX_WEIGHT), ("1e3", 1000.0), (-0.0, 0.0)],
)
def test_weight_accepts_zero_to_the_maximum(good, weight):
    assert parse_weight(good) == weight
    assert str(parse_weight(good)) != "-0.0"


@pytest.mark.parametrize("good, count", [(1, 1), ("25", 25), (MAX_COUNT, MAX_COUNT), (str(MAX_COUNT), MAX_COUNT)])
def test_count_accepts_1_to_the_maximum(good, count):
    assert parse_count(good, name="--top") == count


@pytest.mark.parametrize(
    "bad",
    [
        0,
        -1,
        MAX_COUNT + 1,
        99999999999999999999,
        pytest.param(10**5000, id="10**5000"),
        "99999999999999999999",
        "9" * 5000,
        2.0,
        "2.0",
        True,
        "1_000",
        "١٢",
        "",
        " ",
        "+3",
        None,
    ],
)
def test_count_refuses_anything_else_with_exit_code_2(bad):
    with pytest.raises(ValidationError, match="--top: expected a whole number from 1 to") as raised:
        parse_count(bad, name="--top")
    assert raised.value.exit_code == 2
    assert len(str(raised.value)) < 200


def test_count_with_a_smaller_maximum():
    assert parse_count(50, name="--limit", maximum=50) == 50
    with pytest.raises(ValidationError, match="--limit: expected a whole number from 1 to 50"):
        parse_count(51, name="--limit", maximum=50)


@pytest.mark.parametrize(
    "text, number",
    [("0", 0), ("12", 12), ("-7", -7), ("007", 7), (str(2**63 - 1), 2**63 - 1), (str(-(2**63)), -(2**63))],
)
def test_int_text_reads_plain_ascii_integers(text, number):
    assert parse_int_text(text, name="entries") == number


@pytest.mark.parametrize(
    "bad",
    ["١٢٣", "1_000", " 12 ", "12 ", "+12", "1.0", "1e3", "", "-", "0x10", str(2**63), str(-(2**63) - 1), "9" * 5000],
)
def test_int_text_refuses_anything_else(bad):
    with pytest.raises(ValidationError, match="entries: "):
        parse_int_text(bad, name="entries")


@pytest.mark.parametrize("text", ["true", "TRUE", "Yes", "1", "on", "ON", " true "])
def test_bool_text_true(text):
    assert parse_bool_text(text, name="lower_is_better") is True


@pytest.mark.parametrize("text", ["false", "False", "NO", "0", "off", "Off"])
def test_bool_text_false(text):
    assert parse_bool_text(text, name="lower_is_better") is False


@pytest.mark.parametrize("bad", ["", "maybe", "2", "t", "y", "nein", "truе"])  # the last has a Cyrillic e
def test_bool_text_refuses_anything_else(bad):
    with pytest.raises(ValidationError, match="lower_is_better: expected true or false"):
        parse_bool_text(bad, name="lower_is_better")


@pytest.mark.parametrize(
    "text, number", [("2", 2.0), (" -0.5 ", -0.5), (".5", 0.5), ("1e3", 1000.0), (7, 7.0), (2.5, 2.5), ("-0", 0.0)]
)
def test_number_reads_plain_decimal_numbers(text, number):
    assert parse_number(text, name="ratio") == number


@pytest.mark.parametrize(
    "bad", ["inf", "-inf", "nan", "1e999", "1_000", "١٢", "0x10", "", "1,5", True, None, float("inf"), 10**400]
)
def test_number_refuses_anything_else(bad):
    with pytest.raises(ValidationError, match="ratio: expected a finite number"):
        parse_number(bad, name="ratio")
