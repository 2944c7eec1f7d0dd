"""Decision drift: `decision_watch`, `drift_notices` and `bot_state`.

Every finished consultation gets its watch row, built from its stored decision (the
verdict, the answers it was decided on, else the consultation's answers, the date and the
knowledge version), so the
first recheck after the upgrade sees every decision made before it. Downgrading drops
the three tables; the consultations are untouched either way.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")
TZ = sa.DateTime(timezone=True)


def _date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


def upgrade() -> None:
    watch = op.create_table(
        "decision_watch",
        sa.Column("consultation_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32)),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("knowledge_version", sa.String(64)),
        sa.Column("route_model", sa.String(64)),
        sa.Column("answers", JsonType, nullable=False),
        sa.Column("muted_at", TZ, nullable=True),
    )
    op.create_table(
        "drift_notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("consultation_id", sa.String(32), nullable=False, index=True),
        sa.Column("team_id", sa.String(32)),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("old_verdict", sa.String(32), nullable=False),
        sa.Column("new_verdict", sa.String(32), nullable=False),
        sa.Column("why", sa.String(1000), nullable=False),
        sa.Column("detected_on", sa.Date, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("delivered_at", TZ, nullable=True, index=True),
        sa.Column("claimed_until", TZ, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("dm_channel", sa.String(32), nullable=True),
        sa.Column("dm_ts", sa.String(32), nullable=True),
        sa.UniqueConstraint("consultation_id", "key", name="uq_drift_notices_key"),
    )
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    consultations = sa.table(
        "consultations", sa.column("id", sa.String), sa.column("team_id", sa.String),
        sa.column("user_id", sa.String), sa.column("channel", sa.String),
        sa.column("thread_ts", sa.String), sa.column("status", sa.String),
        sa.column("decision", JsonType), sa.column("state", JsonType))
    connection = op.get_bind()
    rows = connection.execute(sa.select(consultations).where(consultations.c.status == "done"))
    batch = []
    for row in rows:
        decision = row.decision if isinstance(row.decision, dict) else {}
        if not isinstance(decision.get("verdict"), str):
            continue
        costs = decision.get("costs") if isinstance(decision.get("costs"), dict) else {}
        route = costs.get("route") if isinstance(costs.get("route"), dict) else {}
        model = route.get("model")
        batch.append({
            "consultation_id": row.id, "team_id": row.team_id, "user_id": row.user_id,
            "channel": row.channel, "thread_ts": row.thread_ts,
            "verdict": decision["verdict"][:32], "decided_on": _date(decision.get("today")),
            "knowledge_version": str(decision.get("knowledge_version") or "")[:64] or None,
            "route_model": model[:64] if isinstance(model, str) else None,
            "answers": dict(decision.get("answers") or (row.state or {}).get("answers") or {}),
            "muted_at": None,
        })
    if batch:
        op.bulk_insert(watch, batch)


def downgrade() -> None:
    op.drop_table("bot_state")
    op.drop_table("drift_notices")
    op.drop_table("decision_watch")
