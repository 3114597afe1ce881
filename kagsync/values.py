"""Parsing and validation of the values users type: slugs, URLs, times, statuses."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from kagsync.errors import ValidationError
from kagsync.models import STATUSES

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_KAGGLE_HOSTS = {"kaggle.com", "www.kaggle.com"}


def parse_competition_slug(text: str) -> str:
    """The Kaggle slug of a competition given as a slug or any Kaggle URL of it.

    ``titanic``, ``https://www.kaggle.com/competitions/spaceship-titanic`` and
    ``https://www.kaggle.com/c/titanic/leaderboard`` are all accepted.
    """
    value = text.strip()
    if "/" in value or value.startswith(("http:", "https:")):
        try:
            url = urlparse(value if "://" in value else "https://" + value)
            host = url.hostname
        except ValueError:
            raise ValidationError(f"not a Kaggle competition URL: {text!r}") from None
        if host not in _KAGGLE_HOSTS:
            raise ValidationError(f"not a Kaggle competition URL: {text!r}")
        parts = [part for part in url.path.split("/") if part]
        if len(parts) < 2 or parts[0] not in ("c", "competitions"):
            raise ValidationError(
                f"not a Kaggle competition URL: {text!r} "
                "(expected https://www.kaggle.com/competitions/SLUG)"
            )
        value = parts[1]
    if not _SLUG.fullmatch(value):
        raise ValidationError(
            f"invalid competition slug {value!r}: use lowercase letters, digits and hyphens"
        )
    return value


def validate_event_slug(text: str) -> str:
    """An event slug as given by the user (same rules as competition slugs)."""
    if not _SLUG.fullmatch(text):
        raise ValidationError(
            f"invalid event slug {text!r}: use lowercase letters, digits and hyphens"
        )
    return text


def slugify(title: str) -> str:
    """A URL-safe slug for a title: "Neural Night 2025" -> "neural-night-2025"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    if not slug:
        raise ValidationError(f"cannot make a slug from title {title!r}: give one with --slug")
    return slug


def parse_status(text: str) -> str:
    """One of the competition statuses."""
    value = text.strip().lower()
    if value not in STATUSES:
        raise ValidationError(f"unknown status {text!r} (choose from {', '.join(STATUSES)})")
    return value


def parse_time(text: str, *, name: str = "time") -> str:
    """An ISO 8601 UTC timestamp from a date or a date-time, with or without a zone.

    A time without a zone is taken as UTC (Kaggle's own times are UTC).
    """
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 else value)
    except ValueError:
        raise ValidationError(
            f"{name}: cannot read {text!r} as a date or date-time (use e.g. 2025-03-01 or 2025-03-01T18:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return format_time(moment)
    except (OverflowError, ValueError):
        raise ValidationError(f"{name}: {text!r} is out of range") from None


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, to the second."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_datetime(iso: str) -> datetime:
    """The datetime of a stored ISO timestamp."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def now_iso() -> str:
    """The current time as stored in the database."""
    return format_time(datetime.now(timezone.utc))


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration_or_time(text: str, *, now: datetime | None = None) -> str:
    """A point in time from a duration ago (``90m``, ``2h``, ``1d12h``) or a date/date-time."""
    value = text.strip().lower()
    if value and _DURATION.sub("", value).strip() == "" and _DURATION.search(value):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(value))
        base = now or datetime.now(timezone.utc)
        try:
            return format_time(base - timedelta(seconds=seconds))
        except (OverflowError, ValueError):
            raise ValidationError(f"since: {text!r} reaches too far back") from None
    return parse_time(text, name="since")


def parse_weight(value: object) -> float:
    """A competition's weight in event standings: a finite number, zero or more."""
    try:
        weight = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"weight: expected a number, got {value!r}") from None
    if not (math.isfinite(weight) and weight >= 0):
        raise ValidationError(f"weight must be a finite number, zero or more, got {value!r}")
    return weight


def check_range(start: str | None, end: str | None) -> None:
    """Refuse an end before its start."""
    if start and end and end < start:
        raise ValidationError(f"end {end} is before start {start}")
