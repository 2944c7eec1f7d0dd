"""The consultation modal was submitted.

Before the ack only validation: a bad value comes back as `response_action: errors` on
that field alone (Slack keeps every other value). Otherwise the ack closes the modal and
the decision, card, DM and store work happen after it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.blocks import read_submission
from bot.slack.consultations import deps_from, guarded, read_metadata, submit_modal
from bot.slack.listeners._payload import team_id, user_id


def consultation_submitted_callback(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_from(context, client)
    values = ((view or {}).get("state") or {}).get("values") or {}
    submission = read_submission(deps.knowledge, values)
    if submission.errors:
        ack(response_action="errors", errors=submission.errors)
        return
    ack(response_action="clear")
    user = user_id(body)
    meta = read_metadata((view or {}).get("private_metadata"))
    channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    with guarded(deps, user, channel=channel):
        submit_modal(deps, user=user, team=team_id(body, context), submission=submission,
                     meta=meta)
