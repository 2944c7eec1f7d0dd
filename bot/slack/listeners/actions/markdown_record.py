""""Get the decision record (Markdown)" in the DM summary: upload the record there."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners._consultation_action import handle_consultation_action
from bot.slack.records import upload_markdown


def markdown_record_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    handle_consultation_action(
        ack, body, action, client, context, upload_markdown, ("cid",), in_thread=False
    )
