"""`Store`: the bot's persistence (consultations and processed Slack events).

One `Store` per process, shared by all threads: it owns a SQLAlchemy engine with a
connection pool (`pool_pre_ping`) and opens a short session per call. Every method
returns plain snapshots (`StoredConsultation`), never live ORM objects, so callers can
keep them across threads and after the session is gone.

    store = Store(settings.database_url)      # no connection yet
    store.create_schema()                     # see bot.store.schema; StoreUnavailable
    c = store.create_consultation(user_id="U1", channel="C1", thread_ts="1.2",
                                  surface="thread", team_id="T1", state={...})
    store.update(c.id, lambda draft: ...)     # optimistic locking, retried on conflict
    store.finish(c.id, {"verdict": "prompt_engineering", ...})
    store.claim_event("Ev123", "C1", "1.2")   # True the first time only

The store keeps the consultation state as the JSON the engine gives it
(`Consultation.to_json()`); it never interprets it.

Errors are `StoreError` subclasses. Database failures are logged (and raised as
`StoreUnavailable`) with the URL's password hidden and without SQL parameters.
"""

from __future__ import annotations

import copy
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool

from bot.store import schema, watch
from bot.store.errors import (
    ConcurrentUpdateError,
    ConsultationClosed,
    ConsultationExists,
    ConsultationNotFound,
    SchemaMismatch,
    StoreError,
    StoreUnavailable,
)
from bot.store.models import (
    SLACK_OAUTH_STATES,
    SURFACES,
    ConsultationRow,
    ProcessedEventRow,
    utcnow,
)

log = logging.getLogger("bot.store")

_CLAIM = insert(ProcessedEventRow.__table__)

#: processed_events rows are kept at least this long (Slack retries within minutes).
EVENT_RETENTION = timedelta(hours=36)
_PURGE_EVERY_S = 600.0


@dataclass(frozen=True)
class StoredConsultation:
    """A snapshot of one `consultations` row (deep copies of the JSON fields)."""

    id: str
    team_id: str | None
    user_id: str
    channel: str | None
    thread_ts: str | None
    surface: str
    state: dict[str, Any]
    meta: dict[str, Any]
    status: str
    message_ts: str | None
    decision: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def answers(self) -> dict[str, Any]:
        """The answers in the stored state (every schema keeps them under `answers`)."""
        answers = self.state.get("answers")
        return dict(answers) if isinstance(answers, dict) else {}


@dataclass
class ConsultationDraft:
    """The editable part of a consultation, handed to `Store.update`'s function."""

    state: dict[str, Any]
    meta: dict[str, Any]
    status: str
    message_ts: str | None
    decision: dict[str, Any] | None
    channel: str | None = None
    thread_ts: str | None = None


