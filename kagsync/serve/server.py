"""Running the app: uvicorn in this process, and optionally the watch loop beside it.

``serve --watch`` runs one night: the watcher ticks in a background thread with its
own writable connection (the pages keep their read-only one), and the pages follow
its commits like any other writer's. The first Ctrl-C (or SIGTERM) stops both: the
server stops accepting, the event streams end, and the watcher lets a running sync
finish (a second Ctrl-C aborts it).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import uvicorn

from kagsync.errors import KagsyncError
from kagsync.serve.app import create_app
from kagsync.serve.guard import LOOPBACK_HOSTS, GuardConfig
from kagsync.signals import interruptible

if TYPE_CHECKING:
    from starlette.applications import Starlette

log = logging.getLogger("kagsync.serve")


class Loop(Protocol):
    """The watch loop as the server drives it (:class:`kagsync.watch.Watcher`)."""

    def run(self, *, max_ticks: int | None = None) -> object: ...

    def stop(self) -> None: ...

    @property
    def stopping(self) -> bool: ...


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen and who may look."""

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    root_path: str = ""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def guard_config(options: ServeOptions) -> GuardConfig:
    """Bound to loopback: only loopback Host names (no DNS rebinding); elsewhere: any."""
    hosts = (*LOOPBACK_HOSTS, options.host.strip("[]").lower()) if is_loopback(options.host) else None
    return GuardConfig(token=options.token, hosts=hosts)


def exposure(options: ServeOptions) -> list[str]:
    """What binding to a non-loopback address exposes, to print before serving."""
    if is_loopback(options.host):
        return []
    lines = [
        f"Listening on {options.host}:{options.port}: anyone who can reach this port can read the scoreboard",
        "(events, competitions, every stored board with team names and member usernames, standings, roster",
        "display names and groups, rank histories, sync health). Nothing can be changed through it; no",
        "notification URL, credential, file path or log line is ever shown.",
    ]
    lines.append(
        "Every page needs the token (given once as ?token=..., then kept in a cookie)."
        if options.token
        else "No token: the pages are open to everyone on the network."
    )
    return lines


class _Server(uvicorn.Server):
    """uvicorn's server with kagsync's own stop: one handler for the server and the watcher.

    uvicorn re-raises a caught signal once it has shut down (so a SIGTERM would kill
    the process before the watcher is stopped); here the signal only asks both to stop.
    """

    on_stop: Callable[[], None] = staticmethod(lambda: None)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with interruptible(_ServerStop(self)):
            yield


class _ServerStop:
    """The server's stop as :mod:`kagsync.signals` sees it: the first signal asks the
    server and the watcher to stop, the second makes uvicorn exit at once."""

    def __init__(self, server: _Server) -> None:
        self.server = server

    @property
    def aborting(self) -> bool:
        return bool(self.server.force_exit)

    def request(self) -> None:
        if self.server.should_exit:
            self.server.force_exit = True
        self.server.should_exit = True
        self.server.on_stop()


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (bound here, so a busy port is one clear error)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        reason = error.strerror or str(error)
        raise KagsyncError(f"cannot listen on {host}:{port}: {reason}") from None
    except UnicodeError:
        sock.close()
        raise KagsyncError(f"cannot listen on {host}:{port}: not a host name or address") from None
    sock.set_inheritable(True)
    return sock


def check_database(db: Path | str) -> None:
    """Open the database read-only once: a missing, damaged or too old file raises here."""
    from kagsync.serve.data import Reader

    Reader.open(db).close()


def build_app(db: Path | str, options: ServeOptions, *, poll: float | None = None) -> Starlette:
    """The app for these options (opens the database read-only now)."""
    return create_app(db, guard_config(options), root=options.root_path, poll=poll)


def serve(
    db: Path | str,
    options: ServeOptions,
    *,
    watcher: Loop | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until Ctrl-C/SIGTERM; with ``watcher``, run its loop in a thread meanwhile.

    Raises :class:`~kagsync.errors.KagsyncError` when the address cannot be listened on.
    """
    listening = listen(options.host, options.port)
    app = build_app(db, options)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        root_path=options.root_path,
        timeout_graceful_shutdown=3,
        # Longer than uvicorn's 5 s: a page's script reloads it on each change over a kept connection.
        timeout_keep_alive=30,
        server_header=False,
    )
    server = _Server(config)
    feed = app.state.services.feed
    thread: threading.Thread | None = None

    def stop() -> None:
        feed.close()  # end the event streams, so shutting down does not wait for them
        if watcher is not None and not watcher.stopping:
            watcher.stop()

    server.on_stop = stop
    if watcher is not None:
        thread = threading.Thread(target=_watch, args=(watcher,), name="kagsync-watch", daemon=True)
        thread.start()
    if on_ready is not None:
        on_ready()
    try:
        server.run(sockets=[listening])
    finally:
        listening.close()
        if watcher is not None and thread is not None:
            if not watcher.stopping:
                watcher.stop()
            thread.join(timeout=30)
            if thread.is_alive():
                watcher.stop()  # a second stop aborts the running syncs
                thread.join(timeout=30)


def _watch(watcher: Loop) -> None:
    try:
        watcher.run()
    except Exception:  # the pages stay up even when the loop ends badly
        log.exception("serve: the watch loop ended with an error")
