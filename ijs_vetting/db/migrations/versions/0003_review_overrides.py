"""Review: reviewer overrides and drawn faces, head counts, camera confirmation, SLT rejection.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:27:39.254659
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photo_faces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "origin",
                sa.Enum("detected", "drawn", name="faceorigin", native_enum=False),
                server_default="detected",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("manual_child_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "override",
                sa.Enum("blur", "not_a_face", name="faceoverride", native_enum=False, length=16),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_photo_faces_manual_child_id_children"),
            "children",
            ["manual_child_id"],
            ["id"],
        )

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("camera_confirmed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rejected_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("rejected_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("rejected_reason")
        batch_op.drop_column("rejected_at")
        batch_op.drop_column("rejected_by")
        batch_op.drop_column("camera_confirmed_by")
        batch_op.drop_column("head_count")

    with op.batch_alter_table("photo_faces", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_photo_faces_manual_child_id_children"), type_="foreignkey"
        )
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("override")
        batch_op.drop_column("manual_child_id")
        batch_op.drop_column("origin")
