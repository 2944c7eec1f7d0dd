"""assistant_thread_started: greet, keep the context, offer prompts (work pool)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.assistant_flow import greet
from bot.slack.web import deps_from
from bot.slack.work import after_ack


def thread_started_callback(payload: dict[str, Any], client: WebClient,
                            context: BoltContext) -> None:
    thread = payload.get("assistant_thread")
    if not isinstance(thread, dict) or not thread.get("channel_id") or not thread.get(
            "thread_ts"):
        return
    after_ack(context, _greet, context, client, thread)


def _greet(context: BoltContext, client: WebClient, thread: dict[str, Any]) -> None:
    greet(deps_from(context, client), thread)
