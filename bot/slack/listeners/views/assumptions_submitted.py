"""The cost assumptions modal (pushed by "More assumptions...") was submitted.

Validation before the ack, as for the consultation modal: a bad value comes back on its
field. Otherwise the consultation modal is redrawn with the assumptions kept in its
metadata and listed beside the button (`views.update`; what was typed in its fields
stays, as their block and action ids do not change), and the ack closes this one (Slack
shows the consultation modal again).

The redraw is tried once before the ack (at most 1 s): while this modal is open the
consultation modal cannot be submitted, so it is never submitted without them. If that
try fails, the redraw is done after the ack with the usual retries.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.blocks import read_submission
from bot.slack.client import before_ack_client
from bot.slack.listeners._payload import user_id
from bot.slack.modal_flow import check_assumptions, read_metadata
from bot.slack.web import SlackCallFailed, call, deps_from, explain, slack_error, tell_user
from bot.slack.work import after_ack

log = logging.getLogger(__name__)


def assumptions_submitted_callback(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_from(context, client)
    values = ((view or {}).get("state") or {}).get("values") or {}
    submission = read_submission(deps.knowledge, values)
    pushed = read_metadata((view or {}).get("private_metadata"))
    parent, parent_view, errors = check_assumptions(deps, submission, pushed)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    redrawn = parent is None or parent_view is None or _redraw_now(context, parent,
                                                                   parent_view)
    ack()
    if not redrawn:
        after_ack(context, _redraw, context, client, user_id(body), parent, parent_view)


def _redraw_now(context: BoltContext, parent: str, parent_view: dict[str, Any]) -> bool:
    """The one try before the ack; False when it must be done after it."""
    try:
        before_ack_client(context).views_update(view_id=parent, view=parent_view)
    except (SlackApiError, SlackClientError, OSError, ValueError) as exc:
        log.info("redrawing the consultation modal after the ack instead: %s",
                 slack_error(exc)[0])
        return False
    return True


def _redraw(context: BoltContext, client: WebClient, user: str, parent: str,
            parent_view: dict[str, Any]) -> None:
    deps = deps_from(context, client)
    try:
        call(deps, "views_update", view_id=parent, view=parent_view)
    except SlackCallFailed as exc:
        tell_user(deps, user, f"I could not keep the cost assumptions in the form: "
                  f"{explain(exc)}. Open *More assumptions\u2026* again.")
