"""Message payloads: Slack's, Discord's and the JSON shape, within each receiver's limits,
built from typed change events."""

from __future__ import annotations

import json

from kagsync import notify


def top_change(slug, title, i, text):
    return notify.TopChange(
        key=f"top:{slug}:{i}",
        kind="top",
        text=text,
        at=None,
        board="public",
        run_id=i,
        team_id=i,
        team_name=f"Team {i}",
        members=[],
        roster=[],
        rank=i,
        previous_rank=None,
        direction="in",
        top_n=10,
        score=None,
        competition=slug,
        title=title,
        url=f"https://www.kaggle.com/competitions/{slug}",
        event=None,
        event_title=None,
    )


def many_events(competitions=15, per=30):
    return [
        top_change(
            f"c{c}",
            f"Competition {c} " + "x" * 300,
            i,
            f"@everyone **Team {i}** entered the top 10 at #{i} " + "y" * 200,
        )
        for c in range(competitions)
        for i in range(per)
    ]


def test_discord_payload_stays_within_discords_limits():
    payload = notify.discord_payload(many_events())
    assert len(payload["content"]) <= 2000
    assert len(payload["embeds"]) <= 10
    total = sum(len(e.get("title", "")) + len(e.get("description", "")) for e in payload["embeds"])
    assert total <= 6000
    assert all(len(e["title"]) <= 256 for e in payload["embeds"] if "title" in e)
    assert payload["allowed_mentions"] == {"parse": []}
    assert "\\*\\*Team 0\\*\\*" in payload["embeds"][0]["description"]
    assert payload["embeds"][-1]["description"].startswith("… and")


def test_slack_payload_stays_within_slacks_limits():
    payload = notify.slack_payload(many_events(competitions=60, per=3))
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if "text" in b)
    assert len(payload["text"]) <= 3000
    tricky = notify.slack_payload([notify.TestChange(key="k", kind="test", text="<!channel> & <b>", at=None)])
    assert tricky["blocks"][0]["text"]["text"] == "• &lt;!channel&gt; &amp; &lt;b&gt;"


def test_json_payload_is_the_documented_shape():
    events = many_events(competitions=1, per=2)
    payload = notify.build_payload("json", events, target="club", sent_at="2026-05-01T10:00:00Z")
    assert payload == {
        "source": "kagsync",
        "version": 1,
        "target": "club",
        "sent_at": "2026-05-01T10:00:00Z",
        "text": payload["text"],
        "events": events,
    }
    assert json.loads(json.dumps(payload)) == payload
