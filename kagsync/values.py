"""Parsing and validation of the values users type: slugs, URLs, times, numbers, booleans.

Every function here refuses a bad value with a :class:`~kagsync.errors.ValidationError`
(exit code 2) whose message is one line naming the field and the value. The ranges are
the ones Kaggle itself has (slug length, four-digit years...), so that nothing kagsync
accepts can later break a file name, an ISO timestamp or a SQLite integer.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from kagsync.errors import Hint, ValidationError
from kagsync.models import BOARDS, MAX_COUNT, MAX_SLUG_LENGTH, MAX_WEIGHT, STATUSES, Board, Status

# The one slug rule, for competitions and events alike: lowercase ASCII letters and
# digits in hyphen-separated words (Kaggle's own competition slugs), at most
# MAX_SLUG_LENGTH characters (the slug names the sync lock file). Input is lowercased first.
# The one slug rule (Kaggle's competition slugs; event slugs follow it too).
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SLUG = SLUG_RE
_KAGGLE_HOSTS = {"kaggle.com", "www.kaggle.com"}

# Stored times are compared as text (check_range, SQL ORDER BY) and read back with
# datetime.fromisoformat, which both need exactly four year digits. Before 1970,
# datetime.timestamp() fails on some platforms, and no Kaggle competition predates it.
MIN_YEAR = 1970  # TODO move to models
MAX_YEAR = 9999  # TODO move to models

# SQLite stores INTEGER as a signed 64-bit number.
SQLITE_MIN_INT = -(2**63)  # TODO move to models
SQLITE_MAX_INT = 2**63 - 1  # TODO move to models

# Longest value quoted in full in an error message: a message stays one readable line.
_SHOWN_LENGTH = 60

# Strict number text: ASCII digits only (re.ASCII: \d would also match "١٢٣"), no "_"
# separators (which int() and float() accept), no surrounding blanks, no inf or nan.
_INT_TEXT = re.compile(r"-?[0-9]+")
_COUNT_TEXT = re.compile(r"[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_EARLIEST = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)

_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


def quote(value: object) -> str:
    """``repr(value)`` cut to a readable length, for one-line error messages.

    A 100,000-character slug or a 5,000-digit number stays one short line.
    """
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit for str()
        return "a number too large to show"
    if len(text) > _SHOWN_LENGTH:
        return f"{text[: _SHOWN_LENGTH - 5]}... ({len(text)} characters)"
    return text


def _check_slug(value: str, what: str, given: str) -> str:
    """``value`` when it is a valid slug; errors name the field (``what``) and the text as ``given``."""
    if len(value) > MAX_SLUG_LENGTH:
        raise ValidationError(f"{what} {quote(given)} is too long: {len(value)} characters, at most {MAX_SLUG_LENGTH}")
    if not _SLUG.fullmatch(value):
        raise ValidationError(f"invalid {what} {quote(given)}: use lowercase letters, digits and hyphens")
    return value


def parse_competition_slug(text: str) -> str:
    """The Kaggle slug of a competition given as a slug or any Kaggle URL of it.

    ``titanic``, ``Titanic``, ``https://www.kaggle.com/competitions/spaceship-titanic``
    and ``https://www.kaggle.com/c/titanic/leaderboard`` are all accepted. The result is
    lowercase: Kaggle's slugs are, and its URLs are case-insensitive.
    """
    given = text.strip()
    if "/" in given or given.lower().startswith(("http:", "https:")):
        try:
            url = urlparse(given if "://" in given else "https://" + given)
            host = url.hostname  # lowercased by urlparse
        except ValueError:
            raise ValidationError(f"not a Kaggle competition URL: {quote(text)}") from None
        if host not in _KAGGLE_HOSTS:
            raise ValidationError(f"not a Kaggle competition URL: {quote(text)}")
        parts = [part for part in url.path.split("/") if part]
        if len(parts) < 2 or parts[0].lower() not in ("c", "competitions"):
            raise ValidationError(
                f"not a Kaggle competition URL: {quote(text)} (expected https://www.kaggle.com/competitions/SLUG)"
            )
        given = parts[1]
    # Errors quote the slug as typed (the user can find it in a file); the result is lowercase.
    return _check_slug(given.lower(), "competition slug", given)


def validate_event_slug(text: str) -> str:
    """An event slug as given by the user, lowercased (same rules as competition slugs).

    Callers must use the returned value: it may differ from ``text`` in case and blanks.
    """
    given = text.strip()
    return _check_slug(given.lower(), "event slug", given)


def slugify(title: str) -> str:
    """A URL-safe slug for a title: "Neural Night 2025" -> "neural-night-2025".

    A slug longer than MAX_SLUG_LENGTH is cut there, at a word boundary when one is near.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if len(slug) > MAX_SLUG_LENGTH:
        cut = slug[:MAX_SLUG_LENGTH]
        # Prefer ending on a whole word unless that loses most of the slug.
        if slug[MAX_SLUG_LENGTH] != "-" and cut.rfind("-") > MAX_SLUG_LENGTH // 2:
            cut = cut[: cut.rfind("-")]
        slug = cut.strip("-")
    if not slug:
        raise ValidationError(f"cannot make a slug from title {quote(title)}: give one", hint=Hint.GIVE_SLUG)
    return slug


