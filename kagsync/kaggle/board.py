"""The paged leaderboard view, ``GetLeaderboard``: public, and private once released.

Unlike the download, the paged view serves the private (final) board once Kaggle
releases it; with ``overridePublic`` it always serves the public one. Release is seen
as the first page differing between the two.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import TypedDict

from kagsync.errors import KaggleError
from kagsync.kaggle.auth import KaggleCredentials
from kagsync.kaggle.http import Op as _Op
from kagsync.kaggle.http import Session, open_session

__all__ = [
    "BOARD_ROW_KEYS",
    "MAX_PAGE_SIZE",
    "BoardRow",
    "fetch_leaderboard_page",
    "fetch_private_board",
    "fetch_public_view",
    "private_board_released",
]

MAX_PAGE_SIZE = 200
"""Most rows Kaggle puts on one ``GetLeaderboard`` page."""
PAGE_MAX_BYTES = 16 << 20
"""Largest page reply read: 200 rows are a few tens of KiB; this only stops a broken server."""

BOARD_ROW_KEYS = ("team_id", "team_name", "submission_date", "score")
"""Keys of a row of the paged view (see :class:`BoardRow`)."""


class BoardRow(TypedDict):
    """A row of the paged view: ``team_id``, ``team_name``, ``submission_date`` (ISO
    8601 as Kaggle gave it, or None) and ``score`` (the display text with its trailing
    zeros). Rows come in leaderboard order; there is no rank."""

    team_id: int
    team_name: str
    submission_date: str | None
    score: str


def fetch_leaderboard_page(
    slug: str,
    *,
    override_public: bool,
    page_token: str = "",
    page_size: int = MAX_PAGE_SIZE,
    endpoint: str | None = None,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> tuple[list[BoardRow], str]:
    """One page of ``GetLeaderboard``: (rows in Kaggle's order, next page token or "").

    The body is ``{"competitionName", "pageSize"}`` plus ``"pageToken"`` when given and
    ``"overridePublic": true`` when ``override_public`` (proto3 reads a missing field as
    false). Without it Kaggle returns the private board once released, else the public
    one; with it, always the public one. ``page_size`` is 1..200. Retries and errors as
    :func:`kagsync.kaggle.download.download_leaderboard` (no size cap or deadline).
    """
    with open_session(
        slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep, stop=stop
    ) as session:
        return _board_page(session, override_public=override_public, page_token=page_token, page_size=page_size)


def private_board_released(
    slug: str,
    *,
    endpoint: str | None = None,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> bool:
    """Whether Kaggle shows a private board for ``slug``: the first page without
    ``overridePublic`` differs from the first page with it (two requests)."""
    with open_session(
        slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep, stop=stop
    ) as session:
        default_rows, _ = _board_page(session, override_public=False)
        public_rows, _ = _board_page(session, override_public=True)
        return _differ(default_rows, public_rows)


def fetch_private_board(
    slug: str,
    *,
    endpoint: str | None = None,
    max_pages: int = 10000,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> list[BoardRow] | None:
    """Every row of the private board of ``slug``, in Kaggle's order; None if not released.

    Release is decided as :func:`private_board_released` does (whose first private page
    is reused, so a board of N pages costs N + 1 requests). Each page request has the
    usual retries. Members and submission counts are not in this view: join the rows
    on ``team_id`` with the public download.

    Raises:
        KaggleError: more than ``max_pages`` pages, or a page token Kaggle repeats;
        the errors of :func:`fetch_leaderboard_page` otherwise.
    """
    _check_max_pages(max_pages)
    with open_session(
        slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep, stop=stop
    ) as session:
        private_rows, token = _board_page(session, override_public=False)
        public_rows, _ = _board_page(session, override_public=True)
        if not _differ(private_rows, public_rows):
            return None
        return _rest_of_board(session, private_rows, token, override_public=False, max_pages=max_pages)


def fetch_public_view(
    slug: str,
    *,
    endpoint: str | None = None,
    max_pages: int = 10000,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> list[BoardRow]:
    """Every row of the public board of ``slug`` from the paged view (``overridePublic``).

    Meant to check that a download made after the deadline really is the public board.
    Pages, retries and errors as :func:`fetch_private_board`.
    """
    _check_max_pages(max_pages)
    with open_session(
        slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep, stop=stop
    ) as session:
        rows, token = _board_page(session, override_public=True)
        return _rest_of_board(session, rows, token, override_public=True, max_pages=max_pages)


def _check_max_pages(max_pages: int) -> None:
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise ValueError("max_pages must be at least 1")


def _differ(first: list[BoardRow], second: list[BoardRow]) -> bool:
    # Teams and scores, in order: names (renames) and dates say nothing about release.
    return [(r["team_id"], r["score"]) for r in first] != [(r["team_id"], r["score"]) for r in second]


def _rest_of_board(
    session: Session, rows: list[BoardRow], token: str, *, override_public: bool, max_pages: int
) -> list[BoardRow]:
    """``rows`` (the first page) followed by the rows of every page after it."""
    board = "public" if override_public else "private"
    seen: set[str] = set()
    pages = 1
    while token:
        if token in seen:  # a server looping would otherwise never end
            raise KaggleError(f"Kaggle repeated a page token of the {board} leaderboard of '{session.slug}'.")
        seen.add(token)
        pages += 1
        if pages > max_pages:
            raise KaggleError(
                f"The {board} leaderboard of '{session.slug}' has more than {max_pages} pages of "
                f"{MAX_PAGE_SIZE} rows: stopped."
            )
        page, token = _board_page(session, override_public=override_public, page_token=token)
        rows.extend(page)
    return rows


def _board_page(
    session: Session, *, override_public: bool, page_token: str = "", page_size: int = MAX_PAGE_SIZE
) -> tuple[list[BoardRow], str]:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
    if not isinstance(page_token, str):
        raise TypeError("page_token must be a string")
    body: dict[str, object] = {"competitionName": session.slug, "pageSize": page_size}
    # Defaults are left out, as proto3 JSON does: "" and false mean "not given".
    if page_token:
        body["pageToken"] = page_token
    if override_public:
        body["overridePublic"] = True
    board = "public leaderboard" if override_public else "leaderboard"
    op = _Op("GetLeaderboard", f"the {board} view of '{session.slug}'", leaderboard=True)
    data = session.call_json(op, body, max_bytes=PAGE_MAX_BYTES, exact_numbers=True)
    return _board_rows(session, data)


def _board_rows(session: Session, data: Mapping[str, object]) -> tuple[list[BoardRow], str]:
    """Rows and next token from a ``GetLeaderboard`` reply; proto3 JSON leaves out
    default values, so a missing ``teamId`` is 0 and a missing name or score ""."""
    submissions = data.get("submissions", [])
    token = data.get("nextPageToken", "")
    if submissions is None:
        submissions = []
    if not isinstance(submissions, list) or not isinstance(token, str):
        raise KaggleError(f"Kaggle's leaderboard view of '{session.slug}' is not in the expected form.")
    rows: list[BoardRow] = []
    for position, item in enumerate(submissions, start=1):
        team_id = _team_id(item.get("teamId", 0)) if isinstance(item, dict) else None
        if team_id is None or not isinstance(item, dict):
            raise KaggleError(
                f"Kaggle's leaderboard view of '{session.slug}' has an unreadable row {position} on this page."
            )
        name, date, score = item.get("teamName"), item.get("submissionDate"), item.get("score")
        rows.append(
            {
                "team_id": team_id,
                "team_name": name if isinstance(name, str) else "",
                "submission_date": date if isinstance(date, str) and date.strip() else None,
                # JSON numbers were parsed as their text: a score keeps its trailing zeros.
                "score": score if isinstance(score, str) else "" if score is None else str(score),
            }
        )
    return rows, token


def _team_id(value: object) -> int | None:
    """A team id from an int or a digit string (proto3 JSON writes int64 as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    return None
