"""An answer button or select in the thread's question message (owner only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.blocks import ids
from bot.slack.consultations import answer, deps_from, guarded
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.work import after_ack


def answer_question_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    parts = ids.unpack(action_value(action), 3)
    if parts is None:
        return
    cid, qid, raw = parts
    channel, thread_ts = action_place(body)
    after_ack(context, _answer_question, context, client, user_id(body), channel, thread_ts,
              cid, qid, raw)


def _answer_question(
    context: BoltContext, client: WebClient, user: str, channel: str | None,
    thread_ts: str | None, cid: str, qid: str, raw: str,
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, channel=channel, thread_ts=thread_ts):
        answer(deps, user=user, channel=channel, thread_ts=thread_ts, cid=cid, qid=qid, raw=raw)
