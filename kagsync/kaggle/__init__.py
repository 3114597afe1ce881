"""Everything kagsync asks Kaggle: the full leaderboard, the paged view, competition details.

This package is the only part of kagsync that talks to Kaggle. It speaks Kaggle's
documented wire format with plain ``requests`` (why not kagglesdk: see
docs/kaggle-client.md): ``POST {base}/competitions.CompetitionApiService/<Method>``
with a JSON body. ``requests`` is imported only when a call runs, so ``import
kagsync.kaggle`` is free; the ``kaggle`` package is never imported (it authenticates at
import time, may print help and ``exit(1)``).

Modules: :mod:`~kagsync.kaggle.auth` (credentials), :mod:`~kagsync.kaggle.http`
(transport, retries, errors), :mod:`~kagsync.kaggle.download` (the full board),
:mod:`~kagsync.kaggle.details` (GetCompetition), :mod:`~kagsync.kaggle.board` (the
paged view and the private board).

Every error leaving this package is one of :mod:`kagsync.errors`, one line, and
scrubbed of the token, the key, ``user:key``, its base64 and any URL user-info -- also
when a server echoes the ``Authorization`` header back.
"""

from kagsync.kaggle.auth import KaggleCredentials, find_credentials
from kagsync.kaggle.board import (
    BOARD_ROW_KEYS,
    MAX_PAGE_SIZE,
    BoardRow,
    fetch_leaderboard_page,
    fetch_private_board,
    fetch_public_view,
    private_board_released,
)
from kagsync.kaggle.details import competition_details_from_api, fetch_competition_details
from kagsync.kaggle.download import DEFAULT_DEADLINE, DEFAULT_MAX_BYTES, download_leaderboard
from kagsync.kaggle.http import ENDPOINT_ENV, PRODUCTION_ENDPOINT, describe_endpoint

__all__ = [
    "BOARD_ROW_KEYS",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BYTES",
    "ENDPOINT_ENV",
    "MAX_PAGE_SIZE",
    "PRODUCTION_ENDPOINT",
    "BoardRow",
    "KaggleCredentials",
    "competition_details_from_api",
    "describe_endpoint",
    "download_leaderboard",
    "fetch_competition_details",
    "fetch_leaderboard_page",
    "fetch_private_board",
    "fetch_public_view",
    "find_credentials",
    "private_board_released",
]
