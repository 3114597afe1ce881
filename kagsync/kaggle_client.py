"""Everything kagsync asks Kaggle: the full leaderboard, the paged view, competition details.

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
  importing it, without network and without printing; refuses a token or key holding a
  control character (a two-line ``access_token``) without ever showing it.
- :func:`describe_endpoint` -- the secret-free source description (``kaggle`` or
  ``kaggle:<url>``), pure and cheap.
- :func:`download_leaderboard` -- stream ``<slug>.zip`` into a directory, with
  retries for 429 / 5xx / connection failures, a size cap and an overall deadline.
- :func:`fetch_competition_details` -- ``GetCompetition`` (falling back to
  ``ListCompetitions``) as a flat dict of snake_case fields.
- :func:`fetch_leaderboard_page`, :func:`private_board_released`,
  :func:`fetch_private_board`, :func:`fetch_public_view` -- the paged
  ``GetLeaderboard`` view, which (unlike the download) serves the private board once
  Kaggle releases it.

Every error leaving this module is one of :mod:`kagsync.errors`, one line, and scrubbed
of the token, the key, ``user:key``, its base64 (the HTTP Basic string) and any URL
user-info -- also when a server echoes the ``Authorization`` header back.

Requests go through kagglesdk's own classes (``Api*Request`` objects serialised by
kagglesdk, ``CompetitionApiClient``) and one small ``KaggleHttpClient`` subclass,
:func:`_sdk_client_class`, which is the only code touching kagglesdk's private members
(listed in :data:`_KAGGLESDK_PRIVATE_MEMBERS`, checked by a test against the installed
kagglesdk). It (a) takes its credentials only from :class:`KaggleCredentials` -- stock
kagglesdk would prefer ``KAGGLE_API_TOKEN`` / ``~/.kaggle/access_token`` over the
username and key it is given, and reads ``~/.kaggle/kaggle.json`` ignoring
``KAGGLE_CONFIG_DIR`` -- (b) targets a custom base URL, and (c) puts a timeout on every
request (stock kagglesdk sends without any timeout).
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import functools
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kagsync.errors import (
    CredentialsError,
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
    ValidationError,
)
from kagsync.values import SLUG_RE

if TYPE_CHECKING:  # requests is imported lazily at run time
    from requests import PreparedRequest, Response

__all__ = [
    "BOARD_ROW_KEYS",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BYTES",
    "ENDPOINT_ENV",
    "MAX_PAGE_SIZE",
    "PRODUCTION_ENDPOINT",
    "KaggleCredentials",
    "describe_endpoint",
    "download_leaderboard",
    "fetch_competition_details",
    "fetch_leaderboard_page",
    "fetch_private_board",
    "fetch_public_view",
    "find_credentials",
    "private_board_released",
]

ENDPOINT_ENV = "KAGSYNC_KAGGLE_ENDPOINT"
"""Environment variable: base URL replacing production, e.g. ``http://127.0.0.1:8123``.
Requests then go to ``{endpoint}/api/v1/<service>/<method>``."""

PRODUCTION_ENDPOINT = "https://api.kaggle.com"
"""Kaggle's API host; there requests go to ``https://api.kaggle.com/v1/<service>/<method>``."""

SETTINGS_URL = "https://www.kaggle.com/settings"
COMPETITION_URL = "https://www.kaggle.com/competitions/{slug}"

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

DEFAULT_MAX_BYTES = 1 << 30
"""Default size cap of a leaderboard download: 1 GiB. The biggest real boards are well
under 1 MB zipped; the cap only stops a broken or hostile server from filling the disk."""
DEFAULT_DEADLINE = 900.0
"""Default overall seconds for one leaderboard download, retries and waits included."""

MAX_PAGE_SIZE = 200
"""Most rows Kaggle puts on one ``GetLeaderboard`` page."""
DESCRIPTION_LIMIT = 500
"""Most characters kept of a competition's description."""

_USER_AGENT = "kaggle-api/v1.7.0 (kagsync)"
# The slug rule of kagsync.values: a request never names anything else.
_SLUG_RE = SLUG_RE
_ERROR_BODY_LIMIT = 16 * 1024
_MESSAGE_LIMIT = 300
# Pages of ListCompetitions searched for an exact slug before giving up.
_SEARCH_PAGES = 3
# Socket timeouts run this much past the deadline, so that the deadline itself (not a
# timeout racing it by a few microseconds) is what ends a slow request.
_DEADLINE_SLACK = 0.25
# Only secrets at least this long are scrubbed from text: replacing a 1-3 character
# "secret" everywhere would garble messages while protecting nothing.
_MIN_SECRET = 4

_NO_CREDENTIALS_HELP = (
    "create an API token at https://www.kaggle.com/settings and save kaggle.json to "
    "~/.kaggle/ (or the folder named by KAGGLE_CONFIG_DIR), or set KAGGLE_USERNAME and "
    "KAGGLE_KEY, or set KAGGLE_API_TOKEN"
)

_T = TypeVar("_T")


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
    home = environ.get("HOME") or (environ.get("USERPROFILE") if os.name == "nt" else None)
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


def _secret_problem(value: str) -> str | None:
    """Why ``value`` (already stripped) cannot go into an HTTP header, or None.

    A control character (CR, LF, NUL...) would make requests refuse the header with an
    error quoting the whole ``Bearer <token>`` -- or, worse, split it -- so it is refused
    here, where the message can name the source without the value. Non-ASCII would make
    requests fail with an encoding error; no Kaggle key, token or username has any.
    """
    for char in value:
        if unicodedata.category(char) == "Cc":
            return "contains a line break or another control character"
    if not value.isascii():
        return "contains a character that is not plain ASCII"
    return None


def _check_secret(value: str | None, what: str, source: str) -> None:
    """Refuse ``value`` (a token, key or username found in ``source``) if unusable,
    with a CredentialsError naming the source -- never the value."""
    problem = _secret_problem(value) if value else None
    if problem:
        raise CredentialsError(
            f"The Kaggle {what} in {source} {problem}: it must be the {what} alone, on one "
            f"line (copy it again from {SETTINGS_URL})."
        )


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
    # Surrounding whitespace (the usual final newline) was stripped: anything left that
    # is a line break means the file holds more than the token (e.g. old + new token).
    _check_secret(token, "API token", f"file {label}")
    return token or None


