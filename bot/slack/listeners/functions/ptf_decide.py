"""The `ptf_decide` step ran in a workflow: decide and complete it (work pool).

Bolt acks the event, and `complete`/`fail` would use the step's own token; the work
calls `functions.completeSuccess/completeError` through the same client (its token is
that workflow token) with our retries and logging.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.web import deps_from
from bot.slack.work import after_ack
from bot.slack.workflow_step import run_step


def ptf_decide_callback(body: dict[str, Any], event: dict[str, Any], client: WebClient,
                        context: BoltContext) -> None:
    execution_id = event.get("function_execution_id")
    if not isinstance(execution_id, str) or not execution_id:
        return
    inputs = event.get("inputs") if isinstance(event.get("inputs"), dict) else {}
    after_ack(context, _run, context, client, inputs, execution_id,
              body.get("api_app_id"), context.get("team_id") or body.get("team_id"))


def _run(context: BoltContext, client: WebClient, inputs: dict[str, Any], execution_id: str,
         app_id: str | None, team: str | None) -> None:
    run_step(deps_from(context, client), inputs=inputs, execution_id=execution_id,
             app_id=app_id, team=team)
