"""`/ptf` (BOT_SLASH_COMMAND): the modal, `help` and `history`.

- `/ptf` and `/ptf some free text`: ack, then `views.open` (prefilled from the text).
- `/ptf help`: answered in the ack itself (ephemeral).
- `/ptf history`: ack, then the user's recent consultations via `response_url` (ephemeral).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.blocks import help_blocks, history_blocks
from bot.slack.consultations import deps_from, guarded, history_items, open_modal
from bot.slack.listeners._payload import team_id

HELP_WORDS = {"help", "?", "-h", "--help", "usage"}
HISTORY_WORDS = {"history", "recent", "list", "past"}


def ptf_command_callback(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    text = (body.get("text") or "").strip()
    word = text.lower()
    command = context["settings"].bot_slash_command
    if word in HELP_WORDS:
        ack(response_type="ephemeral", text="How to use me",
            blocks=help_blocks(command=command, bot_user_id=context.get("bot_user_id")))
        return
    ack()
    deps = deps_from(context, client)
    user = str(body.get("user_id") or "")

    def tell(message: str) -> None:
        respond(response_type="ephemeral", replace_original=False, text=message)

    if word in HISTORY_WORDS:
        with guarded(deps, user, notify=tell):
            items = history_items(deps, user, team_id(body, context))
            respond(response_type="ephemeral", text="Your recent consultations",
                    blocks=history_blocks(items, command=command))
        return
    with guarded(deps, user, notify=tell):
        open_modal(
            deps,
            str(body.get("trigger_id") or ""),
            channel=body.get("channel_id"),
            origin="command",
            text=text or None,
            on_failure=tell,
        )
