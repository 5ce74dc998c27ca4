"""A consent record can carry its own review date (when the parent must re-confirm it).

Revision ID: 0007_rules
Revises: 0007_audit
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007_rules"
down_revision = "0007_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_column("review_on")
