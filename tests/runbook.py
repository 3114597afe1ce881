"""Run the shell examples of README.md and docs/*.md as a newcomer would.

A ```bash block preceded by ``<!-- runnable -->`` is run by the tests; one preceded by
``<!-- not runnable: REASON -->`` is not, and says why. The README's runnable blocks run
top to bottom in one shell in a fresh folder (with ``examples/`` beside it), as someone
would paste them on a fresh checkout; each docs page's runnable blocks then run in a
copy of the folder the README left (``demo.db`` after the tour, ``KAGSYNC_DB=demo.db``).
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests import forkserver

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
RUNNABLE = "<!-- runnable -->"
NOT_RUNNABLE = re.compile(r"<!-- not runnable: (\S.*?) -->")
FENCE = re.compile(r"^( *)```bash\s*$")
# The first line of the README installs kagsync, then runs it: the tests run it from the
# environment they run in, so these steps of a `&&` chain are left out.
INSTALL_STEP = re.compile(r"^(python3 -m venv \S+|\. \S+/bin/activate|pip install \S+)$")
# Commands whose output is rows: an example of them must show some, or it shows nothing.
VIEWS = {"leaderboard", "history", "movers", "runs", "shakeup", "list", "show", "standings", "check", "export"}
MARK = "\x1ekagsync-doc-command "


@dataclass(frozen=True)
class Block:
    """One ```bash block of a page."""

    path: Path
    line: int  # of the opening fence, 1-based
    text: str
    runnable: bool
    reason: str | None  # why it is not runnable; None when it is, or when it is unmarked

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def marked(self) -> bool:
        return self.runnable or self.reason is not None

    def commands(self) -> list[str]:
        """The block's commands: a line continued by ``\\`` or by an open quote is one."""
        out: list[str] = []
        pending = ""
        for line in self.text.splitlines():
            pending = f"{pending}\n{line}" if pending else line
            if pending.endswith("\\") or not _complete(pending):
                continue
            if pending.strip() and not pending.lstrip().startswith("#"):
                out.append(pending)
            pending = ""
        assert not pending, f"{self.where}: an unfinished command: {pending!r}"
        return out


def _complete(command: str) -> bool:
    try:
        shlex.split(command, comments=True)
    except ValueError:  # no closing quotation: the command goes on on the next line
        return False
    return True


def blocks(path: Path) -> list[Block]:
    """Every ```bash block of a Markdown page, with the marker before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence:  # a block may be indented, in a list item: its lines are, as much
            indent = len(fence.group(1))
            end = index + 1
            while not lines[end].strip().startswith("```"):
                end += 1
            before = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
            skip = NOT_RUNNABLE.fullmatch(before)
            text = "\n".join(line[indent:] for line in lines[index + 1 : end])
            found.append(Block(path, index + 1, text, before == RUNNABLE, skip.group(1) if skip else None))
            index = end
        index += 1
    return found


def without_install(command: str) -> str:
    """The README's install-and-run line without its install steps."""
    steps = command.split(" && ")
    while steps and INSTALL_STEP.match(steps[0].strip()):
        steps.pop(0)
    return " && ".join(steps)


