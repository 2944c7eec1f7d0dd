""""Adjust answers" on a modal result card: the modal again, prefilled with its answers
(and, for a private result, with "Keep the result private" still ticked).

`views.open` runs right after the ack on this thread (the `trigger_id` expires 3 s after
the click; `trigger_client`: short timeout, no long rate-limit sleeps); telling the user
about a failure is handed off to the work pool.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.app import trigger_client
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.modal_flow import open_modal
from bot.slack.web import deps_from, guarded, tell_user
from bot.slack.work import after_ack


def adjust_answers_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    cid = action_value(action)
    deps = deps_from(context, trigger_client(context))
    user = user_id(body)
    channel, thread_ts = action_place(body)

    def tell(text: str) -> None:
        after_ack(context, _tell, context, client, user, text, channel, thread_ts)

    with guarded(deps, user, notify=tell):
        c = deps.store.get(cid) if cid else None
        open_modal(
            deps,
            str(body.get("trigger_id") or ""),
            channel=channel,
            origin="adjust",
            prefill=c.answers if c is not None else None,
            private=bool(c is not None and c.meta.get("private")),
            on_failure=tell,
        )


def _tell(
    context: BoltContext, client: WebClient, user: str, text: str, channel: str | None,
    thread_ts: str | None,
) -> None:
    tell_user(deps_from(context, client), user, text, channel=channel, thread_ts=thread_ts)
