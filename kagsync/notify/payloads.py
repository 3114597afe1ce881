"""Messages: one per target and pass, in Slack's, Discord's, the JSON or apprise's shape,
each within the receiver's limits.

A message has a header naming the event (when there is more than one line), then one
section per competition under its title, with one line per team: every change of a
team in the pass (its lead, its entry into the top N, its members' moves) is folded
into that one line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, TypeGuard

from kagsync.notify.model import Change, TeamChange
from kagsync.notify.wording import team_line
from kagsync.values import now_iso

PAYLOAD_VERSION = 1

NO_EVENT_HEADER = "Kaggle leaderboards"
"""The header of a message whose changes are of several events (or none)."""

_SLACK_BLOCKS = 45
_SLACK_SECTION = 2_900
_DISCORD_CONTENT = 2_000
_DISCORD_EMBEDS = 10
_DISCORD_TOTAL = 5_800
_DISCORD_DESCRIPTION = 4_000
_KAGGLE_BLUE = 0x20BEFF
_MAX_LINES = 40


@dataclass(frozen=True)
class Section:
    """One competition's part of a message: its title, its link and one line per team
    (or per other change)."""

    title: str | None
    url: str | None
    lines: list[str]


def _team_key(change: Change) -> tuple[str, int] | None:
    """What folds a change into its team's line: (board, team id), for team changes."""
    if change["kind"] in ("leader", "top", "member"):
        return (change["board"], change["team_id"])
    return None


def sections(changes: Sequence[Change]) -> list[Section]:
    """The message's sections, one per competition in the order they first appear;
    every change of one team (leader, top, member, over the runs of the pass) is
    folded into one line."""
    order: list[str | None] = []
    found: dict[str | None, tuple[Change, list[list[Change]], dict[tuple[str, int], int]]] = {}
    for change in changes:
        slug = change.get("competition")
        if slug not in found:
            order.append(slug)
            found[slug] = (change, [], {})
        _, groups, teams = found[slug]
        key = _team_key(change)
        if key is not None and key in teams:
            groups[teams[key]].append(change)
            continue
        if key is not None:
            teams[key] = len(groups)
        groups.append([change])
    result = []
    for slug in order:
        first, groups, _ = found[slug]
        lines = [_line(group) for group in groups]
        result.append(Section(first.get("title"), first.get("url"), lines))
    return result


def _is_team(change: Change) -> TypeGuard[TeamChange]:
    return change["kind"] in ("leader", "top", "member")


def _line(group: list[Change]) -> str:
    team = [change for change in group if _is_team(change)]
    if len(group) == 1 or len(team) != len(group):
        return group[0]["text"]
    return team_line(sorted(team, key=lambda change: change["run_id"]))


def headline(changes: Sequence[Change]) -> str:
    """One line saying what the message is about: the only line of a one-line message,
    else the event's title (no "kagsync: N changes")."""
    parts = sections(changes)
    if sum(len(part.lines) for part in parts) == 1:
        part = parts[0]
        first = part.lines[0].split("\n", 1)[0]
        return f"{part.title}: {first}" if part.title else first
    titles = {title for title in (c.get("event_title") for c in changes) if title}
    if len(titles) == 1:
        return titles.pop()
    # Changes of several events (a target of every event), or of none.
    if len(parts) == 1 and parts[0].title:
        return parts[0].title
    return NO_EVENT_HEADER


def _item(line: str, bullet: str = "• ") -> str:
    """A line as a list item; a final's member lines below it as sub-items."""
    head, *rest = line.split("\n")
    return "\n".join([bullet + head, *("    ◦ " + more for more in rest)])