def parse_status(text: str) -> Status:
    """One of the competition statuses."""
    value = text.strip().lower()
    for status in STATUSES:
        if value == status:
            return status
    raise ValidationError(f"unknown status {quote(text)} (choose from {', '.join(STATUSES)})")


def parse_board(text: str) -> Board:
    """``public`` or ``private`` (Kaggle's final board)."""
    value = text.strip().lower()
    for board in BOARDS:
        if value == board:
            return board
    raise ValidationError(f"unknown board {quote(text)} (choose from {', '.join(BOARDS)})")


def _in_year_range(moment: datetime) -> bool:
    """Whether ``moment``, as UTC, has a year that is stored with four digits (see MIN_YEAR)."""
    try:
        year = moment.astimezone(UTC).year
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:00-05:00 is past year 9999 in UTC
        return False
    return MIN_YEAR <= year <= MAX_YEAR


def parse_time(text: str, *, name: str = "time") -> str:
    """An ISO 8601 UTC timestamp from a date or a date-time, with or without a zone.

    A time without a zone is taken as UTC (Kaggle's own times are UTC). Years
    MIN_YEAR to MAX_YEAR (in UTC) are accepted.
    """
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 else value)
    except ValueError:
        raise ValidationError(
            f"{name}: cannot read {quote(text)} as a date or date-time (use e.g. 2025-03-01 or 2025-03-01T18:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not _in_year_range(moment):
        raise ValidationError(f"{name}: {quote(text)} is out of range (years {MIN_YEAR} to {MAX_YEAR})")
    return format_time(moment)


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_datetime(iso: str, *, name: str = "time") -> datetime:
    """The UTC datetime of a stored ISO timestamp.

    Always timezone-aware (a stored value without a zone is UTC, as :func:`parse_time`
    reads it), so results compare with ``datetime.now(UTC)``. Anything that is not a
    readable ISO date-time (say a ``999-12-31...`` written by an older version) raises
    ValidationError, never ValueError or TypeError.
    """
    if not isinstance(iso, str):
        raise ValidationError(f"{name}: expected an ISO 8601 date-time, got {quote(iso)}")
    try:
        moment = datetime.fromisoformat(iso.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name}: {quote(iso)} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationError(f"{name}: {quote(iso)} is out of range") from None


def now_iso() -> str:
    """The current time as stored in the database."""
    return format_time(datetime.now(UTC))


# re.ASCII: "\d" would also match other scripts' digits, which float() reads.
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration_or_time(text: str, *, now: datetime | None = None) -> str:
    """A point in time from a duration ago (``90m``, ``2h``, ``1d12h``) or a date/date-time."""
    value = text.strip().lower()
    if value and _DURATION.sub("", value).strip() == "" and _DURATION.search(value):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(value))
        base = now or datetime.now(UTC)
        if base.tzinfo is None:  # as parse_time reads a time without a zone
            base = base.replace(tzinfo=UTC)
        try:
            moment = base - timedelta(seconds=seconds)
        except (OverflowError, ValueError):
            raise ValidationError(f"since: {quote(text)} reaches too far back") from None
        # Nothing is stored before MIN_YEAR, so "since 5000 weeks ago" means "since then"
        # (and the result keeps its four-digit year).
        return format_time(max(moment, _EARLIEST))
    return parse_time(text, name="since")


