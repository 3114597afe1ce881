"""The transport: Kaggle's documented wire format over plain ``requests``.

Every call is ``POST {base}/{service}/{Method}`` with a JSON body of camelCase keys,
where ``base`` is ``https://api.kaggle.com/v1`` in production, or
``{endpoint}/api/v1`` for a custom endpoint (``KAGSYNC_KAGGLE_ENDPOINT``; tests point it
at a local stand-in). Authentication is HTTP Basic ``username:key`` or
``Authorization: Bearer <token>``.

One :class:`Session` serves one public call. It owns the retries (429, 5xx, connection
failures, bodies cut short), their waits (:mod:`kagsync.retry`: ``Retry-After``
capped, 1-2-4 s back-off), the call's overall deadline, the stop event, and turns
every failure into one of :mod:`kagsync.errors`, one line, scrubbed of the secrets
(:mod:`kagsync.secrets`). ``requests`` is imported only when a session starts, so
importing this module is free.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from kagsync import retry
from kagsync.errors import (
    DownloadLimitError,
    KaggleAuthError,
    KaggleConnectionError,
    KaggleError,
    KaggleForbiddenError,
    KaggleNotFoundError,
    KaggleRateLimitError,
    KaggleServerError,
    KagsyncError,
    SourceError,
    SyncInterruptedError,
    ValidationError,
)
from kagsync.kaggle.auth import SETTINGS_URL, KaggleCredentials, check_credentials, find_credentials
from kagsync.secrets import Scrubber, safe_url
from kagsync.text import printable
from kagsync.values import SLUG_RE

if TYPE_CHECKING:  # requests is imported lazily at run time
    import requests

__all__ = [
    "ENDPOINT_ENV",
    "PRODUCTION_ENDPOINT",
    "Op",
    "Reply",
    "Session",
    "describe_endpoint",
    "open_session",
    "resolve_endpoint",
]

ENDPOINT_ENV = "KAGSYNC_KAGGLE_ENDPOINT"
"""Environment variable: base URL replacing production, e.g. ``http://127.0.0.1:8123``.
Requests then go to ``{endpoint}/api/v1/<service>/<method>``."""
PRODUCTION_ENDPOINT = "https://api.kaggle.com"
"""Kaggle's API host; there requests go to ``https://api.kaggle.com/v1/<service>/<method>``."""
SERVICE_NAME = "competitions.CompetitionApiService"

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a TCP/TLS connection."""
READ_TIMEOUT = 60.0
"""Seconds to wait for any single read of the response (headers or a body chunk)."""
CHUNK_SIZE = 64 * 1024
USER_AGENT = "kaggle-api/v1.7.0 (kagsync)"

_ERROR_BODY_LIMIT = 16 * 1024
_MESSAGE_LIMIT = 300
# Socket timeouts run this much past the deadline, so that the deadline itself (not a
# timeout racing it by a few microseconds) is what ends a slow request.
_DEADLINE_SLACK = 0.25

_T = TypeVar("_T")


# -- endpoints -----------------------------------------------------------------------


def describe_endpoint(endpoint: str | None) -> str:
    """The secret-free description of the Kaggle source, recorded with each sync run.

    ``"kaggle"`` for production, else ``"kaggle:<url>"`` where ``<url>`` is ``endpoint``
    (default: ``$KAGSYNC_KAGGLE_ENDPOINT``) without user-info, query, fragment or
    trailing slash. Pure and cheap: no import, no network, never raises.
    """
    value = (endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV) or "").strip()
    return f"kaggle:{safe_url(value).rstrip('/')}" if value else "kaggle"


def resolve_endpoint(endpoint: str | None) -> str | None:
    """The custom base URL (no user-info, no trailing slash), or None for production.

    User-info in the endpoint is dropped: the client sends its own ``Authorization``
    header, so a ``user:password@`` could never be used -- only leaked.
    """
    value = (endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV) or "").strip()
    if not value:
        return None
    clean = safe_url(value)
    if not re.match(r"https?://[^/\s]+", clean):
        raise SourceError(
            f"Invalid Kaggle endpoint {clean!r} (from {ENDPOINT_ENV} or the endpoint option): "
            "use a base URL such as http://127.0.0.1:8080."
        )
    return clean.rstrip("/")


# -- one request and its reply --------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One kind of request: the RPC and how to name it to people."""

    method: str  # e.g. "DownloadLeaderboard"
    what: str  # e.g. "the leaderboard download of 'titanic'"
    leaderboard: bool = False  # a 403 then means the rules are not accepted


