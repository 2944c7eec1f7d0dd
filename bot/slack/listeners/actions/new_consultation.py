""""New consultation" in App Home: open the modal (the result comes by DM).

`views.open` runs right after the ack on this thread (the `trigger_id` expires 3 s after
the click; `trigger_client`: short timeout, no long rate-limit sleeps); telling the user
about a failure is handed off to the work pool.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.client import trigger_client
from bot.slack.listeners._payload import user_id
from bot.slack.modal_flow import open_modal
from bot.slack.web import deps_from, guarded, tell_user
from bot.slack.work import after_ack


def new_consultation_callback(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps = deps_from(context, trigger_client(context))
    user = user_id(body)

    def tell(text: str) -> None:
        after_ack(context, _tell, context, client, user, text)

    with guarded(deps, user, notify=tell):
        open_modal(
            deps,
            str(body.get("trigger_id") or ""),
            channel=None,
            origin="home",
            on_failure=tell,
        )


def _tell(context: BoltContext, client: WebClient, user: str, text: str) -> None:
    tell_user(deps_from(context, client), user, text)