_EDITABLE = ("state", "meta", "status", "message_ts", "decision", "channel", "thread_ts")


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` with what PostgreSQL's JSON cannot hold made harmless: NUL characters are
    dropped and lone surrogates become U+FFFD (a copy; nothing else changes)."""
    if isinstance(value, str):
        if not _UNSTORABLE.search(value):
            return value
        value = value.replace("\x00", "")
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _snapshot(row: ConsultationRow) -> StoredConsultation:
    return StoredConsultation(
        id=row.id,
        team_id=row.team_id,
        user_id=row.user_id,
        channel=row.channel,
        thread_ts=row.thread_ts,
        surface=row.surface,
        state=copy.deepcopy(row.state or {}),
        meta=copy.deepcopy(row.meta or {}),
        status=row.status,
        message_ts=row.message_ts,
        decision=copy.deepcopy(row.decision),
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
        version=row.version,
    )


def normalize_database_url(url: str | URL) -> URL:
    """`postgres://` and `postgresql://` -> `postgresql+psycopg://` (psycopg 3); others as is."""
    u = make_url(str(url)) if not isinstance(url, URL) else url
    if u.drivername in ("postgres", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    return u


_FIRST_LINE = re.compile(r"[\r\n].*", re.S)


def describe_db_error(exc: BaseException) -> str:
    """A one-line description of a database error: type and driver message, no SQL/params."""
    orig = getattr(exc, "orig", None) or exc
    msg = _FIRST_LINE.sub("", str(orig)).strip()
    return f"{type(orig).__name__}: {msg}" if msg else type(orig).__name__


class Store:
    """Repository over the two tables. Thread-safe; one instance per process.

    `url` is a SQLAlchemy URL (`DATABASE_URL`): `sqlite:///file.db` or
    `postgresql://user@host/db` (normalised to psycopg 3). Nothing connects until the
    first call; call `create_schema()` at start-up. `on_finish` (optional) is called with
    the finished `Consultation` after `finish()` commits (used for metrics).
    """

    def __init__(
        self,
        url: str | URL,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        connect_timeout_s: int = 5,
        event_retention: timedelta = EVENT_RETENTION,
        on_finish: Callable[[StoredConsultation], None] | None = None,
    ):
        self.url = normalize_database_url(url)
        self.event_retention = event_retention
        self.on_finish = on_finish
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._purge_lock = threading.Lock()
        self._last_purge = 0.0
        self.engine: Engine = self._make_engine(pool_size, max_overflow, connect_timeout_s)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # ------------------------------------------------------------------ plumbing

    @property
    def safe_url(self) -> str:
        """The database URL with the password masked, fit for logs and error messages."""
        return self.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _make_engine(self, pool_size: int, max_overflow: int, connect_timeout_s: int) -> Engine:
        from sqlalchemy import create_engine

        u = self.url
        if u.get_backend_name() == "sqlite":
            memory = u.database in (None, "", ":memory:")
            # No pre-ping: a local file connection cannot go stale, and the ping would
            # cost a round trip in the ack path (claim_event). Network databases ping.
            kwargs: dict[str, Any] = {
                "connect_args": {"timeout": 30, "check_same_thread": False},
            }
            if memory:
                kwargs["poolclass"] = StaticPool  # one shared connection, or each sees its own DB
            else:
                kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
            engine = create_engine(u, **kwargs)

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                if not memory:
                    cur.execute("PRAGMA journal_mode=WAL")
                    cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            return engine
        connect_args: dict[str, Any] = {}
        if u.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = connect_timeout_s
        return create_engine(
            u,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=1800,
            connect_args=connect_args,
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Store:
        # Bolt deep-copies the request context for lazy listeners: share, don't clone.
        return self

    def __repr__(self) -> str:
        return f"Store({self.safe_url!r})"

    @contextmanager
    def _session(self, op: str) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
        except (StaleDataError, IntegrityError, StoreError):
            session.rollback()
            raise
        except (DBAPIError, SQLAlchemyError) as exc:
            session.rollback()
            detail = describe_db_error(exc)
            log.error("database error during %s on %s: %s", op, self.safe_url, detail)
            raise StoreUnavailable(f"{op}: {detail}") from None
        finally:
            session.close()

    def create_schema(self) -> None:
        """Check the schema revision; on an empty database create the tables.

        Raises `StoreUnavailable` when the database cannot be reached and
        `SchemaMismatch` when its schema is older or newer than the code's (the message
        says what to do; see `bot.store.schema`)."""
        with self._schema_lock:
            if self._schema_ready:
                return
            with self._schema_errors("check the schema"):
                schema.check(self.engine)
            self._schema_ready = True

    def upgrade_schema(self) -> schema.Upgrade:
        """Run the migrations up to the newest revision (every row kept); what was done."""
        with self._schema_errors("upgrade the schema"):
            done = schema.upgrade(self.engine)
        self._schema_ready = True
        return done

    def downgrade_schema(self, revision: str) -> str:
        """Run the migrations back down to `revision`; the revision it was at."""
        with self._schema_errors("downgrade the schema"):
            before = schema.downgrade(self.engine, revision)
        self._schema_ready = False
        return before

    @contextmanager
    def _schema_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except schema.SchemaError as exc:
            raise SchemaMismatch(str(exc)) from None
        except (DBAPIError, SQLAlchemyError) as exc:
            detail = describe_db_error(exc)
            log.error("cannot %s on %s: %s", doing, self.safe_url, detail)
            raise StoreUnavailable(f"{doing}: {detail}") from None

    def ping(self) -> None:
        """Readiness: run `SELECT 1` (and create the schema if start-up could not).

        Returns None when the database answers; raises `StoreUnavailable` with a short
        reason (no credentials) otherwise.
        """
        if not self._schema_ready:
            self.create_schema()
        with self._session("ping") as s:
            s.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection (tests, shutdown)."""
        self.engine.dispose()

    # ------------------------------------------------------------------ consultations

    def create_consultation(
        self,
        *,
        user_id: str,
        surface: str,
        team_id: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
        state: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        message_ts: str | None = None,
    ) -> StoredConsultation:
        """Insert an open consultation and return it.

        `surface` is one of modal, thread, home, assistant, workflow. At most one consultation per
        (channel, thread_ts) can be open: a second one raises `ConsultationExists`
        carrying the open one (`.existing`).
        """
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {SURFACES}, not {surface!r}")
        now = utcnow()
        row = ConsultationRow(
            id=uuid.uuid4().hex,
            team_id=team_id,
            user_id=user_id,
            channel=channel,
            thread_ts=thread_ts,
            surface=surface,
            state=storable(copy.deepcopy(state or {})),
            meta=storable(copy.deepcopy(meta or {})),
            status="open",
            message_ts=message_ts,
            decision=None,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._session("create_consultation") as s:
                s.add(row)
                s.commit()
                return _snapshot(row)
        except IntegrityError:
            existing = (
                self.find_open_for_thread(channel, thread_ts) if channel and thread_ts else None
            )
            raise ConsultationExists(existing) from None

    def get(self, consultation_id: str) -> StoredConsultation | None:
        """The consultation with that id, or None."""
        with self._session("get") as s:
            row = s.get(ConsultationRow, consultation_id)
            return _snapshot(row) if row is not None else None

    def find_open_for_thread(self, channel: str, thread_ts: str) -> StoredConsultation | None:
        """The open consultation in that thread, or None."""
        with self._session("find_open_for_thread") as s:
            row = s.scalars(
                select(ConsultationRow)
                .where(
                    ConsultationRow.channel == channel,
                    ConsultationRow.thread_ts == thread_ts,
                    ConsultationRow.status == "open",
                )
                .order_by(ConsultationRow.created_at.desc())
                .limit(1)
            ).first()
            return _snapshot(row) if row is not None else None

    def recent_for_user(
        self, user_id: str, limit: int = 10, *, team_id: str | None = None
    ) -> list[StoredConsultation]:
        """The user's consultations, newest first (any status)."""
        stmt = select(ConsultationRow).where(ConsultationRow.user_id == user_id)
        if team_id is not None:
            stmt = stmt.where(ConsultationRow.team_id == team_id)
        stmt = stmt.order_by(ConsultationRow.created_at.desc(), ConsultationRow.id).limit(limit)
        with self._session("recent_for_user") as s:
            return [_snapshot(r) for r in s.scalars(stmt)]

    def update(
        self,
        consultation_id: str,
        mutate: Callable[[ConsultationDraft], None],
        *,
        require_open: bool = True,
        max_attempts: int = 20,
    ) -> StoredConsultation:
        """Read-modify-write one consultation with optimistic locking; returns the result.

        `mutate` receives a `ConsultationDraft` (deep copies) and edits it in place. If
        another writer committed in between (`StaleDataError` on the version column),
        the row is re-read and `mutate` runs again on the fresh data, so it must be a
        function of the draft only. Two concurrent updates therefore both land.
        Raises `ConsultationNotFound`, `ConsultationClosed` (when `require_open` and the
        consultation is done/abandoned), `ConcurrentUpdateError`, `StoreUnavailable`.
        Exceptions raised by `mutate` propagate and nothing is written.
        """
        for attempt in range(max_attempts):
            try:
                with self._session("update") as s:
                    row = s.get(ConsultationRow, consultation_id)
                    if row is None:
                        raise ConsultationNotFound(consultation_id)
                    if require_open and row.status != "open":
                        raise ConsultationClosed(_snapshot(row))
                    draft = ConsultationDraft(
                        state=copy.deepcopy(row.state or {}),
                        meta=copy.deepcopy(row.meta or {}),
                        status=row.status,
                        message_ts=row.message_ts,
                        decision=copy.deepcopy(row.decision),
                        channel=row.channel,
                        thread_ts=row.thread_ts,
                    )
                    was_done = row.status == "done"
                    mutate(draft)
                    changed = False
                    for name in _EDITABLE:
                        new = getattr(draft, name)
                        if new != getattr(row, name):
                            setattr(row, name, storable(copy.deepcopy(new)))
                            changed = True
                    if changed:
                        row.updated_at = utcnow()
                        if was_done or row.status == "done":
                            watch.sync(s, row)
                        s.commit()
                    return _snapshot(row)
            except StaleDataError:
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
                continue
            except IntegrityError:
                raise ConsultationExists(None) from None
        raise ConcurrentUpdateError(
            f"consultation {consultation_id}: {max_attempts} conflicting updates"
        )

    def set_message_ts(self, consultation_id: str, message_ts: str | None) -> StoredConsultation:
        """Remember which message is updated in place for this consultation."""

        def apply(d: ConsultationDraft) -> None:
            d.message_ts = message_ts

        return self.update(consultation_id, apply, require_open=False)

    def finish(
        self,
        consultation_id: str,
        decision: dict[str, Any] | Callable[[ConsultationDraft], dict[str, Any] | None],
    ) -> StoredConsultation:
        """Mark it done with its decision (JSON). Exactly one of concurrent finishes wins:
        the others raise `ConsultationClosed`, so only one caller posts the result.

        `decision` may be a function of the fresh row (run inside the write, so the
        decision is made from the answers it stores); when it returns None the row is
        left open and returned as it is."""

        def apply(d: ConsultationDraft) -> None:
            made = decision(d) if callable(decision) else decision
            if made is not None:
                d.status = "done"
                d.decision = made

        done = self.update(consultation_id, apply, require_open=True)
        if done.status != "done":
            return done
        if self.on_finish is not None:
            try:
                self.on_finish(done)
            except Exception:  # a metrics hook must never break the flow
                log.exception("on_finish hook failed")
        return done

    def abandon(self, consultation_id: str) -> StoredConsultation:
        """Mark an open consultation abandoned (e.g. "Start over" in a thread)."""

        def apply(d: ConsultationDraft) -> None:
            d.status = "abandoned"

        return self.update(consultation_id, apply, require_open=True)

    # ------------------------------------------------------------------ events

    def claim_event(self, event_id: str, channel: str | None = None, ts: str | None = None) -> bool:
        """Record a Slack event; True only the first time it is seen, across processes.

        Keys: `event_id` (primary key) and `(channel, ts)` when both are given (unique).
        A duplicate on either key returns False. Rows are purged after
        `event_retention` (default 36 h), at most every 10 minutes per process.
        Raises `StoreUnavailable` when the database cannot be reached.
        """
        values = {
            "event_id": event_id,
            "channel": channel or None,
            "ts": ts or None,
            "received_at": utcnow(),
        }
        try:
            # Core, not the ORM: this sits in the ack path of every event.
            with self.engine.begin() as conn:
                conn.execute(_CLAIM, values)
        except IntegrityError:
            return False
        except (DBAPIError, SQLAlchemyError) as exc:
            detail = describe_db_error(exc)
            log.error("database error during claim_event on %s: %s", self.safe_url, detail)
            raise StoreUnavailable(f"claim_event: {detail}") from None
        self._maybe_purge()
        return True

    def purge_events(self, older_than: timedelta | None = None) -> int:
        """Delete processed_events rows older than `older_than` (default: the retention),
        and expired OAuth states."""
        cutoff = utcnow() - (older_than if older_than is not None else self.event_retention)
        with self._session("purge_events") as s:
            result = s.execute(
                delete(ProcessedEventRow).where(ProcessedEventRow.received_at < cutoff)
            )
            # install links nobody finished (each visit to /slack/install makes one)
            s.execute(delete(SLACK_OAUTH_STATES).where(
                SLACK_OAUTH_STATES.c.expire_at < datetime.now(UTC).replace(tzinfo=None)))
            s.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < _PURGE_EVERY_S or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._last_purge = now
            removed = self.purge_events()
            if removed:
                log.debug("purged %d processed events", removed)
        except StoreError:
            pass  # already logged; try again next period
        finally:
            self._purge_lock.release()
