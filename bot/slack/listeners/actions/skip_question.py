""""Not sure" on a question: go on with its assumption (owner only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners._consultation_action import handle_consultation_action
from bot.slack.thread_actions import skip


def skip_question_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    handle_consultation_action(ack, body, action, client, context, skip, ("cid", "qid"))
