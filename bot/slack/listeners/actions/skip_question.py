""""Not sure" on a question: go on with its assumption (owner only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.blocks import ids
from bot.slack.consultations import deps_from, guarded, skip
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.work import after_ack


def skip_question_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    parts = ids.unpack(action_value(action), 2)
    if parts is None:
        return
    cid, qid = parts
    channel, thread_ts = action_place(body)
    after_ack(context, _skip_question, context, client, user_id(body), channel, thread_ts, cid, qid)


def _skip_question(
    context: BoltContext, client: WebClient, user: str, channel: str | None,
    thread_ts: str | None, cid: str, qid: str,
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, channel=channel, thread_ts=thread_ts):
        skip(deps, user=user, channel=channel, thread_ts=thread_ts, cid=cid, qid=qid)
