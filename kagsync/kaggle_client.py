"""Download a competition's full leaderboard from Kaggle.

This is the only module of the package that talks to Kaggle, and the only one that
imports ``kagglesdk`` or ``requests``. Both are imported inside functions, so
``import kagsync.kaggle_client`` is free. The top-level ``kaggle`` package is never
imported: it authenticates at import time, may print help to stdout, make a network
call and ``exit(1)``.

Public API:

- :data:`ENDPOINT_ENV` -- environment variable naming a base URL that replaces
  production (used by tests to point at a local stand-in server).
- :class:`KaggleCredentials` -- who we are; its repr never shows the secret.
- :func:`find_credentials` -- find credentials the way the kaggle CLI does, without
  importing it, without network and without printing.
- :func:`download_leaderboard` -- stream ``<slug>.zip`` into a directory, with
  retries for 429 / 5xx / connection failures, and one-line errors from
  :mod:`kagsync.errors`.

The request goes through kagglesdk's own classes: ``ApiDownloadLeaderboardRequest``
(serialised by kagglesdk to ``{"competitionName": "<slug>"}``),
``CompetitionApiClient.download_leaderboard`` and a small ``KaggleHttpClient``
subclass that (a) takes its credentials only from :class:`KaggleCredentials` -- stock
kagglesdk would prefer ``KAGGLE_API_TOKEN`` / ``~/.kaggle/access_token`` over the
username and key it is given, and reads ``~/.kaggle/kaggle.json`` ignoring
``KAGGLE_CONFIG_DIR`` -- (b) targets a custom base URL, and (c) puts a timeout on
every request (stock kagglesdk sends without any timeout).
"""

from __future__ import annotations

import email.utils
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kagsync.errors import (
    CredentialsError,
    KaggleAuthError,
    KaggleConnectionError,
    KaggleError,
    KaggleForbiddenError,
    KaggleNotFoundError,
    KaggleRateLimitError,
    KaggleServerError,
    SourceError,
    ValidationError,
)

__all__ = [
    "ENDPOINT_ENV",
    "PRODUCTION_ENDPOINT",
    "KaggleCredentials",
    "download_leaderboard",
    "find_credentials",
]

ENDPOINT_ENV = "KAGSYNC_KAGGLE_ENDPOINT"
"""Environment variable: base URL replacing production, e.g. ``http://127.0.0.1:8123``.
Requests then go to ``{endpoint}/api/v1/<service>/<method>``."""

PRODUCTION_ENDPOINT = "https://api.kaggle.com"
"""Kaggle's API host; there requests go to ``https://api.kaggle.com/v1/<service>/<method>``."""

SETTINGS_URL = "https://www.kaggle.com/settings"

SERVICE_NAME = "competitions.CompetitionApiService"
METHOD_NAME = "DownloadLeaderboard"

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a TCP/TLS connection."""
READ_TIMEOUT = 60.0
"""Seconds to wait for any single read of the response (headers or a body chunk)."""
MAX_RETRY_AFTER = 120.0
"""Cap on a server's ``Retry-After``, in seconds."""
MAX_BACKOFF = 60.0
"""Cap on the exponential backoff (1, 2, 4, ... s)."""
CHUNK_SIZE = 64 * 1024

_USER_AGENT = "kaggle-api/v1.7.0 (kagsync)"
_SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ERROR_BODY_LIMIT = 16 * 1024
_MESSAGE_LIMIT = 300

_NO_CREDENTIALS_HELP = (
    "create an API token at https://www.kaggle.com/settings and save kaggle.json to "
    "~/.kaggle/ (or the folder named by KAGGLE_CONFIG_DIR), or set KAGGLE_USERNAME and "
    "KAGGLE_KEY, or set KAGGLE_API_TOKEN"
)


