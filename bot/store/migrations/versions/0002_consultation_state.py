"""The engine's consultation state replaces the loose answers column.

Each row's `answers` and `meta` are copied into `state` as schema 0
(`{"schema": 0, "answers": ..., "meta": ...}`), which the engine's
`Consultation.from_json` reads; the row's `meta` keeps its delivery keys.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def _table(*columns: str) -> sa.Table:
    return sa.table("consultations", sa.column("id", sa.String),
                    *(sa.column(name, JsonType) for name in columns))


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("state", JsonType, nullable=True))
    connection = op.get_bind()
    old = _table("answers", "meta", "state")
    rows = connection.execute(sa.select(old.c.id, old.c.answers, old.c.meta)).all()
    for row_id, answers, meta in rows:
        state = {"schema": 0, "answers": answers or {}, "meta": meta or {}}
        connection.execute(old.update().where(old.c.id == row_id).values(state=state))
    with op.batch_alter_table("consultations") as batch:
        batch.alter_column("state", existing_type=JsonType, nullable=False)
        batch.drop_column("answers")


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("answers", JsonType, nullable=True))
    connection = op.get_bind()
    new = _table("answers", "state")
    for row_id, state in connection.execute(sa.select(new.c.id, new.c.state)).all():
        answers = (state or {}).get("answers") or {}
        connection.execute(new.update().where(new.c.id == row_id).values(answers=answers))
    with op.batch_alter_table("consultations") as batch:
        batch.alter_column("answers", existing_type=JsonType, nullable=False)
        batch.drop_column("state")