def _read_kaggle_json(path: Path) -> tuple[str | None, str | None]:
    """(username, key) from a kaggle.json file; CredentialsError naming the file if unusable."""
    fix = f'it must hold {{"username": "...", "key": "..."}} as downloaded from {SETTINGS_URL}'
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"Cannot read Kaggle credentials file {path} ({_os_reason(exc)}).") from None
    if not text.strip():
        raise CredentialsError(f"Kaggle credentials file {path} is empty: {fix}.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialsError(
            f"Kaggle credentials file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}): {fix}."
        ) from None
    if not isinstance(data, dict):
        raise CredentialsError(f"Kaggle credentials file {path} does not hold a JSON object: {fix}.")
    username, key = data.get("username"), data.get("key")
    for name, value in (("username", username), ("key", key)):
        if value is not None and not isinstance(value, str):
            raise CredentialsError(f'Kaggle credentials file {path} has a non-text "{name}": {fix}.')
    username = (username.strip() or None) if username else None
    key = (key.strip() or None) if key else None
    _check_secret(username, "username", f'"username" of {path}')
    _check_secret(key, "API key", f'"key" of {path}')
    return username, key


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

    Values are stripped of surrounding whitespace (a token file's final newline is
    normal). A token, key or username that still holds a control character (CR, LF,
    NUL...) or non-ASCII text is refused, naming the variable or file, never the value.

    ``environ`` defaults to ``os.environ``; ``~`` is its ``HOME``. Nothing is printed,
    created or sent over the network, and OAuth ``credentials.json`` (whose refresh
    needs a network call) is not used.

    Raises:
        CredentialsError: nothing found (one line saying how to provide credentials),
            or a kaggle.json / token file / variable that exists but cannot be used
            (naming it).
    """
    env = os.environ if environ is None else environ
    home = _home(env)

    # 1. Kaggle notebooks (kagglesdk.kaggle_env.get_access_token_from_env).
    if env.get("KAGGLE_KERNEL_RUN_TYPE") is not None and env.get("KAGGLE_DATA_PROXY_URL"):
        notebook_token = env.get("KAGGLE_API_V1_TOKEN")
        if notebook_token:
            token = _read_token_file(Path(notebook_token), notebook_token)
            if token:
                return KaggleCredentials(None, None, token, "KAGGLE_API_V1_TOKEN")

    # 2. KAGGLE_API_TOKEN: a token, or the path of a file holding one.
    env_token = (env.get("KAGGLE_API_TOKEN") or "").strip()
    if env_token:
        # Checked before the path test: a value with a line break is no usable path either.
        _check_secret(env_token, "API token", "KAGGLE_API_TOKEN")
        token_path = Path(env_token).expanduser()
        if len(env_token) < 4096 and ("/" in env_token or os.sep in env_token) and token_path.is_file():
            token = _read_token_file(token_path, env_token)
            if token:
                return KaggleCredentials(None, None, token, f"KAGGLE_API_TOKEN file {env_token}")
        else:
            return KaggleCredentials(None, None, env_token, "KAGGLE_API_TOKEN")

    # 3. KAGGLE_USERNAME + KAGGLE_KEY.
    env_user = (env.get("KAGGLE_USERNAME") or "").strip() or None
    env_key = (env.get("KAGGLE_KEY") or "").strip() or None
    _check_secret(env_user, "username", "KAGGLE_USERNAME")
    _check_secret(env_key, "API key", "KAGGLE_KEY")
    if env_user and env_key:
        return KaggleCredentials(env_user, env_key, None, "KAGGLE_USERNAME/KAGGLE_KEY")

    # 4. kaggle.json (fields overridable by the environment, as in the CLI).
    config_file = _kaggle_config_dir(env, home) / "kaggle.json"
    if config_file.exists():
        file_user, file_key = _read_kaggle_json(config_file)
        username, key = env_user or file_user, env_key or file_key
        shown = _display_path(config_file, home)
        if username and key:
            parts = (["KAGGLE_USERNAME"] if env_user else []) + (["KAGGLE_KEY"] if env_key else [])
            origin = " + ".join([*parts, shown])
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
            f"No Kaggle credentials found: {missing_var} is not set; set it too, or {_NO_CREDENTIALS_HELP}."
        )
    raise CredentialsError(f"No Kaggle credentials found: {_NO_CREDENTIALS_HELP}.")


def _check_credentials(creds: KaggleCredentials) -> None:
    """Refuse credentials that cannot be sent (also ones built by a caller, not found here)."""
    if not creds.api_token and not (creds.username and creds.key):
        raise CredentialsError(f"The Kaggle credentials from {creds.origin} have no API token and no username/key.")
    if creds.api_token:
        _check_secret(creds.api_token, "API token", creds.origin)
    else:
        _check_secret(creds.username, "username", creds.origin)
        _check_secret(creds.key, "API key", creds.origin)


# --------------------------------------------------------------------------------------
# Endpoints and secret scrubbing
# --------------------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)(.*)", re.DOTALL)
# scheme://user-info@ anywhere in a text (user-info up to the first '@').
_USERINFO_IN_TEXT_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@]*@")


def _split_userinfo(url: str) -> tuple[str, str | None]:
    """(``url`` without user-info, query or fragment; the user-info or None).

    The user-info runs to the *last* '@' before any '?' or '#': a password may hold
    '@' or even '/', and an API base URL never has an '@' in its path.
    """
    text = url.strip()
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    match = _SCHEME_RE.fullmatch(text)
    if match is None:
        return text, None
    scheme, rest = match.groups()
    if "@" not in rest:
        return text, None
    userinfo, _, host_and_path = rest.rpartition("@")
    return scheme + host_and_path, userinfo


def _safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, query or fragment, on one line."""
    return "".join(_split_userinfo(url)[0].split())


