"""Copying a whole register from one database to another, row for row, ids and all.

Backups hold the register as one SQLite file whatever the station runs on, so that one archive
restores onto SQLite or PostgreSQL alike (and a school moves from one to the other by restoring).
The copy goes through SQLAlchemy Core with the models' column types, so timestamps, JSON and
binary columns come out on the other side as the same values; the rows keep their ids (the audit
chain, the record seals and every foreign key name rows by id), and PostgreSQL's id sequences
are moved past the copied ids so the next insert does not collide.

The target schema is made by the migrations themselves (never `create_all`), so it is exactly
what a station upgraded step by step has; the seed rows those migrations insert are removed
before the copy, because the copy brings the register's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, Engine, Table, delete, func, select, text

from ijs_vetting.db.engine import alembic_config, create_db_engine
from ijs_vetting.db.models import Base

BATCH = 500
CopyStep = Callable[[str, int], None]  # (table, rows copied so far)


def tables() -> list[Table]:
    """The register's tables, parents before children."""
    return list(Base.metadata.sorted_tables)


def count_rows(conn: Connection) -> dict[str, int]:
    return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables()}


def empty_schema(conn: Connection) -> None:
    """Drop the register's tables (if any), make the schema at the newest migration, and
    remove the migrations' seed rows: an empty register for `copy_rows` to fill. Runs in the
    caller's transaction, so on PostgreSQL nothing of it stands unless the whole copy does."""
    Base.metadata.drop_all(conn, checkfirst=True)
    conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")
    for table in reversed(tables()):
        conn.execute(delete(table))


def copy_rows(source: Connection, target: Connection, step: CopyStep | None = None) -> int:
    """Copy every row of every table from `source` into the empty `target`; returns the rows."""
    total = 0
    for table in tables():
        result = source.execution_options(stream_results=True).execute(
            select(table).order_by(*table.primary_key.columns)
        )
        copied = 0
        for batch in result.mappings().partitions(BATCH):
            target.execute(table.insert(), [dict(row) for row in batch])
            copied += len(batch)
            if step is not None:
                step(table.name, copied)
        total += copied
    if target.dialect.name == "postgresql":
        _move_sequences(target)
    return total


def _move_sequences(conn: Connection) -> None:
    """Set each id sequence to the largest copied id (explicit ids do not advance it)."""
    for table in tables():
        ids = [c for c in table.primary_key.columns if c.autoincrement is True or c.name == "id"]
        if len(table.primary_key.columns) != 1 or not ids:
            continue
        column = ids[0].name
        sequence = conn.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column},
        )
        if sequence is None:
            continue
        conn.execute(
            text(
                f'SELECT setval(:sequence, COALESCE(MAX("{column}"), 1), MAX("{column}") IS '
                f'NOT NULL) FROM "{table.name}"'
            ),
            {"sequence": sequence},
        )


def snapshot(engine: Engine, target: Path, step: CopyStep | None = None) -> str:
    """Write a consistent copy of `engine`'s database to the SQLite file `target`; returns how.

    SQLite: the online backup API, page by page, safe while the station writes. PostgreSQL: one
    REPEATABLE READ, READ ONLY transaction (every row as of one moment, without blocking any
    station) copied into a fresh SQLite schema. `pg_dump` was not used: it must match the
    server's major version, is seldom installed on an office PC, and its output restores only
    onto PostgreSQL, never onto a single station's SQLite file.
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database and database != ":memory:"
        with closing(sqlite3.connect(database)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
        return "sqlite-online-backup"
    copy = create_db_engine(f"sqlite:///{target}")
    try:
        with (
            engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ) as source,
            source.begin(),
            copy.begin() as conn,
        ):
            empty_schema(conn)
            copy_rows(source, conn, step)
    finally:
        copy.dispose()
    return "postgresql-repeatable-read"
