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

    def __call__(self, notice: Notice, watched: Watched) -> tuple[str, str]:
        try:
            return self._send(notice, watched)
        except SlackCallFailed as exc:
            if exc.error in NEVER:
                raise NotDeliverable(exc.error) from None
            raise DeliveryFailed(exc.error) from None

    def _send(self, notice: Notice, watched: Watched) -> tuple[str, str]:
        deps = self.deps
        dm = open_dm(deps, notice.user_id)
        if notice.attempts > 0:
            earlier = self._already_posted(dm, notice.id)
            if earlier is not None:
                return dm, earlier
        text, blocks = drift_dm(
            kind=notice.kind, consultation_id=notice.consultation_id,
            old_verdict=notice.old_verdict, new_verdict=notice.new_verdict, why=notice.why,
            decided_on=watched.decided_on, today=self.today,
            thread_link=self._thread_link(notice.consultation_id, watched.channel,
                                          watched.thread_ts),
            where=where(watched.channel),
        )
        posted = call(deps, "chat_postMessage", channel=dm, text=text, blocks=blocks,
                      unfurl_links=False,
                      metadata={"event_type": EVENT_TYPE,
                                "event_payload": {"notice": notice.id,
                                                  "consultation": notice.consultation_id}})
        return dm, str(posted["ts"])

    def _thread_link(self, cid: str, channel: str | None, thread_ts: str | None) -> str | None:
        try:
            c = self.deps.store.get(cid)
        except StoreError:
            c = None
        if c is not None and isinstance(c.meta.get("permalink"), str):
            return str(c.meta["permalink"])
        return permalink(self.deps, channel, thread_ts)

    def _already_posted(self, dm: str, notice_id: int) -> str | None:
        """The ts of this notice's DM if an earlier attempt posted it."""
        try:
            history: Any = call(self.deps, "conversations_history", channel=dm,
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
