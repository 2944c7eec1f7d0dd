"""assistant_thread_context_changed: the person moved to another channel with the
assistant open; the new context is saved (on the work pool: it is Web API calls)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.context.save_thread_context import SaveThreadContext
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.work import after_ack

log = logging.getLogger("bot.slack.assistant")


def thread_context_changed_callback(payload: dict[str, Any], context: BoltContext,
                                    save_thread_context: SaveThreadContext) -> None:
    thread = payload.get("assistant_thread")
    new_context = thread.get("context") if isinstance(thread, dict) else None
    if isinstance(new_context, dict):
        after_ack(context, _save, save_thread_context, new_context)


def _save(save_thread_context: SaveThreadContext, new_context: dict[str, Any]) -> None:
    try:
        save_thread_context(new_context)
    except (SlackApiError, SlackClientError, OSError, KeyError) as exc:
        log.warning("assistant thread context not saved: %s", type(exc).__name__)
