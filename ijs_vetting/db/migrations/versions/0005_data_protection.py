"""Data protection: passwords and lockout, the audit hash chain, held photos, settings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:51:30.825449
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ijs_vetting.audit_chain import GENESIS, entry_hash


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_entries_entry_hash"), ["entry_hash"])

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=256), nullable=True))
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))


def _chain_existing_entries() -> None:
    """Hash the entries written before the chain existed, oldest first (format v1)."""
    entries = sa.table(
        "audit_entries",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("target_type", sa.String),
        sa.column("target_id", sa.String),
        sa.column("summary", sa.Text),
        sa.column("details", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("entry_hash", sa.String),
    )
    conn = op.get_bind()
    previous = GENESIS
    for row in conn.execute(sa.select(entries).order_by(entries.c.id)).mappings().all():
        digest = entry_hash(
            previous,
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            target_type=row["target_type"],
            target_id=row["target_id"],
            summary=row["summary"],
            details=row["details"] or {},
        )
        conn.execute(
            entries.update()
            .where(entries.c.id == row["id"])
            .values(prev_hash=previous, entry_hash=digest)
        )
        previous = digest


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("password_hash")

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("hold_reason")

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_entries_entry_hash"), type_="unique")
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")

    op.drop_table("settings")
