"""Who kagsync is on Kaggle: finding the credentials, and refusing unusable ones.

Credentials are looked up the way the kaggle CLI does, without importing it (``import
kaggle`` authenticates, may print help and ``exit(1)``), without network and without
printing. Nothing here ever shows a key or token: messages name where a credential
came from, never its value.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kagsync.errors import CredentialsError
from kagsync.secrets import basic_auth_forms, header_value_problem

__all__ = ["SETTINGS_URL", "KaggleCredentials", "check_credentials", "find_credentials"]

SETTINGS_URL = "https://www.kaggle.com/settings"

NO_CREDENTIALS_HELP = (
    "create an API token at https://www.kaggle.com/settings and save kaggle.json to "
    "~/.kaggle/ (or the folder named by KAGGLE_CONFIG_DIR), or set KAGGLE_USERNAME and "
    "KAGGLE_KEY, or set KAGGLE_API_TOKEN"
)
_KAGGLE_JSON_FIX = f'it must hold {{"username": "...", "key": "..."}} as downloaded from {SETTINGS_URL}'


@dataclass(frozen=True)
class KaggleCredentials:
    """Kaggle credentials and where they came from.

    Either ``api_token`` is set (sent as ``Authorization: Bearer <token>``) or both
    ``username`` and ``key`` are (sent as HTTP Basic ``username:key``). ``origin`` says
    where they were found, e.g. ``"KAGGLE_USERNAME/KAGGLE_KEY"``,
    ``"~/.kaggle/kaggle.json"``, ``"KAGGLE_API_TOKEN"`` or ``"~/.kaggle/access_token"``;
    it is safe to show. ``repr()`` and ``str()`` never show ``key`` or ``api_token``.
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
        """Every form of the secrets (key, token, ``user:key`` and its base64) -- for
        scrubbing text, never for display."""
        found = [s for s in (self.key, self.api_token) if s]
        if self.username and self.key:
            found += sorted(basic_auth_forms(self.username, self.key))
        return tuple(found)

    def describe(self) -> str:
        """One safe phrase naming the credential, e.g. ``API key of 'alice' from ~/.kaggle/kaggle.json``."""
        if self.uses_token:
            return f"API token from {self.origin}"
        return f"API key of '{self.username}' from {self.origin}"


def _check(value: str | None, what: str, source: str) -> None:
    """Refuse ``value`` (a token, key or username found in ``source``) if it cannot be
    sent, naming the source -- never the value."""
    problem = header_value_problem(value) if value else None
    if problem:
        raise CredentialsError(
            f"The Kaggle {what} in {source} {problem}: it must be the {what} alone, on one "
            f"line (copy it again from {SETTINGS_URL})."
        )


def check_credentials(creds: KaggleCredentials) -> None:
    """Refuse credentials that cannot be sent (also ones a caller built by hand)."""
    if not creds.api_token and not (creds.username and creds.key):
        raise CredentialsError(f"The Kaggle credentials from {creds.origin} have no API token and no username/key.")
    if creds.api_token:
        _check(creds.api_token, "API token", creds.origin)
    else:
        _check(creds.username, "username", creds.origin)
        _check(creds.key, "API key", creds.origin)


