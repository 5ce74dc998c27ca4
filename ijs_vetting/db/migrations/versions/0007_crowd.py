"""Faces found by the check before posting: photo_faces.origin holds "verification".

Revision ID: 0007_crowd
Revises: 0006
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007_crowd"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = sa.Enum("detected", "drawn", name="faceorigin", native_enum=False, length=8)
_NEW = sa.Enum(
    "detected", "drawn", "verification", name="faceorigin", native_enum=False, length=16
)


def upgrade() -> None:
    with op.batch_alter_table("photo_faces", schema=None) as batch_op:
        batch_op.alter_column("origin", existing_type=_OLD, type_=_NEW, existing_nullable=False)


def downgrade() -> None:
    op.execute("UPDATE photo_faces SET origin = 'drawn' WHERE origin = 'verification'")
    with op.batch_alter_table("photo_faces", schema=None) as batch_op:
        batch_op.alter_column("origin", existing_type=_NEW, type_=_OLD, existing_nullable=False)