# --------------------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KaggleCredentials:
    """Kaggle credentials and where they came from.

    Either ``api_token`` is set (sent as ``Authorization: Bearer <token>``) or both
    ``username`` and ``key`` are (sent as HTTP Basic ``username:key``). ``origin`` says
    where they were found, e.g. ``"KAGGLE_USERNAME/KAGGLE_KEY"``,
    ``"/root/.kaggle/kaggle.json"``, ``"KAGGLE_API_TOKEN"`` or
    ``"~/.kaggle/access_token"``; it is safe to show to the user. ``repr()`` and
    ``str()`` never show ``key`` or ``api_token``.
    """

    username: str | None
    key: str | None = field(repr=False)
    api_token: str | None = field(repr=False)
    origin: str

    @property
    def uses_token(self) -> bool:
        """True when requests authenticate with ``Bearer <api_token>``."""
        return bool(self.api_token)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret strings (key, token) -- for scrubbing text, never for display."""
        return tuple(s for s in (self.key, self.api_token) if s)

    def describe(self) -> str:
        """One safe phrase naming the credential, e.g. ``key of 'alice' from ~/.kaggle/kaggle.json``."""
        if self.uses_token:
            return f"API token from {self.origin}"
        return f"API key of '{self.username}' from {self.origin}"


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME") or (
        environ.get("USERPROFILE") if os.name == "nt" else None
    )
    return Path(home) if home else Path.home()


def _display_path(path: Path, home: Path) -> str:
    """``~/...`` for paths under the home folder, else the full path."""
    try:
        return "~/" + path.relative_to(home).as_posix()
    except ValueError:
        return str(path)


def _kaggle_config_dir(environ: Mapping[str, str], home: Path) -> Path:
    """The folder holding kaggle.json, chosen as kaggle 2.2.5's ``KaggleApi.config_dir``:
    ``KAGGLE_CONFIG_DIR``; else ``~/.kaggle`` if it exists; else on Linux
    ``$XDG_CONFIG_HOME/kaggle`` (default ``~/.config/kaggle``). Nothing is created."""
    configured = environ.get("KAGGLE_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    legacy = home / ".kaggle"
    if sys.platform.startswith("linux") and not legacy.exists():
        xdg = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        return Path(xdg) / "kaggle"
    return legacy


def _read_token_file(path: Path, label: str) -> str | None:
    """The stripped token in ``path``, None if the file is absent or empty."""
    if not path.is_file():
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            f"Cannot read the Kaggle API token file {label} ({_os_reason(exc)}): fix its "
            f"permissions or remove it and {_NO_CREDENTIALS_HELP}."
        ) from None
    return token or None


def _read_kaggle_json(path: Path) -> tuple[str | None, str | None]:
    """(username, key) from a kaggle.json file; CredentialsError naming the file if unusable."""
    fix = f'it must hold {{"username": "...", "key": "..."}} as downloaded from {SETTINGS_URL}'
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            f"Cannot read Kaggle credentials file {path} ({_os_reason(exc)})."
        ) from None
    if not text.strip():
        raise CredentialsError(f"Kaggle credentials file {path} is empty: {fix}.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialsError(
            f"Kaggle credentials file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}): {fix}."
        ) from None
    if not isinstance(data, dict):
        raise CredentialsError(
            f"Kaggle credentials file {path} does not hold a JSON object: {fix}."
        )
    username, key = data.get("username"), data.get("key")
    for name, value in (("username", username), ("key", key)):
        if value is not None and not isinstance(value, str):
            raise CredentialsError(
                f'Kaggle credentials file {path} has a non-text "{name}": {fix}.'
            )
    return (username.strip() or None) if username else None, (
        key.strip() or None
    ) if key else None


def find_credentials(environ: Mapping[str, str] | None = None) -> KaggleCredentials:
    """Find Kaggle credentials the way the kaggle CLI does, without importing ``kaggle``.

    Looked up in this order (the first usable one wins):

    1. in a Kaggle notebook (``KAGGLE_KERNEL_RUN_TYPE`` and ``KAGGLE_DATA_PROXY_URL``
       set), the token file named by ``KAGGLE_API_V1_TOKEN`` -- as kagglesdk does;
    2. ``KAGGLE_API_TOKEN`` -- the token itself, or the path of a file holding it;
    3. ``KAGGLE_USERNAME`` + ``KAGGLE_KEY``;
    4. ``kaggle.json`` in ``KAGGLE_CONFIG_DIR``, else ``~/.kaggle``, else (Linux, when
       ``~/.kaggle`` does not exist) ``$XDG_CONFIG_HOME/kaggle`` / ``~/.config/kaggle``.
       As in the CLI, ``KAGGLE_USERNAME`` or ``KAGGLE_KEY`` alone override that field;
    5. ``~/.kaggle/access_token`` (or ``access_token.txt``).

    ``environ`` defaults to ``os.environ``; ``~`` is its ``HOME``. Nothing is printed,
    created or sent over the network, and OAuth ``credentials.json`` (whose refresh
    needs a network call) is not used.

    Raises:
        CredentialsError: nothing found (one line saying how to provide credentials),
            or a kaggle.json / token file that exists but cannot be used (naming it).
    """
    env = os.environ if environ is None else environ
    home = _home(env)

    # 1. Kaggle notebooks (kagglesdk.kaggle_env.get_access_token_from_env).
    if env.get("KAGGLE_KERNEL_RUN_TYPE") is not None and env.get(
        "KAGGLE_DATA_PROXY_URL"
    ):
        token_path = env.get("KAGGLE_API_V1_TOKEN")
        if token_path:
            token = _read_token_file(Path(token_path), token_path)
            if token:
                return KaggleCredentials(None, None, token, "KAGGLE_API_V1_TOKEN")

    # 2. KAGGLE_API_TOKEN: a token, or the path of a file holding one.
    env_token = (env.get("KAGGLE_API_TOKEN") or "").strip()
    if env_token:
        token_path = Path(env_token).expanduser()
        if (
            len(env_token) < 4096
            and ("/" in env_token or os.sep in env_token)
            and token_path.is_file()
        ):
            token = _read_token_file(token_path, env_token)
            if token:
                return KaggleCredentials(
                    None, None, token, f"KAGGLE_API_TOKEN file {env_token}"
                )
        else:
            return KaggleCredentials(None, None, env_token, "KAGGLE_API_TOKEN")

    # 3. KAGGLE_USERNAME + KAGGLE_KEY.
    env_user = (env.get("KAGGLE_USERNAME") or "").strip() or None
    env_key = (env.get("KAGGLE_KEY") or "").strip() or None
    if env_user and env_key:
        return KaggleCredentials(env_user, env_key, None, "KAGGLE_USERNAME/KAGGLE_KEY")

    # 4. kaggle.json (fields overridable by the environment, as in the CLI).
    config_file = _kaggle_config_dir(env, home) / "kaggle.json"
    if config_file.exists():
        file_user, file_key = _read_kaggle_json(config_file)
        username, key = env_user or file_user, env_key or file_key
        shown = _display_path(config_file, home)
        if username and key:
            parts = (["KAGGLE_USERNAME"] if env_user else []) + (
                ["KAGGLE_KEY"] if env_key else []
            )
            origin = " + ".join(parts + [shown])
            return KaggleCredentials(username, key, None, origin)
        missing = "username" if not username else "key"
        # A file with neither field may only hold other settings: go on looking.
        if file_user or file_key:
            raise CredentialsError(
                f'Kaggle credentials file {config_file} has no "{missing}": it must hold '
                f'{{"username": "...", "key": "..."}} as downloaded from {SETTINGS_URL}.'
            )

    # 5. ~/.kaggle/access_token (kagglesdk does not honour KAGGLE_CONFIG_DIR here).
    for name in ("access_token", "access_token.txt"):
        token_file = home / ".kaggle" / name
        token = _read_token_file(token_file, _display_path(token_file, home))
        if token:
            return KaggleCredentials(None, None, token, _display_path(token_file, home))

    if env_user or env_key:
        missing_var = "KAGGLE_KEY" if env_user else "KAGGLE_USERNAME"
        raise CredentialsError(
            f"No Kaggle credentials found: {missing_var} is not set; set it too, or "
            f"{_NO_CREDENTIALS_HELP}."
        )
    raise CredentialsError(f"No Kaggle credentials found: {_NO_CREDENTIALS_HELP}.")


# --------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------


def download_leaderboard(
    slug: str,
    dest_dir: Path,
    *,
    credentials: KaggleCredentials | None = None,
    endpoint: str | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download the full-leaderboard zip of competition ``slug``; return ``dest_dir/<slug>.zip``.

    The request is kagglesdk's ``DownloadLeaderboard`` RPC: ``POST
    {base}/v1/competitions.CompetitionApiService/DownloadLeaderboard`` with the JSON body
    ``{"competitionName": slug}``, where ``base`` is ``https://api.kaggle.com`` or, when
    ``endpoint`` (default: ``$KAGSYNC_KAGGLE_ENDPOINT``) is given, ``{endpoint}/api``.

    The body is streamed to a hidden temp file in ``dest_dir`` (created if missing) and
    renamed over ``<slug>.zip`` only when complete, so a reader never sees half a file
    and a failure leaves nothing behind. ``on_progress(bytes_so_far, total_or_None)`` is
    called after each chunk (and once at the start of each attempt with 0); a retried
    download starts again from 0.

    Retries, up to ``max_attempts`` requests in all: 429 waits ``Retry-After`` (capped
    at 120 s) or else 1, 2, 4... s; 5xx, connection failures, timeouts (connect 10 s,
    read 60 s) and a body cut short wait 1, 2, 4... s (or ``Retry-After``).
    ``sleep`` does the waiting (tests inject a recorder).

    Raises (all one-line, without the key, token or any URL holding credentials):
        CredentialsError: ``credentials`` is None and none can be found.
        KaggleAuthError: 401. KaggleForbiddenError: 403 (rules not accepted).
        KaggleNotFoundError: 404. KaggleError: any other 4xx.
        KaggleRateLimitError / KaggleServerError / KaggleConnectionError: 429 / 5xx /
        no connection, after every attempt.
        SourceError: the file cannot be written into ``dest_dir``.
        ValidationError: ``slug`` is not a plausible competition slug.
    """
    if not isinstance(slug, str) or not _SLUG_RE.fullmatch(slug) or ".." in slug:
        raise ValidationError(
            f"Invalid Kaggle competition slug {slug!r}: use the name from the competition's URL."
        )
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    creds = credentials if credentials is not None else find_credentials()
    if not creds.api_token and not (creds.username and creds.key):
        raise CredentialsError(
            f"The Kaggle credentials from {creds.origin} have no API token and no username/key."
        )
    base_url = _resolve_endpoint(endpoint)
    dest_dir = Path(dest_dir)
    target = dest_dir / f"{slug}.zip"
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(
            f"Cannot create download folder {dest_dir} ({_os_reason(exc)})."
        ) from None

    import requests  # lazy: costs time and memory

    shown_endpoint = _safe_url(base_url or PRODUCTION_ENDPOINT)
    http = _make_http_client(creds, base_url)
    try:
        return _download_with_retries(
            http,
            requests,
            slug,
            target,
            creds,
            shown_endpoint,
            max_attempts,
            sleep,
            on_progress,
        )
    finally:
        http.close()


