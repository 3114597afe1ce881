"""Sync one competition's leaderboard: claim, fetch, parse, write once, record, release.

The package's parts, each readable in one sitting:

* :mod:`kagsync.sync.lock`: the claim on a competition's sync (and named claims for
  other tasks), the stop request, and what dead processes left behind;
* :mod:`kagsync.sync.fingerprint`: the content key that tells an unchanged download;
* :mod:`kagsync.sync.apply`: parse into staging, check, diff, and write in one transaction;
* :mod:`kagsync.sync.syncer`: :class:`Syncer`, which runs those steps in order and
  records every attempt as a run.

Import the public names from here (``from kagsync.sync import Syncer``).
"""

from __future__ import annotations

from kagsync.models import SyncOutcome
from kagsync.sync.apply import DEFAULT_MAX_BOARD_SHRINK, BoardChanges, SyncLimits, sqlite_temp_dir
from kagsync.sync.fingerprint import PARSER_VERSION, content_key
from kagsync.sync.lock import (
    TEMP_PREFIX,
    CompetitionLock,
    Lock,
    StopFlag,
    lock_dir,
    named_lock,
    recover_interrupted,
)
from kagsync.sync.syncer import NOT_STARTED, Syncer, SyncObserver

__all__ = [
    "DEFAULT_MAX_BOARD_SHRINK",
    "NOT_STARTED",
    "PARSER_VERSION",
    "TEMP_PREFIX",
    "BoardChanges",
    "CompetitionLock",
    "Lock",
    "StopFlag",
    "SyncLimits",
    "SyncObserver",
    "SyncOutcome",
    "Syncer",
    "content_key",
    "lock_dir",
    "named_lock",
    "recover_interrupted",
    "sqlite_temp_dir",
]