def environment(home: Path) -> dict[str, str]:
    """A newcomer's shell: kagsync on PATH, no settings, no Kaggle, no pager."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KAGSYNC_", "KAGGLE_")) and key not in {"PAGER", "COLUMNS", "NO_COLOR"}
    }
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            # Nothing may reach Kaggle: an example that tries fails on this closed port.
            "KAGSYNC_KAGGLE_ENDPOINT": "http://127.0.0.1:9",
        }
    )
    return env


@dataclass
class Ran:
    """A command and what it printed."""

    command: str
    stdout: str


def run(commands: list[str], cwd: Path, env: dict[str, str], where: str) -> list[Ran]:
    """Run commands in order in one bash, stopping at the first that fails (with its output)."""
    script = ["set -euo pipefail"]
    for number, command in enumerate(commands):
        script.append(f"printf '\\n{MARK}%d\\n' {number}; printf '\\n{MARK}%d\\n' {number} >&2")
        script.append(command)
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    outputs = _split(result.stdout)
    if result.returncode != 0:
        failed = max(outputs, default=0)
        errors = _split(result.stderr).get(failed, result.stderr)
        raise AssertionError(
            f"{where}: `{commands[failed]}` exited {result.returncode}:\n{outputs.get(failed, '')}\n{errors}"
        )
    return [Ran(command, outputs.get(number, "")) for number, command in enumerate(commands)]


def _split(text: str) -> dict[int, str]:
    parts: dict[int, str] = {}
    for chunk in text.split(f"\n{MARK}")[1:]:
        number, _, output = chunk.partition("\n")
        parts[int(number)] = output
    return parts


def shows_rows(ran: Ran) -> bool:
    """False when an example of a view printed no row (a header alone, or nothing)."""
    words = shlex.split(ran.command, comments=True)
    if ">" in words or any(a == "-o" and b != "-" for a, b in zip(words, words[1:])):
        return True  # its output went to a file
    if "||" in words:
        return True  # an example of a failure: its status is what it shows
    if words[0] == "sqlite3":
        return bool(ran.stdout.strip())
    if words[0] != "kagsync" or not VIEWS & set(words[1:4]):
        return True
    lines = [line for line in ran.stdout.splitlines() if line.strip()]
    return len(lines) >= (1 if "--json" in words else 2)


def missing_tools(command: str) -> set[str]:
    """The programs a command runs that this machine lacks (``sqlite3``, ``jq`` …)."""
    words = shlex.split(command, comments=True)
    programs = {words[0]} | {after for word, after in zip(words, words[1:]) if word in {"|", "||", "&&", ";"}}
    programs = {program for program in programs if "=" not in program}  # not VAR=value
    return {program for program in programs if shutil.which(program) is None and program not in {"export", "echo"}}


def runnable_here(commands: list[str]) -> tuple[list[str], list[str]]:
    """The commands this machine can run, and those it cannot (a tool is missing)."""
    can = [command for command in commands if not missing_tools(command)]
    return can, [command for command in commands if command not in can]


def tour(folder: Path, fast_bin: Path | None = None) -> list[Ran]:
    """Run the README's runnable blocks top to bottom in ``folder`` (a fresh one).

    The first command (the one that installs and runs kagsync) runs the installed
    ``kagsync``; with ``fast_bin``, the rest run through the fork server's.
    """
    (folder / "examples").symlink_to(ROOT / "examples")
    commands = [without_install(c) for block in blocks(README) if block.runnable for c in block.commands()]
    assert commands and commands[0].startswith("kagsync "), commands[:1]
    commands, _ = runnable_here(commands)  # the tests of a skipped command's output skip
    env = environment(folder)
    first = run(commands[:1], folder, env, "README.md")
    if fast_bin is not None:
        env["PATH"] = f"{fast_bin}{os.pathsep}{env['PATH']}"
    return first + run(commands[1:], folder, env, "README.md")


_SERVERS: dict[int, forkserver.Server] = {}


def fast_kagsync(tmp_path_factory: object) -> Path:
    """A folder whose ``kagsync`` skips the start-up (tests/forkserver.py), once per session.

    The README's first command runs the installed ``kagsync`` (the entry point, as a
    newcomer gets it); the many commands after it run through this one, so the suite
    stays fast.
    """
    key = id(tmp_path_factory)
    if key not in _SERVERS:
        server = forkserver.Server(tmp_path_factory.mktemp("kagsync-bin"))  # type: ignore[attr-defined]
        atexit.register(server.close)
        _SERVERS[key] = server
    return _SERVERS[key].bin


_TOURS: dict[int, tuple[Path, list[Ran]]] = {}


def tour_once(tmp_path_factory: object) -> tuple[Path, list[Ran]]:
    """The README's tour, run once per test session (tests only read what it left)."""
    key = id(tmp_path_factory)
    if key not in _TOURS:
        folder = tmp_path_factory.mktemp("readme")  # type: ignore[attr-defined]
        _TOURS[key] = (folder, tour(folder, fast_kagsync(tmp_path_factory)))
    return _TOURS[key]


def copy_of(folder: Path, into: Path) -> Path:
    """A copy of a folder the tour left (the examples stay a link)."""
    shutil.copytree(folder, into, symlinks=True)
    return into
