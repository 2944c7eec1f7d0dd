"""The shape every consultation button shares: ack, decode the button's value, and
run the operation after the ack, guarded so that failures reach the person in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.blocks import ids
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.web import deps_from, guarded
from bot.slack.work import after_ack


def handle_consultation_action(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    operation: Callable[..., Any],
    fields: tuple[str, ...] = ("cid",),
    in_thread: bool = True,
) -> None:
    """`fields` names the parts packed into the button's value (see blocks.ids);
    each is passed to `operation` as a keyword, with deps, user and channel (and
    thread_ts when `in_thread`)."""
    ack()
    value = action_value(action)
    parts = ids.unpack(value, len(fields)) if len(fields) > 1 else ([value] if value else None)
    if parts is None:
        return
    channel, thread_ts = action_place(body)
    place = {"channel": channel, "thread_ts": thread_ts} if in_thread else {"channel": channel}
    after_ack(context, _run, context, client, user_id(body), place, operation,
              dict(zip(fields, parts, strict=True)))


def _run(
    context: BoltContext, client: WebClient, user: str, place: dict[str, Any],
    operation: Callable[..., Any], values: dict[str, str],
) -> None:
    deps = deps_from(context, client)
    with guarded(deps, user, **place):
        operation(deps, user=user, **place, **values)
