"""Messages: one per target and pass, in Slack's, Discord's, the JSON or apprise's shape,
each within the receiver's limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kagsync.values import now_iso

PAYLOAD_VERSION = 1

# -- messages ------------------------------------------------------------------------

_SLACK_BLOCKS = 45
_SLACK_SECTION = 2_900
_DISCORD_CONTENT = 2_000
_DISCORD_EMBEDS = 10
_DISCORD_TOTAL = 5_800
_DISCORD_DESCRIPTION = 4_000
_KAGGLE_BLUE = 0x20BEFF
_MAX_LINES = 40


def _groups(events: Sequence[Mapping[str, Any]]) -> list[tuple[str | None, str | None, list[str]]]:
    """(title, url, lines) per competition, in the order they first appear."""
    groups: dict[str | None, tuple[str | None, str | None, list[str]]] = {}
    for event in events:
        slug = event.get("competition")
        if slug not in groups:
            groups[slug] = (event.get("title"), event.get("url"), [])
        groups[slug][2].append(str(event.get("text", "")))
    return list(groups.values())


def headline(events: Sequence[Mapping[str, Any]]) -> str:
    """One line saying what the message is about."""
    if len(events) == 1:
        event = events[0]
        title = event.get("title")
        return f"{title}: {event.get('text', '')}" if title else str(event.get("text", ""))
    competitions = {e.get("competition") for e in events if e.get("competition")}
    where = (
        f" on {len(competitions)} competitions"
        if len(competitions) > 1
        else (f" on {events[0].get('title')}" if competitions else "")
    )
    return f"kagsync: {len(events)} changes{where}"


def plain_text(events: Sequence[Mapping[str, Any]], *, limit: int = 4_000) -> str:
    """The message as plain text (Slack's fallback, apprise's body)."""
    lines = [headline(events)] if len(events) > 1 else []
    shown = 0
    for title, _, items in _groups(events):
        for item in items:
            if shown >= _MAX_LINES:
                break
            lines.append(f"• {title}: {item}" if title else f"• {item}")
            shown += 1
    if len(events) > shown and len(events) > 1:
        lines.append(f"… and {len(events) - shown} more")
    if len(events) == 1:
        lines = [headline(events)]
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


def slack_payload(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Slack's incoming-webhook payload: ``text`` (the fallback) and ``blocks``."""
    blocks: list[dict[str, Any]] = []
    if len(events) > 1:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*" + _slack_escape(_cut(headline(events), 2_000)) + "*"},
            }
        )
    groups = _groups(events)
    for title, url, items in groups[:_SLACK_BLOCKS]:
        head = ""
        if title:
            label = _slack_escape(title).replace("|", "¦")
            head = f"*<{url}|{label}>*\n" if url else f"*{label}*\n"
        body = "\n".join("• " + _slack_escape(item) for item in items[:_MAX_LINES])
        if len(items) > _MAX_LINES:
            body += f"\n… and {len(items) - _MAX_LINES} more"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(head + body, _SLACK_SECTION)}})
    if len(groups) > _SLACK_BLOCKS:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"… and {len(groups) - _SLACK_BLOCKS} more competitions"}],
            }
        )
    return {"text": plain_text(events, limit=3_000), "blocks": blocks}


def discord_payload(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Discord's webhook payload: ``content`` (at most 2,000 characters) and up to 10 ``embeds``.

    Mentions are switched off (``allowed_mentions``): a team called ``@everyone`` pings nobody.
    """
    groups = _groups(events)
    shown = groups if len(groups) <= _DISCORD_EMBEDS else groups[: _DISCORD_EMBEDS - 1]
    # Discord refuses a message whose embeds hold more than 6,000 characters in all:
    # each competition gets an equal share (a "more" note keeps a little).
    share = (_DISCORD_TOTAL - 200) // max(len(shown), 1)
    embeds: list[dict[str, Any]] = []
    for title, url, items in shown:
        name = _cut(title or "kagsync", 256)
        lines = ["• " + _discord_escape(item) for item in items[:_MAX_LINES]]
        if len(items) > _MAX_LINES:
            lines.append(f"… and {len(items) - _MAX_LINES} more")
        description = _cut("\n".join(lines), min(_DISCORD_DESCRIPTION, share - len(name)))
        embed: dict[str, Any] = {"title": name, "description": description, "color": _KAGGLE_BLUE}
        if url:
            embed["url"] = url
        embeds.append(embed)
    if len(groups) > len(shown):
        embeds.append({"description": f"… and {len(groups) - len(shown)} more competitions", "color": _KAGGLE_BLUE})
    return {
        "content": _cut(_discord_escape(headline(events)), _DISCORD_CONTENT),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    }


def json_payload(events: Sequence[Mapping[str, Any]], *, target: str, sent_at: str) -> dict[str, Any]:
    """The generic payload: every change event in full (documented in the README)."""
    return {
        "source": "kagsync",
        "version": PAYLOAD_VERSION,
        "target": target,
        "sent_at": sent_at,
        "text": plain_text(events),
        "events": list(events),
    }


def build_payload(
    fmt: str, events: Sequence[Mapping[str, Any]], *, target: str = "", sent_at: str | None = None
) -> Any:
    """The message for ``events`` in ``fmt`` (apprise: ``{"title", "body"}``)."""
    if fmt == "slack":
        return slack_payload(events)
    if fmt == "discord":
        return discord_payload(events)
    if fmt == "apprise":
        return {"title": _cut(headline(events), 250), "body": plain_text(events)}
    return json_payload(events, target=target, sent_at=sent_at or now_iso())
