"""Messages (message.channels, message.groups, message.im; group DMs are not subscribed).

- a message that mentions the bot: a mention (the dedup middleware lets only one of the
  `app_mention`/`message` pair through, whichever came first);
- a top-level message in the bot's DM: goes to the user's open DM consultation, or
  starts one (chit-chat gets a short hint, not a consultation);
- a reply in a thread: maybe a typed answer (owner only). Most thread replies have
  nothing to do with the bot: if the database is down they are only logged.

Plain messages and the subtypes that are still the person's words (a file with a
comment, "also send to channel") are handled; bot messages, edits, joins... are not.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.thread_flow import handle_message
from bot.slack.web import deps_from
from bot.slack.work import HANDLED_MESSAGE_SUBTYPES, after_ack


def message_callback(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("subtype") not in HANDLED_MESSAGE_SUBTYPES:
        return
    if event.get("bot_id") or event.get("bot_profile"):
        return
    if not event.get("user") or not event.get("channel") or not event.get("ts"):
        return
    after_ack(context, _message, event, client, context)


def _message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """On the work pool (the bot's user id is known there, see `after_ack`)."""
    handle_message(deps_from(context, client), event, team=context.get("team_id"))
