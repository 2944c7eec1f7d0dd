""""Get the decision record (Markdown)" in the DM summary: upload the record there."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.consultations import deps_from, guarded, upload_markdown
from bot.slack.listeners._payload import action_place, action_value, user_id


def markdown_record_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    cid = action_value(action)
    if not cid:
        return
    deps = deps_from(context, client)
    user = user_id(body)
    channel, _ = action_place(body)
    with guarded(deps, user, channel=channel):
        upload_markdown(deps, user=user, channel=channel, cid=cid)
