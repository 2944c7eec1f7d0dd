""""Full record in my DMs" on a result card: the DM summary for whoever clicks."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners._consultation_action import handle_consultation_action
from bot.slack.records import send_record_dm


def send_record_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    handle_consultation_action(ack, body, action, client, context, send_record_dm, ("cid",))
