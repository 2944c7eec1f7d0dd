"""The store as one workspace sees it (OAuth mode: many workspaces in one database).

Every consultation row carries the team it was made in; through a `TeamView` another
team's rows do not exist: `get` and `find_open_for_thread` return None, the history
lists only the team's rows, and a write to another team's row raises
`ConsultationNotFound`. (A button's value names a consultation id; Slack signs the team
of each click, so a click can only reach its own team's rows.) New rows get the view's
team, whatever the payload said. Rows without a team (made in token mode) belong to no
workspace here; a request without a team sees nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.store.errors import ConsultationExists, ConsultationNotFound
from bot.store.repository import ConsultationDraft, Store, StoredConsultation


class TeamView:
    """`Store`, limited to the rows of `team_id` (anything not overridden is the store's)."""

    def __init__(self, store: Store, team_id: str):
        self._store = store
        self.team_id = team_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _mine(self, row: StoredConsultation | None) -> StoredConsultation | None:
        if row is None or (self.team_id and row.team_id == self.team_id):
            return row
        return None

    def create_consultation(self, **kwargs: Any) -> StoredConsultation:
        """A new row of this team. When its thread has an open one already, the
        `ConsultationExists` names it only if it is this team's."""
        kwargs["team_id"] = self.team_id
        try:
            return self._store.create_consultation(**kwargs)
        except ConsultationExists as exc:
            raise ConsultationExists(self._mine(exc.existing)) from None

    def _check(self, consultation_id: str) -> None:
        row = self._store.get(consultation_id)
        if row is not None and self._mine(row) is None:
            raise ConsultationNotFound(consultation_id)

    def get(self, consultation_id: str) -> StoredConsultation | None:
        return self._mine(self._store.get(consultation_id))

    def find_open_for_thread(self, channel: str, thread_ts: str) -> StoredConsultation | None:
        return self._mine(self._store.find_open_for_thread(channel, thread_ts))

    def recent_for_user(self, user_id: str, limit: int = 10, *,
                        team_id: str | None = None) -> list[StoredConsultation]:
        return self._store.recent_for_user(user_id, limit, team_id=team_id or self.team_id)

    def update(self, consultation_id: str, mutate: Callable[[ConsultationDraft], None],
               **kwargs: Any) -> StoredConsultation:
        self._check(consultation_id)
        return self._store.update(consultation_id, mutate, **kwargs)

    def finish(self, consultation_id: str, decision: Any) -> StoredConsultation:
        self._check(consultation_id)
        return self._store.finish(consultation_id, decision)

    def abandon(self, consultation_id: str) -> StoredConsultation:
        self._check(consultation_id)
        return self._store.abandon(consultation_id)

    def set_message_ts(self, consultation_id: str, message_ts: str | None) -> StoredConsultation:
        self._check(consultation_id)
        return self._store.set_message_ts(consultation_id, message_ts)
