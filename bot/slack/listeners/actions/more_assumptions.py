""""More assumptions..." in the consultation modal: the cost assumptions open in a second
modal pushed on top (`views.push`), so the first one stays short.

The `trigger_id` is valid for 3 s: the push happens right after the ack, with the
trigger client (short timeout, no long rate-limit sleeps); nothing here reads the
database. When Slack refuses, the person is told why (the form stays as it was).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.client import trigger_client
from bot.slack.listeners._payload import user_id
from bot.slack.modal_flow import assumptions_view
from bot.slack.web import SlackCallFailed, call, deps_from, explain, tell_user
from bot.slack.work import after_ack


def more_assumptions_callback(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    parent = body.get("view") if isinstance(body.get("view"), dict) else {}
    deps = deps_from(context, trigger_client(context))
    try:
        call(deps, "views_push", trigger_id=str(body.get("trigger_id") or ""),
             view=assumptions_view(deps, parent))
    except SlackCallFailed as exc:
        text = f"I could not open the cost assumptions: {explain(exc)}."
        after_ack(context, lambda: tell_user(deps_from(context, client), user_id(body), text))
