""""Change" next to "I read: ...": asks again a question answered from free text."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners._consultation_action import handle_consultation_action
from bot.slack.thread_actions import change


def change_read_answer_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    handle_consultation_action(ack, body, action, client, context, change, ("cid", "qid"))
