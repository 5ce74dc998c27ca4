"""Consent, biometric and safeguarding records carry a seal (an HMAC with a key derived from the
station key); audit entries keep redactable text (captions) outside their hashed fields.

Existing records are sealed at the next start (the migration has no key: see
`ijs_vetting.services.record_seals.seal_legacy_records`).

Revision ID: 0007_audit
Revises: 0007_outbox
Create Date: 2026-12-02 06:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007_audit"
down_revision = "0007_outbox"
branch_labels = None
depends_on = None

SEALED_TABLES = ("consent_records", "biometric_records", "safeguarding_records")


def upgrade() -> None:
    for table in SEALED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("seal", sa.String(length=64), nullable=True))
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("private")
    for table in SEALED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("seal")
