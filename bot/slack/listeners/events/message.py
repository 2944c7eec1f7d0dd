"""Messages (message.channels/groups/im/mpim).

- a message that mentions the bot: a mention (the dedup middleware lets only one of the
  `app_mention`/`message` pair through, whichever came first);
- a reply in a thread with an open consultation: maybe a typed answer (owner only);
- a top-level message in the bot's DM: starts a consultation, answered in a thread.

Bot messages and message subtypes (edits, joins, ...) are ignored.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.consultations import deps_from, guarded, handle_mention, handle_thread_message


def message_callback(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not user or not channel or not ts:
        return
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
    with guarded(deps, user, channel=channel, thread_ts=thread_ts or ts):
        if mentioned or direct:
            handle_mention(deps, user=user, team=context.get("team_id"), channel=channel, ts=ts,
                           thread_ts=thread_ts, text=text)
        else:
            handle_thread_message(deps, user=user, channel=channel, thread_ts=str(thread_ts),
                                  text=text)