def describe_endpoint(endpoint: str | None) -> str:
    """The secret-free description of the Kaggle source, recorded with each sync run.

    ``"kaggle"`` for production, else ``"kaggle:<url>"`` where ``<url>`` is ``endpoint``
    (default: ``$KAGSYNC_KAGGLE_ENDPOINT``) without user-info, query, fragment or
    trailing slash. Pure and cheap: no import, no network, never raises.
    """
    value = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
    value = (value or "").strip()
    if not value:
        return "kaggle"
    return f"kaggle:{_safe_url(value).rstrip('/')}"


class _Scrubber:
    """Removes every form of the secrets from a text: the token, the key, ``user:key``,
    its base64 (what an echoed ``Authorization: Basic`` header shows), their
    percent-encoded forms, and the endpoint's user-info."""

    def __init__(self, creds: KaggleCredentials | None, endpoint: str | None) -> None:
        found: set[str] = set()
        if creds is not None:
            found.update(creds.secrets)
            if creds.username and creds.key:
                pair = f"{creds.username}:{creds.key}"
                encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
                found.update({pair, encoded, encoded.rstrip("=")})
        if endpoint:
            _, userinfo = _split_userinfo(endpoint)
            if userinfo:
                found.update({userinfo, userinfo.partition(":")[2]})
        for secret in list(found):
            found.update({urllib.parse.quote(secret, safe=""), urllib.parse.unquote(secret)})
        # Longest first, so that "user:key" goes before "key" leaves "user:" behind.
        self.secrets = sorted((s for s in found if len(s) >= _MIN_SECRET), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` on one line, secrets replaced by ``***``."""
        text = " ".join(text.split())
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _USERINFO_IN_TEXT_RE.sub(r"\1***@", text)

    def leaks(self, text: str) -> bool:
        """True if ``text`` holds any secret or URL user-info."""
        return self(text) != " ".join(text.split())


@contextlib.contextmanager
def _no_secret_escapes(scrub: _Scrubber) -> Iterator[None]:
    """Last line of defence around every network call: whatever is raised, its message
    leaves without a secret. Messages are built scrubbed already; this catches the rest
    (an exception from requests or kagglesdk quoting a header, say)."""
    try:
        yield
    except KagsyncError as exc:
        text = str(exc)
        if not scrub.leaks(text):
            raise
        clean = type(exc)(scrub(text))
        raise clean from None
    except Exception as exc:  # only re-raised as it is, or without its secret
        if not (scrub.leaks(str(exc)) or scrub.leaks(repr(exc))):
            raise
        # Not even the rest of the text: it may hold more than the secrets we know of
        # (the bug that prompted this quoted "Bearer <token>\n<an older token>").
        raise KaggleError(
            f"The Kaggle request failed unexpectedly ({type(exc).__name__}; its message is not shown "
            "because it quoted the credentials)."
        ) from None


def _resolve_endpoint(endpoint: str | None) -> str | None:
    """The custom base URL (no user-info, no trailing slash), or None for production.

    User-info in the endpoint is dropped: kagglesdk sends its own ``Authorization``
    header, so a ``user:password@`` could never be used -- only leaked.
    """
    value = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
    value = (value or "").strip()
    if not value:
        return None
    clean = _safe_url(value)
    if not re.match(r"https?://[^/\s]+", clean):
        raise SourceError(
            f"Invalid Kaggle endpoint {clean!r} (from {ENDPOINT_ENV} or the endpoint option): "
            "use a base URL such as http://127.0.0.1:8080."
        )
    return clean.rstrip("/")


# --------------------------------------------------------------------------------------
# The kagglesdk client: the one place touching kagglesdk's private members
# --------------------------------------------------------------------------------------

_KAGGLESDK_PRIVATE_MEMBERS: dict[str, tuple[str, ...] | None] = {
    # overridden methods: name -> parameter names of kagglesdk's own definition
    "_init_session": ("self",),
    "_try_fill_auth": ("self",),
    # a method called, to check the URL kagglesdk builds
    "_get_request_url": ("self", "service_name", "request_name"),
    # instance attributes read or written (None: an attribute, not a method)
    "_endpoint": None,
    "_session": None,
}
"""Private members of ``kagglesdk.kaggle_http_client.KaggleHttpClient`` that
:func:`_sdk_client_class` relies on. tests/test_kaggle_client.py checks each against the
installed kagglesdk, so a kagglesdk release renaming one fails loudly there."""

_KAGGLESDK_INIT_PARAMETERS = ("env", "verbose", "username", "password", "api_token", "user_agent")
"""Keyword arguments passed to ``KaggleHttpClient.__init__`` (public, but checked too)."""


@functools.cache
def _sdk_client_class() -> type[Any]:
    """The ``KaggleHttpClient`` subclass used for every request (built once, lazily,
    because defining it needs kagglesdk and requests imported)."""
    import requests
    from kagglesdk.kaggle_env import KaggleEnv
    from kagglesdk.kaggle_http_client import KaggleHttpClient

    class TimeoutAdapter(requests.adapters.HTTPAdapter):
        """Puts a timeout on every send (kagglesdk passes none) and remembers the last
        reply, so that a status kagglesdk turned into a bare exception is recovered."""

        def __init__(self) -> None:
            super().__init__(max_retries=0)
            self.timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
            self.last_response: Response | None = None

        def send(
            self,
            request: PreparedRequest,
            stream: bool = False,
            timeout: float | tuple[float | None, float | None] | None = None,
            verify: bool | str = True,
            cert: str | tuple[str, str] | None = None,
            proxies: dict[str, str] | None = None,
        ) -> Response:
            response = super().send(
                request,
                stream=stream,
                timeout=timeout or self.timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
            self.last_response = response
            return response

    class KagsyncHttpClient(KaggleHttpClient):  # type: ignore[misc]
        """kagglesdk's http client with exactly our credentials, endpoint and timeouts."""

        def __init__(self, creds: KaggleCredentials, base_url: str | None) -> None:
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
            self._kagsync_creds = creds
            if base_url is not None:
                # Non-PROD URLs are f"{self._endpoint}/api/v1/{service}/{method}".
                self._endpoint = base_url
            self.adapter = TimeoutAdapter()

        def _init_session(self) -> Any:
            if self._session is None:
                super()._init_session()
                session: Any = self._session  # kagglesdk declares it None until now
                session.mount("http://", self.adapter)
                session.mount("https://", self.adapter)
            return self._session

        def _try_fill_auth(self) -> None:
            # Stock kagglesdk prefers KAGGLE_API_TOKEN / ~/.kaggle/access_token over the
            # username and key it was given, and reads ~/.kaggle/kaggle.json: use ours only.
            creds = self._kagsync_creds
            if creds.api_token:
                self._session.auth = KaggleHttpClient.BearerAuth(creds.api_token)
            else:
                self._session.auth = (creds.username, creds.key)

        def request_url(self, method: str) -> str:
            return str(self._get_request_url(SERVICE_NAME, method))

    return KagsyncHttpClient


class _Client:
    """One kagglesdk client and its ``CompetitionApiClient``, for one public call."""

    def __init__(self, creds: KaggleCredentials, base_url: str | None) -> None:
        from kagglesdk.competitions.services.competition_api_service import CompetitionApiClient

        self.http = _sdk_client_class()(creds, base_url)
        url = self.http.request_url(METHOD_NAME)
        expected = f"{base_url}/api/v1/" if base_url is not None else f"{PRODUCTION_ENDPOINT}/v1/"
        if not url.startswith(expected):  # a kagglesdk change sending us elsewhere
            raise SourceError(
                f"kagglesdk built an unexpected request URL {_safe_url(url)}; expected {_safe_url(expected)}."
            )
        self.api = CompetitionApiClient(self.http)

    @property
    def last_response(self) -> Response | None:
        response: Response | None = self.http.adapter.last_response
        return response

    def call(self, method: str, request: Any, timeout: tuple[float, float]) -> Any:
        """``CompetitionApiClient.<method>(request)`` with this timeout."""
        self.http.adapter.last_response = None
        self.http.adapter.timeout = timeout
        return getattr(self.api, method)(request)

    def close(self) -> None:
        if self.http._session is not None:
            self.http._session.close()


# --------------------------------------------------------------------------------------
# Sessions: retries, deadlines and errors shared by every call
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    """One kind of request: the CompetitionApiClient method and how to name it to people."""

    method: str  # e.g. "download_leaderboard"
    what: str  # e.g. "the leaderboard download of 'titanic'"
    leaderboard: bool  # a 403 then means the rules are not accepted


class _BrokenOff(Exception):
    """A response body that broke off mid-stream (worth a retry)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


class _Session:
    """State for one public call: credentials, endpoint, client, retry policy, deadline."""

    def __init__(
        self,
        slug: str,
        *,
        credentials: KaggleCredentials | None,
        endpoint: str | None,
        max_attempts: int,
        sleep: Callable[[float], None],
        deadline: float | None = None,
    ) -> None:
        if not isinstance(slug, str) or not _SLUG_RE.fullmatch(slug) or ".." in slug:
            raise ValidationError(f"Invalid Kaggle competition slug {slug!r}: use the name from the competition's URL.")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.slug = slug
        self.creds = credentials if credentials is not None else find_credentials()
        _check_credentials(self.creds)
        raw_endpoint = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV)
        self.scrub = _Scrubber(self.creds, raw_endpoint)
        self.base_url = _resolve_endpoint(endpoint)
        self.shown_endpoint = _safe_url(self.base_url or PRODUCTION_ENDPOINT)
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.deadline = deadline
        self.started = time.monotonic()
        self.attempts = 0
        self._client: _Client | None = None

    # -- time ------------------------------------------------------------------------

    def remaining(self) -> float | None:
        """Seconds left before the deadline (may be negative), None without one."""
        if self.deadline is None:
            return None
        return self.deadline - (time.monotonic() - self.started)

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def can_wait(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` and trying again still fits before the deadline."""
        remaining = self.remaining()
        return remaining is None or seconds < remaining

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts for the next request, cut down to the deadline."""
        remaining = self.remaining()
        if remaining is None:
            return CONNECT_TIMEOUT, READ_TIMEOUT
        cap = max(remaining, 0.0) + _DEADLINE_SLACK
        return min(CONNECT_TIMEOUT, cap), min(READ_TIMEOUT, cap)

    def late(self, received: int | None = None) -> DownloadLimitError:
        """The error for a download still running at its deadline."""
        got = f"{_size(received)} received, " if received else ""
        return DownloadLimitError(
            self.scrub(
                f"The leaderboard download of '{self.slug}' did not finish within its {self.deadline:g} s "
                f"deadline ({got}{self.attempts} attempt{_plural(self.attempts)}): try again later, or "
                "allow more time if the connection is slow."
            )
        )

    # -- requests --------------------------------------------------------------------

    @property
    def client(self) -> _Client:
        if self._client is None:
            self._client = _Client(self.creds, self.base_url)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def request(self, op: _Op, request: Any, handle: Callable[[Response], _T]) -> _T:
        """Send ``request`` with retries; ``handle(response)`` turns a 2xx reply into the
        result (raising :class:`_BrokenOff` when its body broke off, to retry).

        Up to ``max_attempts`` requests: 429 waits ``Retry-After`` (capped) or else
        1, 2, 4... s; 5xx, connection failures, timeouts and cut-short bodies wait
        1, 2, 4... s (or ``Retry-After``). Other statuses raise at once. With a deadline,
        a wait that would pass it ends the retries early with the last failure's error,
        and a request still running at the deadline raises DownloadLimitError.
        """
        for attempt in range(1, self.max_attempts + 1):
            self.attempts = attempt
            last = attempt == self.max_attempts
            backoff = min(2.0 ** (attempt - 1), MAX_BACKOFF)
            if self.expired():
                raise self.late()
            response, failure = self._send(op, request)
            if response is None:
                assert failure is not None
                self._pause(last, backoff, functools.partial(self._unreachable, op, failure))
                continue
            status = response.status_code
            if not 200 <= status < 300:
                try:
                    error = self._http_failure(op, status, response)
                    if error is not None:
                        raise error
                    wait = _retry_after(response, backoff)
                    # Read now: the body is gone once the response is closed.
                    exhausted = functools.partial(self._exhausted, op, status, _kaggle_message(response, self.scrub))
                finally:
                    response.close()
                self._pause(last, wait, exhausted, server_failed=True)
                continue
            try:
                return handle(response)
            except _BrokenOff as broken:
                self._pause(last, backoff, functools.partial(self._broke_off, op, broken.cause))
            finally:
                response.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, op: _Op, request: Any) -> tuple[Response | None, Exception | None]:
        """One request through kagglesdk: (the final response, None), or (None, the
        connection-level failure). kagglesdk raises on error statuses (sometimes without
        the response), so the response is taken from the adapter, which saw it."""
        import requests

        client = self.client
        try:
            client.call(op.method, request, self.timeouts())
            response = client.last_response
        except requests.HTTPError as exc:
            response = exc.response if exc.response is not None else client.last_response
        except requests.RequestException as exc:
            if not isinstance(exc, requests.exceptions.InvalidJSONError):
                return None, exc
            # kagglesdk calls response.json() on any application/json reply and lets a
            # malformed body escape as JSONDecodeError, losing the status: recover it.
            response = client.last_response
        except (ValueError, TypeError, KeyError, AttributeError):
            # kagglesdk's error-body check (resp["code"] >= 400) or its parsing of a
            # 2xx body failed on odd JSON: the status and body are still readable.
            response = client.last_response
            if response is None:
                raise
        if response is None:
            raise KaggleError(f"Kaggle's reply to {op.what} could not be read.")
        return response, None

    def _pause(
        self,
        last: bool,
        wait: float,
        error: Callable[[bool], KaggleError],
        *,
        server_failed: bool = False,
    ) -> None:
        """Wait before the next attempt, or raise: ``error(early)`` after the last attempt
        or when the wait would pass the deadline (``early``); DownloadLimitError when the
        deadline passed during a request that got no answer (``not server_failed``)."""
        if not server_failed and self.expired():
            raise self.late()
        early = not last and not self.can_wait(wait)
        if last or early:
            raise error(early)
        self.sleep(wait)

    def request_json(self, op: _Op, request: Any, *, exact_numbers: bool = False) -> dict[str, Any]:
        """:meth:`request` for an RPC answering one JSON object; returns it as parsed.

        The body is parsed here rather than taken from kagglesdk's typed object: kagglesdk
        turns dates into naive datetimes cut to milliseconds, fails the whole reply on one
        odd value, and ``exact_numbers`` keeps a JSON number's text (a score) as it was.
        """

        def handle(response: Response) -> dict[str, Any]:
            try:
                data = json.loads(
                    response.content.decode("utf-8-sig"),
                    parse_float=str if exact_numbers else float,
                )
            except (UnicodeDecodeError, ValueError):
                data = None
            if not isinstance(data, dict):
                raise KaggleError(self.scrub(f"Kaggle answered {op.what} with something other than a JSON object."))
            return data

        return self.request(op, request, handle)

    # -- errors ----------------------------------------------------------------------

    def _early_note(self, early: bool) -> str:
        return f"; stopped to keep within the {self.deadline:g} s deadline" if early else ""

    def _broke_off(self, op: _Op, exc: Exception, early: bool) -> KaggleConnectionError:
        attempts = self.attempts
        return KaggleConnectionError(
            self.scrub(
                f"{_capital(op.what)} from {self.shown_endpoint} broke off ({_connection_reason(exc)}, "
                f"{attempts} attempt{_plural(attempts)}{self._early_note(early)}): try again later."
            )
        )

    def _unreachable(self, op: _Op, exc: Exception, early: bool) -> KaggleConnectionError:
        attempts = self.attempts
        return KaggleConnectionError(
            self.scrub(
                f"Could not reach Kaggle at {self.shown_endpoint} for {op.what} after "
                f"{attempts} attempt{_plural(attempts)} ({_connection_reason(exc)}"
                f"{self._early_note(early)}): check the network connection and try again."
            )
        )

    def _http_failure(self, op: _Op, status: int, response: Response) -> KaggleError | None:
        """The exception for a non-retryable HTTP status, or None if it is worth retrying."""
        if status == 429 or status >= 500:
            return None
        creds, slug = self.creds, self.slug
        detail = _kaggle_message(response, self.scrub)
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
        reason = detail or _reason_phrase(response, self.scrub) or "unexpected reply"
        return KaggleError(self.scrub(f"Kaggle refused {op.what} (HTTP {status}: {reason})."))

    def _exhausted(self, op: _Op, status: int, detail: str | None, early: bool) -> KaggleError:
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
def _session(
    slug: str,
    *,
    credentials: KaggleCredentials | None,
    endpoint: str | None,
    max_attempts: int,
    sleep: Callable[[float], None],
    deadline: float | None = None,
) -> Iterator[_Session]:
    """A :class:`_Session`, closed afterwards, inside the secret guard."""
    session = _Session(
        slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep, deadline=deadline
    )
    with _no_secret_escapes(session.scrub):
        try:
            yield session
        finally:
            session.close()


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
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float = DEFAULT_DEADLINE,
) -> Path:
    """Download the full-leaderboard zip of competition ``slug``; return ``dest_dir/<slug>.zip``.

    The request is kagglesdk's ``DownloadLeaderboard`` RPC: ``POST
    {base}/v1/competitions.CompetitionApiService/DownloadLeaderboard`` with the JSON body
    ``{"competitionName": slug}``, where ``base`` is ``https://api.kaggle.com`` or, when
    ``endpoint`` (default: ``$KAGSYNC_KAGGLE_ENDPOINT``) is given, ``{endpoint}/api``.
    Note that after a competition closes this is still the *public* board (see
    :func:`fetch_private_board`).

    The body is streamed to a hidden temp file in ``dest_dir`` (created if missing) and
    renamed over ``<slug>.zip`` only when complete, so a reader never sees half a file
    and a failure leaves nothing behind. ``on_progress(bytes_so_far, total_or_None)`` is
    called after each chunk (and once at the start of each attempt with 0); a retried
    download starts again from 0.

    Retries, up to ``max_attempts`` requests in all: 429 waits ``Retry-After`` (capped
    at 120 s) or else 1, 2, 4... s; 5xx, connection failures, timeouts (connect 10 s,
    read 60 s) and a body cut short wait 1, 2, 4... s (or ``Retry-After``).
    ``sleep`` does the waiting (tests inject a recorder).

    Limits: ``max_bytes`` caps the file (checked against ``Content-Length`` before
    reading, and while streaming); ``deadline`` caps the seconds the whole call may take,
    retries and waits included -- a server trickling bytes forever is cut off when it
    passes. A retry wait that would pass the deadline is not waited: the last failure
    is raised instead (so a 429 stays a KaggleRateLimitError).

    Raises (all one-line, without the key, token or any URL holding credentials):
        CredentialsError: ``credentials`` is None and none can be found, or they hold a
            control character.
        KaggleAuthError: 401. KaggleForbiddenError: 403 (rules not accepted).
        KaggleNotFoundError: 404. KaggleError: any other 4xx.
        KaggleRateLimitError / KaggleServerError / KaggleConnectionError: 429 / 5xx /
        no connection, after every attempt.
        DownloadLimitError: the file is larger than ``max_bytes``, or the download was
            still running at ``deadline``.
        SourceError: the file cannot be written into ``dest_dir``.
        ValidationError: ``slug`` is not a plausible competition slug.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError("max_bytes must be a positive number of bytes")
    if not deadline > 0:  # also refuses NaN
        raise ValueError("deadline must be a positive number of seconds")
    with _session(
        slug,
        credentials=credentials,
        endpoint=endpoint,
        max_attempts=max_attempts,
        sleep=sleep,
        deadline=deadline if math.isfinite(deadline) else None,
    ) as session:
        dest_dir = Path(dest_dir)
        target = dest_dir / f"{slug}.zip"
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(f"Cannot create download folder {dest_dir} ({_os_reason(exc)}).") from None

        from kagglesdk.competitions.types.competition_api_service import ApiDownloadLeaderboardRequest

        request = ApiDownloadLeaderboardRequest()
        request.competition_name = slug
        op = _Op("download_leaderboard", f"the leaderboard download of '{slug}'", leaderboard=True)

        def handle(response: Response) -> Path:
            if "application/json" in (response.headers.get("Content-Type") or "").lower():
                detail = _kaggle_message(response, session.scrub)
                raise KaggleError(
                    session.scrub(
                        f"Kaggle answered the leaderboard download of '{slug}' with JSON instead of a file "
                        f"(HTTP {response.status_code}{_colon(detail)})."
                    )
                )
            return _stream_to_file(session, response, target, on_progress, max_bytes)

        return session.request(op, request, handle)


class _Watchdog:
    """Cuts a response's connection when the deadline passes.

    A server trickling a byte now and then keeps every single read under the read
    timeout, and requests blocks until a whole chunk has arrived: only a timer in
    another thread can stop that. Shutting the socket down wakes the blocked read,
    which then fails like a connection cut short.
    """

    def __init__(self, response: Response, seconds: float | None) -> None:
        self.fired = False
        self._response = response
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(max(seconds, 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        import socket

        self.fired = True
        raw: Any = getattr(self._response, "raw", None)  # urllib3's HTTPResponse
        # A kept-alive connection still holds its socket (urllib3 2.x: raw.connection).
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                return
        # A connection that closes after the reply has handed its socket to the response:
        # reach it through the public fileno(), via a duplicate descriptor (shutting the
        # duplicate down shuts the connection down; closing it leaves the original alone).
        with contextlib.suppress(Exception):
            duplicate = socket.socket(fileno=os.dup(raw.fileno()))
            try:
                duplicate.shutdown(socket.SHUT_RDWR)
                return
            finally:
                duplicate.close()
        # Last resort (the chunk loop checks the time too).
        with contextlib.suppress(Exception):
            self._response.close()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _stream_to_file(
    session: _Session,
    response: Response,
    target: Path,
    on_progress: Callable[[int, int | None], None] | None,
    max_bytes: int,
) -> Path:
    """Write the body into a temp file beside ``target``, then rename it into place."""
    import requests

    total = _content_length(response)
    if total is not None and total > max_bytes:
        raise _too_large(session, max_bytes, f"Kaggle announced {_size(total)}")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise SourceError(f"Cannot write into download folder {target.parent} ({_os_reason(exc)}).") from None
    tmp = Path(tmp_name)
    done = False
    watchdog = _Watchdog(response, session.remaining())
    received = 0
    try:
        with os.fdopen(fd, "wb") as out:
            if on_progress is not None:
                on_progress(0, total)
            try:
                for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                    if watchdog.fired or session.expired():
                        raise session.late(received)
                    if not chunk:
                        continue
                    received += len(chunk)
                    if received > max_bytes:
                        raise _too_large(session, max_bytes, f"more than {_size(max_bytes)} received")
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise SourceError(f"Cannot write {target} ({_os_reason(exc)}).") from None
                    if on_progress is not None:
                        on_progress(received, total)
            except requests.RequestException as exc:
                if watchdog.fired or session.expired():
                    raise session.late(received) from None
                raise _BrokenOff(exc) from None
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise SourceError(f"Cannot write {target} ({_os_reason(exc)}).") from None
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise SourceError(f"Cannot save {target} ({_os_reason(exc)}).") from None
        done = True
        return target
    finally:
        watchdog.cancel()
        if not done:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _too_large(session: _Session, max_bytes: int, how: str) -> DownloadLimitError:
    return DownloadLimitError(
        session.scrub(
            f"The leaderboard download of '{session.slug}' is larger than its {_size(max_bytes)} cap "
            f"({how}): nothing was saved; raise the cap if the board is really that big."
        )
    )


def _content_length(response: Response) -> int | None:
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("", "identity"):
        return None  # Content-Length counts compressed bytes; we count decoded ones
    try:
        value = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


# --------------------------------------------------------------------------------------
# Competition details
# --------------------------------------------------------------------------------------


def fetch_competition_details(
    slug: str,
    *,
    endpoint: str | None = None,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, object]:
    """A competition's details from Kaggle's ``GetCompetition`` RPC.

    Sent as kagglesdk's ``ApiGetCompetitionRequest`` through
    ``CompetitionApiClient.get_competition`` (body ``{"competitionName": slug}``). That
    RPC is not confirmed against production, so on 404 the competition is looked up
    with ``ListCompetitions`` (``search=slug``, a few pages) and the entry whose ``ref``
    ends in exactly ``slug`` is used.

    Returns a dict with these keys (a value Kaggle leaves out is None):

    - ``slug`` (str): the last path part of Kaggle's ``ref``, else ``slug``;
    - ``title``, ``evaluation_metric``, ``reward``, ``category``, ``host_name`` (str);
    - ``url`` (str): as given, else ``https://www.kaggle.com/competitions/<slug>``;
    - ``description`` (str): HTML stripped to plain text, whitespace collapsed, at most
      500 characters;
    - ``enabled_date``, ``deadline``, ``merger_deadline``, ``new_entrant_deadline``:
      ``"YYYY-MM-DDTHH:MM:SSZ"`` in UTC (Kaggle's placeholder dates -- year 1 or the
      Unix epoch -- become None);
    - ``team_count``, ``max_team_size``, ``max_daily_submissions`` (int).

    Retries and errors as :func:`download_leaderboard` (without size cap or deadline).

    Raises:
        KaggleNotFoundError: "no competition '<slug>' on Kaggle".
        CredentialsError, KaggleAuthError, KaggleForbiddenError, KaggleRateLimitError,
        KaggleServerError, KaggleConnectionError, KaggleError, ValidationError: as
        :func:`download_leaderboard`.
    """
    with _session(slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep) as session:
        from kagglesdk.competitions.types.competition_api_service import (
            ApiGetCompetitionRequest,
            ApiListCompetitionsRequest,
        )

        request = ApiGetCompetitionRequest()
        request.competition_name = slug
        try:
            data = session.request_json(
                _Op("get_competition", f"the details of competition '{slug}'", leaderboard=False), request
            )
        except KaggleNotFoundError:
            data = None
        if data is None:
            data = _search_competition(session, ApiListCompetitionsRequest)
        if data is None:
            raise KaggleNotFoundError(f"no competition '{slug}' on Kaggle")
        return competition_details_from_api(data, slug)


def _search_competition(session: _Session, request_class: Any) -> dict[str, Any] | None:
    """The ``ListCompetitions`` entry whose ref ends in exactly the session's slug."""
    slug = session.slug
    op = _Op("list_competitions", f"the competition search for '{slug}'", leaderboard=False)
    token = ""
    for _ in range(_SEARCH_PAGES):
        request = request_class()
        request.search = slug
        if token:
            request.page_token = token
        try:
            data = session.request_json(op, request)
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


