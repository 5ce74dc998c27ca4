"""Photos, their faces and decisions, import batches, and children's face templates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:17:36.208294
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.LargeBinary(), nullable=False),
        sa.Column("reference_sha256", sa.String(length=64), nullable=False),
        sa.Column("reference_name", sa.String(length=200), nullable=False),
        sa.Column("face_width", sa.Float(), nullable=False),
        sa.Column("sharpness", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_face_templates_child_id_children")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_templates")),
    )
    with op.batch_alter_table("face_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_face_templates_child_id"), ["child_id"], unique=False)

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_import_batches_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("camera_make", sa.String(length=64), nullable=True),
        sa.Column("camera_model", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "ready",
                "ready_with_blur",
                "review",
                "rejected",
                "failed",
                name="photostatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("vetted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_photos_batch_id_import_batches")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_photos_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint("sha256", name=op.f("uq_photos_sha256")),
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photos_status"), ["status"], unique=False)

    op.create_table(
        "photo_faces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("right", sa.Integer(), nullable=False),
        sa.Column("bottom", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("too_small", sa.Boolean(), nullable=False),
        sa.Column("candidate_child_id", sa.Integer(), nullable=True),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("runner_up_distance", sa.Float(), nullable=True),
        sa.Column("child_id", sa.Integer(), nullable=True),
        sa.Column(
            "decision",
            sa.Enum("show", "blur", name="facedecision", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "consent",
                "no_consent",
                "unknown",
                "ambiguous",
                "too_small",
                "no_biometric_consent",
                "safeguarding",
                name="facereason",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_child_id"],
            ["children.id"],
            name=op.f("fk_photo_faces_candidate_child_id_children"),
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_photo_faces_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_photo_faces_photo_id_photos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_faces")),
    )
    with op.batch_alter_table("photo_faces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_faces_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_photo_faces_photo_id"), ["photo_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("photo_faces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_faces_photo_id"))
        batch_op.drop_index(batch_op.f("ix_photo_faces_child_id"))

    op.drop_table("photo_faces")
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photos_status"))

    op.drop_table("photos")
    op.drop_table("import_batches")
    with op.batch_alter_table("face_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_face_templates_child_id"))

    op.drop_table("face_templates")
