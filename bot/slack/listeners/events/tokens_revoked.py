"""tokens_revoked (OAuth mode): a workspace revoked the bot's tokens; delete them."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext

from bot.slack.oauth import forget_bot
from bot.slack.services import SERVICES_KEY
from bot.slack.work import after_ack

log = logging.getLogger("bot.slack.oauth")


def tokens_revoked_callback(event: dict[str, Any], context: BoltContext) -> None:
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    if not tokens.get("bot"):
        return  # only user tokens: the app asks for none
    after_ack(context, _forget, context)


def _forget(context: BoltContext) -> None:
    services = context.get(SERVICES_KEY)
    if services is None or not services.settings.oauth_mode:
        return
    forget_bot(services.settings, services.store.engine, enterprise_id=context.enterprise_id,
               team_id=context.team_id)
    log.info("bot tokens of team %s revoked: deleted", context.team_id)
