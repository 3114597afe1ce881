"""Rank history kept compactly: one frame per ok sync that changed a rank.

A team's own changes (it appeared, left, or its score, name or submission count
changed) are rows of ``entry_changes``. Ranks are different: when one team improves,
every team it passes moves down a place without doing anything, so recording each
rank change would cost a row per team per sync on a busy board. And ranks cannot be
derived from scores: Kaggle gives tied teams distinct ranks in an order the file does
not record, and benchmarks sit at rank 0. So ranks are kept exactly, as *frames*
(table ``rank_frames``, one row per ok run that changed any rank or the set of teams):

``delta``
    how the ranks after the run follow from the ranks before it, and back:
    *explicit* changes ``(team, rank before, rank after)`` (``-1``: not on the
    board) for the teams that appeared, left or moved themselves, and *shifted
    ranges* ``(lo, hi, d)``: every other team ranked ``lo..hi`` before the run is
    ranked ``d`` places lower or higher after it. The teams passed by one improving
    team form one range, so a board re-ranked by 200 improvements is about 400
    ranges. NULL when the board was empty before the run (its first sync).
``keyframe``
    every team's rank after the run, written now and then (when the deltas written
    since the last keyframe add up to its size), so that an old board can be rebuilt
    forward from a keyframe as well as backward from the stored board.

The ranges are built so that both directions are exact: along the teams that are
not explicit, in (rank before, team id) order, ranks after strictly increase (or stay
equal for teams that were tied before and after), so neither the ranges' spans before
the run nor their images after it overlap.

Blobs are ``b"K1"``, ``b"K2"`` or ``b"D1"`` followed by a zlib stream of integer arrays (count,
element width, little-endian unsigned values; ids as gaps from the previous one,
signed values zigzag-encoded).
"""

from __future__ import annotations

import operator
import sqlite3
import struct
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, islice
from operator import itemgetter

ABSENT = -1
"""A rank that means: the team was not on the board."""

_KEYFRAME = b"K1"
_KEYFRAME_ANY = b"K2"
_DELTA = b"D1"
_WIDTHS = (("B", 0xFF), ("H", 0xFFFF), ("I", 0xFFFFFFFF), ("Q", 0xFFFFFFFFFFFFFFFF))

# A shift table (a list indexed by rank) is used to move a whole board when ranks are
# at most this; above it, each rank is looked up by bisection.
_TABLE_LIMIT = 1 << 22

# A keyframe is written when the deltas since the last one add up to its size (the
# cost of a rebuild from it stays within twice a keyframe's), or after this many.
KEYFRAME_MAX_DELTAS = 250


# -- integer arrays ---------------------------------------------------------------------


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _unzigzag(value: int) -> int:
    return value >> 1 if not value & 1 else -((value + 1) >> 1)


def _gaps(sorted_values: Sequence[int]) -> list[int]:
    previous = 0
    out = []
    for value in sorted_values:
        out.append(value - previous)
        previous = value
    return out


def _differences(values: array[int]) -> array[int]:
    """values[0], values[1] - values[0], ... (C-level loops: a keyframe may hold a million)."""
    return array("q", map(operator.sub, values, chain((0,), values)))


def _pack(arrays: Sequence[Sequence[int]], magic: bytes) -> bytes:
    parts = [struct.pack("<B", len(arrays))]
    for values in arrays:
        top = max(values, default=0)
        code = next(code for code, limit in _WIDTHS if top <= limit)
        packed = values if isinstance(values, array) and values.typecode == code else array(code, values)
        if sys.byteorder == "big":
            packed = array(code, packed)
            packed.byteswap()
        parts.append(struct.pack("<cQ", code.encode(), len(packed)))
        parts.append(packed.tobytes())
    body = b"".join(parts)
    return magic + zlib.compress(body, 6 if len(body) < (1 << 20) else 1)