def _ref_slug(ref: object) -> str | None:
    """``titanic`` from ``titanic``, ``https://www.kaggle.com/competitions/titanic/``..."""
    if not isinstance(ref, str) or not ref.strip():
        return None
    return _safe_url(ref).rstrip("/").rsplit("/", 1)[-1] or None


def competition_details_from_api(data: Mapping[str, Any], slug: str) -> dict[str, object]:
    """Kaggle's camelCase ``ApiCompetition`` JSON as kagsync's snake_case dict."""
    found_slug = _ref_slug(data.get("ref")) or slug
    return {
        "slug": found_slug,
        "title": _text_or_none(data.get("title")),
        "url": _text_or_none(data.get("url")) or COMPETITION_URL.format(slug=found_slug),
        "description": _plain_text(data.get("description"), DESCRIPTION_LIMIT),
        "enabled_date": _iso_utc(data.get("enabledDate")),
        "deadline": _iso_utc(data.get("deadline")),
        "merger_deadline": _iso_utc(data.get("mergerDeadline")),
        "new_entrant_deadline": _iso_utc(data.get("newEntrantDeadline")),
        "evaluation_metric": _text_or_none(data.get("evaluationMetric")),
        "team_count": _int_or_none(data.get("teamCount")),
        "max_team_size": _int_or_none(data.get("maxTeamSize")),
        "max_daily_submissions": _int_or_none(data.get("maxDailySubmissions")),
        "reward": _text_or_none(data.get("reward")),
        "category": _text_or_none(data.get("category")),
        "host_name": _text_or_none(data.get("hostName")),
    }


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(_without_controls(value).split())
    return text or None