def plain_text(changes: Sequence[Change], *, limit: int = 4_000) -> str:
    """The message as plain text (Slack's fallback, apprise's body)."""
    parts = sections(changes)
    total = sum(len(part.lines) for part in parts)
    if total == 1:
        return _cut(headline(changes) + "".join("\n    ◦ " + m for m in parts[0].lines[0].split("\n")[1:]), limit)
    lines = [headline(changes)]
    shown = 0
    for part in parts:
        for line in part.lines:
            if shown >= _MAX_LINES:
                break
            lines.append(_item(f"{part.title}: {line}" if part.title else line))
            shown += 1
    if total > shown:
        lines.append(f"… and {total - shown:,} more")
    return _cut("\n".join(lines), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Markdown that would change how a team's name shows (bold, strike, code, spoilers,
# quotes, masked links); our lines start with "• ", so headings and lists cannot start.
_DISCORD_SPECIAL = re.compile(r"([\\*_~`|>\[\]])")


def _discord_escape(text: str) -> str:
    return _DISCORD_SPECIAL.sub(r"\\\1", text)


class SlackPayload(TypedDict):
    """Slack's incoming-webhook payload."""

    text: str
    blocks: list[dict[str, object]]


class DiscordPayload(TypedDict):
    """Discord's webhook payload."""

    content: str
    embeds: list[dict[str, object]]
    allowed_mentions: dict[str, list[str]]


class JsonPayload(TypedDict):
    """The generic payload (documented in docs/notifications.md)."""

    source: str
    version: int
    target: str
    sent_at: str
    text: str
    events: list[Change]


class ApprisePayload(TypedDict):
    """What apprise is given."""

    title: str
    body: str


Payload = SlackPayload | DiscordPayload | JsonPayload | ApprisePayload


def slack_payload(changes: Sequence[Change]) -> SlackPayload:
    """Slack's incoming-webhook payload: ``text`` (the fallback) and ``blocks``."""
    blocks: list[dict[str, object]] = []
    parts = sections(changes)
    if sum(len(part.lines) for part in parts) > 1:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*" + _slack_escape(_cut(headline(changes), 2_000)) + "*"},
            }
        )
    for part in parts[:_SLACK_BLOCKS]:
        head = ""
        if part.title:
            label = _slack_escape(part.title).replace("|", "¦")
            head = f"*<{part.url}|{label}>*\n" if part.url else f"*{label}*\n"
        body = "\n".join(_item(_slack_escape(line)) for line in part.lines[:_MAX_LINES])
        if len(part.lines) > _MAX_LINES:
            body += f"\n… and {len(part.lines) - _MAX_LINES:,} more"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(head + body, _SLACK_SECTION)}})
    if len(parts) > _SLACK_BLOCKS:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"… and {len(parts) - _SLACK_BLOCKS:,} more competitions"}],
            }
        )
    return {"text": plain_text(changes, limit=3_000), "blocks": blocks}


def discord_payload(changes: Sequence[Change]) -> DiscordPayload:
    """Discord's webhook payload: ``content`` (at most 2,000 characters) and up to 10 ``embeds``.

    Mentions are switched off (``allowed_mentions``): a team called ``@everyone`` pings nobody.
    """
    parts = sections(changes)
    shown = parts if len(parts) <= _DISCORD_EMBEDS else parts[: _DISCORD_EMBEDS - 1]
    # Discord refuses a message whose embeds hold more than 6,000 characters in all:
    # each competition gets an equal share (a "more" note keeps a little).
    share = (_DISCORD_TOTAL - 200) // max(len(shown), 1)
    embeds: list[dict[str, object]] = []
    for part in shown:
        name = _cut(part.title or "kagsync", 256)
        lines = [_item(_discord_escape(line)) for line in part.lines[:_MAX_LINES]]
        if len(part.lines) > _MAX_LINES:
            lines.append(f"… and {len(part.lines) - _MAX_LINES:,} more")
        description = _cut("\n".join(lines), min(_DISCORD_DESCRIPTION, share - len(name)))
        embed: dict[str, object] = {"title": name, "description": description, "color": _KAGGLE_BLUE}
        if part.url:
            embed["url"] = part.url
        embeds.append(embed)
    if len(parts) > len(shown):
        embeds.append({"description": f"… and {len(parts) - len(shown):,} more competitions", "color": _KAGGLE_BLUE})
    return {
        "content": _cut(_discord_escape(headline(changes)), _DISCORD_CONTENT),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    }


def json_payload(changes: Sequence[Change], *, target: str, sent_at: str) -> JsonPayload:
    """The generic payload: every change event in full (documented in docs/notifications.md)."""
    return {
        "source": "kagsync",
        "version": PAYLOAD_VERSION,
        "target": target,
        "sent_at": sent_at,
        "text": plain_text(changes),
        "events": list(changes),
    }


def build_payload(fmt: str, changes: Sequence[Change], *, target: str = "", sent_at: str | None = None) -> Payload:
    """The message for ``changes`` in ``fmt`` (apprise: ``{"title", "body"}``)."""
    if fmt == "slack":
        return slack_payload(changes)
    if fmt == "discord":
        return discord_payload(changes)
    if fmt == "apprise":
        return {"title": _cut(headline(changes), 250), "body": plain_text(changes)}
    return json_payload(changes, target=target, sent_at=sent_at or now_iso())
