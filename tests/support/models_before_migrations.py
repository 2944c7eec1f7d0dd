"""A frozen copy of `bot/store/models.py` as it was before migrations existed (the code
that made its tables with `create_all`): the migration tests build a database with it.

ORM tables: `consultations` and `processed_events` (SQLAlchemy 2, typed mappings).

The same models run on SQLite and PostgreSQL. JSON columns are `JSON` on SQLite and
`JSONB` on PostgreSQL. `consultations.version` is SQLAlchemy's `version_id_col`: every
UPDATE carries `WHERE version = <the version read>`, so a write based on a stale read
fails with `StaleDataError` instead of silently overwriting (see `Store.update`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")

SURFACES = ("modal", "thread", "home")
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
    answers: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
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