def _download_with_retries(
    http,
    requests,
    slug,
    target,
    creds,
    shown_endpoint,
    max_attempts,
    sleep,
    on_progress,
):
    from kagglesdk.competitions.types.competition_api_service import (
        ApiDownloadLeaderboardRequest,
    )

    request = ApiDownloadLeaderboardRequest()
    request.competition_name = slug
    plural = lambda n: "s" if n > 1 else ""
    for attempt in range(1, max_attempts + 1):
        last = attempt == max_attempts
        backoff = min(2.0 ** (attempt - 1), MAX_BACKOFF)
        response = None
        try:
            response = http.download_leaderboard(request)
        except requests.HTTPError as exc:
            response = exc.response if exc.response is not None else http.last_response
        except requests.RequestException as exc:
            if not isinstance(exc, requests.exceptions.InvalidJSONError):
                if last:
                    raise KaggleConnectionError(
                        _scrub(
                            f"Could not reach Kaggle at {shown_endpoint} to download '{slug}' after "
                            f"{attempt} attempt{plural(attempt)} ({_connection_reason(exc)}): "
                            "check the network connection and try again.",
                            creds,
                        )
                    ) from None
                sleep(backoff)
                continue
            # kagglesdk calls response.json() on any application/json reply and lets a
            # malformed body escape as JSONDecodeError, losing the status: recover it.
            response = http.last_response
        except (ValueError, TypeError, KeyError):
            # kagglesdk's error-body check (resp["code"] >= 400) fails on odd JSON.
            response = http.last_response
            if response is None:
                raise
        if response is None:
            raise KaggleError(
                f"Kaggle's reply to the leaderboard download of '{slug}' could not be read."
            )

        status = response.status_code
        if not 200 <= status < 300:
            failure = _http_failure(slug, creds, status, response)
            if failure is not None:
                response.close()
                raise failure
            if last:
                response.close()
                raise _exhausted(slug, status, response, attempt, creds)
            wait = _retry_after(response, backoff)
            response.close()
            sleep(wait)
            continue
        if "application/json" in (response.headers.get("Content-Type") or "").lower():
            detail = _kaggle_message(response)
            response.close()
            raise KaggleError(
                _scrub(
                    f"Kaggle answered the leaderboard download of '{slug}' with JSON instead of a file "
                    f"(HTTP {status}{_colon(detail)}).",
                    creds,
                )
            )

        try:
            return _stream_to_file(response, target, on_progress)
        except requests.RequestException as exc:
            if last:
                raise KaggleConnectionError(
                    _scrub(
                        f"The leaderboard download of '{slug}' from {shown_endpoint} broke off "
                        f"({_connection_reason(exc)}, {attempt} attempt{plural(attempt)}): try again later.",
                        creds,
                    )
                ) from None
            sleep(backoff)
        finally:
            response.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _stream_to_file(response, target: Path, on_progress) -> Path:
    """Write the body into a temp file beside ``target``, then rename it into place."""
    total = _content_length(response)
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as exc:
        raise SourceError(
            f"Cannot write into download folder {target.parent} ({_os_reason(exc)})."
        ) from None
    tmp = Path(tmp_name)
    done = False
    try:
        with os.fdopen(fd, "wb") as out:
            received = 0
            if on_progress is not None:
                on_progress(0, total)
            for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                if not chunk:
                    continue
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise SourceError(
                        f"Cannot write {target} ({_os_reason(exc)})."
                    ) from None
                received += len(chunk)
                if on_progress is not None:
                    on_progress(received, total)
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise SourceError(
                    f"Cannot write {target} ({_os_reason(exc)})."
                ) from None
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise SourceError(f"Cannot save {target} ({_os_reason(exc)}).") from None
        done = True
        return target
    finally:
        if not done:
            try:
                tmp.unlink()
            except OSError:
                pass


