"""App Home opened: publish the user's recent consultations and the New button.

Handed off to the work pool (`after_ack`). If `views.publish` fails the failure is
logged and the tab keeps its previous content (a DM for every failed tab refresh would
be noise).
"""

from __future__ import annotations

import contextlib
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.slack.records import publish_home
from bot.slack.web import SlackCallFailed, deps_from
from bot.slack.work import after_ack


def app_home_opened_callback(
    event: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    after_ack(context, _publish, context, client, str(event["user"]))


def _publish(context: BoltContext, client: WebClient, user: str) -> None:
    deps = deps_from(context, client)
    with contextlib.suppress(SlackCallFailed):
        publish_home(deps, user, context.get("team_id"))
