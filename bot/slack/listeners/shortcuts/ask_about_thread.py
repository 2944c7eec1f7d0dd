"""The message shortcut: ack at once, read the thread and start on the work pool."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.thread_shortcut import ask_about_thread
from bot.slack.web import deps_from, guarded
from bot.slack.work import after_ack


def ask_about_thread_callback(ack: Ack, body: dict[str, Any], client: WebClient,
                              context: BoltContext, respond: Respond) -> None:
    ack()
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id")
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    message_ts = message.get("ts") or body.get("message_ts")
    if not user or not channel or not message_ts:
        return
    after_ack(context, _ask, context, client, respond, str(user), str(channel),
              str(message_ts), message.get("thread_ts"))


def _ask(context: BoltContext, client: WebClient, respond: Respond, user: str, channel: str,
         message_ts: str, thread_ts: str | None) -> None:
    deps = deps_from(context, client)

    def tell(text: str) -> None:
        respond(response_type="ephemeral", replace_original=False, text=text)

    with guarded(deps, user, channel=channel, thread_ts=thread_ts or message_ts, notify=tell):
        ask_about_thread(deps, user=user, team=context.get("team_id"), channel=channel,
                         message_ts=message_ts, thread_ts=thread_ts, notify=tell)