@dataclass
class Reply:
    """An HTTP reply: its status and headers, and either its body (read, up to a cap)
    or the open streaming response (a 2xx of a download)."""

    status: int
    headers: Mapping[str, str]
    reason: str
    body: bytes = b""
    response: requests.Response | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class BrokenOff(Exception):
    """A response body that broke off mid-stream (worth a retry)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


class _TooLarge(Exception):
    """A reply larger than its cap (turned into DownloadLimitError where the call is known)."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


# -- the session ------------------------------------------------------------------------


class Session:
    """State for one public call: credentials, endpoint, retry policy, deadline, stop.

    ``max_attempts`` requests at most. A 429's ``Retry-After`` is waited up to
    ``retry_after_cap`` seconds (default :data:`kagsync.retry.MAX_RETRY_AFTER`); above
    ``give_up_after`` (when set) the call gives up at once instead. ``deadline`` caps the whole call. ``stop``, once set, ends any wait at
    once; with ``interruptible`` it also abandons a request in flight (details: a
    nicety) -- a board download in flight is left to finish, as the first Ctrl-C asks.
    """

    def __init__(
        self,
        slug: str,
        *,
        credentials: KaggleCredentials | None,
        endpoint: str | None,
        max_attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        retry_after_cap: float | None = None,
        give_up_after: float | None = None,
        interruptible: bool = False,
    ) -> None:
        if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug) or ".." in slug:
            raise ValidationError(f"Invalid Kaggle competition slug {slug!r}: use the name from the competition's URL.")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.slug = slug
        self.creds = credentials if credentials is not None else find_credentials()
        check_credentials(self.creds)
        raw_endpoint = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
        self.scrub = Scrubber(self.creds.secrets, [raw_endpoint])
        self.base_url = resolve_endpoint(endpoint)
        self.shown_endpoint = safe_url(self.base_url or PRODUCTION_ENDPOINT)
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.deadline = retry.Deadline(deadline)
        self.stop = stop
        self.retry_after_cap = retry.MAX_RETRY_AFTER if retry_after_cap is None else retry_after_cap
        self.give_up_after = give_up_after
        self.interruptible = interruptible
        self.attempts = 0
        self._http: requests.Session | None = None

    # -- plumbing ----------------------------------------------------------------------

    def url(self, method: str) -> str:
        """Where ``method`` of the competition service is posted."""
        base = f"{PRODUCTION_ENDPOINT}/v1" if self.base_url is None else f"{self.base_url}/api/v1"
        return f"{base}/{SERVICE_NAME}/{method}"

    @property
    def http(self) -> requests.Session:
        if self._http is None:
            import requests

            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            if self.creds.api_token:
                session.headers["Authorization"] = f"Bearer {self.creds.api_token}"
            else:
                session.auth = (self.creds.username or "", self.creds.key or "")
            self._http = session
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts for the next request, cut down to the deadline."""
        remaining = self.deadline.remaining()
        if remaining is None:
            return CONNECT_TIMEOUT, READ_TIMEOUT
        cap = max(remaining, 0.0) + _DEADLINE_SLACK
        return min(CONNECT_TIMEOUT, cap), min(READ_TIMEOUT, cap)

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    # -- calls ---------------------------------------------------------------------------

    def call(
        self,
        op: Op,
        body: Mapping[str, object],
        handle: Callable[[Reply], _T],
        *,
        stream: bool = False,
        max_bytes: int = _ERROR_BODY_LIMIT,
    ) -> _T:
        """Post ``body`` with retries; ``handle(reply)`` turns a 2xx reply into the result
        (raising :class:`BrokenOff` when its body broke off, to retry).

        429 waits ``Retry-After`` (capped) or else 1, 2, 4... s; 5xx, connection
        failures, timeouts and cut-short bodies wait 1, 2, 4... s (or ``Retry-After``).
        Other statuses raise at once. A wait that would pass the deadline ends the
        retries early with the last failure's error; a request still running at the
        deadline raises DownloadLimitError. With ``stream`` a 2xx reply comes with its
        response open; otherwise its body is read, and refused beyond ``max_bytes``.
        """
        for attempt in range(1, self.max_attempts + 1):
            self.attempts = attempt
            last = attempt == self.max_attempts
            pause = retry.backoff(attempt)
            if self.deadline.expired():
                raise self.late()
            if self.stopped() and self.interruptible:
                raise self.interrupted(op)
            reply, failure = self._send(op, body, stream, max_bytes)
            if reply is None:
                assert failure is not None
                self._pause(op, last, pause, functools.partial(self._unreachable, op, failure))
                continue
            if not reply.ok:
                self._close(reply)
                error = _http_failure(self, op, reply)
                if error is not None:
                    raise error
                detail = kaggle_message(reply, self.scrub)
                waited = retry.retry_after(reply.headers.get("Retry-After"))
                if waited is not None and self.give_up_after is not None and waited > self.give_up_after:
                    raise self._told_to_wait(op, reply.status, detail, waited)
                wait = pause if waited is None else min(waited, self.retry_after_cap)
                self._pause(op, last, wait, functools.partial(_exhausted, self, op, reply.status, detail), True)
                continue
            try:
                return handle(reply)
            except BrokenOff as broken:
                self._pause(op, last, pause, functools.partial(self._broke_off, op, broken.cause))
            finally:
                self._close(reply)
        raise AssertionError("unreachable")  # pragma: no cover

    def call_json(
        self, op: Op, body: Mapping[str, object], *, max_bytes: int, exact_numbers: bool = False
    ) -> dict[str, object]:
        """:meth:`call` for an RPC answering one JSON object of at most ``max_bytes``;
        returns it as parsed (``exact_numbers``: a JSON number keeps its text, e.g. a
        score's trailing zeros). A bigger reply is refused without being read whole."""

        def handle(reply: Reply) -> dict[str, object]:
            try:
                data = json.loads(reply.body.decode("utf-8-sig"), parse_float=str if exact_numbers else float)
            except (UnicodeDecodeError, ValueError):
                data = None
            if not isinstance(data, dict):
                raise KaggleError(self.scrub(f"Kaggle answered {op.what} with something other than a JSON object."))
            return data

        return self.call(op, body, handle, max_bytes=max_bytes)

    def _send(
        self, op: Op, body: Mapping[str, object], stream: bool, max_bytes: int
    ) -> tuple[Reply | None, Exception | None]:
        """One request: (the reply, None) or (None, the connection-level failure)."""
        if stream or not self.interruptible:
            return self._post(op, body, stream, max_bytes)
        return self._in_worker(op, body, max_bytes)

    def _post(
        self, op: Op, body: Mapping[str, object], stream: bool, max_bytes: int
    ) -> tuple[Reply | None, Exception | None]:
        import requests

        try:
            response = self.http.post(
                self.url(op.method),
                data=json.dumps(body).encode("utf-8"),
                headers={"Content-Type": "application/json"},
                timeout=self.timeouts(),
                stream=True,
            )
        except requests.RequestException as exc:
            return None, exc
        reply = Reply(response.status_code, response.headers, response.reason or "")
        if stream and reply.ok:
            reply.response = response
            return reply, None
        try:
            reply.body = self._read(response, max_bytes if reply.ok else _ERROR_BODY_LIMIT)
        except _TooLarge as exc:
            raise self.too_large(op, max_bytes, exc.how) from None
        except requests.RequestException as exc:
            if not reply.ok:
                return reply, None  # a broken error body must not hide the status
            return None, exc
        finally:
            response.close()
        return reply, None

    def _read(self, response: requests.Response, limit: int) -> bytes:
        """The body, at most ``limit`` bytes (an error body is cut; a 2xx one is refused)."""
        cut = not 200 <= response.status_code < 300
        announced = content_length(response)
        if not cut and announced is not None and announced > limit:
            raise _TooLarge(f"Kaggle announced {size_text(announced)}")
        body = bytearray()
        for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
            body += chunk
            if len(body) > limit:
                if cut:
                    return bytes(body[:limit])
                raise _TooLarge(f"more than {size_text(limit)} received")
            if self.deadline.expired():
                raise self.late(len(body))
            if self.interruptible and self.stopped():
                break  # abandoned by the caller, which raised already
        return bytes(body)

    def _in_worker(self, op: Op, body: Mapping[str, object], max_bytes: int) -> tuple[Reply | None, Exception | None]:
        """:meth:`_post` in a daemon thread, abandoned at the deadline or the stop event.

        A socket blocked in a read cannot be woken from another thread through any
        public surface of requests; the abandoned thread ends by itself at its socket
        timeout (cut to the deadline), and meanwhile the caller moves on.
        """
        result: list[tuple[Reply | None, Exception | None] | BaseException] = []
        done = threading.Event()

        def work() -> None:
            try:
                result.append(self._post(op, body, False, max_bytes))
            except BaseException as exc:  # noqa: BLE001  (handed to the caller, which re-raises it)
                result.append(exc)
            finally:
                done.set()

        threading.Thread(target=work, name=f"kagsync-kaggle-{self.slug}", daemon=True).start()
        while not done.is_set():
            if self.stopped():
                raise self.interrupted(op)
            if self.deadline.expired():
                raise self.late()
            done.wait(retry.POLL_SECONDS)
        outcome = result[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _close(self, reply: Reply) -> None:
        if reply.response is not None:
            reply.response.close()

    def _pause(
        self, op: Op, last: bool, wait: float, error: Callable[[bool], KaggleError], server_failed: bool = False
    ) -> None:
        """Wait before the next attempt, or raise: ``error(early)`` after the last attempt
        or when the wait would pass the deadline (``early``); DownloadLimitError when the
        deadline passed during a request that got no answer (``not server_failed``)."""
        if not server_failed and self.deadline.expired():
            raise self.late()
        early = not last and not self.deadline.fits(wait)
        if last or early:
            raise error(early)
        if not retry.wait(wait, stop=self.stop, sleep=self.sleep):
            if self.stopped():
                raise self.interrupted(op)
            raise error(True)

    # -- errors --------------------------------------------------------------------------

    def late(self, received: int | None = None) -> DownloadLimitError:
        """The error for a call still running at its deadline."""
        got = f"{size_text(received)} received, " if received else ""
        seconds = self.deadline.seconds or 0
        return DownloadLimitError(
            self.scrub(
                f"The leaderboard download of '{self.slug}' did not finish within its {seconds:g} s "
                f"deadline ({got}{self.attempts} attempt{_plural(self.attempts)}): try again later, or "
                "allow more time if the connection is slow."
            )
            if not self.interruptible
            else self.scrub(
                f"Kaggle did not answer for competition '{self.slug}' within {seconds:g} s: skipped for now."
            )
        )

    def interrupted(self, op: Op) -> SyncInterruptedError:
        return SyncInterruptedError(f"Gave up on {op.what}: kagsync was interrupted.")

    def too_large(self, op: Op, max_bytes: int, how: str) -> DownloadLimitError:
        return DownloadLimitError(
            self.scrub(f"Kaggle's reply to {op.what} is larger than its {size_text(max_bytes)} cap ({how}): not read.")
        )

    def _early_note(self, early: bool) -> str:
        seconds = self.deadline.seconds or 0
        return f"; stopped to keep within the {seconds:g} s deadline" if early else ""

    def _broke_off(self, op: Op, exc: Exception, early: bool) -> KaggleConnectionError:
        return KaggleConnectionError(
            self.scrub(
                f"{_capital(op.what)} from {self.shown_endpoint} broke off ({connection_reason(exc)}, "
                f"{self.attempts} attempt{_plural(self.attempts)}{self._early_note(early)}): try again later."
            )
        )

    def _unreachable(self, op: Op, exc: Exception, early: bool) -> KaggleConnectionError:
        return KaggleConnectionError(
            self.scrub(
                f"Could not reach Kaggle at {self.shown_endpoint} for {op.what} after "
                f"{self.attempts} attempt{_plural(self.attempts)} ({connection_reason(exc)}"
                f"{self._early_note(early)}): check the network connection and try again."
            )
        )

    def _told_to_wait(self, op: Op, status: int, detail: str | None, seconds: float) -> KaggleError:
        kind = KaggleRateLimitError if status == 429 else KaggleServerError
        return kind(
            self.scrub(
                f"Kaggle asked to wait {seconds:g} s before {op.what} (HTTP {status}{_colon(detail)}): "
                "skipped for now rather than waiting."
            )
        )


def _http_failure(self: Session, op: Op, reply: Reply) -> KaggleError | None:
    """The exception for a non-retryable HTTP status, or None if it is worth retrying
    (a function of the session's, kept outside it so the class reads in one sitting)."""
    status = reply.status
    if status == 429 or status >= 500:
        return None
    creds, slug = self.creds, self.slug
    detail = kaggle_message(reply, self.scrub)
    if status == 401:
        hint = (
            "check KAGGLE_API_TOKEN or create a new token"
            if creds.uses_token
            else "check the username and key, or create a new token (a new-style token belongs in "
            "KAGGLE_API_TOKEN, not in kaggle.json)"
        )
        msg = f"Kaggle rejected the {creds.describe()} (HTTP 401{_colon(detail)}): {hint} at {SETTINGS_URL}."
        return KaggleAuthError(self.scrub(msg))
    if status == 403:
        account = f" as Kaggle user '{creds.username}'" if creds.username else ""
        if op.leaderboard:
            msg = (
                f"Kaggle refused the leaderboard of '{slug}' (HTTP 403{_colon(detail)}): accept the "
                f"competition's rules at https://www.kaggle.com/competitions/{slug}/rules"
                f"{account}, then try again (credentials from {creds.origin})."
            )
        else:
            msg = f"Kaggle refused {op.what}{account} (HTTP 403{_colon(detail)}; credentials from {creds.origin})."
        return KaggleForbiddenError(self.scrub(msg))
    if status == 404:
        msg = (
            f"Kaggle has no competition '{slug}' (HTTP 404{_colon(detail)}): check the slug, the "
            "last part of https://www.kaggle.com/competitions/<slug>."
        )
        return KaggleNotFoundError(self.scrub(msg))
    reason = detail or (_one_line(self.scrub(reply.reason)) if reply.reason.strip() else "") or "unexpected reply"
    return KaggleError(self.scrub(f"Kaggle refused {op.what} (HTTP {status}: {reason})."))


def _exhausted(self: Session, op: Op, status: int, detail: str | None, early: bool) -> KaggleError:
    attempts = f"{self.attempts} attempt{_plural(self.attempts)}{self._early_note(early)}"
    if status == 429:
        msg = (
            f"Kaggle kept rate-limiting {op.what} (HTTP 429{_colon(detail)}, {attempts}): wait a few "
            "minutes and try again."
        )
        return KaggleRateLimitError(self.scrub(msg))
    msg = f"Kaggle's server failed {op.what} (HTTP {status}{_colon(detail)}, {attempts}): try again later."
    return KaggleServerError(self.scrub(msg))


@contextlib.contextmanager
def open_session(slug: str, **options: object) -> Iterator[Session]:
    """A :class:`Session` (``options`` as its constructor's), closed afterwards, inside
    the secret guard: whatever is raised leaves without a secret."""
    session = Session(slug, **options)  # type: ignore[arg-type]
    try:
        with _no_secret_escapes(session.scrub):
            yield session
    finally:
        session.close()


@contextlib.contextmanager
def _no_secret_escapes(scrub: Scrubber) -> Iterator[None]:
    """Last line of defence around every network call. Messages are built scrubbed
    already; this catches the rest (an exception from requests quoting a header, say)."""
    try:
        yield
    except KagsyncError as exc:
        text = str(exc)
        if not scrub.leaks(text):
            raise
        raise type(exc)(scrub(text)) from None
    except Exception as exc:  # only re-raised as it is, or without its secret
        if not (scrub.leaks(str(exc)) or scrub.leaks(repr(exc))):
            raise
        # Not even the rest of the text: it may hold more than the secrets we know of.
        raise KaggleError(
            f"The Kaggle request failed unexpectedly ({type(exc).__name__}; its message is not shown "
            "because it quoted the credentials)."
        ) from None


# -- reading replies -------------------------------------------------------------------


def content_length(response: requests.Response) -> int | None:
    """The announced length of the decoded body, or None when unknown."""
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("", "identity"):
        return None  # Content-Length counts compressed bytes; we count decoded ones
    try:
        value = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def kaggle_message(reply: Reply, scrub: Scrubber) -> str | None:
    """Kaggle's own message from an error body: ``{"message"}``, ``{"error": {"message"}}``
    or short plain text. None for HTML, binary or empty bodies. Scrubbed *before* it is
    cut short, so that no prefix of a secret survives the cut."""
    text = reply.body[:_ERROR_BODY_LIMIT].decode("utf-8", errors="replace").strip()
    if not text:
        return None
    if text[:1] in "{[":
        try:
            data = json.loads(text)
        except ValueError:
            return None
        message = None
        if isinstance(data, dict):
            message = data.get("message")
            error = data.get("error")
            if not isinstance(message, str) and isinstance(error, dict):
                message = error.get("message")
            if not isinstance(message, str) and isinstance(error, str):
                message = error
        return _one_line(scrub(message)) if isinstance(message, str) and message.strip() else None
    content_type = (reply.headers.get("Content-Type") or "").lower()
    if "html" in content_type or text.startswith("<"):
        return None
    return _one_line(scrub(text))


def connection_reason(exc: Exception) -> str:
    """A short cause such as "Connection refused" or "no data for 60 s"."""
    import requests

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {CONNECT_TIMEOUT:g} s"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"no data for {READ_TIMEOUT:g} s"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection closed before the whole file arrived"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS/SSL error"
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return "too many redirects"
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if match:
        return match.group(1).strip().rstrip(".")
    for needle in (
        "Name or service not known",
        "Temporary failure in name resolution",
        "Connection refused",
        "Connection reset",
        "Connection aborted",
        "timed out",
    ):
        if needle.lower() in text.lower():
            return needle
    return type(exc).__name__


def size_text(count: int) -> str:
    """``512 bytes``, ``1.5 KiB``, ``1.0 GiB``..."""
    if count < 1024:
        return f"{count} byte{'' if count == 1 else 's'}"
    value = float(count)
    units = ["KiB", "MiB", "GiB", "TiB"]
    value /= 1024
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:.1f} {units[0]}"


def os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


def _plural(count: int) -> str:
    return "s" if count > 1 else ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _colon(detail: str | None) -> str:
    return f": {detail}" if detail else ""


def _one_line(text: str) -> str:
    """Remote text (Kaggle's message, a reason phrase) on one line, escapes shown escaped."""
    text = printable(" ".join(text.split()))
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."
