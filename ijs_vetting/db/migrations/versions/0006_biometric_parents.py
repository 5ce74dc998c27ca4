"""The biometric ledger names the parent who wrote: each parent's latest word counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 01:24:30.354947
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("biometric_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("biometric_records", schema=None) as batch_op:
        batch_op.drop_column("parent_name")
