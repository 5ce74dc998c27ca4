"""Initial consent register: children, consent history, forms, accounts, devices, users, audit.

Seeds the data the policy names: the four year-group accounts and the publication channels.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 00:08:38.349861
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("handle", name=op.f("uq_accounts_handle")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)

    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("csv_aliases", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("code", name=op.f("uq_channels_code")),
    )
    op.create_table(
        "children",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mis_id", sa.String(length=32), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("preferred_name", sa.String(length=100), nullable=True),
        sa.Column("year_group", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=32), nullable=False),
        sa.Column("on_roll", sa.Boolean(), nullable=False),
        sa.Column("date_left", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("year_group BETWEEN 0 AND 6", name=op.f("ck_children_year_group_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_children")),
        sa.UniqueConstraint("mis_id", name=op.f("uq_children_mis_id")),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("make", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("name", name=op.f("uq_devices_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "slt", "staff", name="role", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "account_year_groups",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("year_group", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_year_groups_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "year_group", name=op.f("pk_account_year_groups")),
    )
    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_forms_child_id_children")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("sha256", name=op.f("uq_forms_sha256")),
    )
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forms_child_id"), ["child_id"], unique=False)

    op.create_table(
        "safeguarding_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_safeguarding_records_child_id_children")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safeguarding_records")),
    )
    with op.batch_alter_table("safeguarding_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safeguarding_records_child_id"), ["child_id"], unique=False
        )

    op.create_table(
        "biometric_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column(
            "event",
            sa.Enum(
                "parent_consent",
                "parent_withdrawal",
                "child_objection",
                "child_objection_withdrawn",
                name="biometricevent",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("given_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_biometric_records_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_biometric_records_form_id_forms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biometric_records")),
    )
    with op.batch_alter_table("biometric_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_biometric_records_child_id"), ["child_id"], unique=False
        )

    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_consent_records_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_consent_records_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_consent_records_form_id_forms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_records_child_id"), ["child_id"], unique=False)

    _seed()


CHANNELS = [
    # code, name, header words that name the channel in an MIS export, order
    (
        "twitter",
        "Twitter / social media",
        "twitter,social media,socialmedia,x,twitter consent,photo consent twitter,"
        "photo consent social media,social media consent",
        1,
    ),
    ("website", "School website", "website,web,web site,school website,photo consent website", 2),
    ("newsletter", "Newsletter", "newsletter,newsletters,photo consent newsletter", 3),
    ("press", "Local press", "press,media,newspaper,local press,photo consent press", 4),
]
ACCOUNTS = [
    # handle, display name, year groups (the policy's four accounts)
    ("@year3ijs", "Year 3", [3]),
    ("@Year4IJS", "Year 4", [4]),
    ("@Year5IJS", "Year 5", [5]),
    ("@Year6IJS", "Year 6", [6]),
]


def _seed() -> None:
    channels = sa.table(
        "channels",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("csv_aliases", sa.Text),
        sa.column("sort_order", sa.Integer),
    )
    op.bulk_insert(
        channels,
        [{"code": c, "name": n, "csv_aliases": a, "sort_order": o} for c, n, a, o in CHANNELS],
    )
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.Integer),
        sa.column("handle", sa.String),
        sa.column("display_name", sa.String),
        sa.column("active", sa.Boolean),
    )
    years = sa.table(
        "account_year_groups",
        sa.column("account_id", sa.Integer),
        sa.column("year_group", sa.Integer),
    )
    # Ids come from the database (no explicit ids: PostgreSQL's sequence would not advance).
    conn = op.get_bind()
    for handle, display_name, year_groups in ACCOUNTS:
        conn.execute(
            accounts.insert().values(handle=handle, display_name=display_name, active=True)
        )
        account_id = conn.execute(
            sa.select(accounts.c.id).where(accounts.c.handle == handle)
        ).scalar_one()
        op.bulk_insert(years, [{"account_id": account_id, "year_group": y} for y in year_groups])


def downgrade() -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_child_id"))

    op.drop_table("consent_records")
    with op.batch_alter_table("biometric_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_biometric_records_child_id"))

    op.drop_table("biometric_records")
    with op.batch_alter_table("safeguarding_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safeguarding_records_child_id"))

    op.drop_table("safeguarding_records")
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forms_child_id"))

    op.drop_table("forms")
    op.drop_table("account_year_groups")
    op.drop_table("users")
    op.drop_table("devices")
    op.drop_table("children")
    op.drop_table("channels")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_action"))

    op.drop_table("audit_entries")
    op.drop_table("accounts")