def _without_controls(text: str) -> str:
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def _int_or_none(value: object) -> int | None:
    """An int, also from a digit string (proto3 JSON writes int64 as text); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value.strip())
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
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


def _plain_text(markup: object, limit: int) -> str | None:
    """HTML as plain text: tags dropped (block tags as spaces), entities decoded, script
    and style bodies skipped, whitespace collapsed, cut to ``limit`` characters."""
    if not isinstance(markup, str) or not markup.strip():
        return None
    from html.parser import HTMLParser  # lazy: only details need it

    parts: list[str] = []
    skipping = 0

    class _Text(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            nonlocal skipping
            if tag in ("script", "style"):
                skipping += 1
            elif tag in _BLOCK_TAGS:
                parts.append(" ")

        def handle_endtag(self, tag: str) -> None:
            nonlocal skipping
            if tag in ("script", "style"):
                skipping = max(0, skipping - 1)
            elif tag in _BLOCK_TAGS:
                parts.append(" ")

        def handle_data(self, data: str) -> None:
            if not skipping:
                parts.append(data)

    parser = _Text(convert_charrefs=True)
    parser.feed(markup)
    parser.close()
    text = " ".join(_without_controls("".join(parts)).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


# --------------------------------------------------------------------------------------
# The paged leaderboard view (public, and private once released)
# --------------------------------------------------------------------------------------


BOARD_ROW_KEYS = ("team_id", "team_name", "submission_date", "score")
"""Keys of a row of the paged view: ``team_id`` (int), ``team_name`` (str),
``submission_date`` (str, ISO 8601 as Kaggle gave it, or None) and ``score`` (str, the
display text with its trailing zeros). Rows come in leaderboard order; there is no rank."""


def fetch_leaderboard_page(
    slug: str,
    *,
    override_public: bool,
    page_token: str = "",
    page_size: int = MAX_PAGE_SIZE,
    endpoint: str | None = None,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[dict[str, Any]], str]:
    """One page of ``GetLeaderboard``: (rows in Kaggle's order, next page token or "").

    Each row is a dict with the keys of :data:`BOARD_ROW_KEYS`. Sent as kagglesdk's
    ``ApiGetLeaderboardRequest`` through ``CompetitionApiClient.get_leaderboard``; the
    body is ``{"competitionName", "pageSize"}`` plus ``"pageToken"`` when given and
    ``"overridePublic": true`` when ``override_public`` (kagglesdk would also send an
    explicit ``false``; it is left out, which proto3 reads as false). Without it Kaggle
    returns the private board once released, else the public one; with it, always the
    public one. ``page_size`` is 1..200. Retries and errors as
    :func:`download_leaderboard` (no size cap or deadline).
    """
    with _session(slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep) as session:
        return _board_page(session, override_public=override_public, page_token=page_token, page_size=page_size)


def private_board_released(
    slug: str,
    *,
    endpoint: str | None = None,
    credentials: KaggleCredentials | None = None,
    max_attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Whether Kaggle shows a private board for ``slug``: the first page without
    ``overridePublic`` differs from the first page with it (two requests)."""
    with _session(slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep) as session:
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
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]] | None:
    """Every row of the private board of ``slug``, in Kaggle's order; None if not released.

    Release is decided as :func:`private_board_released` does (whose first private page
    is reused, so a board of N pages costs N + 1 requests). Pages hold 200 rows; each
    page request has the usual retries, so a 429 between pages waits its
    ``Retry-After``. Members and submission counts are not in this view: join the rows
    on ``team_id`` with the public download.

    Raises:
        KaggleError: more than ``max_pages`` pages, or a page token Kaggle repeats;
        the errors of :func:`fetch_leaderboard_page` otherwise.
    """
    _check_max_pages(max_pages)
    with _session(slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep) as session:
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
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Every row of the public board of ``slug`` from the paged view (``overridePublic``).

    Meant to check that a download made after the deadline really is the public board
    (Kaggle said the download may start serving the private one). Pages, retries and
    errors as :func:`fetch_private_board`.
    """
    _check_max_pages(max_pages)
    with _session(slug, credentials=credentials, endpoint=endpoint, max_attempts=max_attempts, sleep=sleep) as session:
        rows, token = _board_page(session, override_public=True)
        return _rest_of_board(session, rows, token, override_public=True, max_pages=max_pages)


def _check_max_pages(max_pages: int) -> None:
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise ValueError("max_pages must be at least 1")


def _differ(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> bool:
    # Teams and scores, in order: names (renames) and dates say nothing about release.
    return [(r["team_id"], r["score"]) for r in first] != [(r["team_id"], r["score"]) for r in second]


def _rest_of_board(
    session: _Session, rows: list[dict[str, Any]], token: str, *, override_public: bool, max_pages: int
) -> list[dict[str, Any]]:
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
    session: _Session, *, override_public: bool, page_token: str = "", page_size: int = MAX_PAGE_SIZE
) -> tuple[list[dict[str, Any]], str]:
    from kagglesdk.competitions.types.competition_api_service import ApiGetLeaderboardRequest

    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
    if not isinstance(page_token, str):
        raise TypeError("page_token must be a string")
    request = ApiGetLeaderboardRequest()
    request.competition_name = session.slug
    request.page_size = page_size
    # Only set when wanted: kagglesdk serialises any value it was given, also "" / false.
    if page_token:
        request.page_token = page_token
    if override_public:
        request.override_public = True
    board = "public leaderboard" if override_public else "leaderboard"
    op = _Op("get_leaderboard", f"the {board} view of '{session.slug}'", leaderboard=True)
    data = session.request_json(op, request, exact_numbers=True)
    return _board_rows(session, data)


def _board_rows(session: _Session, data: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Rows and next token from a ``GetLeaderboard`` reply; proto3 JSON leaves out
    default values, so a missing ``teamId`` is 0 and a missing name or score ""."""
    submissions = data.get("submissions", [])
    token = data.get("nextPageToken", "")
    if submissions is None:
        submissions = []
    if not isinstance(submissions, list) or not isinstance(token, str):
        raise KaggleError(f"Kaggle's leaderboard view of '{session.slug}' is not in the expected form.")
    rows: list[dict[str, Any]] = []
    for position, item in enumerate(submissions, start=1):
        team_id = _int_or_none(item.get("teamId", 0)) if isinstance(item, dict) else None
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


