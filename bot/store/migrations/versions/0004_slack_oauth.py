"""OAuth for many workspaces: the Slack SDK's installation and state tables.

`slack_installations`, `slack_bots` and `slack_oauth_states`, as the Slack SDK's
SQLAlchemy stores define them (Bolt reads and writes them): the definitions are
`bot.store.models.oauth_tables`, which a test compares with the SDK's. Nothing else changes; in
token mode (one workspace) they stay empty. Downgrading drops them, and with them every
workspace's installation.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.models import oauth_tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _tables() -> list[sa.Table]:
    return oauth_tables(sa.MetaData())


def upgrade() -> None:
    for table in _tables():
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(_tables()):
        table.drop(op.get_bind())
