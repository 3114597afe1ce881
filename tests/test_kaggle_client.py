"""kagsync.kaggle against the local Kaggle stand-in, through the real HTTP path."""

# The imported pytest fixture `kaggle_standin` is "redefined" by each test parameter.
# ruff: noqa: F811

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path

import pytest

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
    ValidationError,
)
from kagsync.kaggle import (
    KaggleCredentials,
    describe_endpoint,
    download_leaderboard,
    fetch_competition_details,
    fetch_leaderboard_page,
    fetch_private_board,
    fetch_public_view,
    find_credentials,
)
from kagsync.kaggle import http as kaggle_http
from tests.kaggle_standin import (
    AUTHORIZATION_MARKER,
    DEFAULT_KEY,
    DEFAULT_USERNAME,
    DOWNLOAD_PATH,
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


def test_download_success_basic_auth(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    progress: list[tuple[int, int | None]] = []

    path = download_leaderboard(SLUG, dest, on_progress=lambda done, total: progress.append((done, total)))

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


def test_explicit_credentials_win_over_the_environment(
    kaggle_standin: KaggleStandin,
    board_zip: bytes,
    dest: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Stock kagglesdk would prefer KAGGLE_API_TOKEN / ~/.kaggle/access_token over the
    # username and key it is given, and would demand an IAP token for STAGING: we do neither.
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
        path = download_leaderboard(SLUG, dest, credentials=creds, endpoint=standin.url + "/")
        assert path.read_bytes() == board_zip
        assert standin.downloads(SLUG)[0].bearer_token == TOKEN


def test_replaces_existing_file_atomically(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
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


def test_401_when_standin_rejects_the_key(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
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


def test_other_4xx_is_kaggle_error_with_message(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 400, {"code": 400, "message": "Bad competition name."})
    with pytest.raises(KaggleError) as info:
        download_leaderboard(SLUG, dest)
    assert type(info.value) is KaggleError
    assert "400" in str(info.value) and "Bad competition name." in str(info.value)


def test_secret_echoed_by_server_is_scrubbed(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 403, {"code": 403, "message": f"key {DEFAULT_KEY} lacks\npermission"})
    with pytest.raises(KaggleForbiddenError) as info:
        download_leaderboard(SLUG, dest)
    assert_safe(info.value)


# --------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------


def test_429_retried_honouring_retry_after(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_error(SLUG, 429, headers={"Retry-After": "7"}, times=1)
    kaggle_standin.serve_error(SLUG, 429, headers={"Retry-After": "9999"}, times=1)  # capped
    kaggle_standin.serve_error(SLUG, 429, times=1)  # no header: backoff
    sleeps = Sleeps()

    path = download_leaderboard(SLUG, dest, sleep=sleeps)

    assert sleeps == [7.0, 120.0, 4.0]
    assert path.read_bytes() == board_zip
    assert kaggle_standin.download_count(SLUG) == 4
    assert_clean(dest, f"{SLUG}.zip")


def test_429_forever_rate_limit_error(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 429)
    sleeps = Sleeps()
    with pytest.raises(KaggleRateLimitError) as info:
        download_leaderboard(SLUG, dest, max_attempts=3, sleep=sleeps)
    assert sleeps == [1.0, 2.0]  # no wait after the last attempt
    assert kaggle_standin.download_count(SLUG) == 3
    assert "429" in str(info.value) and "3 attempts" in str(info.value)
    assert_safe(info.value)
    assert_clean(dest)


def test_5xx_retried_then_success(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_error(SLUG, 503, times=1)
    kaggle_standin.serve_error(SLUG, 502, times=1)  # HTML body
    kaggle_standin.serve_error(SLUG, 500, b'{"code": 50', times=1, content_type="application/json")  # broken JSON
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
    monkeypatch.setattr(kaggle_http, "READ_TIMEOUT", 0.2)
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.set_delay(SLUG, 0.6)
    with pytest.raises(KaggleConnectionError) as info:
        download_leaderboard(SLUG, dest, max_attempts=2, sleep=Sleeps())
    assert "0.2 s" in str(info.value)
    assert_clean(dest)


def test_cut_short_download_is_retried(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_disconnect(SLUG, after_bytes=len(board_zip) // 2, times=1)
    sleeps = Sleeps()
    path = download_leaderboard(SLUG, dest, sleep=sleeps)
    assert path.read_bytes() == board_zip
    assert sleeps == [1.0]
    assert_clean(dest, f"{SLUG}.zip")


def test_cut_short_forever_leaves_nothing(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
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
# Import cost and the stand-in itself
# --------------------------------------------------------------------------------------


def test_import_is_free() -> None:
    code = (
        "import kagsync.kaggle, kagsync.cli, sys; "
        "assert kagsync.kaggle.describe_endpoint('http://u:p@h:1/?q') == 'kaggle:http://h:1'; "
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


def test_never_imports_kaggle_package(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    code = (
        "import sys, pathlib; from kagsync.kaggle import download_leaderboard; "
        f"download_leaderboard({SLUG!r}, pathlib.Path(sys.argv[1])); "
        "assert 'kaggle' not in sys.modules, 'kaggle imported'; "
        "assert 'kagglesdk' not in sys.modules, 'kagglesdk imported'"
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


def test_standin_counts_concurrent_downloads(kaggle_standin: KaggleStandin, board_zip: bytes, tmp_path: Path) -> None:
    import threading

    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.set_delay(SLUG, 0.3)
    threads = [threading.Thread(target=download_leaderboard, args=(SLUG, tmp_path / str(i))) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert kaggle_standin.max_in_flight(SLUG) == 3
    assert kaggle_standin.in_flight(SLUG) == 0
    downloads = kaggle_standin.downloads(SLUG)
    assert len(downloads) == 3 and all(r.ended and r.ended - r.started >= 0.3 for r in downloads)


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
    shape_a = build_leaderboard_csv([(1, "x y", "2019-01-01 00:00:00", "0.5")], shape="A", bom=False, crlf=True)
    assert shape_a == b'TeamId,TeamName,SubmissionDate,Score\r\n1,"x y","2019-01-01 00:00:00",0.5\r\n'


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


# --------------------------------------------------------------------------------------
# Secrets: never in a message
# --------------------------------------------------------------------------------------

OLD_TOKEN = "KGAT_old0123456789abcdef0123456789ab"


def test_explicit_credentials_with_newline_refused_before_any_request(
    kaggle_standin: KaggleStandin, dest: Path
) -> None:
    creds = KaggleCredentials(None, None, f"{TOKEN}\n{OLD_TOKEN}", "the settings file")
    with pytest.raises(CredentialsError) as info:
        download_leaderboard(SLUG, dest, credentials=creds)
    assert "the settings file" in str(info.value)
    assert TOKEN not in str(info.value) and OLD_TOKEN not in str(info.value)
    assert kaggle_standin.requests == []


def test_two_line_access_token_never_reaches_requests(
    kaggle_standin: KaggleStandin, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The original bug: ValueError: Invalid header value b'Bearer <token>\n<old>'.
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    home = Path(os.environ["HOME"])
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "access_token").write_text(f"{TOKEN}\n{OLD_TOKEN}\n")
    with pytest.raises(CredentialsError) as info:
        fetch_leaderboard_page(SLUG, override_public=True)
    assert TOKEN not in str(info.value) and "Bearer" not in str(info.value)
    assert kaggle_standin.requests == []


@pytest.mark.parametrize(
    "endpoint, expected",
    [
        (None, "kaggle"),
        ("", "kaggle"),
        ("   ", "kaggle"),
        ("http://127.0.0.1:8123", "kaggle:http://127.0.0.1:8123"),
        ("http://127.0.0.1:8123/", "kaggle:http://127.0.0.1:8123"),
        (
            "https://bob:pw-in-url@mirror.example:8443/kaggle/?token=abc#frag",
            "kaggle:https://mirror.example:8443/kaggle",
        ),
        ("http://bob:p@ss/w0rd@host:1", "kaggle:http://host:1"),
        ("http://bob@host", "kaggle:http://host"),
    ],
)
def test_describe_endpoint(endpoint: str | None, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(kaggle_http.ENDPOINT_ENV, raising=False)
    assert describe_endpoint(endpoint) == expected


def test_describe_endpoint_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kaggle_http.ENDPOINT_ENV, "http://u:secret-pw@127.0.0.1:9/?k=v")
    assert describe_endpoint(None) == "kaggle:http://127.0.0.1:9"
    assert describe_endpoint("http://other:1") == "kaggle:http://other:1"  # the argument wins


def _secret_forms(username: str | None, key: str | None, token: str | None) -> list[str]:
    forms = []
    if key:
        pair = f"{username}:{key}"
        encoded = base64.b64encode(pair.encode()).decode()
        forms += [key, pair, encoded, encoded.rstrip("="), f"Basic {encoded}"]
    if token:
        forms += [token, f"Bearer {token}"]
    return forms


def _everything_shown(exc: BaseException) -> str:
    """What a user or a log could ever see of an exception: message, repr, traceback."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


def test_no_secret_in_any_error_after_a_series_of_faults(
    kaggle_standin: KaggleStandin, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every exception of a series of faults is searched for every form of every secret."""
    key_creds = KaggleCredentials("alice", "alice-key-0123456789abcdef", None, "test key")
    token_creds = KaggleCredentials(None, None, TOKEN, "test token")
    secrets = [
        *_secret_forms("alice", "alice-key-0123456789abcdef", None),
        *_secret_forms(None, None, TOKEN),
        *_secret_forms(DEFAULT_USERNAME, DEFAULT_KEY, None),
        OLD_TOKEN,
        "pw-in-url",
    ]
    echo_json = {"code": 0, "message": f"bad auth header: {AUTHORIZATION_MARKER}"}
    echo_text = f"Authorization: {AUTHORIZATION_MARKER} was refused"
    # The secret straddles the 300-character cut of long messages.
    echo_long = "x" * 280 + AUTHORIZATION_MARKER + " and more"
    errors: list[BaseException] = []

    def collect(call, *args, **kwargs) -> None:
        with pytest.raises(Exception) as info:
            call(*args, **kwargs)
        errors.append(info.value)

    for creds in (key_creds, token_creds):
        for status, body in (
            (401, echo_text),
            (500, {**echo_json, "code": 500}),
            (403, {**echo_json, "code": 403}),
            (400, echo_long),
        ):
            kaggle_standin.reset()
            kaggle_standin.serve_error(SLUG, status, body, rpc="*", echo_authorization=True)
            collect(download_leaderboard, SLUG, dest, credentials=creds, max_attempts=2, sleep=Sleeps())
            collect(fetch_competition_details, SLUG, credentials=creds, max_attempts=2, sleep=Sleeps())
            collect(
                fetch_leaderboard_page, SLUG, override_public=False, credentials=creds, max_attempts=2, sleep=Sleeps()
            )
            collect(fetch_private_board, SLUG, credentials=creds, max_attempts=2, sleep=Sleeps())
        kaggle_standin.reset()
        kaggle_standin.serve_error(SLUG, 429, echo_long, rpc="*", echo_authorization=True)
        collect(download_leaderboard, SLUG, dest, credentials=creds, max_attempts=2, sleep=Sleeps())

    # Bad tokens, from the environment and from a file.
    monkeypatch.setenv("KAGGLE_API_TOKEN", f"{TOKEN}\n{OLD_TOKEN}")
    collect(download_leaderboard, SLUG, dest)
    collect(find_credentials)
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    home = Path(os.environ["HOME"])
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "access_token").write_text(f"{TOKEN}\n{OLD_TOKEN}\n")
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    collect(fetch_public_view, SLUG)
    collect(
        download_leaderboard,
        SLUG,
        dest,
        credentials=KaggleCredentials("alice", "k\r\nalice-key-0123456789abcdef", None, "x"),
    )

    # An endpoint with user-info: unreachable, and reachable but failing.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    collect(
        download_leaderboard,
        SLUG,
        dest,
        credentials=key_creds,
        endpoint=f"http://bob:pw-in-url@127.0.0.1:{port}",
        max_attempts=1,
    )
    collect(
        fetch_competition_details,
        SLUG,
        credentials=key_creds,
        endpoint=f"http://bob:pw-in-url@127.0.0.1:{port}",
        max_attempts=1,
    )
    kaggle_standin.reset()
    kaggle_standin.serve_error(
        SLUG, 502, f"upstream http://bob:pw-in-url@x/ said {AUTHORIZATION_MARKER}", rpc="*", echo_authorization=True
    )
    userinfo_url = kaggle_standin.url.replace("http://", "http://bob:pw-in-url@")
    collect(download_leaderboard, SLUG, dest, credentials=key_creds, endpoint=userinfo_url, max_attempts=1)
    monkeypatch.setenv(kaggle_http.ENDPOINT_ENV, userinfo_url)
    collect(fetch_leaderboard_page, SLUG, override_public=True, credentials=token_creds, max_attempts=1)
    collect(kaggle_http.resolve_endpoint, "ftp://bob:pw-in-url@host")

    # Something unexpected from deep inside requests quoting the header.
    def broken_post(self, url, **kwargs):
        raise ValueError(f"Invalid header value b'Bearer {TOKEN}\\n{OLD_TOKEN}'")

    import requests

    monkeypatch.setattr(requests.Session, "post", broken_post)
    collect(download_leaderboard, SLUG, dest, credentials=token_creds)

    assert len(errors) == 44
    for exc in errors:
        shown = _everything_shown(exc)
        for secret in secrets:
            assert secret not in shown, f"{secret!r} leaked by {type(exc).__name__}: {exc}"
        assert "\n" not in str(exc), str(exc)
    assert all(isinstance(exc, KagsyncError) for exc in errors), [type(e) for e in errors]
    # The servers really did echo the secrets (so the test tested something).
    echoed = [r for r in kaggle_standin.requests if r.authorization]
    assert echoed
    assert any("***" in str(exc) for exc in errors)
    assert_clean(dest)


# --------------------------------------------------------------------------------------
# Download limits: size cap and deadline
# --------------------------------------------------------------------------------------


def test_size_cap_from_content_length(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    with pytest.raises(DownloadLimitError) as info:
        download_leaderboard(SLUG, dest, max_bytes=len(board_zip) - 1, sleep=Sleeps())
    assert info.value.kind == "too_large"
    message = str(info.value)
    assert "cap" in message and SLUG in message and "\n" not in message
    assert kaggle_standin.download_count(SLUG) == 1  # not retried
    assert_clean(dest)
    # Exactly at the cap is fine.
    assert download_leaderboard(SLUG, dest, max_bytes=len(board_zip)).read_bytes() == board_zip


def test_size_cap_while_streaming_without_content_length(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_trickle(SLUG, b"z" * 4096, chunk_size=4096, interval=0, forever=True, content_length=None)
    started = time.monotonic()
    with pytest.raises(DownloadLimitError) as info:
        download_leaderboard(SLUG, dest, max_bytes=100_000, sleep=Sleeps())
    assert time.monotonic() - started < 5
    assert "cap" in str(info.value)
    assert_clean(dest)


def test_size_cap_when_server_sends_more_than_announced_stops_at_announced(
    kaggle_standin: KaggleStandin, dest: Path
) -> None:
    # A lying Content-Length under the cap: the client reads only what was announced.
    kaggle_standin.serve_trickle(SLUG, b"y" * 5000, chunk_size=5000, interval=0, content_length=1000)
    assert download_leaderboard(SLUG, dest, max_bytes=2000).read_bytes() == b"y" * 1000


def test_deadline_cuts_off_a_server_trickling_forever(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_trickle(SLUG, b"PK\x03\x04" * 64, chunk_size=1, interval=0.02, forever=True)
    progress: list[int] = []
    started = time.monotonic()
    with pytest.raises(DownloadLimitError) as info:
        download_leaderboard(SLUG, dest, deadline=0.6, on_progress=lambda done, total: progress.append(done))
    elapsed = time.monotonic() - started
    assert 0.5 < elapsed < 2.5, elapsed
    message = str(info.value)
    assert "0.6 s deadline" in message and SLUG in message and "\n" not in message
    assert info.value.kind == "too_large"
    assert kaggle_standin.download_count(SLUG) == 1
    assert_clean(dest)
    # The server saw the client hang up soon after the deadline.
    [request] = kaggle_standin.downloads(SLUG)
    for _ in range(100):
        if request.ended is not None:
            break
        time.sleep(0.02)
    assert request.ended is not None and request.ended - request.started < 2.5


def test_deadline_with_an_announced_length_trickled_slowly(
    kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path
) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_trickle(SLUG, chunk_size=10, interval=0.05)  # the served body, announced in full
    started = time.monotonic()
    with pytest.raises(DownloadLimitError):
        download_leaderboard(SLUG, dest, deadline=0.5)
    assert time.monotonic() - started < 2.5
    assert_clean(dest)


def test_deadline_while_waiting_for_headers(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.set_delay(SLUG, 2.0)
    started = time.monotonic()
    with pytest.raises(DownloadLimitError) as info:
        download_leaderboard(SLUG, dest, deadline=0.4, sleep=Sleeps())
    assert time.monotonic() - started < 1.5
    assert "deadline" in str(info.value)
    assert_clean(dest)


def test_retry_wait_past_the_deadline_ends_retries_early(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 429, headers={"Retry-After": "100"})
    sleeps = Sleeps()
    with pytest.raises(KaggleRateLimitError) as info:  # still a rate limit: watch backs off
        download_leaderboard(SLUG, dest, deadline=30, sleep=sleeps)
    assert sleeps == []
    assert kaggle_standin.download_count(SLUG) == 1
    assert "1 attempt; stopped to keep within the 30 s deadline" in str(info.value)


def test_retries_within_the_deadline_still_happen(kaggle_standin: KaggleStandin, board_zip: bytes, dest: Path) -> None:
    kaggle_standin.serve_zip(SLUG, board_zip)
    kaggle_standin.serve_error(SLUG, 503, times=2)
    sleeps = Sleeps()
    assert download_leaderboard(SLUG, dest, deadline=30, sleep=sleeps).read_bytes() == board_zip
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("kwargs", [{"max_bytes": 0}, {"max_bytes": True}, {"deadline": 0}, {"deadline": float("nan")}])
def test_limit_arguments_checked(kwargs: dict, dest: Path) -> None:
    with pytest.raises(ValueError):
        download_leaderboard(SLUG, dest, credentials=KaggleCredentials(None, None, TOKEN, "t"), **kwargs)


def test_kaggle_messages_with_terminal_escapes_are_shown_escaped(kaggle_standin: KaggleStandin, dest: Path) -> None:
    kaggle_standin.serve_error(SLUG, 403, {"code": 403, "message": "rules \x1b[2J\x1b]0;pwned\x07 first"})
    with pytest.raises(KaggleForbiddenError) as info:
        download_leaderboard(SLUG, dest)
    text = str(info.value)
    assert "\x1b" not in text and "\x07" not in text
    assert "rules \\x1b[2J\\x1b]0;pwned\\x07 first" in text