# --------------------------------------------------------------------------------------
# Message helpers
# --------------------------------------------------------------------------------------


def _plural(count: int) -> str:
    return "s" if count > 1 else ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _colon(detail: str | None) -> str:
    return f": {detail}" if detail else ""


def _size(count: int) -> str:
    """``512 bytes``, ``1.5 KiB``, ``1.0 GiB``..."""
    if count < 1024:
        return f"{count} byte{'' if count == 1 else 's'}"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def _reason_phrase(response: Response, scrub: _Scrubber) -> str | None:
    reason = getattr(response, "reason", None)
    return _one_line(scrub(reason)) if isinstance(reason, str) and reason.strip() else None


def _kaggle_message(response: Response | None, scrub: _Scrubber) -> str | None:
    """Kaggle's own message from an error body: ``{"message"}``, ``{"error": {"message"}}``
    or short plain text. None for HTML, binary or empty bodies. Scrubbed *before* it is
    cut short, so that no prefix of a secret survives the cut."""
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
            error = data.get("error")
            if not isinstance(message, str) and isinstance(error, dict):
                message = error.get("message")
            if not isinstance(message, str) and isinstance(error, str):
                message = error
        return _one_line(scrub(message)) if isinstance(message, str) and message.strip() else None
    content_type = (response.headers.get("Content-Type") or "").lower()
    if "html" in content_type or text.lstrip().startswith("<"):
        return None
    return _one_line(scrub(text))


def _retry_after(response: Response | None, default: float) -> float:
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


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."
