"""A competition's details: ``GetCompetition`` (falling back to ``ListCompetitions``).

Details are a nicety, so asking for them is bounded hard: an overall deadline (10 s by
default), a ``Retry-After`` above 5 s means "skip for now" rather than a wait, the
reply is capped (1 MiB: a 50 MB description is refused unread), and the stop event
abandons the call at once. Kaggle's own odd values are cleaned, never refused: dates
that contradict each other lose the one that cannot be trusted (with a note), and
numbers out of range are dropped.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser

from kagsync.errors import KaggleNotFoundError
from kagsync.kaggle.auth import KaggleCredentials
from kagsync.kaggle.http import Op, Session, open_session
from kagsync.secrets import safe_url

__all__ = [
    "DETAILS_DEADLINE",
    "DETAILS_MAX_BYTES",
    "DETAILS_MAX_RETRY_AFTER",
    "NOTES_KEY",
    "competition_details_from_api",
    "fetch_competition_details",
]

DETAILS_DEADLINE = 10.0
"""Overall seconds one competition's details may take, retries and waits included."""
DETAILS_MAX_RETRY_AFTER = 5.0
"""A ``Retry-After`` longer than this skips the details for now instead of waiting."""
DETAILS_MAX_BYTES = 1 << 20
"""Largest details reply read (1 MiB); a bigger one is refused without being read."""
DESCRIPTION_LIMIT = 500
"""Most characters kept of a competition's description."""
NOTES_KEY = "notes"
"""Key of the details holding what was odd in Kaggle's reply (a list of sentences)."""
COMPETITION_URL = "https://www.kaggle.com/competitions/{slug}"

MAX_INT = 2**63 - 1
"""Largest count kept (SQLite's INTEGER); a bigger or negative one is dropped."""
# Pages of ListCompetitions searched for an exact slug before giving up.
_SEARCH_PAGES = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fetch_competition_details(
    slug: str,
    *,
    endpoint: str | None = None,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] | None = None,
    deadline: float = DETAILS_DEADLINE,
    max_retry_after: float = DETAILS_MAX_RETRY_AFTER,
    max_bytes: int = DETAILS_MAX_BYTES,
    stop: threading.Event | None = None,
) -> dict[str, object]:
    """A competition's details from Kaggle's ``GetCompetition`` RPC.

    Body ``{"competitionName": slug}``. That RPC is not confirmed against production,
    so on 404 the competition is looked up with ``ListCompetitions`` (``search=slug``, a
    few pages) and the entry whose ``ref`` ends in exactly ``slug`` is used.

    Bounded: the whole call (fallback included) ends at ``deadline`` seconds
    (DownloadLimitError); a 429/5xx whose ``Retry-After`` exceeds ``max_retry_after``
    raises at once (KaggleRateLimitError / KaggleServerError); a reply over
    ``max_bytes`` is refused unread (DownloadLimitError); ``stop``, once set, abandons
    the call at once (SyncInterruptedError).

    Returns the dict of :func:`competition_details_from_api`.

    Raises:
        KaggleNotFoundError: "no competition '<slug>' on Kaggle".
        CredentialsError, KaggleAuthError, KaggleForbiddenError, KaggleRateLimitError,
        KaggleServerError, KaggleConnectionError, KaggleError, DownloadLimitError,
        SyncInterruptedError, ValidationError: as above and as for downloads.
    """
    with open_session(
        slug,
        credentials=credentials,
        endpoint=endpoint,
        max_attempts=max_attempts,
        sleep=sleep,
        deadline=deadline,
        stop=stop,
        give_up_after=max_retry_after,
        interruptible=True,
    ) as session:
        op = Op("GetCompetition", f"the details of competition '{slug}'")
        try:
            data: Mapping[str, object] | None = session.call_json(op, {"competitionName": slug}, max_bytes=max_bytes)
        except KaggleNotFoundError:
            data = _search_competition(session, max_bytes)
        if data is None:
            raise KaggleNotFoundError(f"no competition '{slug}' on Kaggle")
        return competition_details_from_api(data, slug)


def _search_competition(session: Session, max_bytes: int) -> Mapping[str, object] | None:
    """The ``ListCompetitions`` entry whose ref ends in exactly the session's slug."""
    slug = session.slug
    op = Op("ListCompetitions", f"the competition search for '{slug}'")
    token = ""
    for _ in range(_SEARCH_PAGES):
        body: dict[str, object] = {"search": slug}
        if token:
            body["pageToken"] = token
        try:
            data = session.call_json(op, body, max_bytes=max_bytes)
        except KaggleNotFoundError:
            return None
        found = data.get("competitions")
        for entry in found if isinstance(found, list) else []:
            if isinstance(entry, dict) and (_ref_slug(entry.get("ref")) or "").lower() == slug.lower():
                return entry
        next_token = data.get("nextPageToken")
        if not isinstance(next_token, str) or not next_token or next_token == token:
            return None
        token = next_token
    return None


