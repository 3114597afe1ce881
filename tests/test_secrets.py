"""No Kaggle secret ever reaches the terminal, the log or the database, whatever fails."""

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
    assert "control character" in result.stderr or "line break" in result.stderr or "credential" in result.stderr.lower()
    log = (db_path.parent / "kagsync.log").read_text(encoding="utf-8")
    assert_no_secret(result.output, log, everything_stored(db_path))


def test_credentials_in_the_endpoint_url_and_echoed_by_the_server_are_scrubbed(cli, kaggle_standin, db_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    endpoint = f"http://bob:{URL_PASSWORD}@127.0.0.1:{kaggle_standin.port}"
    monkeypatch.setenv("KAGSYNC_KAGGLE_ENDPOINT", endpoint)
    kaggle_standin.serve_zip("titanic", build_leaderboard_zip(make_board(5), slug="titanic"))
    outputs = [cli("-v", "competition", "add", "titanic").output]
    kaggle_standin.serve_error("titanic", 401, body='{"code": 401, "message": "bad auth {authorization}"}',
                               echo_authorization=True)
    outputs.append(cli("-v", "sync", "titanic").output)
    kaggle_standin.serve_error("titanic", 500, body="server saw {authorization}", echo_authorization=True)
    outputs.append(cli("-v", "sync", "titanic").output)
    outputs.append(cli("runs", "--json").output)
    outputs.append(cli("competition", "show", "titanic", "--json").output)
    log = (db_path.parent / "kagsync.log").read_text(encoding="utf-8")
    assert_no_secret(*outputs, log, everything_stored(db_path))
    assert "kaggle:http://127.0.0.1" in everything_stored(db_path)  # the source, without its user-info
