"""Opening the database: engine options per backend, schema upgrade on start, backups.

SQLite is the single-station default. It runs in WAL mode with a busy timeout so the GUI's
background writer and a CLI run at the same time wait for each other instead of failing with
"database is locked"; foreign keys are switched on (SQLite leaves them off by default).
"""

from __future__ import annotations

import ast
import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from ijs_vetting.db.types import utcnow

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_SECONDS: float = 15
# Any constant (another than the audit chain's): PostgreSQL's lock for upgrading the schema.
_UPGRADE_LOCK = 7_241_916


def create_db_engine(url: str) -> Engine:
    """An engine for `url` with the per-backend settings the station relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, json_serializer=stored_json
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=stored_json)


def stored_json(value: Any) -> str:
    """JSON columns as the audit chain hashes details (sorted keys, no spaces): both backends
    keep the text as written (PostgreSQL's `json`, not `jsonb`), so walking the chain hashes an
    entry's stored details as they are instead of decoding and encoding them again
    (`audit_chain.stored_hash`). A value whose keys cannot be sorted is stored as it comes."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by `_sqlite_begin`, not lazily by the driver at the first write:
    # a read-then-write must see one snapshot, or a concurrent change is silently overwritten.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted or rewritten rows (withdrawn templates, sealed legacy data) are zeroed on disk,
    # not left in free pages where a copy of the file would still show them.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.close()


IMMEDIATE = {"sqlite_immediate": True}  # execution option for write transactions


def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE for writes (they queue for the lock up front instead of failing on a
    stale snapshot half-way), plain BEGIN for reads (a consistent snapshot, no lock)."""
    immediate = conn.get_execution_options().get("sqlite_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=]*=\s*(.+?)\s*$", re.MULTILINE)


def head_revision() -> str:
    """The newest migration, read from the migration files' `revision` lines: every command
    checks the schema on start, and importing Alembic for it cost over a second. The head is
    the one revision no other names as its `down_revision`; anything unusual (several heads)
    is left to Alembic, which explains it."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        parents.update([down] if isinstance(down, str) else down or ())
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None before the first migration), read directly from
    Alembic's one-row table."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(engine: Engine, backups: Path | None = None) -> bool:
    """Create or upgrade the schema to the newest migration; True if anything ran.

    An existing SQLite file is copied to `backups` first (with SQLite's online backup, which is
    safe while another process has the file open), so a failed migration never costs data.
    """
    if current_revision(engine) == head_revision():
        return False  # most starts: no lock taken
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    cfg = alembic_config()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Two stations starting on one new database would both create the schema (and one
            # fail half-way); the second waits here, then finds the work done.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head_revision():
            return False
        if current is not None and backups is not None:
            _backup_sqlite(engine, backups, current)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    log.info("database upgraded from %s to %s", current, head_revision())
    return True


def _backup_sqlite(engine: Engine, backups: Path, revision: str) -> None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    backups.mkdir(parents=True, exist_ok=True)
    target = backups / f"station-{revision}-{utcnow():%Y%m%dT%H%M%S}.db"
    with sqlite3.connect(database) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    log.info("backed up %s to %s before migrating", database, target)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
