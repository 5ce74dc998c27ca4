"""A child's row carries a seal over what decides whether they may be shown (on roll, left).

Revision ID: 0008_integrity
Revises: 0008_stations
Create Date: 2026-12-02 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0008_integrity"
down_revision = "0008_stations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seal", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Not batch mode: on SQLite that rebuilds `children`, which the rows of every table that
    # refers to a child forbid while foreign keys are on; SQLite 3.35+ drops a plain column.
    op.execute("ALTER TABLE children DROP COLUMN seal")
