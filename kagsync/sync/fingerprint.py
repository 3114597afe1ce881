"""What a download is: its content key, to tell an unchanged board without parsing it.

Kaggle's zips differ on every download (timestamps), so a board is known by its CSV:
``sync_runs.content_digest`` holds the CSV's SHA-256 with the parser's version and the
metric direction (:func:`content_key`), then, for a zip, its one CSV member's CRC-32,
size and the SHA-256 of its compressed bytes (:func:`_zip_member_fingerprint`), which
tells most unchanged downloads without even inflating them.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from kagsync.errors import KagsyncError
from kagsync.leaderboard import open_leaderboard_file

if TYPE_CHECKING:
    from kagsync.sync.apply import SyncLimits

PARSER_VERSION = 1
"""Part of each applied board's content key (``sync_runs.content_digest``): bump it
whenever the same file would now be parsed into different rows, so that a board
downloaded unchanged is parsed again once after an upgrade."""


def content_key(digest: str, lower_is_better: bool) -> str:
    """What makes two downloads parse into the same board: the CSV's SHA-256, the
    parser's version and the metric direction (shapes A and B rank by it)."""
    return f"sha256:{digest};parser:{PARSER_VERSION};{'lower' if lower_is_better else 'higher'}"


def _rekeyed(key: str | None, lower_is_better: bool) -> str | None:
    """The key of the same CSV under today's parser version and direction."""
    if not key or not key.startswith("sha256:"):
        return None
    return content_key(key.split(";", 1)[0][len("sha256:") :], lower_is_better)


def _key_part(stored: str | None) -> str | None:
    return stored.split(";member:", 1)[0] if stored else None


def _member_part(stored: str | None) -> str | None:
    return stored.split(";member:", 1)[1] if stored and ";member:" in stored else None


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip member's local file header


def _zip_member_fingerprint(path: Path) -> str | None:
    """The zip's one CSV as its directory and compressed bytes give it, without
    decompressing: ``crc32/size/method/sha256 of the compressed bytes``.

    Equal fingerprints mean equal content (the same compressed bytes inflate to the
    same CSV), so an unchanged download is told at the cost of hashing the zip. Only
    an equal CRC and size with other compressed bytes needs the CSV's own digest.
    None for a plain CSV or a zip that is not one CSV (the CSV digest decides then).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info
                for info in archive.infolist()
                if info.filename.lower().endswith(".csv") and not info.filename.startswith("__MACOSX/")
            ]
            if len(members) != 1:
                return None
            info = members[0]
            with open(path, "rb") as raw:
                raw.seek(info.header_offset)
                header = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
                if header[0] != b"PK\x03\x04":
                    return None
                raw.seek(header[-2] + header[-1], os.SEEK_CUR)  # the name and extra fields
                digest = hashlib.sha256()
                left = info.compress_size
                while left > 0 and (chunk := raw.read(min(left, 1 << 20))):
                    digest.update(chunk)
                    left -= len(chunk)
    except (OSError, zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, struct.error):
        return None
    return f"{info.CRC:08x}/{info.file_size}/{info.compress_type}/{digest.hexdigest()}"


def _csv_size(path: Path, member: str | None) -> int:
    """The CSV's size: a zip member's from its fingerprint, a plain file's own."""
    if member is not None:
        return int(member.split("/")[1])
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    return size if not zipfile.is_zipfile(path) else size * 3  # an unusual zip: deflate ~3:1


def _same_crc(member: str | None, stored: str | None) -> bool:
    """Whether two fingerprints name the same CRC-32 and size (or cannot tell)."""
    if member is None or stored is None:
        return True
    return member.split("/")[:2] == stored.split("/")[:2]


def _csv_digest(path: Path, limits: SyncLimits) -> str | None:
    """SHA-256 of the CSV's bytes (a zip's leaderboard member, or the file itself);
    None when the file cannot be read (the parser then says why)."""
    try:
        _, stream = open_leaderboard_file(
            path,
            max_uncompressed_bytes=limits.max_uncompressed_bytes,
            max_compression_ratio=limits.max_compression_ratio,
        )
    except (OSError, KagsyncError, ValueError):
        return None
    digest = hashlib.sha256()
    try:
        with stream:
            binary = stream.buffer  # the CSV bytes under the text layer
            while chunk := binary.read(1 << 20):
                digest.update(chunk)
    except Exception:  # noqa: BLE001 - a damaged file: no key, the parser reports it
        return None
    return digest.hexdigest()


def _stored_key(key: str | None, member: str | None) -> str | None:
    """What ``sync_runs.content_digest`` holds: the content key, then the zip member's
    CRC-32 and size when the download was a zip."""
    if key is None:
        return None
    return f"{key};member:{member}" if member else key