def _content_length(response) -> int | None:
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("", "identity"):
        return None  # Content-Length counts compressed bytes; we count decoded ones
    try:
        value = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


# --------------------------------------------------------------------------------------
# kagglesdk client
# --------------------------------------------------------------------------------------


def _make_http_client(creds: KaggleCredentials, base_url: str | None):
    """A kagglesdk http client using exactly ``creds``, aimed at ``base_url`` (None:
    production), with timeouts; returns a small facade exposing ``download_leaderboard``."""
    import requests
    from kagglesdk.competitions.services.competition_api_service import (
        CompetitionApiClient,
    )
    from kagglesdk.kaggle_env import KaggleEnv
    from kagglesdk.kaggle_http_client import KaggleHttpClient

    class _TimeoutAdapter(requests.adapters.HTTPAdapter):
        """Default timeout on every send (kagglesdk passes none); remembers the last reply."""

        def __init__(self) -> None:
            super().__init__(max_retries=0)
            self.last_response = None

        def send(self, request, stream=False, timeout=None, **kwargs):
            if timeout is None:
                timeout = (CONNECT_TIMEOUT, READ_TIMEOUT)
            response = super().send(request, stream=stream, timeout=timeout, **kwargs)
            self.last_response = response
            return response

    class _HttpClient(KaggleHttpClient):
        def __init__(self) -> None:
            # An explicit env: KAGGLE_API_ENVIRONMENT must not redirect us, and LOCAL (not
            # STAGING/ADMIN) never asks for an IAP token. verbose=False: nothing printed.
            super().__init__(
                env=KaggleEnv.PROD if base_url is None else KaggleEnv.LOCAL,
                verbose=False,
                username=creds.username,
                password=creds.key,
                api_token=creds.api_token,
                user_agent=_USER_AGENT,
            )
            if base_url is not None:
                # Non-PROD URLs are f"{self._endpoint}/api/v1/{service}/{method}".
                self._endpoint = base_url
            self.adapter = _TimeoutAdapter()

        def _init_session(self):
            if self._session is None:
                super()._init_session()
                self._session.mount("http://", self.adapter)
                self._session.mount("https://", self.adapter)
            return self._session

        def _try_fill_auth(self):
            # Stock kagglesdk prefers KAGGLE_API_TOKEN / ~/.kaggle/access_token over the
            # username and key it was given, and reads ~/.kaggle/kaggle.json: use ours only.
            if creds.api_token:
                self._session.auth = KaggleHttpClient.BearerAuth(creds.api_token)
            else:
                self._session.auth = (creds.username, creds.key)
            self._signed_in = True

    http = _HttpClient()
    url = http._get_request_url(SERVICE_NAME, METHOD_NAME)
    expected = (
        f"{base_url}/api/v1/" if base_url is not None else f"{PRODUCTION_ENDPOINT}/v1/"
    )
    if not url.startswith(
        expected
    ):  # guard against a kagglesdk change sending us elsewhere
        raise SourceError(
            f"kagglesdk built an unexpected request URL {_safe_url(url)}; expected {_safe_url(expected)}."
        )
    api = CompetitionApiClient(http)

    class _Facade:
        @property
        def last_response(self):
            return http.adapter.last_response

        def download_leaderboard(self, request):
            http.adapter.last_response = None
            return api.download_leaderboard(request)

        def close(self):
            if http._session is not None:
                http._session.close()

    return _Facade()


