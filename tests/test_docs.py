"""The README and the docs site say what is true: every command documented, the command
reference generated from --help, every example run against the bundled data."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
import typer
import typer.main

from kagsync.cli import app
from tests import runbook
from tests.cli_runner import invoke

ROOT = runbook.ROOT
README = runbook.README.read_text(encoding="utf-8")
# Pages other helpers write: listed in mkdocs.yml, their examples run when marked runnable.
OTHER_PAGES = {"serve.md", "kaggle-client.md", "notifications.md", "python-api.md", "security.md"}
PAGES = sorted(runbook.DOCS.glob("*.md"))
PROSE = README + "".join(page.read_text(encoding="utf-8") for page in PAGES if page.name != "commands.md")


def _commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        if getattr(command, "hidden", False):
            continue
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        else:
            yield path


# Its own tree: contexts made by hand below must not touch the one the CLI runs on
# (click caches a command's help option from the first context that asks).
INTROSPECTED = typer.main.get_command(app)
COMMANDS = list(_commands(INTROSPECTED))


def test_there_are_commands():
    assert ("competition", "add") in COMMANDS and ("sync",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_has_an_example(path):
    result = invoke([*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"kagsync {' '.join(path)} --help has no example"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_command_is_documented_in_the_readme_or_the_docs(path):
    pattern = r"kagsync " + r"\s+".join(map(re.escape, path)) + r"\b"
    assert re.search(pattern, PROSE), (
        f"neither README.md nor a page of docs/ (the generated commands.md aside) says what "
        f"`kagsync {' '.join(path)}` is for: add it to the page of its topic and to docs/index.md"
    )


# -- one style of help --------------------------------------------------------------------

METAVAR = re.compile(r"\[?[A-Z][A-Z_]*(\.\.\.)?\]?(\.\.\.)?")
GENERIC = {"INTEGER", "FLOAT", "PATH", "BOOLEAN", "FILENAME", "DIRECTORY", "UUID"}


def _command(path):
    command = INTROSPECTED
    context = typer.Context(command, info_name="kagsync")
    for name in path:
        command = command.commands[name]
        context = typer.Context(command, info_name=name, parent=context)
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
    text = invoke([*path, "--help"], env={"COLUMNS": "200"}).stdout
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


def test_the_docs_document_completion_services_and_output():
    for needle in (
        "kagsync --install-completion",
        "kagsync --show-completion",
        "[Timer]",
        "OnUnitActiveSec",
        "systemctl --user enable --now kagsync.timer",
        "*/5 * * * *",
        "watch --once --json",
        "KAGSYNC_PAGER",
        "--no-pager",
        "log_max_bytes",
        "log_backups",
        "KAGSYNC_FORCE_TTY",
        "… 1,450 more (--all)",
        "-o -",
    ):
        assert needle in PROSE, needle


# -- the README is a short tour ------------------------------------------------------------


def test_the_readme_is_a_short_tour_that_starts_with_the_two_commands():
    lines = README.splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: move detail into a page of docs/"
    head = "\n".join(lines[:25])
    assert "pip install . && kagsync --db demo.db --source examples/snapshots/1 import" in head
    assert "pip install '.[test]' && python -m pytest" in head
    for needle in ("--offline", "kagsync serve", "![kagsync serve](docs/serve-desktop.png)", "mkdocs"):
        assert needle in README, needle


def test_every_page_is_in_the_site_and_every_link_of_the_readme_exists():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in PAGES:
        assert f": {page.name}" in nav, f"docs/{page.name} is not in mkdocs.yml's nav"
    for target in re.findall(r"\]\((docs/[^)#]*)", README):
        assert (ROOT / target).exists() or target.endswith(".png"), target


# -- the command reference cannot drift from the CLI --------------------------------------


def _generator():
    spec = importlib.util.spec_from_file_location("gen_commands", runbook.DOCS / "gen_commands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_reference_is_the_clis_own_help():
    generator = _generator()
    committed = generator.OUT.read_text(encoding="utf-8")
    assert committed == generator.render(), (
        "docs/commands.md differs from the CLI's --help: run `python docs/gen_commands.py` and commit it"
    )
    for path in COMMANDS:
        assert f"## kagsync {' '.join(path)}\n" in committed


# -- every example runs --------------------------------------------------------------------


def test_every_shell_example_says_whether_it_runs():
    for page in [runbook.README, *PAGES]:
        if page.name in OTHER_PAGES:
            continue
        for block in runbook.blocks(page):
            assert block.marked, (
                f"{block.where}: mark the ```bash block `<!-- runnable -->` (a test runs it "
                f"on the bundled data) or `<!-- not runnable: why -->`"
            )


RUNNABLE_PAGES = [page for page in PAGES if any(block.runnable for block in runbook.blocks(page))]


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda page: page.name)
def test_the_examples_of_a_page_run_on_the_bundled_data(page, tmp_path_factory, tmp_path):
    """A page's runnable examples run, in order, on the database the README's tour leaves."""
    folder, _ = runbook.tour_once(tmp_path_factory)
    work = runbook.copy_of(folder, tmp_path / "work")
    commands = [command for block in runbook.blocks(page) if block.runnable for command in block.commands()]
    commands, skipped = runbook.runnable_here(commands)
    if not commands:
        pytest.skip(f"this machine lacks {', '.join(sorted(set().union(*map(runbook.missing_tools, skipped))))}")
    env = {**runbook.environment(work), "KAGSYNC_DB": "demo.db"}
    env["PATH"] = f"{runbook.fast_kagsync(tmp_path_factory)}{os.pathsep}{env['PATH']}"
    for ran in runbook.run(commands, work, env, f"docs/{page.name}"):
        assert runbook.shows_rows(ran), f"docs/{page.name}: `{ran.command}` printed no rows:\n{ran.stdout}"


def test_the_named_examples_find_their_teams(tmp_path_factory, tmp_path):
    """The examples issue 19 found empty: each now finds the team it names."""
    folder, _ = runbook.tour_once(tmp_path_factory)
    env = {**runbook.environment(folder), "KAGSYNC_DB": "demo.db"}
    env["PATH"] = f"{runbook.fast_kagsync(tmp_path_factory)}{os.pathsep}{env['PATH']}"
    outputs = runbook.run(
        [
            'kagsync leaderboard titanic --team "data"',
            "kagsync leaderboard titanic --user kenji1231",
            'kagsync history titanic --team "Data Wizards"',
        ],
        runbook.copy_of(folder, tmp_path / "w"),
        env,
        "issue 19",
    )
    for ran in outputs:
        assert "Data Wizards" in ran.stdout and len(ran.stdout.strip().splitlines()) >= 2, ran


def test_the_site_builds_strictly_offline(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install '.[docs]'")
    pytest.importorskip("material", reason="the docs extra is not installed: pip install '.[docs]'")
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    built = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "site").rglob("*.html"))
    assert "fonts.googleapis.com" not in built and "fonts.gstatic.com" not in built
