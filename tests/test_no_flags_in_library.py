"""The library never names a command-line flag: it carries a structured hint instead.

Every string literal of the package outside ``kagsync/cli/`` (docstrings aside: they
document the commands) is checked for a ``--flag``. The CLI turns hints into flag
advice (``kagsync.cli.app.HINT_ADVICE``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import kagsync
from kagsync.errors import Hint

PACKAGE = Path(kagsync.__file__).parent
# A flag: two hyphens and a lowercase word.
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*(?![\w-])")


def flags(text: str) -> list[str]:
    """The flags named in ``text``; CSS custom properties (``--fg: #fff``, ``var(--fg)``) are not flags."""
    css = "{" in text and "}" in text
    return [
        match.group()
        for match in FLAG.finditer(text)
        if not (text[: match.start()].endswith("var(") or (css and text[match.end() : match.end() + 1] == ":"))
    ]


# Exceptions, as (module, the flag found): none is left (issue 17 item 4). The second
# test fails once an entry is no longer needed, so this list can only shrink.
PENDING: set[tuple[str, str]] = set()


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _flags_in_library() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "cli":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found |= {(relative.as_posix(), flag) for flag in flags(node.value)}
    return found


def test_no_library_string_names_a_cli_flag():
    assert _flags_in_library() - PENDING == set()


def test_the_pending_list_only_holds_what_is_still_there():
    stale = PENDING - _flags_in_library()
    assert not stale, f"fixed meanwhile: remove {sorted(stale)} from PENDING"


def test_the_pattern_finds_flags_and_spares_css():
    assert flags("name one, or use --all-active") == ["--all-active"]
    assert flags("--team is empty") == ["--team"]
    assert flags("--on: unknown kind") == ["--on"]
    assert flags(":root { --fg: #1b1f24; } a { color: var(--accent); }") == []
    assert flags("-- ::") == []


def test_every_hint_has_cli_advice():
    from kagsync.cli.app import HINT_ADVICE

    assert set(HINT_ADVICE) == set(Hint)


def test_the_cli_turns_hints_into_flag_advice(cli):
    assert cli("event", "add", "Night", "--slug", "night").exit_code == 0
    assert cli("competition", "add", "titanic", "--event", "night", "--no-sync", "--offline").exit_code == 0
    cases = [
        (("sync",), "name at least one competition, or use --all-active"),
        (("competition", "refresh"), "name at least one competition, or use --all"),
        (("event", "remove", "night", "--yes"), "remove them first or use --cascade"),
        (("leaderboard", "titanic"), "titanic has no stored leaderboard yet: run kagsync sync titanic"),
        (("shakeup", "titanic"), "run kagsync sync titanic"),
    ]
    for args, advice in cases:
        result = cli(*args)
        assert result.exit_code != 0, args
        [line] = result.stderr.strip().splitlines()
        assert advice in " ".join(line.split()), (args, line)