def _unpack(blob: bytes, magic: bytes) -> list[array[int]]:
    if blob[:2] != magic:
        raise ValueError(f"not a rank {'delta' if magic == _DELTA else 'keyframe'} (format {blob[:2]!r})")
    body = zlib.decompress(blob[2:])
    (count,) = struct.unpack_from("<B", body, 0)
    offset = 1
    arrays = []
    for _ in range(count):
        code, length = struct.unpack_from("<cQ", body, offset)
        offset += struct.calcsize("<cQ")
        values = array(code.decode())
        size = values.itemsize * length
        values.frombytes(body[offset : offset + size])
        if sys.byteorder == "big":
            values.byteswap()
        offset += size
        arrays.append(values)
    return arrays


# -- keyframes ---------------------------------------------------------------------------


def encode_keyframe(ranks: Iterable[tuple[int, int]]) -> bytes:
    """Every team's rank, from (team id, rank) pairs in any order.

    Pairs in team id order are stored as id gaps and ranks (``K1``); pairs in another
    order, say a board in rank order, as ids and rank differences (``K2``). Either
    compresses to about 2-3 bytes a team.
    """
    teams: array[int] = array("q")
    values: array[int] = array("q")
    pairs = iter(ranks)
    while chunk := list(islice(pairs, 1 << 16)):
        teams.extend(map(itemgetter(0), chunk))
        values.extend(map(itemgetter(1), chunk))
    if all(map(operator.lt, teams, islice(teams, 1, None))):
        return _pack([_differences(teams), values], _KEYFRAME)
    steps = _differences(values)
    if min(steps, default=0) < 0:
        steps = array("Q", [_zigzag(step) for step in steps])
        return _pack([teams, steps, [1]], _KEYFRAME_ANY)
    return _pack([teams, steps, [0]], _KEYFRAME_ANY)


def decode_keyframe(blob: bytes) -> dict[int, int]:
    """team id -> rank."""
    if blob[:2] == _KEYFRAME_ANY:
        teams, steps, (zigzagged,) = _unpack(blob, _KEYFRAME_ANY)
        if zigzagged:
            steps = array("q", [_unzigzag(step) for step in steps])
        return dict(zip(teams, accumulate(steps), strict=True))
    gaps, ranks = _unpack(blob, _KEYFRAME)
    return dict(zip(accumulate(gaps), ranks, strict=True))


# -- deltas ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    """How one run changed the ranks (see the module's docstring)."""

    teams: Sequence[int]
    """Team ids with an explicit change, ascending."""
    old: Sequence[int]
    """Their ranks before the run (ABSENT: they were not on the board)."""
    new: Sequence[int]
    """Their ranks after it (ABSENT: they left)."""
    lo: Sequence[int]
    """Shifted ranges, ascending: every other team ranked lo..hi before moved by d."""
    hi: Sequence[int]
    d: Sequence[int]

    def _explicit(self, team: int) -> int:
        index = bisect_left(self.teams, team)
        return index if index < len(self.teams) and self.teams[index] == team else -1

    def after(self, team: int, before: int | None) -> int | None:
        """The team's rank after the run, from its rank before (None: not on the board)."""
        index = self._explicit(team)
        if index >= 0:
            rank = self.new[index]
            return None if rank == ABSENT else rank
        if before is None:
            return None
        at = bisect_right(self.lo, before) - 1
        if at >= 0 and before <= self.hi[at]:
            return before + self.d[at]
        return before

    def before(self, team: int, after: int | None) -> int | None:
        """The team's rank before the run, from its rank after (None: not on the board)."""
        index = self._explicit(team)
        if index >= 0:
            rank = self.old[index]
            return None if rank == ABSENT else rank
        if after is None:
            return None
        starts = self._images()
        at = bisect_right(starts, after) - 1
        if at >= 0 and after <= self.hi[at] + self.d[at]:
            return after - self.d[at]
        return after

    def _images(self) -> list[int]:
        cached: list[int] | None = self.__dict__.get("_image_starts")
        if cached is None:
            cached = [lo + d for lo, d in zip(self.lo, self.d, strict=True)]
            object.__setattr__(self, "_image_starts", cached)
        return cached

    def forward(self, state: Mapping[int, int]) -> dict[int, int]:
        """The whole board after the run from the board before it (team id -> rank)."""
        move = _mover(self.lo, self.hi, self.d, state.values())
        explicit = set(self.teams)
        out = {team: move(rank) for team, rank in state.items() if team not in explicit}
        for team, rank in zip(self.teams, self.new, strict=True):
            if rank != ABSENT:
                out[team] = rank
        return out

    def backward(self, state: Mapping[int, int]) -> dict[int, int]:
        """The whole board before the run from the board after it."""
        starts = self._images()
        ends = [hi + d for hi, d in zip(self.hi, self.d, strict=True)]
        move = _mover(starts, ends, [-d for d in self.d], state.values())
        explicit = set(self.teams)
        out = {team: move(rank) for team, rank in state.items() if team not in explicit}
        for team, rank in zip(self.teams, self.old, strict=True):
            if rank != ABSENT:
                out[team] = rank
        return out