def parse_number(value: object, *, name: str) -> float:
    """A finite number from an int, a float or a plain ASCII decimal text.

    Text may have blanks around it and be written ``2``, ``-0.5``, ``.5`` or ``1e3``;
    ``inf``, ``nan``, ``1_000``, ``١٢`` and booleans are refused (float() reads all but
    the last). Callers check the range.
    """
    number: float | None = None
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_TEXT.fullmatch(text):
            number = float(text)  # "1e999" gives inf, refused below
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int past the float range
            number = None
    if number is None or not math.isfinite(number):
        raise ValidationError(f"{name}: expected a finite number, got {quote(value)}")
    return number + 0.0  # -0.0 becomes 0.0, so "-0" is never shown


def parse_weight(value: object) -> float:
    """A competition's weight in event standings: a finite number from 0 to MAX_WEIGHT.

    Weight 0 is allowed: it leaves the competition out of its event's standings. Numbers
    are read by :func:`parse_number` (so ``inf``, ``nan``, ``1_000`` and booleans are refused).
    """
    try:
        weight = parse_number(value, name="weight")
    except ValidationError:
        weight = math.nan
    if not 0 <= weight <= MAX_WEIGHT:  # also false for nan
        raise ValidationError(f"weight: expected a number from 0 to {MAX_WEIGHT:g}, got {quote(value)}")
    return weight


def parse_count(value: object, *, name: str, maximum: int = MAX_COUNT) -> int:
    """A count such as ``--top`` or ``--limit``: a whole number from 1 to ``maximum``.

    Accepts an int or a text of ASCII digits (blanks around it allowed); refuses
    booleans, floats (even ``2.0``), signs and anything out of range, with a
    ValidationError (exit 2) naming ``name``, instead of an OverflowError deep in SQLite.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        # Skip int() on a very long text: it raises past 4300 digits and is out of range anyway.
        if _COUNT_TEXT.fullmatch(text) and len(text.lstrip("0")) <= len(str(maximum)):
            number = int(text)
    if number is None or not 1 <= number <= maximum:
        raise ValidationError(f"{name}: expected a whole number from 1 to {maximum:,}, got {quote(value)}")
    return number


def parse_int_text(text: str, *, name: str) -> int:
    """A strict integer from text: optional ``-`` then ASCII digits, nothing else.

    For files read from elsewhere (the import reader): ``١٢٣``, ``1_000``, ``+1``,
    `` 12 `` and ``1.0`` are refused although int() would read some of them. The value
    must fit SQLite's signed 64-bit INTEGER.
    """
    if not isinstance(text, str) or not _INT_TEXT.fullmatch(text):
        raise ValidationError(f"{name}: expected a whole number (ASCII digits only), got {quote(text)}")
    # 19 digits hold every 64-bit value; skip int() on longer texts (it raises past 4300 digits).
    too_long = len(text.lstrip("-").lstrip("0")) > len(str(SQLITE_MAX_INT))
    number = 0 if too_long else int(text)
    if too_long or not SQLITE_MIN_INT <= number <= SQLITE_MAX_INT:
        raise ValidationError(f"{name}: {quote(text)} is out of range ({SQLITE_MIN_INT} to {SQLITE_MAX_INT})")
    return number


def parse_bool_text(text: str, *, name: str) -> bool:
    """A boolean from text: kagsync's one vocabulary for settings and import files.

    ``true/false``, ``yes/no``, ``1/0``, ``on/off``, in any case; blanks around the word
    are ignored (settings and import cells are trimmed anyway).
    """
    if isinstance(text, str):
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValidationError(f"{name}: expected true or false (or yes/no, 1/0, on/off), got {quote(text)}")


def check_range(start: str | None, end: str | None) -> None:
    """Refuse an end before its start.

    Stored times compare correctly as text because every year has four digits.
    """
    if start and end and end < start:
        raise ValidationError(f"end {end} is before start {start}")
