""""Get the decision record (Markdown)" in the DM summary: upload the record there."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.consultations import deps_from, guarded, upload_markdown
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.work import after_ack


def markdown_record_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    cid = action_value(action)
    if not cid:
        return
    channel, _ = action_place(body)
    after_ack(context, _markdown_record, context, client, user_id(body), channel, cid)


def _markdown_record(
    context: BoltContext, client: WebClient, user: str, channel: str | None, cid: str
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, channel=channel):
        upload_markdown(deps, user=user, channel=channel, cid=cid)
