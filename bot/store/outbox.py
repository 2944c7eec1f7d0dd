"""The outbox: Slack messages the bot owes, written before they are sent.

Each message has a key (`thread:<consultation>`, `dm:<consultation>:<decision>`, ...).
`put` records its newest content; whoever `claim`s the key (a lease, so two replicas
never send the same message at once) sends it: posts it once, then only updates it,
until what Slack shows is the newest content (`sent_version == content_version`).
`finish` only succeeds when nothing newer arrived meanwhile, so content put while
another sender held the lease is never dropped. A failed send is `retry_later` (after
Retry-After or a back-off) and any process's drainer picks it up when `due`, also
after a restart.

This module knows nothing of Slack: the sending is `bot.slack.outbox`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from bot.store.errors import StoreUnavailable
from bot.store.models import OutboxRow, utcnow
from bot.store.repository import Store, _aware, describe_db_error

#: Sent and failed rows are kept this long (to answer "was it delivered?"), then purged.
KEEP_DONE = timedelta(days=7)


@dataclass(frozen=True)
class OutboxItem:
    key: str
    kind: str
    team_id: str | None
    consultation_id: str | None
    owner: str | None
    channel: str
    thread_ts: str | None
    message_ts: str | None
    payload: dict[str, Any]
    content_version: int
    sent_version: int
    status: str
    attempts: int
    failures: int
    unclear: bool
    last_error: str | None
    created_at: datetime
    slow_notice_at: datetime | None
    lease_by: str | None = None

    @property
    def up_to_date(self) -> bool:
        return self.sent_version >= self.content_version


def _item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        key=row.key, kind=row.kind, team_id=row.team_id, consultation_id=row.consultation_id,
        owner=row.owner, channel=row.channel, thread_ts=row.thread_ts,
        message_ts=row.message_ts, payload=dict(row.payload or {}),
        content_version=row.content_version, sent_version=row.sent_version,
        status=row.status, attempts=row.attempts, failures=row.failures, unclear=bool(row.unclear),
        last_error=row.last_error, created_at=_aware(row.created_at),
        slow_notice_at=row.slow_notice_at, lease_by=row.lease_by,
    )


def _free(now: datetime) -> Any:
    return or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now)


class Outbox:
    """The `slack_outbox` table of a `Store` (same engine, same error handling)."""

    def __init__(self, store: Store, lease: timedelta = timedelta(seconds=60)):
        self.store = store
        self.lease = lease

    def put(
        self, key: str, *, kind: str, channel: str, payload: dict[str, Any],
        thread_ts: str | None = None, team_id: str | None = None,
        consultation_id: str | None = None, owner: str | None = None,
        message_ts: str | None = None,
    ) -> None:
        """Record `payload` as the newest content of message `key` (a new key starts at
        version 1; `message_ts` seeds a message that was posted before the outbox)."""
        now = utcnow()
        with self.store._session("outbox: put") as s:
            changed = s.execute(
                update(OutboxRow).where(OutboxRow.key == key).values(
                    payload=payload, content_version=OutboxRow.content_version + 1,
                    status="pending", updated_at=now,
                )
            ).rowcount
            if changed:
                s.commit()
                return
            s.add(OutboxRow(
                key=key, kind=kind, channel=channel, thread_ts=thread_ts, team_id=team_id,
                consultation_id=consultation_id, owner=owner, message_ts=message_ts,
                payload=payload, content_version=1, sent_version=0, status="pending",
                attempts=0, failures=0, unclear=False, next_attempt_at=now, created_at=now,
                updated_at=now,
            ))
            try:
                s.commit()
            except IntegrityError:  # put at the same moment elsewhere: bump that one
                s.rollback()
                s.execute(update(OutboxRow).where(OutboxRow.key == key).values(
                    payload=payload, content_version=OutboxRow.content_version + 1,
                    status="pending", updated_at=now))
                s.commit()

    def get(self, key: str) -> OutboxItem | None:
        with self.store._session("outbox: get") as s:
            row = s.get(OutboxRow, key)
            return _item(row) if row is not None else None

    def claim(self, key: str, by: str) -> OutboxItem | None:
        """Take the lease on `key` if it is pending, due and nobody holds it."""
        now = utcnow()
        with self.store._session("outbox: claim") as s:
            taken = s.execute(
                update(OutboxRow)
                .where(OutboxRow.key == key, OutboxRow.status == "pending",
                       OutboxRow.next_attempt_at <= now, _free(now))
                .values(lease_until=now + self.lease, lease_by=by)
            ).rowcount
            s.commit()
            if not taken:
                return None
            row = s.get(OutboxRow, key)
            return _item(row) if row is not None else None

    def renew(self, leases: dict[str, str]) -> None:
        """Extend the leases held by this process (`{key: by}`) while their calls run."""
        if not leases:
            return
        until = utcnow() + self.lease
        with self.store._session("outbox: renew") as s:
            for key, by in leases.items():
                s.execute(update(OutboxRow)
                          .where(OutboxRow.key == key, OutboxRow.lease_by == by)
                          .values(lease_until=until))
            s.commit()

    def due(self, limit: int = 50) -> list[str]:
        """Keys that are pending, due and free, oldest first. Raises StoreUnavailable
        without logging: the drainer asks every second and logs an outage once."""
        now = utcnow()
        query = (select(OutboxRow.key)
                 .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now,
                        _free(now))
                 .order_by(OutboxRow.next_attempt_at).limit(limit))
        try:
            with self.store.engine.connect() as connection:
                return [str(k) for k in connection.execute(query).scalars()]
        except (DBAPIError, SQLAlchemyError) as exc:
            raise StoreUnavailable(f"outbox: due: {describe_db_error(exc)}") from None

    def _set(self, key: str, by: str, op: str, **values: Any) -> bool:
        """Change the row if `by` still holds its lease (each step renews the lease)."""
        now = utcnow()
        values.setdefault("lease_until", now + self.lease)
        with self.store._session(f"outbox: {op}") as s:
            done = s.execute(
                update(OutboxRow).where(OutboxRow.key == key, OutboxRow.lease_by == by)
                .values(updated_at=now, **values)
            ).rowcount
            s.commit()
            return bool(done)

    def attempting(self, key: str, by: str) -> bool:
        """A post is about to be sent: if nothing is heard back, look before re-posting.
        False (and nothing may be sent) when `by` lost the lease."""
        return self._set(key, by, "attempt", attempts=OutboxRow.attempts + 1, unclear=True)

    def posted(self, key: str, by: str, *, message_ts: str, channel: str, version: int) -> bool:
        return self._set(key, by, "posted", message_ts=message_ts, channel=channel,
                         sent_version=version, unclear=False, last_error=None, failures=0)

    def found(self, key: str, by: str, *, message_ts: str, channel: str) -> bool:
        """The message was posted after all (found by its key): update it to the newest."""
        return self._set(key, by, "found", message_ts=message_ts, channel=channel,
                         sent_version=0, unclear=False)

    def updated(self, key: str, by: str, version: int) -> bool:
        return self._set(key, by, "updated", sent_version=version, last_error=None,
                         failures=0)

    def gone(self, key: str, by: str) -> bool:
        """The message was deleted in Slack: the newest content is posted anew."""
        return self._set(key, by, "gone", message_ts=None, sent_version=0, unclear=False)

    def cancel(self, key: str) -> None:
        """Nothing more is owed under `key` (its message was replaced by another)."""
        with self.store._session("outbox: cancel") as s:
            s.execute(update(OutboxRow).where(OutboxRow.key == key).values(
                status="sent", sent_version=OutboxRow.content_version, updated_at=utcnow()))
            s.commit()

    def drop(self, key: str, error: str) -> None:
        """Give up `key` without holding its lease (nothing can send it: no token)."""
        with self.store._session("outbox: drop") as s:
            s.execute(update(OutboxRow).where(OutboxRow.key == key).values(
                status="failed", last_error=error[:64], updated_at=utcnow()))
            s.commit()

    def finish(self, key: str, by: str) -> bool:
        """Mark it sent and free the lease, unless newer content arrived (then False)."""
        with self.store._session("outbox: finish") as s:
            done = s.execute(
                update(OutboxRow)
                .where(OutboxRow.key == key, OutboxRow.lease_by == by,
                       OutboxRow.sent_version >= OutboxRow.content_version)
                .values(status="sent", lease_until=None, lease_by=None, updated_at=utcnow())
            ).rowcount
            s.commit()
            return bool(done)

    def retry_later(self, key: str, by: str, *, delay_s: float, error: str,
                    unclear: bool) -> None:
        now = utcnow()
        self._set(key, by, "retry later", next_attempt_at=now + timedelta(seconds=delay_s),
                  lease_until=None, lease_by=None, last_error=error[:64], unclear=unclear,
                  failures=OutboxRow.failures + 1)

    def give_up(self, key: str, by: str, error: str) -> None:
        self._set(key, by, "give up", status="failed", lease_until=None, lease_by=None,
                  last_error=error[:64], failures=OutboxRow.failures + 1)

    def claim_slow_notice(self, key: str) -> bool:
        """True once per message: the owner is told that Slack is slow."""
        with self.store._session("outbox: slow notice") as s:
            done = s.execute(
                update(OutboxRow).where(OutboxRow.key == key,
                                        OutboxRow.slow_notice_at.is_(None))
                .values(slow_notice_at=utcnow())
            ).rowcount
            s.commit()
            return bool(done)

    def unclaim_slow_notice(self, key: str) -> None:
        with self.store._session("outbox: slow notice") as s:
            s.execute(update(OutboxRow).where(OutboxRow.key == key)
                      .values(slow_notice_at=None))
            s.commit()

    def purge(self, older_than: timedelta = KEEP_DONE) -> int:
        cutoff = utcnow() - older_than
        with self.store._session("outbox: purge") as s:
            result = s.execute(delete(OutboxRow).where(
                OutboxRow.status != "pending", OutboxRow.updated_at < cutoff))
            s.commit()
            return int(getattr(result, "rowcount", 0) or 0)
