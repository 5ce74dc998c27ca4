"""Alembic environment: runs on the connection the station hands in, or on sqlalchemy.url.

Batch mode is on for SQLite, whose ALTER TABLE cannot drop or change columns; the models' naming
convention gives every constraint a name so batch mode can recreate tables faithfully.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from ijs_vetting.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run against a database")
run_migrations_online()
