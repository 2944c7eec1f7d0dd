"""@-mention: start (or continue) a thread consultation in that thread (work pool)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.thread_flow import handle_mention
from bot.slack.web import deps_from, guarded
from bot.slack.work import after_ack


def app_mention_callback(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not user or not channel or not ts or event.get("bot_id") or event.get("subtype"):
        return
    after_ack(context, _mention, context, client, user, channel, ts, event.get("thread_ts"),
              str(event.get("text") or ""))


def _mention(
    context: BoltContext, client: WebClient, user: str, channel: str, ts: str,
    thread_ts: str | None, text: str,
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, channel=channel, thread_ts=thread_ts or ts):
        handle_mention(deps, user=user, team=context.get("team_id"), channel=channel, ts=ts,
                       thread_ts=thread_ts, text=text)
