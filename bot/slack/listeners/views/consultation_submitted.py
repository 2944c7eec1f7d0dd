"""The consultation modal was submitted.

Before the ack only validation (the consultation object reads the form, no I/O): a bad
value comes back as `response_action: errors` on that field alone (Slack keeps every
other value). Otherwise the ack closes the modal and the decision, card, DM and store
work happen after it, on the work pool (`after_ack`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.engine import Consultation
from bot.slack.blocks import read_submission
from bot.slack.listeners._payload import team_id, user_id
from bot.slack.modal_flow import check_submission, read_metadata, submit_modal
from bot.slack.web import deps_from, guarded
from bot.slack.work import after_ack


def consultation_submitted_callback(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_from(context, client)
    values = ((view or {}).get("state") or {}).get("values") or {}
    submission = read_submission(deps.knowledge, values)
    meta = read_metadata((view or {}).get("private_metadata"))
    state, errors = check_submission(deps, submission, meta)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack(response_action="clear")
    after_ack(context, _submit, context, client, user_id(body), team_id(body, context),
              state, submission.private, meta)


def _submit(
    context: BoltContext, client: WebClient, user: str, team: str | None,
    state: Consultation, private: bool, meta: dict[str, Any],
) -> None:
    deps = deps_from(context, client)
    channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    with guarded(deps, user, channel=channel):
        submit_modal(deps, user=user, team=team, state=state, private=private, meta=meta)