class _Lookup:
    """The environment and home folder one search reads, with the helpers it shares."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        home = env.get("HOME") or (env.get("USERPROFILE") if os.name == "nt" else None)
        self.home = Path(home) if home else Path.home()
        self.user = self.var("KAGGLE_USERNAME")
        self.key = self.var("KAGGLE_KEY")

    def var(self, name: str) -> str | None:
        return (self.env.get(name) or "").strip() or None

    def shown(self, path: Path) -> str:
        """``~/...`` for paths under the home folder, else the full path."""
        try:
            return "~/" + path.relative_to(self.home).as_posix()
        except ValueError:
            return str(path)

    def config_dir(self) -> Path:
        """The folder of kaggle.json, as kaggle 2.2.5 picks it: ``KAGGLE_CONFIG_DIR``; else
        ``~/.kaggle`` if it exists; else on Linux ``$XDG_CONFIG_HOME/kaggle``."""
        configured = self.env.get("KAGGLE_CONFIG_DIR")
        if configured:
            return Path(configured).expanduser()
        legacy = self.home / ".kaggle"
        if sys.platform.startswith("linux") and not legacy.exists():
            return Path(self.env.get("XDG_CONFIG_HOME") or str(self.home / ".config")) / "kaggle"
        return legacy


def _token_file(path: Path, label: str) -> str | None:
    """The stripped token in ``path``; None if the file is absent or empty."""
    if not path.is_file():
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            f"Cannot read the Kaggle API token file {label} ({_os_reason(exc)}): fix its "
            f"permissions or remove it and {NO_CREDENTIALS_HELP}."
        ) from None
    # The final newline was stripped: a line break left means more than the token.
    _check(token, "API token", f"file {label}")
    return token or None


def _from_notebook(look: _Lookup) -> KaggleCredentials | None:
    """In a Kaggle notebook, the token file named by ``KAGGLE_API_V1_TOKEN`` (as kagglesdk)."""
    if look.env.get("KAGGLE_KERNEL_RUN_TYPE") is None or not look.env.get("KAGGLE_DATA_PROXY_URL"):
        return None
    name = look.env.get("KAGGLE_API_V1_TOKEN")
    token = _token_file(Path(name), name) if name else None
    return KaggleCredentials(None, None, token, "KAGGLE_API_V1_TOKEN") if token else None


def _from_token_variable(look: _Lookup) -> KaggleCredentials | None:
    """``KAGGLE_API_TOKEN``: the token itself, or the path of a file holding it."""
    value = look.var("KAGGLE_API_TOKEN")
    if value is None:
        return None
    # Checked before the path test: a value with a line break is no usable path either.
    _check(value, "API token", "KAGGLE_API_TOKEN")
    path = Path(value).expanduser()
    if len(value) < 4096 and ("/" in value or os.sep in value) and path.is_file():
        token = _token_file(path, value)
        return KaggleCredentials(None, None, token, f"KAGGLE_API_TOKEN file {value}") if token else None
    return KaggleCredentials(None, None, value, "KAGGLE_API_TOKEN")


def _from_key_variables(look: _Lookup) -> KaggleCredentials | None:
    """``KAGGLE_USERNAME`` + ``KAGGLE_KEY``, both set (each checked here, as they may
    also complete a kaggle.json later)."""
    _check(look.user, "username", "KAGGLE_USERNAME")
    _check(look.key, "API key", "KAGGLE_KEY")
    if look.user and look.key:
        return KaggleCredentials(look.user, look.key, None, "KAGGLE_USERNAME/KAGGLE_KEY")
    return None


def _from_kaggle_json(look: _Lookup) -> KaggleCredentials | None:
    """kaggle.json; ``KAGGLE_USERNAME`` or ``KAGGLE_KEY`` alone override its field (as the CLI)."""
    path = look.config_dir() / "kaggle.json"
    if not path.exists():
        return None
    file_user, file_key = _read_kaggle_json(path)
    username, key = look.user or file_user, look.key or file_key
    if username and key:
        given = [name for name, value in (("KAGGLE_USERNAME", look.user), ("KAGGLE_KEY", look.key)) if value]
        return KaggleCredentials(username, key, None, " + ".join([*given, look.shown(path)]))
    if not (file_user or file_key):  # a file with neither may hold other settings only
        return None
    missing = "username" if not username else "key"
    raise CredentialsError(f'Kaggle credentials file {path} has no "{missing}": {_KAGGLE_JSON_FIX}.')


def _read_kaggle_json(path: Path) -> tuple[str | None, str | None]:
    """(username, key) from a kaggle.json; CredentialsError naming the file if unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"Cannot read Kaggle credentials file {path} ({_os_reason(exc)}).") from None
    if not text.strip():
        raise CredentialsError(f"Kaggle credentials file {path} is empty: {_KAGGLE_JSON_FIX}.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialsError(
            f"Kaggle credentials file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            f"{_KAGGLE_JSON_FIX}."
        ) from None
    if not isinstance(data, dict):
        raise CredentialsError(f"Kaggle credentials file {path} does not hold a JSON object: {_KAGGLE_JSON_FIX}.")
    values: list[str | None] = []
    for name, label in (("username", "username"), ("key", "API key")):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise CredentialsError(f'Kaggle credentials file {path} has a non-text "{name}": {_KAGGLE_JSON_FIX}.')
        value = (value or "").strip() or None
        _check(value, label, f'"{name}" of {path}')
        values.append(value)
    return values[0], values[1]


def _from_access_token_file(look: _Lookup) -> KaggleCredentials | None:
    """``~/.kaggle/access_token`` or ``access_token.txt`` (kagglesdk ignores
    ``KAGGLE_CONFIG_DIR`` here, and so do we)."""
    for name in ("access_token", "access_token.txt"):
        path = look.home / ".kaggle" / name
        token = _token_file(path, look.shown(path))
        if token:
            return KaggleCredentials(None, None, token, look.shown(path))
    return None


_ORDER: tuple[Callable[[_Lookup], KaggleCredentials | None], ...] = (
    _from_notebook,
    _from_token_variable,
    _from_key_variables,
    _from_kaggle_json,
    _from_access_token_file,
)


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
    normal). A token, key or username that still holds a control character or
    non-ASCII text is refused, naming the variable or file, never the value.

    ``environ`` defaults to ``os.environ``; ``~`` is its ``HOME``. Nothing is printed,
    created or sent over the network, and OAuth ``credentials.json`` (whose refresh
    needs a network call) is not used.

    Raises:
        CredentialsError: nothing found (one line saying how to provide credentials),
            or a kaggle.json / token file / variable that exists but cannot be used.
    """
    look = _Lookup(os.environ if environ is None else environ)
    for lookup in _ORDER:
        found = lookup(look)
        if found is not None:
            return found
    if look.user or look.key:
        missing = "KAGGLE_KEY" if look.user else "KAGGLE_USERNAME"
        raise CredentialsError(
            f"No Kaggle credentials found: {missing} is not set; set it too, or {NO_CREDENTIALS_HELP}."
        )
    raise CredentialsError(f"No Kaggle credentials found: {NO_CREDENTIALS_HELP}.")


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__
