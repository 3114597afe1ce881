"""Every command has --help with an example, and is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from kagsync.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        if getattr(command, "hidden", False):
            continue
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        else:
            yield path


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_there_are_commands():
    assert ("competition", "add") in COMMANDS and ("sync",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_has_an_example(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"kagsync {' '.join(path)} --help has no example"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_command_is_documented_in_readme(path):
    pattern = r"kagsync " + r"\s+".join(map(re.escape, path)) + r"\b"
    assert re.search(pattern, README), f"README does not document `kagsync {' '.join(path)}`"


# -- one style of help --------------------------------------------------------------------

METAVAR = re.compile(r"\[?[A-Z][A-Z_]*(\.\.\.)?\]?(\.\.\.)?")
GENERIC = {"INTEGER", "FLOAT", "PATH", "BOOLEAN", "FILENAME", "DIRECTORY", "UUID"}


def _command(path):
    from typer._click import Context

    command = typer.main.get_command(app)
    context = Context(command, info_name="kagsync")
    for name in path:
        command = command.commands[name]
        context = Context(command, info_name=name, parent=context)
    return command, context


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_metavars_are_one_style(path):
    """SLUG, EVENT, FILE, N...: uppercase words naming what to give, never <int range> or {slug}."""
    command, context = _command(path)
    for param in command.params:
        if getattr(param, "is_flag", False) or getattr(param, "hidden", False):
            continue
        metavar = param.make_metavar(context)
        assert METAVAR.fullmatch(metavar), f"kagsync {' '.join(path)}: {param.name} shows as {metavar!r}"
        assert metavar.strip("[].") not in GENERIC, f"kagsync {' '.join(path)}: {param.name} shows as {metavar!r}"
    text = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).stdout
    assert not re.search(r"<(int|str|path|float|text)|\{[a-z_]+\}", text), text


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_counts_accept_1_to_a_million(path):
    """--top (rows of a board) and --limit (runs, changes) take N from 1 to MAX_COUNT."""
    from kagsync.models import MAX_COUNT

    command, _ = _command(path)
    for param in command.params:
        if {"--top", "--limit"} & set(getattr(param, "opts", ())):
            assert (param.type.min, param.type.max) == (1, MAX_COUNT), f"kagsync {' '.join(path)} {param.opts}"
            assert param.make_metavar(_command(path)[1]) == "N"


def test_readme_documents_completion_services_and_output():
    for needle in ("kagsync --install-completion", "kagsync --show-completion", "[Timer]", "OnUnitActiveSec",
                   "systemctl --user enable --now kagsync.timer", "*/5 * * * *", "watch --once --json",
                   "KAGSYNC_PAGER", "--no-pager", "log_max_bytes", "log_backups", "KAGSYNC_FORCE_TTY",
                   "… 1,450 more (--all)", "-o -"):
        assert needle in README, needle
