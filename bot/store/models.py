"""ORM tables: `consultations`, `processed_events`, `slack_outbox` (messages owed),
for recheck `decision_watch`, `drift_notices` and `bot_state` (SQLAlchemy 2, typed
mappings); for OAuth installs, the Slack SDK's `slack_installations`, `slack_bots`
and `slack_oauth_states`.

The same models run on SQLite and PostgreSQL. JSON columns are `JSON` on SQLite and
`JSONB` on PostgreSQL. `consultations.version` is SQLAlchemy's `version_id_col`: every
UPDATE carries `WHERE version = <the version read>`, so a write based on a stale read
fails with `StaleDataError` instead of silently overwriting (see `Store.update`).

`consultations.state` is the engine's consultation state (`Consultation.to_json()`, with
its schema version); `meta` is what the Slack surfaces remember about delivering it
(card, DM, permalink, phrasing). Schema changes go through Alembic migrations
(`bot/store/migrations`); these models are the schema at the newest revision.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")

SURFACES = ("modal", "thread", "home", "assistant", "workflow")
STATUSES = ("open", "done", "abandoned")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ConsultationRow(Base):
    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    surface: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    message_ts: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_consultations_thread", "channel", "thread_ts"),
        Index("ix_consultations_user_created", "user_id", "created_at"),
        # At most one open consultation per thread (modal/home ones have no thread_ts).
        Index(
            "uq_consultations_open_thread",
            "channel",
            "thread_ts",
            unique=True,
            sqlite_where=text("status = 'open' AND thread_ts IS NOT NULL"),
            postgresql_where=text("status = 'open' AND thread_ts IS NOT NULL"),
        ),
    )


class ProcessedEventRow(Base):
    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    # NULLs are distinct in both SQLite and PostgreSQL, so the second key only bites
    # when both channel and ts are present.
    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_processed_events_channel_ts"),)


class DecisionWatchRow(Base):
    """What recheck needs of each decided consultation, kept small so that 100,000 of
    them stream fast: the owner, where it was decided, the verdict, the answers it was
    decided on, the date and the knowledge version. Written by `Store.update` whenever a
    consultation is finished, removed when it is reopened."""

    __tablename__ = "decision_watch"

    consultation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(32))
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    knowledge_version: Mapped[str | None] = mapped_column(String(64))
    route_model: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    muted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


NOTICE_KINDS = ("verdict_changed", "heads_up")


class DriftNoticeRow(Base):
    """One thing recheck owes a consultation's owner: a changed verdict, or a heads-up
    before the chosen route closes. Unique per (consultation, key): a second recheck
    finds the row and tells nobody again. `delivered_at` is set once the DM is posted;
    `claimed_until` is a delivery lease, so two replicas never post the same notice."""

    __tablename__ = "drift_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consultation_id: Mapped[str] = mapped_column(String(32), index=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    old_verdict: Mapped[str] = mapped_column(String(32))
    new_verdict: Mapped[str] = mapped_column(String(32))
    why: Mapped[str] = mapped_column(String(1000))
    detected_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                           nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: sent | muted | superseded (the verdict it was about is no longer the stored one)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    dm_channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dm_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (UniqueConstraint("consultation_id", "key", name="uq_drift_notices_key"),)


class BotStateRow(Base):
    """Small facts the bot keeps about itself (when recheck last ran, on which knowledge)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


OUTBOX_STATUSES = ("pending", "sent", "failed")


class OutboxRow(Base):
    """One Slack message the bot owes someone (`bot.store.outbox`): written before it is
    sent, so a rate limit, an outage or a restart delays it and never loses it.

    `key` names the message (the thread message of a consultation, the DM summary of a
    decision): its newest content is `payload` at `content_version`; `sent_version` is
    what Slack shows. Once posted, `message_ts` is set and the message is only ever
    updated. `unclear` says the last post may have reached Slack: look for it (by the key
    in its metadata) before posting again. `lease_until`/`lease_by`: who is sending it."""

    __tablename__ = "slack_outbox"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str | None] = mapped_column(String(32))
    consultation_id: Mapped[str | None] = mapped_column(String(32), index=True)
    owner: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    sent_version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    unclear: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    lease_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    slow_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                            nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_slack_outbox_due", "status", "next_attempt_at"),)



# Bolt's OAuth tables, as the Slack SDK's SQLAlchemy installation and state stores read and
# write them (`bot.slack.oauth`). Written out here, not imported, so the store does not
# depend on the Slack SDK and a migration never changes with a library upgrade;
# tests/slack/test_oauth.py checks they match the SDK's own definitions.
def _owner_columns() -> list[Column[Any]]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
    ]


def _bot_token_columns() -> list[Column[Any]]:
    return [
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        Column("bot_token", String(200)),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", String(200)),
        Column("bot_token_expires_at", DateTime),
    ]


def _installation_columns() -> list[Column[Any]]:
    return [
        *_owner_columns(),
        Column("enterprise_url", String(200)),
        *_bot_token_columns(),
        Column("user_id", String(32), nullable=False),
        Column("user_token", String(200)),
        Column("user_scopes", String(1000)),
        Column("user_refresh_token", String(200)),
        Column("user_token_expires_at", DateTime),
        Column("incoming_webhook_url", String(200)),
        Column("incoming_webhook_channel", String(200)),
        Column("incoming_webhook_channel_id", String(200)),
        Column("incoming_webhook_configuration_url", String(200)),
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
        Column("token_type", String(32)),
        Column("installed_at", DateTime, nullable=False, default=func.now()),
    ]


def _bot_columns() -> list[Column[Any]]:
    return [
        *_owner_columns(),
        *_bot_token_columns(),
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
        Column("installed_at", DateTime, nullable=False, default=func.now()),
    ]


def _state_columns() -> list[Column[Any]]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("state", String(200), nullable=False),
        Column("expire_at", DateTime, nullable=False),
    ]


def oauth_tables(metadata: MetaData) -> list[Table]:
    """`slack_installations`, `slack_bots`, `slack_oauth_states` on `metadata`: their shape
    at revision 0004 (which makes them). A later change needs a migration of its own."""
    return [
        Table("slack_installations", metadata, *_installation_columns(),
              Index("slack_installations_idx", "client_id", "enterprise_id", "team_id",
                    "user_id", "installed_at")),
        Table("slack_bots", metadata, *_bot_columns(),
              Index("slack_bots_idx", "client_id", "enterprise_id", "team_id",
                    "installed_at")),
        Table("slack_oauth_states", metadata, *_state_columns()),
    ]


SLACK_INSTALLATIONS, SLACK_BOTS, SLACK_OAUTH_STATES = oauth_tables(Base.metadata)
