"""The outbox: every Slack message the bot owes is written here before it is sent.

`slack_outbox` (see `bot.store.models.OutboxRow`). Consultations already in progress
keep their messages: the first update of one seeds its row with the message's ts.
Downgrading drops the table; messages not yet sent then stay unsent.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_outbox",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(32)),
        sa.Column("consultation_id", sa.String(32)),
        sa.Column("owner", sa.String(32)),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("payload", JsonType, nullable=False),
        sa.Column("content_version", sa.Integer, nullable=False),
        sa.Column("sent_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("unclear", sa.Boolean, nullable=False),
        sa.Column("last_error", sa.String(64), nullable=True),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("lease_until", TZ, nullable=True),
        sa.Column("lease_by", sa.String(32), nullable=True),
        sa.Column("slow_notice_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_slack_outbox_consultation_id", "slack_outbox", ["consultation_id"])
    op.create_index("ix_slack_outbox_due", "slack_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_outbox_due", table_name="slack_outbox")
    op.drop_index("ix_slack_outbox_consultation_id", table_name="slack_outbox")
    op.drop_table("slack_outbox")
