"""Delivery: sending each target its message (in parallel, within a deadline, a 429's
wait honoured when it fits) and recording the outcome.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from kagsync import __version__
from kagsync.db import Database, write_transaction
from kagsync.notify.changes import record_changes, test_change
from kagsync.notify.model import Change
from kagsync.notify.payloads import ApprisePayload, Payload, build_payload
from kagsync.notify.targets import APPRISE_MISSING, MAX_ATTEMPTS, Target, import_apprise, scrub, targets
from kagsync.retry import retry_after
from kagsync.text import printable
from kagsync.values import now_iso

log = logging.getLogger("kagsync.notify")

SEND_TIMEOUT = 4.0
"""Seconds one HTTP request may take (connect, then each read)."""
TARGET_DEADLINE = 5.0
"""Seconds a pass gives one target in all, a 429's wait included."""
MAX_RETRY_WAIT = 3.0
"""The longest Retry-After waited for within a pass; a longer one waits for the next pass."""

# -- sending --------------------------------------------------------------------------


@dataclass
class Delivery:
    """The outcome of one send: ``ok``, or the ``error`` (never containing the URL)."""

    ok: bool
    error: str | None = None
    status: int | None = None
    retry_after: float | None = None
    attempts: int = 0


def _retry_after(headers: Mapping[str, str] | None, body: bytes) -> float | None:
    """Seconds to wait from a 429: the ``Retry-After`` header (seconds or a date) or
    Discord's ``retry_after`` in the JSON body."""
    waits: list[float] = []
    header = retry_after((headers or {}).get("Retry-After"))
    if header is not None:
        waits.append(header)
    try:
        data = json.loads(body.decode("utf-8", "replace") or "null")
        if isinstance(data, dict) and isinstance(data.get("retry_after"), (int, float)):
            waits.append(float(data["retry_after"]))
    except ValueError:
        pass
    finite = [w for w in waits if math.isfinite(w)]
    return max(0.0, max(finite)) if finite else None


_MAX_ANSWER = 65_536
"""Bytes of a target's answer read at most (its first line is kept for the error)."""


def _reason(error: BaseException) -> str:
    """What lies under a requests error, for a person: the operating system's words
    (``Connection refused``), found down the chain of causes, else the error's type."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        reason = getattr(current, "reason", None)  # urllib3's MaxRetryError and kin
        candidates = [current.__cause__, current.__context__, reason, *current.args]
        stack += [c for c in candidates if isinstance(c, BaseException)]
    return type(error).__name__


def _post_once(url: str, body: bytes, timeout: float) -> Delivery:
    # Imported here: every kagsync command imports this package, few of them send.
    import requests

    try:
        # Never follow a redirect: it would turn the POST into a GET elsewhere, and a
        # webhook answers directly.
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": f"kagsync/{__version__}"},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        with response:
            answer = next(response.iter_content(_MAX_ANSWER), b"") if not 200 <= response.status_code < 300 else b""
            status = response.status_code
            headers = response.headers
    except requests.Timeout:
        return Delivery(False, f"no answer within {timeout:.0f} s")
    except requests.RequestException as error:
        if any(isinstance(e, TimeoutError) for e in (error, error.__context__, *error.args)):
            return Delivery(False, f"no answer within {timeout:.0f} s")
        return Delivery(False, f"cannot reach the target: {_reason(error)}")
    except (OSError, ValueError) as error:
        return Delivery(False, f"cannot reach the target: {type(error).__name__}: {error}")
    if 200 <= status < 300:
        return Delivery(True, status=status)
    text = answer.decode("utf-8", "replace").strip()
    # The answer is outside text: shown escaped (a body holding ESC [ 2 J must not clear
    # the terminal of whoever reads `notify list` or the log).
    detail = printable(text.splitlines()[0][:120]) if text else ""
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    wait = _retry_after(headers, answer) if status == 429 else None
    return Delivery(False, message, status=status, retry_after=wait)


def post_json(url: str, payload: Payload, *, deadline: float, clock: Callable[[], float] = time.monotonic) -> Delivery:
    """POST ``payload`` as JSON before the monotonic ``deadline``; wait out one 429 if it fits."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    attempts = 0
    while True:
        remaining = deadline - clock()
        if remaining <= 0.2:
            return Delivery(False, "no time left for this target in this pass", attempts=attempts)
        attempts += 1
        result = _post_once(url, body, min(SEND_TIMEOUT, remaining))
        result.attempts = attempts
        if result.ok or result.status != 429 or attempts >= 2:
            return result
        wait = 1.0 if result.retry_after is None else result.retry_after
        if wait > MAX_RETRY_WAIT or clock() + wait + 0.5 >= deadline:
            result.error = f"rate limited (HTTP 429); retry after {wait:g} s"
            return result
        time.sleep(wait)


def send_apprise(url: str, payload: ApprisePayload) -> Delivery:
    """Send through apprise (the optional extra)."""
    try:
        apprise = import_apprise()
    except ImportError:
        return Delivery(False, APPRISE_MISSING)
    sender = apprise.Apprise()
    if not sender.add(url):
        return Delivery(False, "apprise does not understand this URL")
    ok = bool(sender.notify(body=payload["body"], title=payload["title"]))
    return Delivery(ok, None if ok else "apprise could not deliver the message (see apprise's log)", attempts=1)