def _resolve_endpoint(endpoint: str | None) -> str | None:
    """The custom base URL (no trailing slash), or None for production."""
    value = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
    value = (value or "").strip()
    if not value:
        return None
    if not re.match(r"https?://[^/\s]+", value):
        raise SourceError(
            f"Invalid Kaggle endpoint {_safe_url(value)!r} (from {ENDPOINT_ENV} or the endpoint option): "
            "use a base URL such as http://127.0.0.1:8080."
        )
    return value.rstrip("/")


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def _http_failure(
    slug: str, creds: KaggleCredentials, status: int, response
) -> KaggleError | None:
    """The exception for a non-retryable HTTP status, or None if it is worth retrying."""
    if status == 429 or status >= 500:
        return None
    detail = _kaggle_message(response)
    if status == 401:
        hint = (
            "check KAGGLE_API_TOKEN or create a new token"
            if creds.uses_token
            else "check the username and key, or create a new token (a new-style token belongs in "
            "KAGGLE_API_TOKEN, not in kaggle.json)"
        )
        msg = f"Kaggle rejected the {creds.describe()} (HTTP 401{_colon(detail)}): {hint} at {SETTINGS_URL}."
        return KaggleAuthError(_scrub(msg, creds))
    if status == 403:
        account = f" as Kaggle user '{creds.username}'" if creds.username else ""
        msg = (
            f"Kaggle refused the leaderboard of '{slug}' (HTTP 403{_colon(detail)}): accept the "
            f"competition's rules at https://www.kaggle.com/competitions/{slug}/rules"
            f"{account}, then try again (credentials from {creds.origin})."
        )
        return KaggleForbiddenError(_scrub(msg, creds))
    if status == 404:
        msg = (
            f"Kaggle has no competition '{slug}' (HTTP 404{_colon(detail)}): check the slug, the "
            "last part of https://www.kaggle.com/competitions/<slug>."
        )
        return KaggleNotFoundError(_scrub(msg, creds))
    reason = detail or _reason_phrase(response) or "unexpected reply"
    msg = f"Kaggle refused the leaderboard download of '{slug}' (HTTP {status}: {reason})."
    return KaggleError(_scrub(msg, creds))


