"""The one home for keeping secrets out of text: Kaggle keys and tokens, URL user-info,
webhook URLs.

Every message, log line or stored error that may quote something a secret went into
passes through a :class:`Scrubber` first. A scrubber knows the secret strings and also
their derived forms -- ``user:key``, its base64 (what an echoed ``Authorization: Basic``
header shows), percent-encoded and decoded forms -- and always removes
``scheme://user-info@`` from URLs, whoever's they are.

Public API:

- :class:`Scrubber` -- ``scrub(text)`` replaces every known secret by ``***``;
  :meth:`Scrubber.leaks` says whether a text holds one.
- :func:`basic_auth_forms` -- the forms ``user:key`` takes on the wire.
- :func:`split_userinfo`, :func:`safe_url` -- a URL without its ``user:password@``.
- :func:`header_value_problem` -- why a secret cannot go into an HTTP header (a line
  break, a control character, non-ASCII), without ever showing it.
- :func:`mask_url`, :func:`url_secrets` -- for webhook URLs, whose path is the secret:
  a short recognisable mask, and the pieces that must never be shown.

This module imports nothing outside the standard library and is cheap to import.
"""

from __future__ import annotations

import base64
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable

__all__ = [
    "MIN_SECRET",
    "Scrubber",
    "basic_auth_forms",
    "header_value_problem",
    "mask_url",
    "safe_url",
    "split_userinfo",
    "url_secrets",
]

MIN_SECRET = 4
"""Only secrets at least this long are scrubbed: replacing a 1-3 character "secret"
everywhere would garble messages while protecting nothing."""

MASK = "***"

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)(.*)", re.DOTALL)
# scheme://user-info@ anywhere in a text (user-info up to the first '@').
_USERINFO_IN_TEXT_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@]*@")


def split_userinfo(url: str) -> tuple[str, str | None]:
    """(``url`` without user-info, query or fragment; the user-info or None).

    The user-info runs to the *last* '@' before any '?' or '#': a password may hold
    '@' or even '/', and an API base URL never has an '@' in its path.
    """
    text = re.split(r"[?#]", url.strip(), maxsplit=1)[0]
    match = _SCHEME_RE.fullmatch(text)
    if match is None:
        return text, None
    scheme, rest = match.groups()
    if "@" not in rest:
        return text, None
    userinfo, _, host_and_path = rest.rpartition("@")
    return scheme + host_and_path, userinfo


def safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, query or fragment, on one line."""
    return "".join(split_userinfo(url)[0].split())


def basic_auth_forms(username: str, key: str) -> set[str]:
    """``user:key`` and its base64 (with and without padding): how HTTP Basic sends it."""
    pair = f"{username}:{key}"
    encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return {pair, encoded, encoded.rstrip("=")}


def header_value_problem(value: str) -> str | None:
    """Why ``value`` (a token, key or username) cannot go into an HTTP header, or None.

    A control character (CR, LF, NUL...) would make the HTTP library refuse the header
    with an error quoting all of it -- or, worse, split it -- so the caller refuses it
    first, naming where it came from but never the value. Non-ASCII would fail with an
    encoding error; no Kaggle key, token or username has any.
    """
    if any(unicodedata.category(char) == "Cc" for char in value):
        return "contains a line break or another control character"
    if not value.isascii():
        return "contains a character that is not plain ASCII"
    return None


class Scrubber:
    """Removes every form of some secrets from a text.

    ``secrets`` are the raw strings (a key, a token, ``user:key``...); ``urls`` are URLs
    whose user-info is secret. Percent-encoded and decoded forms are added, and any
    ``scheme://user-info@`` in a text is masked too.
    """

    def __init__(self, secrets: Iterable[str | None] = (), urls: Iterable[str | None] = ()) -> None:
        found = {secret for secret in secrets if secret}
        for url in urls:
            _, userinfo = split_userinfo(url or "")
            if userinfo:
                found.update({userinfo, userinfo.partition(":")[2]})
        for secret in list(found):
            found.update({urllib.parse.quote(secret, safe=""), urllib.parse.unquote(secret)})
        # Longest first, so that "user:key" goes before "key" leaves "user:" behind.
        self.secrets = sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` on one line, secrets replaced by ``***``."""
        text = " ".join(text.split())
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return _USERINFO_IN_TEXT_RE.sub(rf"\1{MASK}@", text)

    def leaks(self, text: str) -> bool:
        """True if ``text`` holds any secret or URL user-info."""
        return self(text) != " ".join(text.split())


def mask_url(url: str) -> str:
    """``https://hooks.slack.com/serv…``: scheme, host and the first characters only.

    For a URL that is not http(s) (an apprise URL such as ``tgram://TOKEN/CHAT``) the
    host may itself be the secret: only the scheme and three characters are shown.
    """
    scheme = ""
    try:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https") and parts.hostname:
            shown = parts.hostname + (f":{parts.port}" if parts.port else "")
            return f"{scheme}://{shown}/{parts.path.lstrip('/')[:4]}…"
    except ValueError:  # a bad port
        return "(hidden)"
    body = url.split("://", 1)[1] if "://" in url else url
    return f"{scheme or '?'}://{body[:3]}…"


def url_secrets(url: str) -> list[str]:
    """Pieces of a webhook URL that must not appear in a message or log line, longest first.

    The scheme and an http(s) host are not secret (they are shown); the path, query,
    user info and every long piece of them are. Of another scheme (apprise), everything
    after ``://`` may be a token.
    """
    pieces = {url, url.rstrip("/")}
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return [url]
    secret_parts = [parts.path, parts.query, parts.fragment]
    if parts.scheme.lower() in ("http", "https"):
        secret_parts += [parts.username or "", parts.password or ""]
    else:
        secret_parts.append(parts.netloc)
    for piece in secret_parts:
        if len(piece) >= 6:
            pieces.add(piece)
        for segment in re.split(r"[/?&=#:@]", piece):
            if len(segment) >= 8:
                pieces.add(segment)
    return sorted(pieces, key=len, reverse=True)
