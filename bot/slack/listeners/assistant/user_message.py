"""A person's message in an assistant thread (or any thread of the bot's DM: Slack sends
both the same way): handed to `assistant_flow.take_message` on the work pool."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.assistant_flow import take_message
from bot.slack.web import deps_from
from bot.slack.work import HANDLED_MESSAGE_SUBTYPES, after_ack


def user_message_callback(payload: dict[str, Any], client: WebClient,
                          context: BoltContext) -> None:
    if payload.get("subtype") not in HANDLED_MESSAGE_SUBTYPES:
        return
    if payload.get("bot_id") or payload.get("bot_profile"):
        return
    if not all(payload.get(key) for key in ("user", "channel", "ts", "thread_ts")):
        return
    after_ack(context, _take, context, client, dict(payload))


def _take(context: BoltContext, client: WebClient, event: dict[str, Any]) -> None:
    take_message(deps_from(context, client), event, team=context.get("team_id"))
