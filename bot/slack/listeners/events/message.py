"""Messages (message.channels, message.groups, message.im; group DMs are not subscribed).

- a message that mentions the bot: a mention (the dedup middleware lets only one of the
  `app_mention`/`message` pair through, whichever came first);
- a top-level message in the bot's DM: goes to the user's open DM consultation, or
  starts one (chit-chat gets a short hint, not a consultation);
- a reply in a thread: maybe a typed answer (owner only). Most thread replies have
  nothing to do with the bot: if the database is down they are only logged.

Plain messages and the subtypes that are still the person's words (a file with a
comment, "also send to channel") are handled; bot messages, edits, joins... are not.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.thread_flow import (
    handle_direct_message,
    handle_mention,
    handle_thread_message,
)
from bot.slack.web import deps_from, guarded
from bot.slack.work import HANDLED_MESSAGE_SUBTYPES, after_ack


def message_callback(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("subtype") not in HANDLED_MESSAGE_SUBTYPES:
        return
    if event.get("bot_id") or event.get("bot_profile"):
        return
    if not event.get("user") or not event.get("channel") or not event.get("ts"):
        return
    after_ack(context, _message, event, client, context)


def _message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """On the work pool (the bot's user id is known there, see `after_ack`)."""
    user, channel, ts = str(event["user"]), str(event["channel"]), str(event["ts"])
    bot_user_id = context.get("bot_user_id")
    if bot_user_id and user == bot_user_id:
        return
    text = str(event.get("text") or "")
    thread_ts = event.get("thread_ts")
    in_thread = bool(thread_ts) and thread_ts != ts
    mentioned = bool(bot_user_id) and f"<@{bot_user_id}>" in text
    direct = event.get("channel_type") == "im" and not in_thread
    if not (mentioned or in_thread or direct):
        return
    deps = deps_from(context, client)
    team = context.get("team_id")
    with guarded(deps, user, channel=channel, thread_ts=thread_ts or ts):
        if direct:
            handle_direct_message(deps, user=user, team=team, channel=channel, ts=ts, text=text)
        elif mentioned:
            handle_mention(deps, user=user, team=team, channel=channel, ts=ts,
                           thread_ts=thread_ts, text=text)
        else:
            handle_thread_message(deps, user=user, channel=channel, thread_ts=str(thread_ts),
                                  text=text)
