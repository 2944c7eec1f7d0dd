""""Adjust answers" on a modal result card: the modal again, prefilled with its answers."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.consultations import deps_from, guarded, open_modal, tell_user
from bot.slack.listeners._payload import action_place, action_value, user_id


def adjust_answers_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    cid = action_value(action)
    deps = deps_from(context, client)
    user = user_id(body)
    channel, thread_ts = action_place(body)
    with guarded(deps, user, channel=channel, thread_ts=thread_ts):
        c = deps.store.get(cid) if cid else None
        open_modal(
            deps,
            str(body.get("trigger_id") or ""),
            channel=channel,
            origin="adjust",
            prefill=c.answers if c is not None else None,
            on_failure=lambda text: tell_user(deps, user, text, channel=channel,
                                              thread_ts=thread_ts),
        )
