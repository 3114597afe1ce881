"""No Kaggle secret ever reaches the terminal, the log or the database, whatever fails."""

# The imported pytest fixture `kaggle_standin` is "redefined" by each test parameter.
# ruff: noqa: F811

from __future__ import annotations

import base64
import sqlite3

import pytest

from tests.kaggle_standin import build_leaderboard_zip, kaggle_standin, make_board  # noqa: F401

TOKEN = "KGAT_secret0123456789abcdef0123456789"
OLD_TOKEN = "KGAT_oldsecret9876543210fedcba98765"
KEY = "key-secret-5d41402abc4b2a76b9719d91"
USER = "alice-secret-user"
URL_PASSWORD = "pw-in-the-url-77aa"


def everything_stored(db_path) -> str:
    """Every text value of every table of the database, joined."""
    conn = sqlite3.connect(db_path)
    try:
        texts = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                texts += [value for value in row if isinstance(value, str)]
        return "\n".join(texts)
    finally:
        conn.close()


def assert_no_secret(*texts: str) -> None:
    basic = base64.b64encode(f"{USER}:{KEY}".encode()).decode()
    for secret in (TOKEN, OLD_TOKEN, KEY, f"{USER}:{KEY}", basic, URL_PASSWORD):
        for text in texts:
            assert secret not in text, secret


@pytest.mark.parametrize(
    "env",
    [
        {"KAGGLE_API_TOKEN": f"{TOKEN}\n{OLD_TOKEN}"},  # two lines: the reported leak
        {"KAGGLE_API_TOKEN": f"{TOKEN}\r{OLD_TOKEN}"},
        {"KAGGLE_USERNAME": USER, "KAGGLE_KEY": f"{KEY}\r\nX"},
    ],
)
def test_a_credential_with_a_line_break_is_refused_without_showing_it(cli, kaggle_standin, db_path, env):
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(5), slug="titanic"))
    cli("competition", "add", "titanic", "--offline", "--no-sync")
    result = cli("sync", "titanic", env=env)
    assert result.exit_code == 3
    assert (
        "control character" in result.stderr or "line break" in result.stderr or "credential" in result.stderr.lower()
    )
    log = (db_path.parent / "kagsync.log").read_text(encoding="utf-8")
    assert_no_secret(result.output, log, everything_stored(db_path))


def test_credentials_in_the_endpoint_url_and_echoed_by_the_server_are_scrubbed(
    cli, kaggle_standin, db_path, monkeypatch
):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    endpoint = f"http://bob:{URL_PASSWORD}@127.0.0.1:{kaggle_standin.port}"
    monkeypatch.setenv("KAGSYNC_KAGGLE_ENDPOINT", endpoint)
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(5), slug="titanic"))
    outputs = [cli("-v", "competition", "add", "titanic").output]
    kaggle_standin.serve_error(
        "titanic", 401, body='{"code": 401, "message": "bad auth {authorization}"}', echo_authorization=True
    )
    outputs.append(cli("-v", "sync", "titanic").output)
    kaggle_standin.serve_error("titanic", 500, body="server saw {authorization}", echo_authorization=True)
    outputs.append(cli("-v", "sync", "titanic").output)
    outputs.append(cli("runs", "--json").output)
    outputs.append(cli("competition", "show", "titanic", "--json").output)
    log = (db_path.parent / "kagsync.log").read_text(encoding="utf-8")
    assert_no_secret(*outputs, log, everything_stored(db_path))
    assert "kaggle:http://127.0.0.1" in everything_stored(db_path)  # the source, without its user-info


# -- kagsync.secrets, the one home for scrubbing -------------------------------------------


def test_scrubber_removes_every_form_of_a_secret():
    from urllib.parse import quote

    from kagsync.secrets import Scrubber, basic_auth_forms

    scrub = Scrubber([KEY, *basic_auth_forms(USER, KEY)], urls=[f"http://bob:{URL_PASSWORD}@host:1/x"])
    basic = base64.b64encode(f"{USER}:{KEY}".encode()).decode()
    text = (
        f"key {KEY}, pair {USER}:{KEY}, basic {basic}, quoted {quote(KEY + '/x', safe='')}, "
        f"url http://bob:{URL_PASSWORD}@host:1/x, other https://eve:pw@elsewhere/\nsecond line"
    )
    clean = scrub(text)
    assert_no_secret(clean)
    assert "eve:pw" not in clean and "\n" not in clean
    assert scrub.leaks(text) and not scrub.leaks(clean)
    assert scrub("abc") == "abc"  # nothing to hide: unchanged


def test_short_secrets_are_not_scrubbed_everywhere():
    from kagsync.secrets import Scrubber

    assert Scrubber(["abc"])("abcdef abc") == "abcdef abc"


def test_safe_url_and_header_problems():
    from kagsync.secrets import header_value_problem, safe_url, split_userinfo

    assert safe_url("http://u:p@w@h:1/path?q=1#f") == "http://h:1/path"
    assert split_userinfo("https://h/x") == ("https://h/x", None)
    assert header_value_problem("KGAT_abc") is None
    assert "control character" in header_value_problem("a\nb")
    assert "ASCII" in header_value_problem("clé")


def test_webhook_urls_are_masked_to_their_host():
    from kagsync.secrets import mask_url, url_secrets

    url = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"
    assert mask_url(url) == "https://hooks.slack.com/serv…"
    assert mask_url("tgram://123456:TOKEN/chat") == "tgram://123…"
    assert "XXXXSECRETXXXX" in url_secrets(url)
