"""Writing a file the user named with ``-o``: whole or not at all, and never somewhere else.

Used by ``export -o`` and ``report -o``. What is promised (see docs/security.md):

- ``-`` is standard output;
- a character device, FIFO or socket (``/dev/null``, ``/dev/stdout``, a named pipe)
  is written to as a stream, in place, and never replaced by a regular file;
- a symlink is followed the way shell redirection follows it: the file it finally
  points to is the one written (and created, when the link dangles), and the link
  itself stays a link;
- a regular file is written through a temporary file made in the target's own
  folder with a random name and ``O_EXCL`` (:func:`tempfile.mkstemp`), so a planted
  file or link of any name is never opened; it is renamed over the target only once
  complete, so a reader sees the old file or the new one, never half of one; the
  new file keeps the mode of the one it replaces (or the umask's default);
- a missing folder is never created: that is a one-line error.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from kagsync.errors import KagsyncError, ValidationError

STDOUT_NAME = "-"


def is_stdout(path: Path | str | None) -> bool:
    """True for no path or ``-``: the output goes to standard output."""
    return path is None or str(path) == STDOUT_NAME


def is_stream(path: Path | str | None) -> bool:
    """True when the output is not a regular file: stdout, a device, a FIFO or a socket.

    A stream cannot be replaced atomically nor given a companion file beside it.
    """
    if is_stdout(path):
        return True
    assert path is not None
    try:
        mode = os.stat(path).st_mode  # follows links: /dev/stdout -> /proc/self/fd/1 -> a pipe
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def final_target(path: Path) -> Path:
    """The file a shell's ``> path`` would write: every symlink (even a dangling one) resolved."""
    return Path(os.path.realpath(path))


@contextmanager
def open_output(path: Path | str, *, encoding: str = "utf-8", newline: str | None = "") -> Iterator[TextIO]:
    """A text handle for the output ``path`` (see the module docstring for the rules).

    Raises :class:`ValidationError` for a folder or a missing folder, and
    :class:`KagsyncError` when the file cannot be written; on any error (or an
    interruption) the target is left as it was.
    """
    if is_stdout(path):
        yield sys.stdout
        sys.stdout.flush()
        return
    named = Path(path)
    target = final_target(named)
    if target.is_dir():
        raise ValidationError(f"{named}: is a folder; give a file name")
    if is_stream(target):
        yield from _stream(named, target, encoding=encoding, newline=newline)
        return
    folder = target.parent
    if not folder.is_dir():
        raise ValidationError(f"{named}: the folder {folder} does not exist")
    yield from _replace(named, target, encoding=encoding, newline=newline)


def write_text(path: Path | str, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to the output ``path`` with :func:`open_output`'s rules; returns ``path``."""
    with open_output(path, encoding=encoding, newline=None) as handle:
        handle.write(text)
    return Path(path)


def _stream(named: Path, target: Path, *, encoding: str, newline: str | None) -> Iterator[TextIO]:
    # Written in place, as a shell's redirection does: a device or FIFO has no
    # content to replace, and replacing it would put a regular file in its stead.
    try:
        handle = open(target, "w", encoding=encoding, newline=newline)  # noqa: SIM115 -- closed by the with below, across the yield
    except OSError as exc:
        raise KagsyncError(f"{named}: cannot write ({exc.strerror})") from None
    try:
        with handle:
            yield handle
    except OSError as exc:
        raise KagsyncError(f"{named}: cannot write ({exc.strerror})") from None


def _replace(named: Path, target: Path, *, encoding: str, newline: str | None) -> Iterator[TextIO]:
    try:
        # mkstemp: O_CREAT | O_EXCL, a random name, mode 0600; a planted file or
        # link of any name makes it pick another name, never open the planted one.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    except OSError as exc:
        raise KagsyncError(f"{named}: cannot write ({exc.strerror})") from None
    try:
        os.fchmod(fd, _mode_for(target))
        with open(fd, "w", encoding=encoding, newline=newline) as handle:
            yield handle
        os.replace(temporary, target)
    except OSError as exc:
        _discard(temporary)
        raise KagsyncError(f"{named}: cannot write ({exc.strerror})") from None
    except BaseException:
        _discard(temporary)
        raise


def _mode_for(target: Path) -> int:
    """The permission bits the new file gets: the replaced file's, else what open() would give."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # There is no way to read the umask without setting it; set it back at once.
    current = os.umask(0o022)
    os.umask(current)
    return current


def _discard(temporary: str) -> None:
    with suppress(OSError):
        os.unlink(temporary)
