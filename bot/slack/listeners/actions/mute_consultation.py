""""Mute this consultation" in a recheck DM: recheck never tells its owner about it again
(App Home still marks it). Only the owner can mute their consultation."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners._consultation_action import handle_consultation_action
from bot.slack.records import mute_consultation


def mute_consultation_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    handle_consultation_action(ack, body, action, client, context, mute_consultation, ("cid",),
                               in_thread=False)