def _mover(
    starts: Sequence[int], ends: Sequence[int], shifts: Sequence[int], ranks: Iterable[int]
) -> Callable[[int], int]:
    """rank -> rank + the shift of the range holding it (0 outside every range)."""
    if not starts:
        return int
    top = max(max(ranks, default=0), ends[-1])
    if starts[0] >= 0 and top < _TABLE_LIMIT:
        table = list(range(top + 1))
        for start, end, shift in zip(starts, ends, shifts, strict=True):
            table[start : end + 1] = range(start + shift, end + shift + 1)
        return table.__getitem__

    def move(rank: int) -> int:
        at = bisect_right(starts, rank) - 1
        if at >= 0 and rank <= ends[at]:
            return rank + shifts[at]
        return rank

    return move


def encode_delta(delta: Delta) -> bytes:
    """The delta as a blob."""
    return _pack(
        [
            _gaps(delta.teams),
            [rank + 1 for rank in delta.old],
            [rank + 1 for rank in delta.new],
            _gaps(delta.lo),
            [hi - lo for lo, hi in zip(delta.lo, delta.hi, strict=True)],
            [_zigzag(d) for d in delta.d],
        ],
        _DELTA,
    )


def decode_delta(blob: bytes) -> Delta:
    """A delta from its blob."""
    team_gaps, old, new, lo_gaps, lengths, shifts = _unpack(blob, _DELTA)
    lo = list(accumulate(lo_gaps))
    return Delta(
        teams=array("Q", accumulate(team_gaps)),
        old=[rank - 1 for rank in old],
        new=[rank - 1 for rank in new],
        lo=lo,
        hi=[start + length for start, length in zip(lo, lengths, strict=True)],
        d=[_unzigzag(value) for value in shifts],
    )


def build_delta(
    *,
    added: Mapping[int, int],
    removed: Mapping[int, int],
    moved: Mapping[int, tuple[int, int]],
    movers: Iterable[int] = (),
    old_order: Callable[[int, int], Iterable[tuple[int, int]]] | None = None,
) -> Delta:
    """The delta of one run.

    ``added``: team -> rank of the teams that appeared; ``removed``: team -> rank of
    those that left; ``moved``: team -> (rank before, rank after) of the teams on both
    boards whose rank changed. ``movers`` are teams of ``moved`` known to have moved
    themselves (their score changed): they are recorded explicitly. When ``moved`` is
    not empty, ``old_order(lo, hi)`` must give (team, rank before) of every team on the
    board before the run with a rank in ``lo..hi``, in (rank, team) order.
    """
    explicit: dict[int, tuple[int, int]] = {team: (ABSENT, rank) for team, rank in added.items()}
    explicit.update((team, (rank, ABSENT)) for team, rank in removed.items())
    lo: list[int] = []
    hi: list[int] = []
    shifts: list[int] = []
    pinned = {team for team in movers if team in moved}
    explicit.update((team, moved[team]) for team in pinned)
    floating = {team: ranks for team, ranks in moved.items() if team not in pinned}
    if floating:
        if old_order is None:
            raise ValueError("old_order is needed when ranks moved")
        span_lo = min(min(pair) for pair in floating.values())
        span_hi = max(max(pair) for pair in floating.values())
        sequence = [
            (team, old, floating[team][1] if team in floating else old)
            for team, old in old_order(span_lo, span_hi)
            if team not in removed and team not in pinned
        ]
        kept = _monotone(sequence)
        if len(sequence) - len(kept) > max(64, len(pinned) + len(added) + len(removed)):
            kept = _longest_monotone(sequence)
        keep = set(kept)
        for index, (team, old, new) in enumerate(sequence):
            if index not in keep:
                explicit[team] = (old, new)
        run_shift = 0
        for index in kept:
            _, old, new = sequence[index]
            shift = new - old
            if shift and shift == run_shift and lo:
                hi[-1] = old
            elif shift:
                lo.append(old)
                hi.append(old)
                shifts.append(shift)
            run_shift = shift
    teams = sorted(explicit)
    return Delta(
        teams=teams,
        old=[explicit[team][0] for team in teams],
        new=[explicit[team][1] for team in teams],
        lo=lo,
        hi=hi,
        d=shifts,
    )


