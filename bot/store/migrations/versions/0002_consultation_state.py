"""The engine's consultation state replaces the loose answers column.

Each row's `answers` and `meta` are copied into `state` as schema 0
(`{"schema": 0, "answers": ..., "meta": ...}`), which the engine's
`Consultation.from_json` reads; the row's `meta` keeps only its delivery keys (the flow's
keys now live in `state`). Downgrading writes them back: "not sure" answers become the old
`skipped` list, and the answers column gets the rest.

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
#: What the flow kept in `meta` before `state` existed.
FLOW_KEYS = ("skipped", "understood", "prefilled", "current", "notes")
NOT_SURE = "not_sure"


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
        meta = dict(meta or {})
        state = {"schema": 0, "answers": answers or {}, "meta": meta}
        delivery = {k: v for k, v in meta.items() if k not in FLOW_KEYS}
        connection.execute(old.update().where(old.c.id == row_id)
                           .values(state=state, meta=delivery))
    with op.batch_alter_table("consultations") as batch:
        batch.alter_column("state", existing_type=JsonType, nullable=False)
        batch.drop_column("answers")


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("answers", JsonType, nullable=True))
    connection = op.get_bind()
    new = _table("answers", "state", "meta")
    rows = connection.execute(sa.select(new.c.id, new.c.state, new.c.meta)).all()
    for row_id, state, meta in rows:
        state = state or {}
        given = state.get("answers") or {}
        meta = dict(meta or {})
        if state.get("schema") == 0:  # never rewritten since the upgrade: as it was
            meta.update({k: v for k, v in (state.get("meta") or {}).items() if k in FLOW_KEYS})
        else:
            prefilled = dict(state.get("prefilled") or {})
            meta.update(skipped=[q for q, v in given.items() if v == NOT_SURE],
                        prefilled=list(prefilled), understood=list(prefilled.values()),
                        current=state.get("current"), notes=list(state.get("notes") or []))
        answers = {q: v for q, v in given.items() if v != NOT_SURE}
        connection.execute(new.update().where(new.c.id == row_id)
                           .values(answers=answers, meta=meta))
    with op.batch_alter_table("consultations") as batch:
        batch.alter_column("answers", existing_type=JsonType, nullable=False)
        batch.drop_column("state")
