""""Adjust answers" on a modal result card: the modal again, prefilled with its answers
(and, for a private result, with "Only me" still chosen for who sees it).

The `trigger_id` expires 3 s after the click and reading the answers needs the database,
so a "Loading" modal opens right after the ack (`trigger_client`: short timeout, no long
rate-limit sleeps) and the work pool fills it in with `views.update`. Nothing on the ack
thread waits for the database.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.client import trigger_client
from bot.slack.listeners._payload import action_place, action_value, user_id
from bot.slack.modal_flow import loading_view, modal_view, open_view
from bot.slack.state import state_of
from bot.slack.web import SlackCallFailed, call, deps_from, explain, guarded, tell_user
from bot.slack.work import after_ack


def adjust_answers_callback(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    cid = action_value(action)
    user = user_id(body)
    channel, thread_ts = action_place(body)

    def tell(text: str) -> None:
        after_ack(context, _tell, context, client, user, text, channel, thread_ts)

    deps = deps_from(context, trigger_client(context))
    view_id = open_view(deps, str(body.get("trigger_id") or ""), loading_view(),
                        origin="adjust", on_failure=tell)
    if view_id and cid:
        after_ack(context, _fill, context, client, user, cid, view_id, channel, thread_ts)


def _fill(
    context: BoltContext, client: WebClient, user: str, cid: str, view_id: str,
    channel: str | None, thread_ts: str | None,
) -> None:
    """Replace the "Loading" modal with the consultation's answers."""
    deps = deps_from(context, client)
    with guarded(deps, user, channel=channel, thread_ts=thread_ts):
        c = deps.store.get(cid)
        view = modal_view(
            deps, channel=channel, origin="adjust",
            state=state_of(deps, c) if c is not None else None,
            private=bool(c is not None and c.meta.get("private")),
        )
        try:
            call(deps, "views_update", view_id=view_id, view=view)
        except SlackCallFailed as exc:
            tell_user(deps, user, f"I could not fill in the form: {explain(exc)}.",
                      channel=channel, thread_ts=thread_ts)


def _tell(
    context: BoltContext, client: WebClient, user: str, text: str, channel: str | None,
    thread_ts: str | None,
) -> None:
    tell_user(deps_from(context, client), user, text, channel=channel, thread_ts=thread_ts)