def _fits(previous: tuple[int, int] | None, old: int, new: int) -> bool:
    if previous is None:
        return True
    last_old, last_new = previous
    if old == last_old:
        return new == last_new
    return new > last_new


def _monotone(sequence: Sequence[tuple[int, int, int]]) -> list[int]:
    """Indexes kept by one greedy pass: each one fits after the last kept."""
    kept: list[int] = []
    last: tuple[int, int] | None = None
    for index, (_, old, new) in enumerate(sequence):
        if _fits(last, old, new):
            kept.append(index)
            last = (old, new)
    return kept


def _longest_monotone(sequence: Sequence[tuple[int, int, int]]) -> list[int]:
    """Indexes of a longest subsequence that can stay implicit.

    Teams tied before the run form one group; a group whose members do not share one
    rank after it is left out whole. Among the groups (ascending rank before), the
    longest chain with strictly ascending rank after (patience sorting).
    """
    groups: list[tuple[int, list[int]]] = []  # (rank after, member indexes)
    index = 0
    while index < len(sequence):
        end = index
        while end + 1 < len(sequence) and sequence[end + 1][1] == sequence[index][1]:
            end += 1
        news = {sequence[k][2] for k in range(index, end + 1)}
        if len(news) == 1:
            groups.append((sequence[index][2], list(range(index, end + 1))))
        index = end + 1
    tails: list[int] = []  # smallest rank after ending a chain of each length
    tail_group: list[int] = []
    parent: list[int] = []
    for number, (new, _) in enumerate(groups):
        at = bisect_left(tails, new)
        if at == len(tails):
            tails.append(new)
            tail_group.append(number)
        else:
            tails[at] = new
            tail_group[at] = number
        parent.append(tail_group[at - 1] if at else -1)
    chain: list[int] = []
    node = tail_group[-1] if tail_group else -1
    while node >= 0:
        chain.append(node)
        node = parent[node]
    return sorted(member for number in chain for member in groups[number][1])


# -- reading a board's history -------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One stored frame: the run, the number of teams after it, its blobs."""

    run_id: int
    teams: int
    delta: bytes | None
    keyframe: bytes | None

    def decoded(self) -> Delta | None:
        """The delta, or None when the board was empty before the run."""
        return decode_delta(self.delta) if self.delta is not None else None


def frames(
    conn: sqlite3.Connection,
    competition_id: int,
    board: str,
    *,
    after: int = 0,
    upto: int | None = None,
    keyframes: bool = True,
) -> list[Frame]:
    """The board's frames of runs ``after < run_id <= upto``, oldest first."""
    sql = (
        "SELECT run_id, teams, delta, "
        + ("keyframe" if keyframes else "NULL")
        + " FROM rank_frames WHERE competition_id = ? AND board = ? AND run_id > ?"
    )
    params: list[object] = [competition_id, board, after]
    if upto is not None:
        sql += " AND run_id <= ?"
        params.append(upto)
    return [Frame(*row) for row in conn.execute(sql + " ORDER BY run_id", params)]


def current_ranks(conn: sqlite3.Connection, competition_id: int, board: str) -> dict[int, int]:
    """team id -> rank of the stored board."""
    return dict(
        conn.execute(
            "SELECT team_id, rank FROM entries WHERE competition_id = ? AND board = ?", (competition_id, board)
        )
    )


