"""A local stand-in for Kaggle's competition API, and leaderboard file builders.

Usage in a test module::

    from tests.kaggle_standin import kaggle_standin, build_leaderboard_zip, make_board

    def test_sync(kaggle_standin, tmp_path):
        rows = make_board(50, seed=1)
        kaggle_standin.serve_zip("titanic", build_leaderboard_zip(rows, slug="titanic"))
        kaggle_standin.serve_error("titanic", 429, headers={"Retry-After": "3"}, times=1)
        ...  # code under test calls kagsync.kaggle.download_leaderboard("titanic", ...)
        assert kaggle_standin.download_count("titanic") == 2
        assert kaggle_standin.max_in_flight("titanic") == 1

The ``kaggle_standin`` fixture starts a :class:`KaggleStandin` (a stdlib
``ThreadingHTTPServer`` on ``127.0.0.1``, port chosen by the OS) and, for the test's
duration, sets in ``os.environ`` (so subprocesses inherit them too):

- ``KAGSYNC_KAGGLE_ENDPOINT=http://127.0.0.1:<port>``;
- ``KAGGLE_USERNAME`` / ``KAGGLE_KEY`` = :data:`DEFAULT_USERNAME` / :data:`DEFAULT_KEY`;
- ``KAGGLE_CONFIG_DIR`` = an empty temp folder and ``HOME`` = another one, so the real
  ``~/.kaggle`` (kaggle.json, access_token) is never read;
- ``NO_PROXY``/``no_proxy`` including 127.0.0.1 and localhost;

and removes ``KAGGLE_API_TOKEN``, ``KAGGLE_API_ENVIRONMENT``, ``KAGGLE_KERNEL_RUN_TYPE``,
``KAGGLE_API_V1_TOKEN``, ``KAGGLE_DATA_PROXY_URL``, ``XDG_CONFIG_HOME``. Tests that want
another credential set the variables themselves with ``monkeypatch``.

The server answers what Kaggle's clients send: ``POST
/api/v1/competitions.CompetitionApiService/<RPC>`` with a JSON body, for four RPCs:

- ``DownloadLeaderboard`` ``{"competitionName"}``: the served zip
  (:meth:`~KaggleStandin.serve_zip` / :meth:`~KaggleStandin.serve_raw`);
- ``GetLeaderboard`` ``{"competitionName", "pageSize", "pageToken", "overridePublic"}``:
  pages of the boards given to :meth:`~KaggleStandin.serve_board_pages`;
- ``GetCompetition`` ``{"competitionName"}``: the ``ApiCompetition`` JSON given to
  :meth:`~KaggleStandin.serve_details`;
- ``ListCompetitions`` ``{"search", "pageToken"}``: the registered details whose slug or
  title contains the search text, 20 a page.

Each request is recorded under its *key*: the ``competitionName``, or for
``ListCompetitions`` the ``search`` text. For each request, in this order:

1. no ``Authorization`` header (or one not matching :meth:`KaggleStandin.expect_credentials`)
   -> 401 ``Unauthorized`` (plain text);
2. the key's delay (:meth:`KaggleStandin.set_delay`) is waited;
3. the first registered fault of the key for that RPC that still has uses left
   (:meth:`~KaggleStandin.serve_error`, :meth:`~KaggleStandin.serve_disconnect`,
   :meth:`~KaggleStandin.serve_trickle`; by default they apply to ``DownloadLeaderboard``
   only, ``rpc=`` names others or ``"*"``) answers;
4. else the RPC's answer as above; nothing registered -> 404 ``{"code":404,"message":"..."}``.

``GET /`` answers 200 (a health check); any other path or method answers 404 JSON.
Nothing is printed or logged by the server.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, Self

import pytest

__all__ = [
    "API_PREFIX",
    "AUTHORIZATION_MARKER",
    "DEFAULT_KEY",
    "DEFAULT_USERNAME",
    "DOWNLOAD_PATH",
    "ERROR_BODIES",
    "GET_COMPETITION_PATH",
    "GET_LEADERBOARD_PATH",
    "LIST_COMPETITIONS_PATH",
    "SHAPE_HEADERS",
    "KaggleStandin",
    "RecordedRequest",
    "build_leaderboard_csv",
    "build_leaderboard_zip",
    "kaggle_standin",
    "leaderboard_csv_name",
    "make_board",
]

API_PREFIX = "/api/v1/competitions.CompetitionApiService/"
"""Where competition RPCs are posted when the endpoint is not production."""
DOWNLOAD_PATH = API_PREFIX + "DownloadLeaderboard"
GET_LEADERBOARD_PATH = API_PREFIX + "GetLeaderboard"
GET_COMPETITION_PATH = API_PREFIX + "GetCompetition"
LIST_COMPETITIONS_PATH = API_PREFIX + "ListCompetitions"
_RPCS = ("DownloadLeaderboard", "GetLeaderboard", "GetCompetition", "ListCompetitions")

DEFAULT_USERNAME = "standin-user"
DEFAULT_KEY = "standin-key-7f3a91c0d2e84b56"
"""Fake credentials the fixture puts in KAGGLE_USERNAME / KAGGLE_KEY."""

AUTHORIZATION_MARKER = "{authorization}"
"""In an error body served with ``echo_authorization=True``, replaced by the request's
``Authorization`` header (a server echoing the secret back)."""

ERROR_BODIES: dict[int, bytes | str | dict] = {
    400: {"code": 400, "message": "Invalid request."},
    401: "Unauthorized",
    403: {
        "code": 403,
        "message": "You must accept this competition's rules before you'll be able to download files.",
    },
    404: {"code": 404, "message": "Competition not found."},
    429: {
        "error": {
            "code": 429,
            "message": "Too many requests",
            "status": "RESOURCE_EXHAUSTED",
        }
    },
    500: {"code": 500, "message": "Internal server error."},
    502: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    503: {"code": 503, "message": "The service is currently unavailable."},
}
"""Bodies used by :meth:`KaggleStandin.serve_error` when no body is given, as seen in the
wild (403 top-level ``code``/``message``; 429 nested under ``error``; 401 plain text)."""

SHAPE_HEADERS: dict[str, tuple[str, ...]] = {
    "A": ("TeamId", "TeamName", "SubmissionDate", "Score"),
    "B": ("TeamId", "TeamName", "SubmissionDate", "Score"),
    "C": (
        "Rank",
        "TeamId",
        "TeamName",
        "LastSubmissionDate",
        "Score",
        "SubmissionCount",
        "TeamMemberUserNames",
    ),
}
"""CSV header of each leaderboard shape (A: history, B: one row per team, C: current)."""

_DATE_COLUMNS = {"SubmissionDate", "LastSubmissionDate"}
_CONTENT_TYPES = {
    bytes: "application/octet-stream",
    str: "text/plain; charset=utf-8",
    dict: "application/json",
}
_DEFAULT_PAGE_SIZE = 20  # what Kaggle's view gives without a pageSize
_MAX_PAGE_SIZE = 200
_LIST_PAGE_SIZE = 20
_TRICKLE_LIMIT = 30.0  # seconds: a "forever" trickle ends at the latest then (no stray threads)


# --------------------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------------------


class _Headers(dict):
    """A dict of request headers whose lookups ignore case."""

    def _find(self, name: str) -> str | None:
        lower = name.lower()
        for key in dict.keys(self):
            if key.lower() == lower:
                return key
        return None

    def __getitem__(self, name: str) -> str:
        key = self._find(name)
        if key is None:
            raise KeyError(name)
        return dict.__getitem__(self, key)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        key = self._find(name)
        return default if key is None else dict.__getitem__(self, key)


@dataclass
class RecordedRequest:
    """One request the stand-in received.

    ``slug`` is the request's key: its ``competitionName`` (for ``ListCompetitions``
    its ``search`` text). ``started``/``ended`` are ``time.time()`` values (ended is
    None while in flight), ``status`` the answer's status (None while in flight; for a
    disconnect or trickle fault the status line that was sent, 200), ``bytes_sent`` the
    body bytes written.
    """

    method: str
    path: str
    slug: str | None
    headers: Mapping[str, str]
    body: bytes
    json: Any
    started: float
    ended: float | None = None
    status: int | None = None
    bytes_sent: int = 0

    @property
    def rpc(self) -> str | None:
        """``DownloadLeaderboard``, ``GetLeaderboard``... (None for other paths)."""
        path = self.path.split("?", 1)[0]
        return path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else None

    @property
    def authorization(self) -> str | None:
        """The raw ``Authorization`` header, or None."""
        return self.headers.get("Authorization")

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """(username, key) from HTTP Basic auth, or None."""
        import base64

        value = self.authorization or ""
        if not value.lower().startswith("basic "):
            return None
        user, _, key = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
        return user, key

    @property
    def bearer_token(self) -> str | None:
        """The token of ``Authorization: Bearer <token>``, or None."""
        value = self.authorization or ""
        return value[7:].strip() if value.lower().startswith("bearer ") else None

    @property
    def is_download(self) -> bool:
        return self.method == "POST" and self.path == DOWNLOAD_PATH


@dataclass
class _Fault:
    kind: str  # "error", "disconnect" or "trickle"
    remaining: int | None  # None: forever
    rpcs: frozenset[str] | None = None  # None: every RPC
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    after_bytes: int = 0
    echo_authorization: bool = False
    skip: int = 0  # matching requests let through before the fault starts answering
    # trickle
    trickle_body: bytes | None = None
    chunk_size: int = 1
    interval: float = 0.05
    forever: bool = False
    content_length: int | None | Literal["auto"] = "auto"


@dataclass
class _SlugState:
    body: bytes | None = None
    content_type: str = "application/zip"
    faults: list[_Fault] = field(default_factory=list)
    delay: float = 0.0
    delay_rpcs: frozenset[str] | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    public_rows: list[dict[str, Any]] | None = None
    private_rows: list[dict[str, Any]] | None = None
    page_tokens: dict[str, tuple[str, int]] = field(default_factory=dict)
    details: dict[str, Any] | None = None
    details_via_get: bool = True


def _rpc_set(rpc: str | Iterable[str]) -> frozenset[str] | None:
    names = [rpc] if isinstance(rpc, str) else list(rpc)
    if "*" in names:
        return None
    unknown = set(names) - set(_RPCS)
    if unknown:
        raise ValueError(f"unknown RPC(s) {sorted(unknown)}; known: {_RPCS}")
    return frozenset(names)


def _snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _iso(value: Any) -> Any:
    """datetime -> ``YYYY-MM-DDTHH:MM:SS.fffZ`` (as Kaggle's JSON); a CSV-style
    ``"YYYY-MM-DD HH:MM:SS"`` -> ``YYYY-MM-DDTHH:MM:SSZ``; anything else unchanged."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        return value.replace(" ", "T") + "Z"
    return value


_ROW_ALIASES = {
    "teamId": ("teamId", "team_id", "TeamId"),
    "teamName": ("teamName", "team_name", "TeamName"),
    "submissionDate": (
        "submissionDate",
        "submission_date",
        "SubmissionDate",
        "LastSubmissionDate",
        "last_submission_date",
        "date",
    ),
    "score": ("score", "Score"),
}


def _view_row(row: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    """A GetLeaderboard row (camelCase JSON) from a tuple ``(team_id, team_name,
    submission_date, score)`` or a dict keyed camelCase, snake_case or by the CSV header
    (so :func:`make_board` rows work); other keys (rank, members...) are ignored."""
    if isinstance(row, Mapping):
        out: dict[str, Any] = {}
        for name, aliases in _ROW_ALIASES.items():
            for alias in aliases:
                if alias in row:
                    out[name] = row[alias]
                    break
    else:
        team_id, team_name, date, score = row
        out = {"teamId": team_id, "teamName": team_name, "submissionDate": date, "score": score}
    if "submissionDate" in out:
        out["submissionDate"] = _iso(out["submissionDate"])
    return {k: v for k, v in out.items() if v is not None}


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class KaggleStandin:
    """A fake Kaggle API on ``127.0.0.1``; use as a context manager or call :meth:`start`/:meth:`stop`.

    Attributes:
        url: the base URL to put in ``KAGSYNC_KAGGLE_ENDPOINT`` (``http://127.0.0.1:<port>``).
        username, key: the credentials :meth:`env` hands out (the fixture sets them).
    """

    def __init__(self, *, username: str = DEFAULT_USERNAME, key: str = DEFAULT_KEY, port: int = 0) -> None:
        self.username = username
        self.wanted_port = port  # 0: chosen by the OS
        self.key = key
        self._lock = threading.Lock()
        self._slugs: dict[str, _SlugState] = {}
        self._requests: list[RecordedRequest] = []
        self._expected_auth: set[str] | None = None
        self._max_in_flight_total = 0
        self._in_flight_total = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        handler = type("_BoundHandler", (_Handler,), {"standin": self})
        server = _QuietServer(("127.0.0.1", self.wanted_port), handler)
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kaggle-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    close = stop

    def __enter__(self) -> Self:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def env(self, *, config_dir: str | Path | None = None, home: str | Path | None = None) -> dict[str, str]:
        """Environment variables pointing a (sub)process at this stand-in with the fake
        credentials. Pass ``config_dir``/``home`` (empty folders) to keep the real
        ``~/.kaggle`` out of reach; unset KAGGLE_API_TOKEN yourself in the child env."""
        env = {
            "KAGSYNC_KAGGLE_ENDPOINT": self.url,
            "KAGGLE_USERNAME": self.username,
            "KAGGLE_KEY": self.key,
        }
        if config_dir is not None:
            env["KAGGLE_CONFIG_DIR"] = str(config_dir)
        if home is not None:
            env["HOME"] = str(home)
        return env

    # -- configuration: downloads ------------------------------------------------------

    def serve_zip(self, slug: str, zip_bytes: bytes) -> None:
        """Answer downloads of ``slug`` with ``zip_bytes`` (200, ``application/zip``).
        Replaces any body served before; registered faults stay.

        A competition with a leaderboard exists on Kaggle: unless :meth:`serve_details`
        said more, ``GetCompetition`` answers with its bare ``ApiCompetition`` (ref and
        url, no title, dates or metric), so adding it fills nothing but is not refused.
        """
        self.serve_raw(slug, zip_bytes)
        with self._lock:
            state = self._state(slug)
            if state.details is None:
                state.details = {
                    "id": int(hashlib.sha1(slug.encode()).hexdigest()[:6], 16),
                    "ref": f"https://www.kaggle.com/competitions/{slug}",
                    "url": f"https://www.kaggle.com/competitions/{slug}",
                }
                state.details_via_get = True

    def serve_raw(self, slug: str, body: bytes, *, content_type: str = "application/zip") -> None:
        """Answer downloads of ``slug`` with arbitrary bytes (200) -- not a zip, a truncated
        zip, a bare CSV... ``Content-Length`` matches ``body``."""
        with self._lock:
            state = self._state(slug)
            state.body = bytes(body)
            state.content_type = content_type

    def serve_error(
        self,
        slug: str,
        status: int,
        body: bytes | str | dict | None = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        *,
        content_type: str | None = None,
        rpc: str | Iterable[str] = "DownloadLeaderboard",
        echo_authorization: bool = False,
        skip: int = 0,
    ) -> None:
        """Answer requests of ``slug`` with HTTP ``status``.

        ``body``: a dict is sent as JSON, a str as UTF-8 text, bytes as they are; None uses
        :data:`ERROR_BODIES` (the real bodies) for the status. ``headers`` are added
        (e.g. ``{"Retry-After": "7"}``). ``times=N`` answers so N times, after which
        requests fall through to the next fault or the served body (for retry tests);
        ``times=None`` answers so until :meth:`reset`. Faults are tried in the order
        they were registered. ``rpc``: the RPC(s) the fault applies to
        (``"DownloadLeaderboard"`` by default; ``"GetLeaderboard"``, ``"GetCompetition"``,
        ``"ListCompetitions"`` -- keyed by the search text -- or ``"*"`` for all).
        ``echo_authorization=True`` replaces :data:`AUTHORIZATION_MARKER` in the body by
        the request's ``Authorization`` header, as a careless server would.
        ``skip=N`` lets the first N matching requests through before the fault starts
        (e.g. a 429 on the third page of a board).
        """
        if body is None:
            body = ERROR_BODIES.get(status, {"code": status, "message": f"Error {status}"})
        if isinstance(body, dict):
            data, ctype = json.dumps(body).encode("utf-8"), "application/json"
        elif isinstance(body, str):
            data, ctype = body.encode("utf-8"), _CONTENT_TYPES[str]
        else:
            data, ctype = bytes(body), _CONTENT_TYPES[bytes]
        fault = _Fault(
            "error",
            times,
            rpcs=_rpc_set(rpc),
            status=status,
            body=data,
            content_type=content_type or ctype,
            headers=dict(headers or {}),
            echo_authorization=echo_authorization,
            skip=skip,
        )
        with self._lock:
            self._state(slug).faults.append(fault)

    def serve_disconnect(self, slug: str, after_bytes: int = 0, times: int | None = None) -> None:
        """Start a 200 answer with the full ``Content-Length`` of the served body, send only
        its first ``after_bytes`` bytes, then drop the connection (a download cut short).
        ``times`` as in :meth:`serve_error`. Needs a served body."""
        with self._lock:
            self._state(slug).faults.append(
                _Fault("disconnect", times, rpcs=frozenset({"DownloadLeaderboard"}), after_bytes=after_bytes)
            )

    def serve_trickle(
        self,
        slug: str,
        body: bytes | None = None,
        *,
        chunk_size: int = 1,
        interval: float = 0.05,
        forever: bool = False,
        content_length: int | None | Literal["auto"] = "auto",
        times: int | None = None,
        rpc: str | Iterable[str] = "DownloadLeaderboard",
    ) -> None:
        """Answer downloads of ``slug`` with 200 and send the body slowly: ``chunk_size``
        bytes, then a pause of ``interval`` seconds, and so on (a server that never times
        out a read yet never finishes).

        ``body``: the bytes to send (default: the served body at request time).
        ``forever=True`` repeats them without end (until the client hangs up, or 30 s).
        ``content_length``: ``"auto"`` sends ``len(body)`` (none when ``forever``), None
        sends no ``Content-Length`` (the body ends when the connection closes), an int
        announces that many bytes whatever is sent. ``times`` and ``rpc`` as in
        :meth:`serve_error` (a body must then be given for other RPCs).
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        with self._lock:
            self._state(slug).faults.append(
                _Fault(
                    "trickle",
                    times,
                    rpcs=_rpc_set(rpc),
                    trickle_body=None if body is None else bytes(body),
                    chunk_size=chunk_size,
                    interval=float(interval),
                    forever=forever,
                    content_length=content_length,
                )
            )

    def set_delay(self, slug: str, seconds: float, *, rpc: str | Iterable[str] = "*") -> None:
        """Hold every request for ``slug`` ``seconds`` before answering (a slow download);
        the request counts as in flight meanwhile. ``rpc`` limits the delay to some RPCs
        (e.g. ``"GetCompetition"``: a hanging details call), as in :meth:`serve_error`."""
        with self._lock:
            state = self._state(slug)
            state.delay = float(seconds)
            state.delay_rpcs = _rpc_set(rpc)

    # -- configuration: the paged view and competition details -------------------------

    def serve_board_pages(
        self,
        slug: str,
        public_rows: Iterable[Mapping[str, Any] | Sequence[Any]],
        private_rows: Iterable[Mapping[str, Any] | Sequence[Any]] | None = None,
    ) -> None:
        """Answer ``GetLeaderboard`` for ``slug`` with these boards, in the given order.

        Rows: tuples ``(team_id, team_name, submission_date, score)`` or dicts keyed
        camelCase (``teamId``), snake_case (``team_id``) or by the CSV header (so
        :func:`make_board` rows work). Dates: a datetime or ``"YYYY-MM-DD HH:MM:SS"``
        is sent as ISO 8601 with ``Z``; other text as it is. Give scores as text.

        Without ``overridePublic`` the private board is answered when ``private_rows``
        is given (released), else the public one; with ``"overridePublic": true`` always
        the public one. Pages hold ``pageSize`` rows (20 when absent, at most 200);
        ``nextPageToken`` is an opaque token, ``""`` on the last page; an unknown token,
        or one of the other board, answers 400.
        """
        with self._lock:
            state = self._state(slug)
            state.public_rows = [_view_row(r) for r in public_rows]
            state.private_rows = None if private_rows is None else [_view_row(r) for r in private_rows]
            state.page_tokens.clear()

    def serve_details(self, slug: str, *, via_get: bool = True, **fields: Any) -> None:
        """Register ``slug``'s ``ApiCompetition`` for ``GetCompetition`` and ``ListCompetitions``.

        ``fields`` in camelCase as Kaggle's JSON (``evaluationMetric="Root Mean Squared
        Error"``, ``teamCount=123``) or snake_case (converted); a datetime becomes ISO
        8601 with ``Z``; None leaves the field out. Defaults: ``id`` (derived from the
        slug), ``ref`` ``https://www.kaggle.com/competitions/<slug>`` (as the kaggle CLI
        lists it), ``title`` and ``url``. ``via_get=False``: ``GetCompetition`` answers
        404 and only ``ListCompetitions`` finds it (the documented fallback).
        """
        data: dict[str, Any] = {
            "id": int(hashlib.sha1(slug.encode()).hexdigest()[:6], 16),
            "ref": f"https://www.kaggle.com/competitions/{slug}",
            "title": slug.replace("-", " ").title(),
            "url": f"https://www.kaggle.com/competitions/{slug}",
        }
        for name, value in fields.items():
            data[_snake_to_camel(name)] = _iso(value)
        data = {k: v for k, v in data.items() if v is not None}
        with self._lock:
            state = self._state(slug)
            state.details = data
            state.details_via_get = via_get

    # -- configuration: credentials and reset ----------------------------------------

    def expect_credentials(
        self,
        *,
        username: str | None = None,
        key: str | None = None,
        token: str | None = None,
    ) -> None:
        """Accept only these credentials (Basic ``username:key`` and/or ``Bearer token``);
        others get 401. By default any ``Authorization`` header is accepted."""
        import base64

        accepted = set()
        if username is not None and key is not None:
            accepted.add("Basic " + base64.b64encode(f"{username}:{key}".encode()).decode())
        if token is not None:
            accepted.add(f"Bearer {token}")
        with self._lock:
            self._expected_auth = accepted

    def reset(self, slug: str | None = None) -> None:
        """Forget the configuration and counters of ``slug`` (all slugs and the recorded
        requests when None)."""
        with self._lock:
            if slug is None:
                self._slugs.clear()
                self._requests.clear()
                self._max_in_flight_total = 0
                self._expected_auth = None
            else:
                self._slugs.pop(slug, None)

    # -- observations ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a snapshot copy)."""
        with self._lock:
            return list(self._requests)

    def calls(self, rpc: str | None = None, slug: str | None = None) -> list[RecordedRequest]:
        """The requests of one RPC (all when None), of key ``slug`` if given."""
        return [r for r in self.requests if (rpc is None or r.rpc == rpc) and (slug is None or r.slug == slug)]

    def downloads(self, slug: str | None = None) -> list[RecordedRequest]:
        """The DownloadLeaderboard requests (of ``slug`` if given)."""
        return [r for r in self.requests if r.is_download and (slug is None or r.slug == slug)]

    def download_count(self, slug: str | None = None) -> int:
        return len(self.downloads(slug))

    def leaderboard_calls(self, slug: str | None = None) -> list[RecordedRequest]:
        """The GetLeaderboard requests (of ``slug`` if given); ``.json`` holds each body."""
        return self.calls("GetLeaderboard", slug)

    def details_calls(self, slug: str | None = None) -> list[RecordedRequest]:
        """The GetCompetition requests (of ``slug`` if given)."""
        return self.calls("GetCompetition", slug)

    def list_calls(self, search: str | None = None) -> list[RecordedRequest]:
        """The ListCompetitions requests (with this ``search`` text if given)."""
        return self.calls("ListCompetitions", search)

    def in_flight(self, slug: str) -> int:
        """Downloads of ``slug`` being answered right now."""
        with self._lock:
            state = self._slugs.get(slug)
            return state.in_flight if state else 0

    def max_in_flight(self, slug: str | None = None) -> int:
        """Most downloads of ``slug`` (of any slug, when None) ever in flight at once."""
        with self._lock:
            if slug is None:
                return self._max_in_flight_total
            state = self._slugs.get(slug)
            return state.max_in_flight if state else 0

    def wait_for_downloads(self, count: int, slug: str | None = None, timeout: float = 10.0) -> bool:
        """Wait until ``count`` downloads (of ``slug``) have arrived; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.download_count(slug) >= count:
                return True
            time.sleep(0.01)
        return self.download_count(slug) >= count

    # -- internals -------------------------------------------------------------------

    def _state(self, slug: str) -> _SlugState:
        state = self._slugs.get(slug)
        if state is None:
            state = self._slugs[slug] = _SlugState()
        return state

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        with self._lock:
            expected = self._expected_auth
        return expected is None or header.strip() in expected

    def _enter(self, slug: str) -> _SlugState:
        with self._lock:
            state = self._state(slug)
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            self._in_flight_total += 1
            self._max_in_flight_total = max(self._max_in_flight_total, self._in_flight_total)
            return state

    def _state_locked(self, slug: str) -> _SlugState:
        with self._lock:
            return self._state(slug)

    def _leave(self, slug: str) -> None:
        with self._lock:
            state = self._state(slug)
            state.in_flight -= 1
            self._in_flight_total -= 1

    def _pick(self, slug: str, rpc: str) -> tuple[_Fault | None, bytes | None, str]:
        with self._lock:
            state = self._state(slug)
            for fault in state.faults:
                if fault.rpcs is not None and rpc not in fault.rpcs:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.remaining is None or fault.remaining > 0:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault, state.body, state.content_type
            return None, state.body, state.content_type

    def _board_answer(self, slug: str, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            state = self._slugs.get(slug)
            if state is None or state.public_rows is None:
                return 404, {"code": 404, "message": f"Competition '{slug}' not found."}
            public = payload.get("overridePublic") is True
            board = "private" if state.private_rows is not None and not public else "public"
            rows = state.private_rows if board == "private" else state.public_rows
            assert rows is not None
            size = payload.get("pageSize") or _DEFAULT_PAGE_SIZE
            if not isinstance(size, int) or size < 0:
                return 400, {"code": 400, "message": "Invalid page size."}
            size = min(size, _MAX_PAGE_SIZE)
            token = payload.get("pageToken") or ""
            offset = 0
            if token:
                found = state.page_tokens.get(token)
                if found is None or found[0] != board:
                    return 400, {"code": 400, "message": "Invalid page token."}
                offset = found[1]
            page = rows[offset : offset + size]
            next_offset = offset + size
            next_token = ""
            if next_offset < len(rows):
                next_token = hashlib.sha1(f"{slug}|{board}|{next_offset}".encode()).hexdigest()[:20]
                state.page_tokens[next_token] = (board, next_offset)
            return 200, {"submissions": page, "nextPageToken": next_token}

    def _details_answer(self, slug: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            state = self._slugs.get(slug)
            if state is None or state.details is None or not state.details_via_get:
                return 404, {"code": 404, "message": f"Competition '{slug}' not found."}
            return 200, dict(state.details)

    def _list_answer(self, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        search = str(payload.get("search") or "").lower()
        with self._lock:
            found = [
                dict(state.details)
                for key, state in sorted(self._slugs.items())
                if state.details is not None
                and (search in key.lower() or search in str(state.details.get("title", "")).lower())
            ]
        token = payload.get("pageToken") or ""
        offset = int(token.removeprefix("list-")) if token.startswith("list-") else 0
        page = found[offset : offset + _LIST_PAGE_SIZE]
        next_offset = offset + _LIST_PAGE_SIZE
        return 200, {
            "competitions": page,
            "nextPageToken": f"list-{next_offset}" if next_offset < len(found) else "",
        }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # no tracebacks on stderr
        pass


class _Handler(BaseHTTPRequestHandler):
    standin: KaggleStandin  # set on the per-server subclass
    server_version = "KaggleStandin/1.0"
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # silence
        pass

    # -- entry points ----------------------------------------------------------------

    def do_GET(self) -> None:
        record = self._record(b"", None, None)
        if self.path.split("?", 1)[0] == "/":
            self._send(record, 200, b"Kaggle stand-in\n", "text/plain; charset=utf-8")
        else:
            self._send_json(record, 404, {"code": 404, "message": f"No route for GET {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            payload = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            payload = None
        path = self.path.split("?", 1)[0]
        rpc = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else None
        field_name = "search" if rpc == "ListCompetitions" else "competitionName"
        key = payload.get(field_name) if isinstance(payload, dict) else None
        key = key if isinstance(key, str) else None
        record = self._record(raw, payload, key)
        if rpc not in _RPCS:
            self._send_json(record, 404, {"code": 404, "message": f"No route for POST {self.path}"})
            return
        if not self.standin._authorized(self.headers.get("Authorization")):
            self._send(record, 401, b"Unauthorized", "text/plain; charset=utf-8")
            return
        if not isinstance(payload, dict) or (rpc != "ListCompetitions" and not key):
            self._send_json(record, 400, {"code": 400, "message": "competitionName is required."})
            return
        key = key or ""
        download = rpc == "DownloadLeaderboard"
        state = self.standin._enter(key) if download else self.standin._state_locked(key)
        try:
            if state.delay > 0 and (state.delay_rpcs is None or rpc in state.delay_rpcs):
                time.sleep(state.delay)
            fault, body, content_type = self.standin._pick(key, rpc)
            if fault is not None and fault.kind == "error":
                data = fault.body
                if fault.echo_authorization:
                    header = self.headers.get("Authorization") or ""
                    data = data.replace(AUTHORIZATION_MARKER.encode(), header.encode("latin-1"))
                self._send(record, fault.status, data, fault.content_type, fault.headers)
            elif fault is not None and fault.kind == "trickle":
                self._trickle(record, fault, body)
            elif rpc == "GetLeaderboard":
                self._send_json(record, *self.standin._board_answer(key, payload))
            elif rpc == "GetCompetition":
                self._send_json(record, *self.standin._details_answer(key))
            elif rpc == "ListCompetitions":
                self._send_json(record, *self.standin._list_answer(payload))
            elif body is None:
                self._send_json(record, 404, {"code": 404, "message": f"Competition '{key}' not found."})
            elif fault is not None:  # disconnect
                self._send(record, 200, body, content_type, cut_after=fault.after_bytes)
            else:
                self._send(
                    record,
                    200,
                    body,
                    content_type,
                    {"Content-Disposition": f'attachment; filename="{key}.zip"'},
                )
        finally:
            if download:
                self.standin._leave(key)

    # -- helpers ---------------------------------------------------------------------

    def _record(self, raw: bytes, payload: Any, slug: str | None) -> RecordedRequest:
        record = RecordedRequest(
            method=self.command,
            path=self.path,
            slug=slug,
            headers=_Headers(self.headers.items()),
            body=raw,
            json=payload,
            started=time.time(),
        )
        with self.standin._lock:
            self.standin._requests.append(record)
        return record

    def _send_json(self, record: RecordedRequest, status: int, data: dict) -> None:
        self._send(record, status, json.dumps(data).encode("utf-8"), "application/json")

    def _trickle(self, record: RecordedRequest, fault: _Fault, served: bytes | None) -> None:
        body = fault.trickle_body if fault.trickle_body is not None else served or b""
        if not body:
            body = b"\0"
        record.status = 200
        length = fault.content_length
        if length == "auto":
            length = None if fault.forever else len(body)
        stop_at = time.monotonic() + _TRICKLE_LIMIT
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.flush()
            position = 0
            while time.monotonic() < stop_at:
                if position >= len(body):
                    if not fault.forever:
                        break
                    position = 0
                chunk = body[position : position + fault.chunk_size]
                position += len(chunk)
                self.wfile.write(chunk)
                self.wfile.flush()
                record.bytes_sent += len(chunk)
                time.sleep(fault.interval)
        except OSError:  # the client hung up: what a deadline should do
            pass
        finally:
            self.close_connection = True
            record.ended = time.time()

    def _send(
        self,
        record: RecordedRequest,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
        cut_after: int | None = None,
    ) -> None:
        record.status = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            payload = body if cut_after is None else body[: max(0, cut_after)]
            view = memoryview(payload)
            for start in range(0, len(view), 64 * 1024):
                chunk = view[start : start + 64 * 1024]
                self.wfile.write(chunk)
                record.bytes_sent += len(chunk)
            self.wfile.flush()
        except OSError:  # the client went away
            pass
        finally:
            if cut_after is not None:
                self.close_connection = True
                try:
                    import socket

                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            record.ended = time.time()


# --------------------------------------------------------------------------------------
# Fixture
# --------------------------------------------------------------------------------------

_KAGGLE_ENV_TO_CLEAR = (
    "KAGGLE_API_TOKEN",
    "KAGGLE_API_ENVIRONMENT",
    "KAGGLE_KERNEL_RUN_TYPE",
    "KAGGLE_API_V1_TOKEN",
    "KAGGLE_DATA_PROXY_URL",
    "XDG_CONFIG_HOME",
)


@pytest.fixture
def kaggle_standin(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KaggleStandin]:
    """A running :class:`KaggleStandin` with the environment pointed at it (see the module
    docstring); stopped after the test."""
    config_dir = tmp_path_factory.mktemp("kaggle-config")
    home = tmp_path_factory.mktemp("kaggle-home")
    with KaggleStandin() as standin:
        for name in _KAGGLE_ENV_TO_CLEAR:
            monkeypatch.delenv(name, raising=False)
        for name, value in standin.env(config_dir=config_dir, home=home).items():
            monkeypatch.setenv(name, value)
        for name in ("NO_PROXY", "no_proxy"):
            current = os.environ.get(name, "")
            monkeypatch.setenv(name, ",".join(p for p in (current, "127.0.0.1", "localhost") if p))
        yield standin


# --------------------------------------------------------------------------------------
# Leaderboard files
# --------------------------------------------------------------------------------------

_ALIASES = {
    "rank": "Rank",
    "team_id": "TeamId",
    "team_name": "TeamName",
    "submission_date": "SubmissionDate",
    "last_submission_date": "LastSubmissionDate",
    "date": None,  # resolved per shape
    "score": "Score",
    "submission_count": "SubmissionCount",
    "members": "TeamMemberUserNames",
    "team_member_user_names": "TeamMemberUserNames",
}
_DEFAULTS = {
    "SubmissionDate": "2026-05-01 12:00:00",
    "LastSubmissionDate": "2026-05-01 12:00:00",
    "SubmissionCount": 1,
    "TeamMemberUserNames": "",
}


def leaderboard_csv_name(slug: str, timestamp: str | None = "2026-05-05T15:36:33") -> str:
    """``<slug>-publicleaderboard-<timestamp>.csv``, or the older ``<slug>-publicleaderboard.csv``
    when ``timestamp`` is None."""
    return f"{slug}-publicleaderboard.csv" if timestamp is None else f"{slug}-publicleaderboard-{timestamp}.csv"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _quote(text: str, always: bool) -> str:
    """Kaggle's quoting: only when a space, comma, quote or line break is present (dates always)."""
    if always or any(c in text for c in ' ,"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _row_values(row: Mapping[str, Any] | Sequence[Any], header: tuple[str, ...], position: int) -> list[str]:
    if isinstance(row, Mapping):
        values: dict[str, Any] = {}
        for name, value in row.items():
            column = (
                _ALIASES.get(name, name)
                if name != "date"
                else ("LastSubmissionDate" if "LastSubmissionDate" in header else "SubmissionDate")
            )
            values[column] = value
        unknown = set(values) - set(header)
        if unknown:
            raise ValueError(f"unknown leaderboard column(s) {sorted(unknown)} for header {header}")
        out = []
        for column in header:
            if column in values:
                out.append(_text(values[column]))
            elif column == "Rank":
                out.append(str(position))
            elif column in _DEFAULTS:
                out.append(_text(_DEFAULTS[column]))
            else:
                raise ValueError(f"leaderboard row {position} has no {column}")
        return out
    items = list(row)
    if len(items) != len(header):
        raise ValueError(f"leaderboard row {position} has {len(items)} values, the header {len(header)}")
    return [_text(v) for v in items]


def build_leaderboard_csv(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    shape: str = "C",
    bom: bool = True,
    crlf: bool = False,
) -> bytes:
    """The bytes of a leaderboard CSV as Kaggle writes it.

    ``rows``: each either a tuple/list of values in header order (:data:`SHAPE_HEADERS`),
    or a dict keyed by header names (``"TeamId"``) or their snake_case aliases
    (``team_id``, ``team_name``, ``date``, ``score``, ``rank``, ``submission_count``,
    ``members``). In dicts ``Rank`` defaults to the row's 1-based position, dates to
    ``2026-05-01 12:00:00``, ``SubmissionCount`` to 1 and members to empty;
    ``TeamId``, ``TeamName`` and ``Score`` are required.

    Values: None -> empty; datetime -> ``YYYY-MM-DD HH:MM:SS``; a list/tuple (members)
    -> joined with commas; anything else -> ``str()`` (give scores as text, e.g.
    ``"0.77990"``, to keep trailing zeros). Quoting as Kaggle's: a field is quoted only
    when it holds a space, comma, double quote or line break, date columns always, and
    quotes are doubled. UTF-8 with a BOM unless ``bom=False``; LF line endings unless
    ``crlf=True``; a final line ending.
    """
    header = SHAPE_HEADERS[shape.upper()]
    eol = "\r\n" if crlf else "\n"
    lines = [",".join(header)]
    date_index = {i for i, c in enumerate(header) if c in _DATE_COLUMNS}
    for position, row in enumerate(rows, start=1):
        values = _row_values(row, header, position)
        lines.append(",".join(_quote(v, i in date_index) for i, v in enumerate(values)))
    text = eol.join(lines) + eol
    return ("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8")


def build_leaderboard_zip(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    slug: str,
    shape: str = "C",
    bom: bool = True,
    crlf: bool = False,
    timestamp: str | None = "2026-05-05T15:36:33",
    csv_name: str | None = None,
) -> bytes:
    """A zip as Kaggle's download returns it: one member, ``<slug>-publicleaderboard-<timestamp>.csv``
    (``csv_name`` overrides), holding :func:`build_leaderboard_csv` ``(rows, shape=, bom=, crlf=)``.
    The output is deterministic: same arguments, same bytes."""
    name = csv_name or leaderboard_csv_name(slug, timestamp)
    info = zipfile.ZipInfo(name, date_time=(2026, 5, 5, 15, 36, 32))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, build_leaderboard_csv(rows, shape=shape, bom=bom, crlf=crlf))
    return buffer.getvalue()


_SPECIAL_NAMES = [
    'Larry "DJ" Cukierski',
    "Smith, Jones & Co",
    "赵云龙",
    "Álvaro",
    "Leszek Góra",
    "寿!",
    " Haris Zuber",
    "98074",
    "01520410",
    "747.",
    "[Deleted]",
    "[Deleted] 3f1c2a9e-7b4d-4c1e-9a55-2d8e6f0b1c77",
    "🚀 Rocket Science",
    "Team Ωmega",
    "naïve bayes",
    "Müller & Søn",
    "Дмитрий К.",
    "'quoted' and \"double\"",
]
_FIRST = [
    "Anna",
    "Ben",
    "Chen",
    "Dmitri",
    "Elif",
    "Farah",
    "Goro",
    "Hana",
    "Ivan",
    "Jae",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Vik",
    "Wen",
    "Yuki",
]
_LAST = [
    "Ng",
    "Silva",
    "Kowalski",
    "Haddad",
    "Okafor",
    "Tanaka",
    "Moreau",
    "Rossi",
    "Kim",
    "Novak",
    "Patel",
    "García",
    "Østergaard",
    "Nguyễn",
    "O'Brien",
    "Schmidt",
]
_WORDS = [
    "gradient",
    "boost",
    "lgbm",
    "stack",
    "overfit",
    "random",
    "forest",
    "tabular",
    "wizards",
    "squad",
    "lab",
    "neurons",
    "baseline",
    "ensemble",
    "kagglers",
]


def make_board(
    n: int, seed: int = 0, *, benchmark: bool = False, higher_is_better: bool = True
) -> list[dict[str, Any]]:
    """``n`` shape-C teams, best first, for :func:`build_leaderboard_zip` (deterministic per seed).

    Each row is a dict keyed by the shape-C header: ``Rank`` (int, 1..n), ``TeamId``
    (int, unique), ``TeamName`` (str, unique; includes quotes, commas, a leading space,
    numeric-looking names, CJK, emoji, ``[Deleted]``...), ``LastSubmissionDate``
    (``"YYYY-MM-DD HH:MM:SS"``), ``Score`` (text with 5 decimals, trailing zeros kept, a
    few ties), ``SubmissionCount`` (int) and ``TeamMemberUserNames`` (the comma-joined
    text as in the file; 1-4 members, often several). With ``benchmark=True`` one more
    row, a host benchmark with ``Rank`` 0 and no members, sits at its score's position.
    ``higher_is_better=False`` makes scores ascend instead.
    """
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    specials = list(_SPECIAL_NAMES)
    rng.shuffle(specials)
    i = 0
    while len(names) < n:
        if specials and rng.random() < 0.35:
            name = specials.pop()
        else:
            style = rng.randrange(3)
            if style == 0:
                name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            elif style == 1:
                name = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}"
            else:
                name = f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}"
        if name in seen:
            i += 1
            name = f"{name} {i}"
        if name in seen:
            continue
        seen.add(name)
        names.append(name)

    ids = rng.sample(range(15_600_000, 15_800_000), n + 1)
    start = datetime(2026, 4, 1, 0, 0, 0)
    # Scores in units of 1e-5, so the text keeps trailing zeros (most steps end in 0).
    units = max(99_000, 40 * n) if higher_is_better else 10_000
    sign = -1 if higher_is_better else 1
    users_seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for position in range(n):
        if position and rng.random() > 0.1:  # about one tie in ten
            units += sign * rng.choice([10, 20, 30, 50, 100, 7, 13])
        members = []
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            user = f"{rng.choice(_FIRST).lower()}{rng.choice(_LAST).lower()}{rng.randrange(100)}"
            user = user.encode("ascii", "ignore").decode().replace("'", "")
            if user in users_seen:
                user = f"{user}x{len(users_seen)}"
            users_seen.add(user)
            members.append(user)
        when = start + timedelta(seconds=rng.randrange(34 * 24 * 3600))
        rows.append(
            {
                "Rank": position + 1,
                "TeamId": ids[position],
                "TeamName": names[position],
                "LastSubmissionDate": when.strftime("%Y-%m-%d %H:%M:%S"),
                "Score": f"{units // 100_000}.{units % 100_000:05d}",
                "SubmissionCount": rng.randrange(1, 60),
                "TeamMemberUserNames": ",".join(members),
            }
        )
    if benchmark and n:
        at = rng.randrange(n)
        rows.insert(
            at,
            {
                "Rank": 0,
                "TeamId": ids[n],
                "TeamName": "Sample Submission Benchmark",
                "LastSubmissionDate": start.strftime("%Y-%m-%d %H:%M:%S"),
                "Score": rows[at]["Score"],
                "SubmissionCount": 1,
                "TeamMemberUserNames": "",
            },
        )
    return rows
