"""A ``kagsync`` that starts in milliseconds, for running the docs' many examples.

Each ``kagsync`` process spends most of its time importing Python, typer and rich.
The server imports kagsync once, then forks a child per command; a tiny client script
named ``kagsync`` (put first on PATH) hands the child its argv, working folder,
environment and its own stdin, stdout and stderr (the descriptors themselves), then
exits with the child's status. Pipes, redirections and exit codes behave as with the
installed ``kagsync``; only the start-up is skipped.

    python tests/forkserver.py SOCKET      # serve; prints "ready" when it listens
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import traceback
from pathlib import Path

CLIENT = """\
import json, os, socket, sys
connection = socket.socket(socket.AF_UNIX)
connection.connect({socket!r})
request = json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}).encode()
socket.send_fds(connection, [len(request).to_bytes(8, "big") + request], [0, 1, 2])
status = connection.recv(16)
sys.exit(int(status) if status else 1)
"""


def _child(request: dict[str, object], fds: list[int]) -> int:
    """Run one command as the installed ``kagsync`` would, on the client's descriptors."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number, fd in enumerate(fds):
        os.dup2(fd, number)
        os.close(fd)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(request["env"])  # type: ignore[arg-type]
    sys.argv = ["kagsync", *request["argv"]]  # type: ignore[misc]
    from kagsync.cli import main

    try:
        main()
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # what the installed kagsync would print on its way out
        traceback.print_exc()
        status = 1
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    logging.shutdown()
    return status


def serve(path: str) -> None:
    """Accept commands on the Unix socket ``path`` until killed."""
    import importlib
    import pkgutil

    import kagsync

    # Every module a command may import lazily: each child then skips it (the kaggle
    # client itself stays lazy, as in kagsync: importing kaggle_client does not load it).
    for module in pkgutil.walk_packages(kagsync.__path__, "kagsync."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)

    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(16)
    listener.settimeout(1.0)
    parent = os.getppid()
    print("ready", flush=True)
    while True:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            if os.getppid() != parent:  # the test session is gone: so is the server
                return
            continue
        connection.settimeout(None)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        size = int.from_bytes(message[:8], "big")
        while len(message) < size + 8:
            message += connection.recv(1 << 20)
        request = json.loads(message[8:])
        sys.stdout.flush()
        if os.fork() == 0:
            listener.close()
            status = 1
            try:
                status = _child(request, fds)
            finally:
                with contextlib.suppress(OSError):
                    connection.sendall(str(status).encode())
                os._exit(status)
        for fd in fds:
            os.close(fd)
        connection.close()


class Server:
    """A running fork server and the folder holding its ``kagsync`` client."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.bin = folder
        address = str(folder / "kagsync.sock")
        client = folder / "kagsync"
        client.write_text(f"#!{sys.executable} -IS\n" + CLIENT.format(socket=address), encoding="utf-8")
        client.chmod(0o755)
        self.process = subprocess.Popen(
            [sys.executable, __file__, address], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


if __name__ == "__main__":
    serve(sys.argv[1])