def ranks_at(
    conn: sqlite3.Connection,
    competition_id: int,
    board: str,
    run_id: int,
    current: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Every team's rank after the ok run ``run_id`` (team id -> rank).

    Built backward from the stored board, or forward from the nearest keyframe at or
    before the run, whichever applies fewer deltas. ``run_id`` 0 is the empty board
    before the first sync.
    """
    later = conn.execute(
        "SELECT count(*) FROM rank_frames WHERE competition_id = ? AND board = ? AND run_id > ?",
        (competition_id, board, run_id),
    ).fetchone()[0]
    if not later:
        return dict(current) if current is not None else current_ranks(conn, competition_id, board)
    base = conn.execute(
        """SELECT run_id FROM rank_frames WHERE competition_id = ? AND board = ? AND run_id <= ?
           AND keyframe IS NOT NULL ORDER BY run_id DESC LIMIT 1""",
        (competition_id, board, run_id),
    ).fetchone()
    if base is not None:
        steps = conn.execute(
            "SELECT count(*) FROM rank_frames WHERE competition_id = ? AND board = ? AND run_id > ? AND run_id <= ?",
            (competition_id, board, base[0], run_id),
        ).fetchone()[0]
        if steps < later:
            (blob,) = conn.execute("SELECT keyframe FROM rank_frames WHERE run_id = ?", (base[0],)).fetchone()
            state = decode_keyframe(blob)
            for frame in frames(conn, competition_id, board, after=base[0], upto=run_id, keyframes=False):
                delta = frame.decoded()
                state = delta.forward(state) if delta is not None else {}
            return state
    state = dict(current) if current is not None else current_ranks(conn, competition_id, board)
    for frame in reversed(frames(conn, competition_id, board, after=run_id, keyframes=False)):
        delta = frame.decoded()
        state = delta.backward(state) if delta is not None else {}
    return state


def rank_changes(
    conn: sqlite3.Connection,
    competition_id: int,
    board: str,
    team_ids: Iterable[int],
    current: Mapping[int, int | None] | None = None,
) -> dict[int, list[tuple[int, int | None, int | None]]]:
    """For each team, (run id, rank before, rank after) at each run that changed its rank
    or took it onto or off the board, oldest first (None: not on the board)."""
    wanted = list(dict.fromkeys(team_ids))
    out: dict[int, list[tuple[int, int | None, int | None]]] = {team: [] for team in wanted}
    if not wanted:
        return out
    if current is None:
        marks = ",".join("?" for _ in wanted)
        found = dict(
            conn.execute(
                f"SELECT team_id, rank FROM entries WHERE competition_id = ? AND board = ? AND team_id IN ({marks})",
                (competition_id, board, *wanted),
            )
        )
        current = {team: found.get(team) for team in wanted}
    now: dict[int, int | None] = {team: current.get(team) for team in wanted}
    for frame in reversed(frames(conn, competition_id, board, keyframes=False)):
        delta = frame.decoded()
        for team in wanted:
            after = now[team]
            earlier = delta.before(team, after) if delta is not None else None
            if earlier != after:
                out[team].append((frame.run_id, earlier, after))
            now[team] = earlier
    for changes in out.values():
        changes.reverse()
    return out


def keyframe_due(conn: sqlite3.Connection, competition_id: int, board: str, delta_bytes: int) -> bool:
    """Whether the next frame (whose delta has ``delta_bytes``) should carry a keyframe."""
    last = conn.execute(
        """SELECT run_id, length(keyframe) FROM rank_frames WHERE competition_id = ? AND board = ?
           AND keyframe IS NOT NULL ORDER BY run_id DESC LIMIT 1""",
        (competition_id, board),
    ).fetchone()
    if last is None:
        return True
    count, total = conn.execute(
        """SELECT count(*), coalesce(sum(length(delta)), 0) FROM rank_frames
           WHERE competition_id = ? AND board = ? AND run_id > ?""",
        (competition_id, board, last[0]),
    ).fetchone()
    return bool(count + 1 >= KEYFRAME_MAX_DELTAS or total + delta_bytes >= last[1])
