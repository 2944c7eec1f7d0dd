"""Delivering recheck's notices as DMs (the `deliver` of `bot.recheck.run_recheck`).

Each DM carries Slack message metadata naming its notice (`ptf_drift_notice`). A notice
claimed before (a run that may have posted, then died before saying so) is first looked
for in the DM's recent history, so a restart does not post it twice.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_sdk import WebClient

from bot.recheck import DeliveryFailed, NotDeliverable
from bot.slack.blocks.drift import drift_dm
from bot.slack.client import build_web_client
from bot.slack.oauth import bot_token_for
from bot.slack.records import open_dm
from bot.slack.services import Services
from bot.slack.web import Deps, SlackCallFailed, call, permalink, where
from bot.store import StoreError
from bot.store.drift import Notice, Watched

log = logging.getLogger("bot.slack.drift_dm")

EVENT_TYPE = "ptf_drift_notice"
#: Slack errors after which this user can never get the DM.
NEVER = frozenset({"user_not_found", "user_disabled", "cannot_dm_bot", "user_is_restricted",
                   "user_is_bot"})
_HISTORY_LOOKBACK = 50


class SlackDriftNotifier:
    def __init__(self, services: Services, client: WebClient, today: date):
        self.deps = Deps(services, client)
        self.today = today
        self._team_deps: dict[str, Deps] = {}

    def __call__(self, notice: Notice, watched: Watched) -> tuple[str, str]:
        try:
            return self._send(notice, watched)
        except SlackCallFailed as exc:
            if exc.error in NEVER:
                raise NotDeliverable(exc.error) from None
            raise DeliveryFailed(exc.error) from None

    def _deps_for(self, consultation_id: str) -> Deps:
        """Token mode: the bot token. OAuth mode: the token of the workspace the
        consultation was made in (NotDeliverable once that workspace uninstalled the app)."""
        settings = self.deps.settings
        if not settings.oauth_mode:
            return self.deps
        try:
            row = self.deps.services.store.get(consultation_id)
        except StoreError as exc:
            raise DeliveryFailed(f"database: {exc}") from None
        team = row.team_id if row is not None else None
        token = bot_token_for(settings, self.deps.services.store.engine, team) if team else None
        if token is None:
            raise NotDeliverable("app_not_installed")
        if team not in self._team_deps:
            self._team_deps[team] = Deps(self.deps.services,
                                         build_web_client(settings, token=token),
                                         team_id=team)
        return self._team_deps[team]

    def _send(self, notice: Notice, watched: Watched) -> tuple[str, str]:
        deps = self._deps_for(notice.consultation_id)
        dm = open_dm(deps, notice.user_id)
        if notice.attempts > 0:
            earlier = self._already_posted(deps, dm, notice.id)
            if earlier is not None:
                return dm, earlier
        text, blocks = drift_dm(
            kind=notice.kind, consultation_id=notice.consultation_id,
            old_verdict=notice.old_verdict, new_verdict=notice.new_verdict, why=notice.why,
            decided_on=watched.decided_on, today=self.today,
            thread_link=self._thread_link(deps, notice.consultation_id, watched.channel,
                                          watched.thread_ts),
            where=where(watched.channel),
        )
        posted = call(deps, "chat_postMessage", channel=dm, text=text, blocks=blocks,
                      unfurl_links=False,
                      metadata={"event_type": EVENT_TYPE,
                                "event_payload": {"notice": notice.id,
                                                  "consultation": notice.consultation_id}})
        return dm, str(posted["ts"])

    def _thread_link(self, deps: Deps, cid: str, channel: str | None,
                     thread_ts: str | None) -> str | None:
        try:
            c = deps.store.get(cid)
        except StoreError:
            c = None
        if c is not None and isinstance(c.meta.get("permalink"), str):
            return str(c.meta["permalink"])
        return permalink(deps, channel, thread_ts)

    def _already_posted(self, deps: Deps, dm: str, notice_id: int) -> str | None:
        """The ts of this notice's DM if an earlier attempt posted it."""
        try:
            history: Any = call(deps, "conversations_history", channel=dm,
                                limit=_HISTORY_LOOKBACK, include_all_metadata=True)
        except SlackCallFailed as exc:
            if exc.error != "missing_scope":
                raise
            return None  # without im:history the check cannot be made: post
        for message in history.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == EVENT_TYPE and payload.get("notice") == notice_id:
                return str(message.get("ts"))
        return None