def _exhausted(
    slug: str, status: int, response, attempts: int, creds: KaggleCredentials
) -> KaggleError:
    detail = _kaggle_message(response)
    plural = "s" if attempts > 1 else ""
    if status == 429:
        msg = (
            f"Kaggle kept rate-limiting the leaderboard download of '{slug}' (HTTP 429"
            f"{_colon(detail)}, {attempts} attempt{plural}): wait a few minutes and try again."
        )
        return KaggleRateLimitError(_scrub(msg, creds))
    msg = (
        f"Kaggle's server failed the leaderboard download of '{slug}' (HTTP {status}"
        f"{_colon(detail)}, {attempts} attempt{plural}): try again later."
    )
    return KaggleServerError(_scrub(msg, creds))


def _colon(detail: str | None) -> str:
    return f": {detail}" if detail else ""


def _reason_phrase(response) -> str | None:
    reason = getattr(response, "reason", None)
    return _one_line(reason) if isinstance(reason, str) and reason.strip() else None


def _kaggle_message(response) -> str | None:
    """Kaggle's own message from an error body: ``{"message"}``, ``{"error": {"message"}}``
    or short plain text. None for HTML, binary or empty bodies."""
    if response is None:
        return None
    try:
        body = b""
        for chunk in response.iter_content(chunk_size=4096):
            body += chunk
            if len(body) >= _ERROR_BODY_LIMIT:
                break
    except Exception:  # noqa: BLE001 - a broken error body must not hide the status
        return None
    text = body.decode("utf-8", errors="replace").strip()
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
            if not isinstance(message, str) and isinstance(data.get("error"), dict):
                message = data["error"].get("message")
            if not isinstance(message, str) and isinstance(data.get("error"), str):
                message = data["error"]
        return (
            _one_line(message) if isinstance(message, str) and message.strip() else None
        )
    content_type = (response.headers.get("Content-Type") or "").lower()
    if "html" in content_type or text.lstrip().startswith("<"):
        return None
    return _one_line(text)


def _retry_after(response, default: float) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), capped."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return default
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return default
        if when is None:
            return default
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return default
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _connection_reason(exc: Exception) -> str:
    """A short cause such as "Connection refused" or "timed out after 60 s"."""
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


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, query or fragment."""
    return re.sub(r"^(\w+://)[^/@]*@", r"\1", url).split("?", 1)[0].split("#", 1)[0]


def _scrub(message: str, creds: KaggleCredentials) -> str:
    """Last line of defence: never let a secret into a message."""
    message = " ".join(message.split())
    for secret in creds.secrets:
        if len(secret) >= 4:
            message = message.replace(secret, "***")
    return message
