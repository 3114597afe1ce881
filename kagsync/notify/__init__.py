"""Notifications: tell a chat (Slack, Discord, any webhook, apprise) when the boards move.

**Targets** (``notify_targets``) are webhook URLs with the kinds of change they want,
their thresholds and optionally one event. A URL is a secret (whoever has it can post):
it is stored in the database (the user's own file) and never printed whole or logged;
:func:`mask_url` shows the scheme, the host and the first characters only.

**Changes** are found after a sync pass (a ``sync``, an ``import``, a ``watch`` tick),
after the commit, from what the syncs committed: the ``sync_runs`` of the pass and
their ``entry_changes`` (each team whose rank or score changed, with the rank before
and after). Kinds:

``leader``   a new rank 1 on a public board;
``top``      a team enters or leaves the top N (``top_n`` per target, default 10);
``member``   a roster member's team moves at least K places (``member_move``, default
             5), or appears for the first time (first submission);
``final``    the private (final) board is stored for the first time: podium, shake-up
             and where each roster member finished;
``dates``    a competition started or ended (its start or end passed and its status
             followed: ``ongoing``, then ``completed``);
``failing``  a competition's sync failed N times in a row (``failing_ticks``, default 3),
             and when it syncs again.

A target hears :data:`DEFAULT_KINDS` unless told (``member`` speaks only where the
event has a roster; ``failing``, an operator's alarm, and ``dates`` are asked for).
The first sync of a board announces nothing (everything on it is "new"). A message
folds every change of one team into one line (:func:`sections`).

**Delivery** is recorded in ``notifications``: one row per target and change key (for
example ``leader:titanic:public:412``), written ``pending`` in the same transaction
that examines the runs, then ``sent`` once the target accepted the message. Each pass
sends at most one message per target, summarising every change not yet sent (this
pass's and earlier failed ones); a quiet pass sends nothing. A failed send (network,
timeout, 5xx, 429) leaves the rows ``failed`` with the error and they are sent with
the next pass (up to :data:`MAX_ATTEMPTS` passes). A change key is recorded once per
target (``UNIQUE``), so it is never announced twice; a crash after the commit loses
nothing, since each target's ``cursor`` row remembers the last run it examined and
the next pass picks up from there. The one gap: a process killed after a target
accepted a message but before the rows were marked sent sends it again.

Every send has a deadline (:data:`TARGET_DEADLINE`), targets are sent to in
parallel, and a 429's ``Retry-After`` (Slack, generic) or ``retry_after`` (Discord)
is waited for only when it fits the deadline: a slow or rate-limited target never
holds a ``watch`` tick for more than a few seconds.

This package never prints; it logs to ``kagsync.notify`` without URLs.

The package's modules: :mod:`~kagsync.notify.targets` (targets, URL masking, the
cursor), :mod:`~kagsync.notify.changes` (finding changes), :mod:`~kagsync.notify.payloads`
(the messages) and :mod:`~kagsync.notify.delivery` (sending and recording).
"""

from __future__ import annotations

from kagsync.notify.changes import Reader, find_changes, record_changes, test_change
from kagsync.notify.delivery import (
    MAX_RETRY_WAIT,
    SEND_TIMEOUT,
    TARGET_DEADLINE,
    Delivery,
    NotifyPass,
    deliver,
    post_json,
    run_pass,
    send,
    send_all,
    send_test,
)
from kagsync.notify.model import (
    Change,
    DatesChange,
    FailingChange,
    FinalChange,
    FinalMember,
    FinalTeam,
    LeaderChange,
    MemberChange,
    TeamChange,
    TestChange,
    TopChange,
)
from kagsync.notify.payloads import (
    PAYLOAD_VERSION,
    Payload,
    Section,
    build_payload,
    discord_payload,
    headline,
    json_payload,
    plain_text,
    sections,
    slack_payload,
)
from kagsync.notify.targets import (
    DEFAULT_KINDS,
    FORMATS,
    KINDS,
    MAX_ATTEMPTS,
    Target,
    add_target,
    apprise_available,
    detect_format,
    get_target,
    list_targets,
    parse_kinds,
    remove_target,
    scrub,
    targets,
)
from kagsync.secrets import mask_url

__all__ = [
    "DEFAULT_KINDS",
    "FORMATS",
    "KINDS",
    "MAX_ATTEMPTS",
    "MAX_RETRY_WAIT",
    "PAYLOAD_VERSION",
    "SEND_TIMEOUT",
    "TARGET_DEADLINE",
    "Change",
    "DatesChange",
    "Delivery",
    "FailingChange",
    "FinalChange",
    "FinalMember",
    "FinalTeam",
    "LeaderChange",
    "MemberChange",
    "NotifyPass",
    "Payload",
    "Reader",
    "Section",
    "Target",
    "TeamChange",
    "TestChange",
    "TopChange",
    "add_target",
    "apprise_available",
    "build_payload",
    "deliver",
    "detect_format",
    "discord_payload",
    "find_changes",
    "get_target",
    "headline",
    "json_payload",
    "list_targets",
    "mask_url",
    "parse_kinds",
    "plain_text",
    "post_json",
    "record_changes",
    "remove_target",
    "run_pass",
    "scrub",
    "sections",
    "send",
    "send_all",
    "send_test",
    "slack_payload",
    "targets",
    "test_change",
]
