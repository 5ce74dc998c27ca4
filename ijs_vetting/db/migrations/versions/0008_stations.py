"""Several stations on one register: each audit entry names its station, and a change counter
lets every station's GUI notice another's writes.

Revision ID: 0008_stations
Revises: 0007_rules
Create Date: 2026-12-02 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0008_stations"
down_revision = "0007_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("station", sa.String(length=64), nullable=True))
    changes = op.create_table(
        "register_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_changes")),
    )
    op.bulk_insert(changes, [{"id": 1, "counter": 0}])


def downgrade() -> None:
    op.drop_table("register_changes")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("station")
