"""The posting folder is an outbox the register owns: folders and the items exported to each.

`queue_items.export_dir` (the folders an item was exported to, one per line) becomes rows: one
`posting_folders` row per folder and one `posting_entries` row per item still waiting there.
Every folder found is marked unsettled, so the first start after the upgrade reconciles it and
removes the pictures of items withdrawn under the old code.

Revision ID: 0007_outbox
Revises: 0007_crowd
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007_outbox"
down_revision = "0007_crowd"
branch_labels = None
depends_on = None

_items = sa.table(
    "queue_items",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("export_dir", sa.Text),
)
_folders = sa.table(
    "posting_folders",
    sa.column("id", sa.Integer),
    sa.column("path", sa.Text),
    sa.column("registered_at", sa.DateTime),
    sa.column("unsettled", sa.Boolean),
)
_entries = sa.table(
    "posting_entries",
    sa.column("folder_id", sa.Integer),
    sa.column("item_id", sa.Integer),
    sa.column("recorded_at", sa.DateTime),
    sa.column("written", sa.Boolean),
)


def upgrade() -> None:
    op.create_table(
        "posting_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("unsettled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posting_folders")),
        sa.UniqueConstraint("path", name=op.f("uq_posting_folders_path")),
    )
    op.create_table(
        "posting_entries",
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("written", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["posting_folders.id"],
            name=op.f("fk_posting_entries_folder_id_posting_folders"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["queue_items.id"], name=op.f("fk_posting_entries_item_id_queue_items")
        ),
        sa.PrimaryKeyConstraint("folder_id", "item_id", name=op.f("pk_posting_entries")),
    )
    op.create_index(
        op.f("ix_posting_entries_item_id"), "posting_entries", ["item_id"], unique=False
    )
    _move_export_dirs()
    if op.get_bind().dialect.name == "sqlite":
        # Natively (SQLite 3.35+): batch mode would recreate queue_items, and dropping the old
        # table fails while queue_item_children and posting_entries rows point at it.
        op.execute("ALTER TABLE queue_items DROP COLUMN export_dir")
    else:
        op.drop_column("queue_items", "export_dir")


def _move_export_dirs() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    folders: dict[str, int] = {}
    rows = conn.execute(sa.select(_items.c.id, _items.c.status, _items.c.export_dir)).all()
    for item_id, status, export_dir in rows:
        for line in (export_dir or "").splitlines():
            path = line.strip()
            if not path:
                continue
            if path not in folders:
                conn.execute(
                    _folders.insert().values(path=path, registered_at=now, unsettled=True)
                )
                folders[path] = conn.execute(
                    sa.select(_folders.c.id).where(_folders.c.path == path)
                ).scalar_one()
            if status == "exported":
                conn.execute(
                    _entries.insert().values(
                        folder_id=folders[path], item_id=item_id, recorded_at=now, written=True
                    )
                )


def downgrade() -> None:
    op.add_column("queue_items", sa.Column("export_dir", sa.Text(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_entries.c.item_id, _folders.c.path)
        .join(_folders, _folders.c.id == _entries.c.folder_id)
        .order_by(_entries.c.item_id, _folders.c.path)
    ).all()
    dirs: dict[int, list[str]] = {}
    for item_id, path in rows:
        dirs.setdefault(item_id, []).append(path)
    for item_id, paths in dirs.items():
        conn.execute(
            _items.update().where(_items.c.id == item_id).values(export_dir="\n".join(paths))
        )
    op.drop_index(op.f("ix_posting_entries_item_id"), table_name="posting_entries")
    op.drop_table("posting_entries")
    op.drop_table("posting_folders")
