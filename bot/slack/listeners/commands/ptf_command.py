"""`/ptf` (BOT_SLASH_COMMAND): the modal, `help` and `history`.

- `/ptf` and `/ptf some free text`: ack, then at once `views.open` (prefilled from the
  text) on this thread: the `trigger_id` expires 3 s after the command, so it must not
  queue behind slow work (`trigger_client`: short timeout, no long rate-limit sleeps).
- `/ptf help`: answered in the ack itself (ephemeral).
- `/ptf history`: ack, then (on the work pool) the user's recent consultations via
  `response_url` (ephemeral).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.blocks import help_blocks, history_blocks
from bot.slack.client import trigger_client
from bot.slack.listeners._payload import team_id
from bot.slack.modal_flow import open_modal
from bot.slack.records import history_items
from bot.slack.services import SERVICES_KEY
from bot.slack.web import deps_from, guarded
from bot.slack.work import after_ack

HELP_WORDS = {"help", "?", "-h", "--help", "usage"}
HISTORY_WORDS = {"history", "recent", "list", "past"}


def ptf_command_callback(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    text = (body.get("text") or "").strip()
    word = text.lower()
    command = context[SERVICES_KEY].command
    if word in HELP_WORDS:
        ack(response_type="ephemeral", text="How to use me",
            blocks=help_blocks(command=command, bot_user_id=context.get("bot_user_id")))
        return
    ack()
    user = str(body.get("user_id") or "")

    if word in HISTORY_WORDS:
        after_ack(context, _history, context, client, respond, user, team_id(body, context),
                  command)
        return

    def tell(message: str) -> None:  # a failure to open the form: say so off this thread
        after_ack(context, _tell, respond, message)

    deps = deps_from(context, trigger_client(context))
    with guarded(deps, user, notify=tell):
        open_modal(
            deps,
            str(body.get("trigger_id") or ""),
            channel=body.get("channel_id"),
            origin="command",
            text=text or None,
            on_failure=tell,
        )


def _tell(respond: Respond, message: str) -> None:
    respond(response_type="ephemeral", replace_original=False, text=message)


def _history(
    context: BoltContext, client: WebClient, respond: Respond, user: str, team: str | None,
    command: str,
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, notify=lambda message: _tell(respond, message)):
        items = history_items(deps, user, team)
        respond(response_type="ephemeral", text="Your recent consultations",
                blocks=history_blocks(items, command=command))
