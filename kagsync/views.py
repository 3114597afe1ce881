"""Read-only views of stored leaderboards: the board, its runs."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from kagsync.repository import Competition


def leaderboard_entries(
    database: sqlite_utils.Database, competition: Competition, *, top: int | None = None
) -> list[dict[str, Any]]:
    """The stored board of a competition in rank order (benchmarks at their score's place)."""
    sql = """SELECT rank, team_id, team_name, score, score_value, submission_count,
                    last_submission, members, is_benchmark
             FROM entries WHERE competition_id = ?
             ORDER BY CASE WHEN rank = 0 THEN 1 ELSE 0 END, rank"""
    params: list[Any] = [competition.id]
    if top is not None:
        sql += " LIMIT ?"
        params.append(top)
    cursor = database.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = []
    for row in cursor:
        entry = dict(zip(names, row))
        entry["members"] = json.loads(entry["members"])
        entry["is_benchmark"] = bool(entry["is_benchmark"])
        rows.append(entry)
    return rows


def sync_runs(
    database: sqlite_utils.Database, competition: Competition | None = None, *, limit: int = 20
) -> list[dict[str, Any]]:
    """Recorded sync runs, newest first, optionally of one competition."""
    sql = """SELECT c.slug AS competition, r.trigger, r.status, r.started_at AS started,
                    r.finished_at AS finished, r.entries, r.created, r.updated, r.removed,
                    r.error, r.source
             FROM sync_runs r JOIN competitions c ON c.id = r.competition_id"""
    params: list[Any] = []
    if competition is not None:
        sql += " WHERE r.competition_id = ?"
        params.append(competition.id)
    sql += " ORDER BY r.id DESC LIMIT ?"
    params.append(limit)
    cursor = database.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
