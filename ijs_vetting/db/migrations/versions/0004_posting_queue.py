"""Posting queue: items (rendering, caption, account, status) and the consent each relied on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:33:45.579739
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("blurred_faces", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "exported",
                "posted",
                "withdrawn",
                "taken_down",
                name="queuestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("cleared_by", sa.String(length=64), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=False),
        sa.Column("exported_at", sa.DateTime(), nullable=True),
        sa.Column("exported_by", sa.String(length=64), nullable=True),
        sa.Column("export_dir", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("posted_by", sa.String(length=64), nullable=True),
        sa.Column("post_url", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("takedown_requested_at", sa.DateTime(), nullable=True),
        sa.Column("takedown_reason", sa.Text(), nullable=True),
        sa.Column("taken_down_at", sa.DateTime(), nullable=True),
        sa.Column("taken_down_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_queue_items_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_queue_items_photo_id_photos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_items")),
    )
    with op.batch_alter_table("queue_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_items_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_items_photo_id"), ["photo_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_items_status"), ["status"], unique=False)

    op.create_table(
        "queue_item_children",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("by_reviewer", sa.Boolean(), nullable=False),
        sa.Column("consent_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_queue_item_children_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["consent_record_id"],
            ["consent_records.id"],
            name=op.f("fk_queue_item_children_consent_record_id_consent_records"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["queue_items.id"], name=op.f("fk_queue_item_children_item_id_queue_items")
        ),
        sa.PrimaryKeyConstraint("item_id", "child_id", name=op.f("pk_queue_item_children")),
    )
    with op.batch_alter_table("queue_item_children", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_item_children_child_id"), ["child_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("queue_item_children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_item_children_child_id"))

    op.drop_table("queue_item_children")
    with op.batch_alter_table("queue_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_items_status"))
        batch_op.drop_index(batch_op.f("ix_queue_items_photo_id"))
        batch_op.drop_index(batch_op.f("ix_queue_items_account_id"))

    op.drop_table("queue_items")
