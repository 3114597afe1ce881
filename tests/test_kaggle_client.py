"""kagsync.kaggle_client against the local Kaggle stand-in, through the real HTTP path."""

# The imported pytest fixture `kaggle_standin` is "redefined" by each test parameter.
# ruff: noqa: F811

from __future__ import annotations

import base64
import inspect
import json
import os
import socket
import subprocess
import sys
import time
import traceback
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from kagsync import kaggle_client
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
    ValidationError,
)
from kagsync.kaggle_client import (
    KaggleCredentials,
    describe_endpoint,
    download_leaderboard,
    fetch_competition_details,
    fetch_leaderboard_page,
    fetch_private_board,
    fetch_public_view,
    find_credentials,
    private_board_released,
)
from tests.kaggle_standin import (
    AUTHORIZATION_MARKER,
    DEFAULT_KEY,
    DEFAULT_USERNAME,
    DOWNLOAD_PATH,
    GET_COMPETITION_PATH,
    GET_LEADERBOARD_PATH,
    LIST_COMPETITIONS_PATH,
    KaggleStandin,
    build_leaderboard_csv,
    build_leaderboard_zip,
    kaggle_standin,  # noqa: F401  (fixture)
    make_board,
)

SLUG = "playground-series-s6e5"
TOKEN = "KGAT_0123456789abcdef0123456789abcdef"


@pytest.fixture
def board_zip() -> bytes:
    return build_leaderboard_zip(make_board(300, seed=7, benchmark=True), slug=SLUG)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


class Sleeps(list):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def assert_clean(dest: Path, *keep: str) -> None:
    """dest holds exactly ``keep`` (no partial/temp files)."""
    present = sorted(p.name for p in dest.iterdir()) if dest.exists() else []
    assert present == sorted(keep)


def assert_safe(exc: BaseException, *secrets: str) -> None:
    text = str(exc)
    assert "\n" not in text
    for secret in secrets or (DEFAULT_KEY,):
        assert secret not in text
    assert "Usage:" not in text and "kaggle.com/docs/api" not in text


# --------------------------------------------------------------------------------------
# Success
# --------------------------------------------------------------------------------------


