"""What recheck reads and writes: the watch rows, the notices owed, a run lock.

    ledger = DriftLedger(store)
    with ledger.run_lock() as held:            # one recheck at a time (False: another runs)
        for batch in ledger.watched():          # decided, unmuted consultations, streamed
            ...
        ledger.record([NoticeDraft(...)])       # new ones only: (consultation, key) unique
        for notice in ledger.pending():         # owed and not yet delivered
            if ledger.claim(notice.id):         # a lease: one replica delivers it
                ...; ledger.delivered(notice.id, "sent", dm, ts)   # or ledger.release(...)

Delivery is at least once across a crash between the post and `delivered` (the claim
expires and the notice is sent on a later run), and exactly once otherwise; the Slack
side looks for its own earlier post before sending again (see bot.slack.drift_dm).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.store.models import BotStateRow, DecisionWatchRow, DriftNoticeRow, utcnow
from bot.store.repository import Store

#: How long a delivery claim holds before another run may try the notice again.
CLAIM_LEASE = timedelta(minutes=5)
#: How long a SQLite run lock holds (PostgreSQL uses an advisory lock instead).
LOCK_LEASE = timedelta(minutes=30)
#: pg_advisory_lock key of recheck ("ptf-recheck").
ADVISORY_KEY = 0x7074_6672_6563_6B31 & 0x7FFF_FFFF_FFFF_FFFF
LOCK_STATE = "recheck.lock"


@dataclass(frozen=True)
class Watched:
    consultation_id: str
    team_id: str | None
    user_id: str
    channel: str | None
    thread_ts: str | None
    verdict: str
    decided_on: date | None
    knowledge_version: str | None
    route_model: str | None
    answers: dict[str, Any]
    muted: bool = False


def _watched(r: Any) -> Watched:
    return Watched(r.consultation_id, r.team_id, r.user_id, r.channel, r.thread_ts, r.verdict,
                   r.decided_on, r.knowledge_version, r.route_model, dict(r.answers or {}),
                   r.muted_at is not None)


@dataclass(frozen=True)
class NoticeDraft:
    consultation_id: str
    team_id: str | None
    user_id: str
    kind: str
    key: str
    old_verdict: str
    new_verdict: str
    why: str
    detected_on: date


@dataclass(frozen=True)
class Notice(NoticeDraft):
    """A recorded notice: its row id, delivery attempts so far, and how it ended."""

    id: int
    attempts: int
    delivered_at: datetime | None
    outcome: str | None


def _notice(row: DriftNoticeRow) -> Notice:
    return Notice(consultation_id=row.consultation_id, team_id=row.team_id,
                  user_id=row.user_id, kind=row.kind, key=row.key,
                  old_verdict=row.old_verdict, new_verdict=row.new_verdict, why=row.why,
                  detected_on=row.detected_on, id=row.id, attempts=row.attempts,
                  delivered_at=row.delivered_at, outcome=row.outcome)


class DriftLedger:
    def __init__(self, store: Store):
        self.store = store

    # ------------------------------------------------------------------ reading

    def watched(self, batch_size: int = 2000) -> Iterator[list[Watched]]:
        """Every decided, unmuted consultation, in batches by id (keyset pagination: memory
        stays at one batch however many there are)."""
        table = DecisionWatchRow.__table__
        after = ""
        while True:
            stmt = (select(table).where(table.c.consultation_id > after,
                                        table.c.muted_at.is_(None))
                    .order_by(table.c.consultation_id).limit(batch_size))
            with self.store._session("recheck: read decisions") as s:
                rows = s.execute(stmt).all()
            if not rows:
                return
            yield [_watched(r) for r in rows]
            after = rows[-1].consultation_id

    def watch_of(self, consultation_id: str) -> Watched | None:
        """The consultation's watch row now (muted ones too), or None once reopened."""
        with self.store._session("recheck: read decision") as s:
            row = s.get(DecisionWatchRow, consultation_id)
            return _watched(row) if row is not None else None

    def count_watched(self) -> int:
        from sqlalchemy import func

        with self.store._session("recheck: count") as s:
            return int(s.scalar(select(func.count()).select_from(DecisionWatchRow)) or 0)

    # ------------------------------------------------------------------ notices

    def record(self, drafts: Iterable[NoticeDraft]) -> int:
        """Insert the notices not recorded before; how many were new."""
        values = [{**d.__dict__, "created_at": utcnow(), "attempts": 0} for d in drafts]
        if not values:
            return 0
        insert = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
        stmt = insert(DriftNoticeRow.__table__).values(values).on_conflict_do_nothing(
            index_elements=["consultation_id", "key"])
        with self.store._session("recheck: record notices") as s:
            result = s.execute(stmt)
            s.commit()
            return max(0, result.rowcount or 0)

    def pending(self, limit: int = 500) -> list[Notice]:
        table = DriftNoticeRow.__table__
        stmt = (select(DriftNoticeRow).where(table.c.delivered_at.is_(None))
                .order_by(table.c.id).limit(limit))
        with self.store._session("recheck: pending notices") as s:
            return [_notice(r) for r in s.scalars(stmt)]

    def notices_for(self, consultation_ids: Iterable[str]) -> dict[str, Notice]:
        """The newest verdict change per consultation (for App Home)."""
        ids = list(consultation_ids)
        if not ids:
            return {}
        stmt = (select(DriftNoticeRow).where(DriftNoticeRow.consultation_id.in_(ids),
                                             DriftNoticeRow.kind == "verdict_changed")
                .order_by(DriftNoticeRow.id))
        with self.store._session("recheck: notices for home") as s:
            return {r.consultation_id: _notice(r) for r in s.scalars(stmt)}

    def all_notices(self) -> list[Notice]:
        with self.store._session("recheck: notices") as s:
            return [_notice(r) for r in s.scalars(select(DriftNoticeRow)
                                                  .order_by(DriftNoticeRow.id))]

    def claim(self, notice_id: int, lease: timedelta = CLAIM_LEASE) -> bool:
        """Take the delivery of one notice for `lease` (True: this caller delivers it)."""
        now = utcnow()
        table = DriftNoticeRow.__table__
        stmt = (update(table)
                .where(table.c.id == notice_id, table.c.delivered_at.is_(None),
                       or_(table.c.claimed_until.is_(None), table.c.claimed_until < now))
                .values(claimed_until=now + lease, attempts=table.c.attempts + 1))
        with self.store._session("recheck: claim notice") as s:
            claimed = s.execute(stmt).rowcount == 1
            s.commit()
        return claimed

    def delivered(self, notice_id: int, outcome: str, dm_channel: str | None = None,
                  dm_ts: str | None = None) -> None:
        table = DriftNoticeRow.__table__
        with self.store._session("recheck: notice delivered") as s:
            s.execute(update(table).where(table.c.id == notice_id).values(
                delivered_at=utcnow(), outcome=outcome, claimed_until=None,
                dm_channel=dm_channel, dm_ts=dm_ts, last_error=None))
            s.commit()

    def release(self, notice_id: int, error: str) -> None:
        """Give a claimed notice back after a failed delivery: the next run tries again."""
        table = DriftNoticeRow.__table__
        with self.store._session("recheck: release notice") as s:
            s.execute(update(table).where(table.c.id == notice_id).values(
                claimed_until=None, last_error=error[:200]))
            s.commit()

    # ------------------------------------------------------------------ run lock, state

    @contextmanager
    def run_lock(self) -> Iterator[bool]:
        """One recheck at a time: PostgreSQL's advisory lock (released if the process
        dies), else a lease row in `bot_state`. Yields whether this caller holds it."""
        if self.store.dialect == "postgresql":
            with self.store.engine.connect() as conn:
                held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                         {"k": ADVISORY_KEY}).scalar())
                conn.commit()
                try:
                    yield held
                finally:
                    if held:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                        conn.commit()
            return
        owner = uuid.uuid4().hex
        held = self._take_lease(owner)
        try:
            yield held
        finally:
            if held:
                with self.store._session("recheck: unlock") as s:
                    s.execute(delete(BotStateRow).where(BotStateRow.key == LOCK_STATE,
                                                        BotStateRow.value.startswith(owner)))
                    s.commit()

    def _take_lease(self, owner: str) -> bool:
        now = utcnow()
        value = f"{owner} {(now + LOCK_LEASE).isoformat()}"
        with self.store._session("recheck: lock") as s:
            s.execute(delete(BotStateRow).where(BotStateRow.key == LOCK_STATE,
                                                BotStateRow.updated_at < now - LOCK_LEASE))
            stmt = sqlite_insert(BotStateRow.__table__).values(
                key=LOCK_STATE, value=value, updated_at=now).on_conflict_do_nothing()
            taken = s.execute(stmt).rowcount == 1
            s.commit()
        return taken

    def get_state(self, key: str) -> str | None:
        with self.store._session("bot state: read") as s:
            row = s.get(BotStateRow, key)
            return row.value if row is not None else None

    def set_state(self, key: str, value: str) -> None:
        insert = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
        now = datetime.now(UTC)
        stmt = insert(BotStateRow.__table__).values(key=key, value=value[:200], updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["key"],
                                          set_={"value": value[:200], "updated_at": now})
        with self.store._session("bot state: write") as s:
            s.execute(stmt)
            s.commit()
