""""New consultation" in App Home: open the modal (the result comes by DM)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.consultations import deps_from, guarded, open_modal, tell_user
from bot.slack.listeners._payload import user_id


def new_consultation_callback(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps = deps_from(context, client)
    user = user_id(body)
    with guarded(deps, user):
        open_modal(
            deps,
            str(body.get("trigger_id") or ""),
            channel=None,
            origin="home",
            on_failure=lambda text: tell_user(deps, user, text),
        )
