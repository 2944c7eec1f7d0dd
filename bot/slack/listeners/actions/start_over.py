""""Start over": forget the answers and ask from the first question (owner only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.consultations import deps_from, guarded, start_over
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.work import after_ack


def start_over_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    cid = action_value(action)
    if not cid:
        return
    channel, thread_ts = action_place(body)
    after_ack(context, _start_over_work, context, client, user_id(body), channel, thread_ts, cid)


def _start_over_work(
    context: BoltContext, client: WebClient, user: str, channel: str | None,
    thread_ts: str | None, cid: str,
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, channel=channel, thread_ts=thread_ts):
        start_over(deps, user=user, channel=channel, thread_ts=thread_ts, cid=cid)