def competition_details_from_api(data: Mapping[str, object], slug: str) -> dict[str, object]:
    """Kaggle's camelCase ``ApiCompetition`` JSON as kagsync's snake_case dict.

    Keys (a value Kaggle leaves out, or one that makes no sense, is None):

    - ``slug`` (str): the last path part of Kaggle's ``ref``, else ``slug``;
    - ``title``, ``evaluation_metric``, ``reward``, ``category``, ``host_name`` (str),
      control characters removed;
    - ``url`` (str): as given, else ``https://www.kaggle.com/competitions/<slug>``;
    - ``description`` (str): HTML stripped to plain text, at most 500 characters;
    - ``enabled_date``, ``deadline``, ``merger_deadline``, ``new_entrant_deadline``:
      ``"YYYY-MM-DDTHH:MM:SSZ"`` in UTC (placeholder dates -- year 1 or the Unix epoch
      -- become None). An ``enabledDate`` after the ``deadline`` is dropped (the
      deadline is what kagsync acts on), and a note says so;
    - ``team_count``, ``max_team_size``, ``max_daily_submissions`` (int, 0..2**63-1;
      anything else, such as 10**30, is dropped);
    - ``notes`` (list of str): what was odd in Kaggle's reply, for the user.
    """
    found_slug = _ref_slug(data.get("ref")) or slug
    details: dict[str, object] = {
        "slug": found_slug,
        "title": _text_or_none(data.get("title")),
        "url": _text_or_none(data.get("url")) or COMPETITION_URL.format(slug=found_slug),
        "description": _plain_text(data.get("description"), DESCRIPTION_LIMIT),
        "enabled_date": _iso_utc(data.get("enabledDate")),
        "deadline": _iso_utc(data.get("deadline")),
        "merger_deadline": _iso_utc(data.get("mergerDeadline")),
        "new_entrant_deadline": _iso_utc(data.get("newEntrantDeadline")),
        "evaluation_metric": _text_or_none(data.get("evaluationMetric")),
        "team_count": _count_or_none(data.get("teamCount")),
        "max_team_size": _count_or_none(data.get("maxTeamSize")),
        "max_daily_submissions": _count_or_none(data.get("maxDailySubmissions")),
        "reward": _text_or_none(data.get("reward")),
        "category": _text_or_none(data.get("category")),
        "host_name": _text_or_none(data.get("hostName")),
    }
    notes: list[str] = []
    start, end = details["enabled_date"], details["deadline"]
    if isinstance(start, str) and isinstance(end, str) and start > end:  # same format: text order is time order
        details["enabled_date"] = None
        notes.append(f"Kaggle gives a start ({start}) after the deadline ({end}): the start was not kept")
    details[NOTES_KEY] = notes
    return details


def _ref_slug(ref: object) -> str | None:
    """``titanic`` from ``titanic``, ``https://www.kaggle.com/competitions/titanic/``..."""
    if not isinstance(ref, str) or not ref.strip():
        return None
    return safe_url(ref).rstrip("/").rsplit("/", 1)[-1] or None


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(_without_controls(value).split()) or None


def _without_controls(text: str) -> str:
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def _count_or_none(value: object) -> int | None:
    """A count from an int or a digit string (proto3 JSON writes int64 as text); None
    when absent, not a whole number, negative or beyond SQLite's INTEGER."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{1,19}", value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= MAX_INT:
        return value
    return None


def _iso_utc(value: object) -> str | None:
    """``"YYYY-MM-DDTHH:MM:SSZ"`` (UTC) from Kaggle's ISO 8601 text, None if absent or odd.

    A date without a zone is taken as UTC (Kaggle's are). Year 1 (.NET's
    ``DateTime.MinValue``) and the Unix epoch are what an unset date serialises to, so
    they mean "no date" -- and kagsync stores only years from 1970 on anyway.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if moment <= _EPOCH:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Tags that separate words: "<p>a</p><p>b</p>" is "a b", while "<b>Ti</b>tanic" is "Titanic".
_BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure"}
    | {"footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p"}
    | {"pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
)


class _PlainText(HTMLParser):
    """Collects the text of some HTML: block tags as spaces, script and style skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _plain_text(markup: object, limit: int) -> str | None:
    """HTML as plain text: tags dropped, entities decoded, whitespace collapsed, cut to
    ``limit`` characters."""
    if not isinstance(markup, str) or not markup.strip():
        return None
    parser = _PlainText()
    parser.feed(markup)
    parser.close()
    text = " ".join(_without_controls("".join(parser.parts)).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None