def send(target: Target, payload: Payload, *, deadline: float) -> Delivery:
    """Deliver one payload to a target; never raises, never returns the URL in an error."""
    try:
        if target.format == "apprise":
            result = send_apprise(target.url, cast(ApprisePayload, payload))
        else:
            result = post_json(target.url, payload, deadline=deadline)
    except Exception as error:  # noqa: BLE001 -- a send must never end a pass
        result = Delivery(False, f"unexpected error: {type(error).__name__}: {error}")
    if result.error:
        result.error = printable(scrub(result.error, [target.url]))[:500]
    return result


def send_all(jobs: Sequence[tuple[Target, Payload]], *, budget: float = TARGET_DEADLINE) -> dict[int, Delivery]:
    """Send each (target, payload) in its own thread; wait at most ``budget`` (+ a margin).

    A target still busy then is reported as failed (its thread is left to end alone;
    in the rare case it delivered late, the message is sent again next pass).
    """
    deadline = time.monotonic() + budget
    results: dict[int, Delivery] = {}

    def work(target: Target, payload: Payload) -> None:
        results[target.id] = send(target, payload, deadline=deadline)

    threads = []
    for target, payload in jobs:
        thread = threading.Thread(target=work, args=(target, payload), name=f"notify-{target.name}", daemon=True)
        thread.start()
        threads.append((target, thread))
    for target, thread in threads:
        thread.join(max(0.0, deadline + 0.5 - time.monotonic()))
        if target.id not in results:
            results[target.id] = Delivery(False, f"no answer within {budget:.0f} s")
    return dict(results)


def send_test(target: Target) -> Delivery:
    """Send a test message to one target now (recorded nowhere)."""
    event = test_change(target)
    payload = build_payload(target.format, [event], target=target.name)
    return send_all([(target, payload)])[target.id]


# -- a pass ---------------------------------------------------------------------------


@dataclass
class NotifyPass:
    """What one pass did: changes recorded and messages sent or failed, per target name."""

    recorded: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: bool = False


def _pending(database: Database, target: Target) -> list[tuple[int, Change]]:
    rows = database.conn.execute(
        """SELECT id, payload FROM notifications
           WHERE target_id = ? AND status != 'sent' AND attempts < ? ORDER BY id""",
        (target.id, MAX_ATTEMPTS),
    ).fetchall()
    pending = []
    for row_id, payload in rows:
        try:
            # Written by record_changes from a Change: read back as one.
            pending.append((row_id, cast(Change, json.loads(payload))))
        except ValueError:
            log.warning("notification %d has an unreadable payload; skipped", row_id)
    return pending


def deliver(database: Database, *, budget: float = TARGET_DEADLINE) -> NotifyPass:
    """Send every target's pending changes as one message each, in parallel; record the outcome."""
    report = NotifyPass()
    jobs: list[tuple[Target, Payload]] = []
    rows: dict[int, list[int]] = {}
    sent_at = now_iso()
    for target in targets(database):
        pending = _pending(database, target)
        if not pending:
            continue
        # By competition (stable: in the order found within one), whatever order parallel syncs finished in.
        events = sorted((event for _, event in pending), key=lambda e: str(e.get("competition") or ""))
        jobs.append((target, build_payload(target.format, events, target=target.name, sent_at=sent_at)))
        rows[target.id] = [row_id for row_id, _ in pending]
    if not jobs:
        return report
    results = send_all(jobs, budget=budget)
    now = now_iso()
    with write_transaction(database):
        for target, _ in jobs:
            result = results[target.id]
            ids = rows[target.id]
            marks = ", ".join("?" for _ in ids)
            if result.ok:
                database.conn.execute(
                    f"""UPDATE notifications SET status = 'sent', attempts = attempts + 1, error = NULL, sent_at = ?
                        WHERE id IN ({marks})""",
                    (now, *ids),
                )
                report.sent[target.name] = len(ids)
            else:
                database.conn.execute(
                    f"""UPDATE notifications SET status = 'failed', attempts = attempts + 1, error = ?
                        WHERE id IN ({marks})""",
                    (result.error, *ids),
                )
                report.failed[target.name] = result.error or "failed"
    for name, count in report.sent.items():
        log.info("notify: sent %d change(s) to %s", count, name)
    for name, error in report.failed.items():
        log.warning("notify: could not send to %s: %s (retried next pass)", name, error)
    return report


def run_pass(database: Database, *, budget: float = TARGET_DEADLINE, lock_timeout: float | None = None) -> NotifyPass:
    """Record the changes of the runs not examined yet, then send what is pending.

    Sending is claimed with a lock beside the database (``<db>.locks/_notify.lock``), so
    two processes never send the same pending rows; one that finds the lock taken for
    longer than ``lock_timeout`` (default: ``budget``) leaves its rows to the next pass.
    """
    from kagsync.errors import SyncBusyError
    from kagsync.sync import named_lock

    if database.conn.execute("SELECT 1 FROM notify_targets LIMIT 1").fetchone() is None:
        return NotifyPass()
    report = NotifyPass(recorded=record_changes(database))
    lock = named_lock(database.path, "notify")
    try:
        claimed = lock.acquire(budget if lock_timeout is None else lock_timeout)
    except SyncBusyError as error:
        log.warning("notify: %s", error)
        claimed = False
    if not claimed:
        report.skipped = True
        return report
    try:
        delivered = deliver(database, budget=budget)
    finally:
        lock.release()
    report.sent, report.failed = delivered.sent, delivered.failed
    return report
