""""Start over" on a modal result card: the form again, empty, for the same channel.

`views.open` runs right after the ack (the `trigger_id` expires 3 s after the click); a
failure is told to the person from the work pool.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.client import trigger_client
from bot.slack.listeners._payload import action_place, user_id
from bot.slack.modal_flow import open_modal
from bot.slack.web import deps_from, guarded, tell_user
from bot.slack.work import after_ack


def start_form_over_callback(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps = deps_from(context, trigger_client(context))
    user = user_id(body)
    channel, thread_ts = action_place(body)

    def tell(text: str) -> None:
        after_ack(context, _tell, context, client, user, text, channel, thread_ts)

    with guarded(deps, user, notify=tell):
        open_modal(deps, str(body.get("trigger_id") or ""), channel=channel, origin="again",
                   on_failure=tell)


def _tell(
    context: BoltContext, client: WebClient, user: str, text: str, channel: str | None,
    thread_ts: str | None,
) -> None:
    tell_user(deps_from(context, client), user, text, channel=channel, thread_ts=thread_ts)
