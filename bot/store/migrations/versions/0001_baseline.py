"""Baseline: the schema the bot had before migrations (made by `create_all`).

A database made by that code has these tables and no `alembic_version`;
`bot.store.schema` stamps it at this revision before upgrading.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32)),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("surface", sa.String(16), nullable=False),
        sa.Column("answers", JsonType, nullable=False),
        sa.Column("meta", JsonType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("decision", JsonType, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_consultations_user_id", "consultations", ["user_id"])
    op.create_index("ix_consultations_thread", "consultations", ["channel", "thread_ts"])
    op.create_index("ix_consultations_user_created", "consultations", ["user_id", "created_at"])
    where = sa.text("status = 'open' AND thread_ts IS NOT NULL")
    op.create_index("uq_consultations_open_thread", "consultations", ["channel", "thread_ts"],
                    unique=True, sqlite_where=where, postgresql_where=where)
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(32)),
        sa.Column("ts", sa.String(32)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "ts", name="uq_processed_events_channel_ts"),
    )
    op.create_index("ix_processed_events_received_at", "processed_events", ["received_at"])


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("consultations")
