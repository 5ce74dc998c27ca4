"""Channels, posting accounts and settings carry a seal: they decide what a consent allows and
where a photo goes, as the consent records do.

Revision ID: 0009_config_seals
Revises: 0008_integrity
Create Date: 2026-12-03 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0009_config_seals"
down_revision = "0008_integrity"
branch_labels = None
depends_on = None

_TABLES = ("channels", "accounts", "settings")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("seal", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Not batch mode, as in 0008_integrity: SQLite 3.35+ drops a plain column in place.
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN seal")
