"""Running the app: uvicorn in this process, and optionally the watch loop beside it.

``serve --watch`` runs one night: the watcher ticks in a child process of its own
(started fresh, with its own writable connection and log handler; the pages keep
their read-only connections), so a sync of tens of thousands of rows never competes with the
pages for this process's interpreter. The pages follow its commits like any other
writer's. The first Ctrl-C (or SIGTERM) stops both: the server stops accepting, the
event streams end, and the watcher lets a running sync finish (a second Ctrl-C aborts
it). The child never outlives the server: it stops when the server's process is gone,
however that went.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import uvicorn

from kagsync.errors import KagsyncError
from kagsync.serve.app import create_app
from kagsync.serve.guard import LOOPBACK_HOSTS, GuardConfig
from kagsync.serve.worker import leave_the_terminal_to_the_server
from kagsync.signals import interruptible

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

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


def build_app(
    db: Path | str, options: ServeOptions, *, poll: float | None = None, render_process: bool = False
) -> Starlette:
    """The app for these options (opens the database read-only now); with
    ``render_process``, the event pages' standings are computed in a worker process."""
    return create_app(db, guard_config(options), root=options.root_path, poll=poll, render_process=render_process)


def serve(
    db: Path | str,
    options: ServeOptions,
    *,
    watch: Callable[[], Loop] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until Ctrl-C/SIGTERM; with ``watch`` (it makes the watch loop), run that loop
    in a child process meanwhile.

    Raises :class:`~kagsync.errors.KagsyncError` when the address cannot be listened on
    or the watch loop cannot be made (a bad interval: said before anything is served).
    """
    listening = listen(options.host, options.port)
    try:
        app = build_app(db, options, render_process=True)
        child = WatchChild.start(watch) if watch is not None else None
    except BaseException:
        listening.close()
        raise
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

    def stop() -> None:
        feed.close()  # end the event streams, so shutting down does not wait for them
        if child is not None:
            child.stop()

    server.on_stop = stop
    if on_ready is not None:
        on_ready()
    try:
        server.run(sockets=[listening])
    finally:
        listening.close()
        if child is not None:
            child.finish()


WATCH_NICENESS = 10


class WatchChild:
    """The watch loop in a child process (``spawn``: nothing of the server is inherited
    but the environment), driven by the server's process.

    The child lives in a process group of its own (a terminal's Ctrl-C reaches only the
    server, which decides): each :meth:`stop` sends it one SIGTERM, the first asking the
    loop to end after its running syncs, the second aborting them. It also stops when the
    server's process is gone (Linux: the kernel's parent-death signal; elsewhere it
    notices within a second).
    """

    READY_SECONDS = 60.0

    def __init__(self, process: BaseProcess) -> None:
        self.process = process
        self.stops = 0

    @classmethod
    def start(cls, make: Callable[[], Loop]) -> WatchChild:
        """Start the child, which makes the loop and says whether it could (errors raise
        here). ``make`` must pickle: a module's function, or a partial of one."""
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_watch_child, args=(make, send, os.getpid()), name="kagsync-watch", daemon=False
        )
        process.start()
        send.close()
        child = cls(process)
        problem: object
        try:
            problem = receive.recv() if receive.poll(cls.READY_SECONDS) else "the watch loop did not start"
        except EOFError:
            problem = "the watch loop ended before it started"
        finally:
            receive.close()
        if problem:
            child.finish()
            raise problem if isinstance(problem, KagsyncError) else KagsyncError(str(problem))
        return child

    def stop(self) -> None:
        """Ask the loop to end (the second call aborts its running syncs); signal-safe."""
        self.stops += 1
        pid = self.process.pid
        if pid is not None and self.process.exitcode is None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)

    def finish(self, wait: float = 30.0) -> None:
        """Stop the child if asked to no more than once, and wait for it (aborting, then
        killing, when it takes longer than ``wait`` seconds each)."""
        if self.stops == 0:
            self.stop()
        self.process.join(timeout=wait)
        if self.process.exitcode is None:
            self.stop()
            self.process.join(timeout=wait)
        if self.process.exitcode is None:
            log.warning("serve: the watch loop did not stop; killing it")
            self.process.kill()
            self.process.join(timeout=5)


def _watch_child(make: Callable[[], Loop], ready: Connection, parent: int) -> None:
    """The child's whole life: make the loop, say so, run it until stopped.

    It runs at a lower priority (nice 10): when the machine is busy, the viewers' pages
    come first and a sync takes a little longer.
    """
    leave_the_terminal_to_the_server()
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WATCH_NICENESS)
    try:
        watcher = make()
    except Exception as error:  # noqa: BLE001 -- said to the server, which raises it
        ready.send(error if isinstance(error, KagsyncError) else f"the watch loop could not start: {error}")
        ready.close()
        return
    ready.send("")
    ready.close()
    threading.Thread(target=_orphaned, args=(watcher, parent), name="kagsync-parent", daemon=True).start()
    with interruptible(_LoopStop(watcher), signals=(signal.SIGTERM,)):
        _watch(watcher)


class _LoopStop:
    """The loop's stop as :mod:`kagsync.signals` sees it (first SIGTERM stops, second aborts)."""

    def __init__(self, watcher: Loop) -> None:
        self.watcher = watcher
        self.asked = 0

    @property
    def aborting(self) -> bool:
        return self.asked >= 2

    def request(self) -> None:
        self.asked += 1
        self.watcher.stop()


def _orphaned(watcher: Loop, parent: int) -> None:
    """Stop the loop once the parent is gone (where the kernel does not say so)."""
    while not watcher.stopping:
        if os.getppid() != parent:
            log.warning("serve: the server's process is gone; stopping the watch loop")
            watcher.stop()
            return
        time.sleep(1.0)


def _watch(watcher: Loop) -> None:
    try:
        watcher.run()
    except Exception:  # the pages stay up even when the loop ends badly
        log.exception("serve: the watch loop ended with an error")