def test_download_success_basic_auth(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    progress: list[tuple[int, int | None]] = []

    path = download_leaderboard(
        SLUG, dest, on_progress=lambda done, total: progress.append((done, total))
    )

    assert path == dest / f"{SLUG}.zip"
    assert path.read_bytes() == board_zip
    assert_clean(dest, f"{SLUG}.zip")
    [request] = kaggle_standin.requests
    assert request.method == "POST"
    assert request.path == DOWNLOAD_PATH
    assert request.json == {"competitionName": SLUG}
    assert request.headers["Content-Type"] == "application/json"
    assert request.basic_auth == (DEFAULT_USERNAME, DEFAULT_KEY)
    assert progress[0] == (0, len(board_zip))
    assert progress[-1] == (len(board_zip), len(board_zip))
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    with zipfile.ZipFile(path) as archive:
        [name] = archive.namelist()
        assert name == f"{SLUG}-publicleaderboard-2026-05-05T15:36:33.csv"
        assert archive.read(name).startswith(b"\xef\xbb\xbfRank,TeamId,TeamName,")


def test_download_bearer_token_from_env(
    kaggle_standin: KaggleStandin,
    board_zip: bytes,
    dest: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    kaggle_standin.serve_zip(SLUG, board_zip)

    download_leaderboard(SLUG, dest)

    [request] = kaggle_standin.requests
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.bearer_token == TOKEN


def test_explicit_credentials_win_over_kagglesdk_own_lookup(
    kaggle_standin: KaggleStandin,
    board_zip: bytes,
    dest: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Stock kagglesdk would prefer KAGGLE_API_TOKEN / ~/.kaggle/access_token over the
    # username and key it is given, and would demand an IAP token for STAGING.
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "STAGING")
    home = Path(os.environ["HOME"])
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "access_token").write_text("file-token-should-not-be-used")
    kaggle_standin.serve_zip(SLUG, board_zip)
    creds = KaggleCredentials("alice", "alice-key-123456", None, "test")

    download_leaderboard(SLUG, dest, credentials=creds)

    [request] = kaggle_standin.requests
    assert request.basic_auth == ("alice", "alice-key-123456")


def test_explicit_endpoint_argument(board_zip: bytes, dest: Path) -> None:
    with KaggleStandin() as standin:
        standin.serve_zip(SLUG, board_zip)
        creds = KaggleCredentials(None, None, TOKEN, "test")
        path = download_leaderboard(
            SLUG, dest, credentials=creds, endpoint=standin.url + "/"
        )
        assert path.read_bytes() == board_zip
        assert standin.downloads(SLUG)[0].bearer_token == TOKEN


def test_replaces_existing_file_atomically(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    dest.mkdir()
    (dest / f"{SLUG}.zip").write_bytes(b"old")
    kaggle_standin.serve_zip(SLUG, board_zip)
    download_leaderboard(SLUG, dest)
    assert (dest / f"{SLUG}.zip").read_bytes() == board_zip
    assert_clean(dest, f"{SLUG}.zip")


def test_large_board_streams(kaggle_standin: KaggleStandin, dest: Path) -> None:
    body = build_leaderboard_zip(make_board(20_000, seed=2), slug=SLUG)
    kaggle_standin.serve_zip(SLUG, body)
    calls: list[int] = []
    download_leaderboard(SLUG, dest, on_progress=lambda done, total: calls.append(done))
    assert (dest / f"{SLUG}.zip").read_bytes() == body
    assert len(calls) > 2  # more than one chunk


# --------------------------------------------------------------------------------------
# HTTP errors
# --------------------------------------------------------------------------------------


def test_401_auth_error(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 401)
    with pytest.raises(KaggleAuthError) as info:
        download_leaderboard(SLUG, dest, sleep=Sleeps())
    message = str(info.value)
    assert "401" in message and "KAGGLE_USERNAME/KAGGLE_KEY" in message
    assert "https://www.kaggle.com/settings" in message
    assert_safe(info.value)
    assert kaggle_standin.download_count(SLUG) == 1  # not retried
    assert_clean(dest)


def test_401_when_standin_rejects_the_key(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.expect_credentials(username=DEFAULT_USERNAME, key="another-key")
    with pytest.raises(KaggleAuthError) as info:
        download_leaderboard(SLUG, dest)
    assert_safe(info.value)
    assert_clean(dest)


def test_403_rules_not_accepted(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 403)
    with pytest.raises(KaggleForbiddenError) as info:
        download_leaderboard(SLUG, dest)
    message = str(info.value)
    assert f"https://www.kaggle.com/competitions/{SLUG}/rules" in message
    assert "You must accept this competition's rules" in message
    assert_safe(info.value)
    assert kaggle_standin.download_count(SLUG) == 1
    assert_clean(dest)


def test_404_unknown_slug(kaggle_standin: KaggleStandin, dest: Path) -> None:
    with pytest.raises(KaggleNotFoundError) as info:
        download_leaderboard("no-such-competition", dest)
    assert "no-such-competition" in str(info.value)
    assert "slug" in str(info.value)
    assert_safe(info.value)
    assert_clean(dest)


def test_other_4xx_is_kaggle_error_with_message(
    kaggle_standin: KaggleStandin, dest: Path
) -> None:
    kaggle_standin.serve_error(
        SLUG, 400, {"code": 400, "message": "Bad competition name."}
    )
    with pytest.raises(KaggleError) as info:
        download_leaderboard(SLUG, dest)
    assert type(info.value) is KaggleError
    assert "400" in str(info.value) and "Bad competition name." in str(info.value)


def test_secret_echoed_by_server_is_scrubbed(
    kaggle_standin: KaggleStandin, dest: Path
) -> None:
    kaggle_standin.serve_error(
        SLUG, 403, {"code": 403, "message": f"key {DEFAULT_KEY} lacks\npermission"}
    )
    with pytest.raises(KaggleForbiddenError) as info:
        download_leaderboard(SLUG, dest)
    assert_safe(info.value)


# --------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------


def test_429_retried_honouring_retry_after(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_error(SLUG, 429, headers={"Retry-After": "7"}, times=1)
    kaggle_standin.serve_error(
        SLUG, 429, headers={"Retry-After": "9999"}, times=1
    )  # capped
    kaggle_standin.serve_error(SLUG, 429, times=1)  # no header: backoff
    sleeps = Sleeps()

    path = download_leaderboard(SLUG, dest, sleep=sleeps)

    assert sleeps == [7.0, 120.0, 4.0]
    assert path.read_bytes() == board_zip
    assert kaggle_standin.download_count(SLUG) == 4
    assert_clean(dest, f"{SLUG}.zip")


def test_429_forever_rate_limit_error(
    kaggle_standin: KaggleStandin, dest: Path
) -> None:
    kaggle_standin.serve_error(SLUG, 429)
    sleeps = Sleeps()
    with pytest.raises(KaggleRateLimitError) as info:
        download_leaderboard(SLUG, dest, max_attempts=3, sleep=sleeps)
    assert sleeps == [1.0, 2.0]  # no wait after the last attempt
    assert kaggle_standin.download_count(SLUG) == 3
    assert "429" in str(info.value) and "3 attempts" in str(info.value)
    assert_safe(info.value)
    assert_clean(dest)


def test_5xx_retried_then_success(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_error(SLUG, 503, times=1)
    kaggle_standin.serve_error(SLUG, 502, times=1)  # HTML body
    kaggle_standin.serve_error(
        SLUG, 500, b'{"code": 50', times=1, content_type="application/json"
    )  # broken JSON
    sleeps = Sleeps()
    path = download_leaderboard(SLUG, dest, sleep=sleeps)
    assert path.read_bytes() == board_zip
    assert sleeps == [1.0, 2.0, 4.0]
    assert_clean(dest, f"{SLUG}.zip")


def test_5xx_forever_server_error(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 500)
    with pytest.raises(KaggleServerError) as info:
        download_leaderboard(SLUG, dest, sleep=Sleeps())
    assert "500" in str(info.value)
    assert kaggle_standin.download_count(SLUG) == 4
    assert_safe(info.value)
    assert_clean(dest)


def test_connection_refused(dest: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    creds = KaggleCredentials("bob", "bob-secret-key-42", None, "test")
    with pytest.raises(KaggleConnectionError) as info:
        download_leaderboard(
            SLUG,
            dest,
            credentials=creds,
            endpoint=f"http://127.0.0.1:{port}",
            max_attempts=3,
            sleep=sleeps,
        )
    assert sleeps == [1.0, 2.0]
    assert "refused" in str(info.value).lower()
    assert_safe(info.value, "bob-secret-key-42")
    assert_clean(dest)


def test_endpoint_with_userinfo_not_shown(dest: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    creds = KaggleCredentials("bob", "bob-secret-key-42", None, "test")
    with pytest.raises(KaggleConnectionError) as info:
        download_leaderboard(
            SLUG,
            dest,
            credentials=creds,
            endpoint=f"http://bob:pw-in-url@127.0.0.1:{port}",
            max_attempts=1,
        )
    assert "pw-in-url" not in str(info.value)


def test_read_timeout_retried(
    kaggle_standin: KaggleStandin,
    board_zip: bytes,
    dest: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kaggle_client, "READ_TIMEOUT", 0.2)
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.set_delay(SLUG, 0.6)
    with pytest.raises(KaggleConnectionError) as info:
        download_leaderboard(SLUG, dest, max_attempts=2, sleep=Sleeps())
    assert "0.2 s" in str(info.value)
    assert_clean(dest)


def test_cut_short_download_is_retried(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_disconnect(SLUG, after_bytes=len(board_zip) // 2, times=1)
    sleeps = Sleeps()
    path = download_leaderboard(SLUG, dest, sleep=sleeps)
    assert path.read_bytes() == board_zip
    assert sleeps == [1.0]
    assert_clean(dest, f"{SLUG}.zip")


def test_cut_short_forever_leaves_nothing(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    dest.mkdir()
    (dest / f"{SLUG}.zip").write_bytes(b"previous good file")
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_disconnect(SLUG, after_bytes=100)
    with pytest.raises(KaggleConnectionError) as info:
        download_leaderboard(SLUG, dest, max_attempts=2, sleep=Sleeps())
    assert_safe(info.value)
    assert_clean(dest, f"{SLUG}.zip")
    assert (dest / f"{SLUG}.zip").read_bytes() == b"previous good file"


def test_progress_callback_exception_leaves_no_partial(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)

    def boom(done: int, total: int | None) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_leaderboard(SLUG, dest, on_progress=boom)
    assert_clean(dest)


def test_invalid_slug_rejected(kaggle_standin: KaggleStandin, dest: Path) -> None:
    for slug in ("../etc", "a/b", "", ".hidden"):
        with pytest.raises(ValidationError):
            download_leaderboard(slug, dest)
    assert kaggle_standin.requests == []


def test_json_instead_of_file(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_raw(SLUG, b'{"url": "x"}', content_type="application/json")
    with pytest.raises(KaggleError, match="JSON instead of a file"):
        download_leaderboard(SLUG, dest)
    assert_clean(dest)


def test_raw_body_saved_as_is(kaggle_standin: KaggleStandin, dest: Path) -> None:
    # Not the client's business to judge the zip: the parser reports it.
    kaggle_standin.serve_raw(SLUG, b"not a zip")
    assert download_leaderboard(SLUG, dest).read_bytes() == b"not a zip"


# --------------------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "fake-home"
    path.mkdir()
    return path


def test_credentials_from_env_token(home: Path) -> None:
    creds = find_credentials(
        {
            "HOME": str(home),
            "KAGGLE_API_TOKEN": TOKEN,
            "KAGGLE_USERNAME": "u",
            "KAGGLE_KEY": "k",
        }
    )
    assert creds.api_token == TOKEN and creds.origin == "KAGGLE_API_TOKEN"
    assert creds.uses_token


def test_credentials_from_env_token_file(home: Path) -> None:
    token_file = home / "tok.txt"
    token_file.write_text(TOKEN + "\n")
    creds = find_credentials({"HOME": str(home), "KAGGLE_API_TOKEN": str(token_file)})
    assert creds.api_token == TOKEN
    assert str(token_file) in creds.origin


def test_credentials_from_env_username_key(home: Path) -> None:
    creds = find_credentials(
        {"HOME": str(home), "KAGGLE_USERNAME": "alice", "KAGGLE_KEY": "k123"}
    )
    assert (creds.username, creds.key, creds.api_token) == ("alice", "k123", None)
    assert creds.origin == "KAGGLE_USERNAME/KAGGLE_KEY"


def test_credentials_from_kaggle_json_in_config_dir(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "kaggle.json").write_text(
        json.dumps({"username": "carol", "key": "carol-key"})
    )
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text(
        json.dumps({"username": "wrong", "key": "wrong"})
    )
    creds = find_credentials({"HOME": str(home), "KAGGLE_CONFIG_DIR": str(config)})
    assert (creds.username, creds.key) == ("carol", "carol-key")
    assert creds.origin == str(config / "kaggle.json")


def test_credentials_from_home_kaggle_json(home: Path) -> None:
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text(
        '{"username": "dave", "key": "dave-key"}'
    )
    creds = find_credentials({"HOME": str(home)})
    assert (creds.username, creds.key) == ("dave", "dave-key")
    assert creds.origin == "~/.kaggle/kaggle.json"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="XDG fallback is Linux-only in kaggle"
)
def test_credentials_from_xdg_config(home: Path) -> None:
    (home / ".config" / "kaggle").mkdir(parents=True)
    (home / ".config" / "kaggle" / "kaggle.json").write_text(
        '{"username": "erin", "key": "erin-key"}'
    )
    creds = find_credentials({"HOME": str(home)})
    assert creds.username == "erin"
    assert creds.origin == "~/.config/kaggle/kaggle.json"


def test_env_field_overrides_kaggle_json(home: Path) -> None:
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text(
        '{"username": "dave", "key": "dave-key"}'
    )
    creds = find_credentials({"HOME": str(home), "KAGGLE_USERNAME": "other"})
    assert (creds.username, creds.key) == ("other", "dave-key")
    assert "KAGGLE_USERNAME" in creds.origin and "kaggle.json" in creds.origin


def test_credentials_from_access_token_file(home: Path) -> None:
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "access_token").write_text(f"  {TOKEN}\n")
    creds = find_credentials({"HOME": str(home)})
    assert creds.api_token == TOKEN
    assert creds.origin == "~/.kaggle/access_token"


@pytest.mark.parametrize(
    "content",
    ["{not json", "[1, 2]", '{"username": "x"}', '{"username": 5, "key": "k"}', ""],
)
def test_malformed_kaggle_json(home: Path, tmp_path: Path, content: str) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "kaggle.json").write_text(content)
    with pytest.raises(CredentialsError) as info:
        find_credentials({"HOME": str(home), "KAGGLE_CONFIG_DIR": str(config)})
    assert str(config / "kaggle.json") in str(info.value)
    assert "\n" not in str(info.value)


def test_no_credentials(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CredentialsError) as info:
        find_credentials({"HOME": str(home)})
    message = str(info.value)
    assert "\n" not in message
    for hint in (
        "https://www.kaggle.com/settings",
        "kaggle.json",
        "KAGGLE_USERNAME",
        "KAGGLE_KEY",
        "KAGGLE_API_TOKEN",
    ):
        assert hint in message
    assert capsys.readouterr() == ("", "")
    assert (
        not (home / ".kaggle").exists() and not (home / ".config").exists()
    )  # nothing created


def test_no_credentials_in_download_prints_nothing(
    kaggle_standin: KaggleStandin,
    dest: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    with pytest.raises(CredentialsError):
        download_leaderboard(SLUG, dest)
    assert capsys.readouterr() == ("", "")
    assert kaggle_standin.requests == []


def test_credentials_repr_hides_secrets() -> None:
    creds = KaggleCredentials("alice", "super-secret-key", "super-secret-token", "test")
    for text in (repr(creds), str(creds), f"{creds}", creds.describe()):
        assert "super-secret" not in text
    assert "alice" in repr(creds)


# --------------------------------------------------------------------------------------
# Import cost and the stand-in itself
# --------------------------------------------------------------------------------------


def test_import_is_free() -> None:
    code = (
        "import kagsync.kaggle_client, sys; "
        "assert kagsync.kaggle_client.describe_endpoint('http://u:p@h:1/?q') == 'kaggle:http://h:1'; "
        "assert 'kagglesdk' not in sys.modules and 'requests' not in sys.modules and 'kaggle' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_never_imports_kaggle_package(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    code = (
        "import sys, pathlib; from kagsync.kaggle_client import download_leaderboard; "
        f"download_leaderboard({SLUG!r}, pathlib.Path(sys.argv[1])); "
        "assert 'kaggle' not in sys.modules, 'kaggle imported'"
    )
    kaggle_standin.serve_zip(SLUG, board_zip)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(dest)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert (dest / f"{SLUG}.zip").read_bytes() == board_zip


def test_standin_counts_concurrent_downloads(
    kaggle_standin: KaggleStandin, board_zip: bytes, tmp_path: Path
) -> None:
    import threading

    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.set_delay(SLUG, 0.3)
    threads = [
        threading.Thread(target=download_leaderboard, args=(SLUG, tmp_path / str(i)))
        for i in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert kaggle_standin.max_in_flight(SLUG) == 3
    assert kaggle_standin.in_flight(SLUG) == 0
    downloads = kaggle_standin.downloads(SLUG)
    assert len(downloads) == 3 and all(
        r.ended and r.ended - r.started >= 0.3 for r in downloads
    )


def test_build_leaderboard_csv_quoting() -> None:
    rows = [
        {
            "Rank": 1,
            "TeamId": 7,
            "TeamName": 'Larry "DJ" Cukierski',
            "LastSubmissionDate": "2026-05-01 10:00:00",
            "Score": "0.77990",
            "SubmissionCount": 3,
            "TeamMemberUserNames": ["a", "b"],
        },
        (0, 8, "赵云龙", "2026-05-02 11:00:00", "1.00000", 1, ""),
    ]
    data = build_leaderboard_csv(rows)
    assert data == (
        "\ufeffRank,TeamId,TeamName,LastSubmissionDate,Score,SubmissionCount,TeamMemberUserNames\n"
        '1,7,"Larry ""DJ"" Cukierski","2026-05-01 10:00:00",0.77990,3,"a,b"\n'
        '0,8,赵云龙,"2026-05-02 11:00:00",1.00000,1,\n'
    ).encode("utf-8")
    shape_a = build_leaderboard_csv(
        [(1, "x y", "2019-01-01 00:00:00", "0.5")], shape="A", bom=False, crlf=True
    )
    assert (
        shape_a
        == b'TeamId,TeamName,SubmissionDate,Score\r\n1,"x y","2019-01-01 00:00:00",0.5\r\n'
    )


def test_make_board_is_realistic() -> None:
    rows = make_board(500, seed=3, benchmark=True)
    assert len(rows) == 501
    assert [r["Rank"] for r in rows if r["Rank"]] == list(range(1, 501))
    assert len({r["TeamId"] for r in rows}) == 501
    names = [r["TeamName"] for r in rows]
    assert any('"' in n for n in names) and any("," in n for n in names)
    assert any(not n.isascii() for n in names)
    assert any(r["Score"].endswith("0") for r in rows)
    assert any("," in r["TeamMemberUserNames"] for r in rows)
    assert make_board(50, seed=1) == make_board(50, seed=1)
