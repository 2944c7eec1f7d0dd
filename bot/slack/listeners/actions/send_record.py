""""Full record in my DMs" on a result card: the DM summary for whoever clicks."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.consultations import deps_from, guarded, send_record_dm
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.work import after_ack


def send_record_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    cid = action_value(action)
    if not cid:
        return
    channel, thread_ts = action_place(body)
    after_ack(context, _send_record, context, client, user_id(body), channel, thread_ts, cid)


def _send_record(
    context: BoltContext, client: WebClient, user: str, channel: str | None,
    thread_ts: str | None, cid: str,
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, channel=channel, thread_ts=thread_ts):
        send_record_dm(deps, user=user, channel=channel, thread_ts=thread_ts, cid=cid)
