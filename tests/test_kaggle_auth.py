"""kagsync.kaggle.auth: finding Kaggle credentials, and refusing unusable ones."""

# The imported pytest fixture `kaggle_standin` is "redefined" by each test parameter.
# ruff: noqa: F811

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from kagsync.errors import (
    CredentialsError,
)
from kagsync.kaggle import (
    KaggleCredentials,
    download_leaderboard,
    find_credentials,
)
from tests.kaggle_standin import (
    KaggleStandin,
    kaggle_standin,  # noqa: F401  (fixture)
)

SLUG = "playground-series-s6e5"
TOKEN = "KGAT_0123456789abcdef0123456789abcdef"


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


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
    creds = find_credentials({"HOME": str(home), "KAGGLE_USERNAME": "alice", "KAGGLE_KEY": "k123"})
    assert (creds.username, creds.key, creds.api_token) == ("alice", "k123", None)
    assert creds.origin == "KAGGLE_USERNAME/KAGGLE_KEY"


def test_credentials_from_kaggle_json_in_config_dir(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": "carol", "key": "carol-key"}))
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text(json.dumps({"username": "wrong", "key": "wrong"}))
    creds = find_credentials({"HOME": str(home), "KAGGLE_CONFIG_DIR": str(config)})
    assert (creds.username, creds.key) == ("carol", "carol-key")
    assert creds.origin == str(config / "kaggle.json")


def test_credentials_from_home_kaggle_json(home: Path) -> None:
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text('{"username": "dave", "key": "dave-key"}')
    creds = find_credentials({"HOME": str(home)})
    assert (creds.username, creds.key) == ("dave", "dave-key")
    assert creds.origin == "~/.kaggle/kaggle.json"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG fallback is Linux-only in kaggle")
def test_credentials_from_xdg_config(home: Path) -> None:
    (home / ".config" / "kaggle").mkdir(parents=True)
    (home / ".config" / "kaggle" / "kaggle.json").write_text('{"username": "erin", "key": "erin-key"}')
    creds = find_credentials({"HOME": str(home)})
    assert creds.username == "erin"
    assert creds.origin == "~/.config/kaggle/kaggle.json"


def test_env_field_overrides_kaggle_json(home: Path) -> None:
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "kaggle.json").write_text('{"username": "dave", "key": "dave-key"}')
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
    assert not (home / ".kaggle").exists() and not (home / ".config").exists()  # nothing created


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
# Secrets: refused when read, never in a message
# --------------------------------------------------------------------------------------

OLD_TOKEN = "KGAT_old0123456789abcdef0123456789ab"


@pytest.mark.parametrize("bad", ["\n", "\r", "\x00", "\t", "\x7f", "é"])
def test_token_or_key_with_control_character_refused_from_env(home: Path, bad: str) -> None:
    cases = [
        ({"KAGGLE_API_TOKEN": f"{TOKEN}{bad}{OLD_TOKEN}"}, "KAGGLE_API_TOKEN"),
        ({"KAGGLE_USERNAME": "alice", "KAGGLE_KEY": f"key{bad}secret-part"}, "KAGGLE_KEY"),
        ({"KAGGLE_USERNAME": f"al{bad}ice", "KAGGLE_KEY": "key-secret-part"}, "KAGGLE_USERNAME"),
    ]
    for env, source in cases:
        with pytest.raises(CredentialsError) as info:
            find_credentials({"HOME": str(home), **env})
        message = str(info.value)
        assert source in message
        assert "\n" not in message and "\r" not in message and "\x00" not in message
        for part in (TOKEN, OLD_TOKEN, "secret-part", "al"):
            assert f"{part}{bad}" not in message and part + "\\" not in message
        for value in env.values():
            assert value not in message
        assert TOKEN not in message and "secret-part" not in message


def test_two_line_access_token_refused_naming_the_file(home: Path) -> None:
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "access_token").write_text(f"{TOKEN}\n{OLD_TOKEN}\n")
    with pytest.raises(CredentialsError) as info:
        find_credentials({"HOME": str(home)})
    message = str(info.value)
    assert "~/.kaggle/access_token" in message and "line break" in message
    assert TOKEN not in message and OLD_TOKEN not in message and "\n" not in message


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\n\n", "  \t\n"])
def test_access_token_surrounding_whitespace_accepted(home: Path, ending: str) -> None:
    (home / ".kaggle").mkdir()
    (home / ".kaggle" / "access_token").write_text(f"{TOKEN}{ending}", newline="")
    assert find_credentials({"HOME": str(home)}).api_token == TOKEN


def test_token_file_named_by_env_with_two_lines_refused(home: Path) -> None:
    token_file = home / "tok.txt"
    token_file.write_text(f"{TOKEN}\r\n{OLD_TOKEN}")
    with pytest.raises(CredentialsError) as info:
        find_credentials({"HOME": str(home), "KAGGLE_API_TOKEN": str(token_file)})
    assert str(token_file) in str(info.value)
    assert TOKEN not in str(info.value) and OLD_TOKEN not in str(info.value)


def test_kaggle_json_key_with_newline_refused(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": "carol", "key": "carol-key\nold-key"}))
    with pytest.raises(CredentialsError) as info:
        find_credentials({"HOME": str(home), "KAGGLE_CONFIG_DIR": str(config)})
    message = str(info.value)
    assert str(config / "kaggle.json") in message and '"key"' in message
    assert "carol-key" not in message and "old-key" not in message
