"""The schema comes from Alembic migrations, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, func, inspect, select, text

from ijs_vetting.audit_chain import verify
from ijs_vetting.config import StationPaths
from ijs_vetting.crypto import Sealer
from ijs_vetting.db.audit_log import chain_rows
from ijs_vetting.db.engine import (
    alembic_config,
    create_db_engine,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from ijs_vetting.db.models import (
    Account,
    Base,
    Channel,
    PostingEntry,
    PostingFolder,
    QueueItemChild,
)
from ijs_vetting.services.core.legacy_seals import seal_legacy_records
from ijs_vetting.services.core.station import Station
from ijs_vetting.services.register import children

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_empty_database_upgrades_to_head(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        assert current_revision(engine) is None
        assert upgrade_to_head(engine) is True
        assert current_revision(engine) == head_revision()
        assert upgrade_to_head(engine) is False  # a second start migrates nothing
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_migrations_match_the_models(station: Station) -> None:
    """Autogenerate finds nothing to do: nobody changed a model without a migration."""
    with station.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_seeded_accounts_and_channels(station: Station) -> None:
    with station.read() as session:
        accounts = {
            a.handle: [y.year_group for y in a.year_groups]
            for a in session.scalars(select(Account))
        }
        channels = list(session.scalars(select(Channel.code).order_by(Channel.sort_order)))
    assert accounts == {"@year3ijs": [3], "@Year4IJS": [4], "@Year5IJS": [5], "@Year6IJS": [6]}
    assert channels == ["twitter", "website", "newsletter", "press"]


def test_a_real_station_from_the_first_release_upgrades_with_a_backup(tmp_path: Path) -> None:
    """tests/fixtures/station-0001.db was written by revision 0001 with a child and consent."""
    db = tmp_path / "station.db"
    shutil.copy(FIXTURES / "station-0001.db", db)
    backups = tmp_path / "backups"
    engine = create_db_engine(f"sqlite:///{db}")
    try:
        assert current_revision(engine) == "0001"
        assert upgrade_to_head(engine, backups) is True
        assert current_revision(engine) == head_revision()
        station = Station(StationPaths(tmp_path), engine, Sealer(AESGCM.generate_key(256)))
        seal_legacy_records(station)  # the first start seals the records the migration kept
        (child,) = children.list_children(station)
        assert (child.mis_id, child.display_name, child.consents["twitter"]) == (
            "A123",
            "Millie Smith",
            True,
        )
        assert child.biometric.templates_allowed
        with station.read() as session:  # entries from before the chain were chained
            assert verify(chain_rows(session)).ok
        (backup,) = backups.iterdir()
        assert backup.name.startswith("station-0001-")
        with sqlite3.connect(backup) as old:
            assert old.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    finally:
        engine.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_export_folders_recorded_on_items_become_the_outbox(db_url: str) -> None:
    """0007_outbox: each folder in `queue_items.export_dir` becomes a posting folder, unsettled
    (the first start removes what withdrawn items left there), and each item still exported
    there an entry; going back down puts the lines back."""
    engine = create_db_engine(db_url)
    try:
        _migrate(engine, "0006")
        rows = [(1, "exported", "/x/out\n/x/usb"), (2, "withdrawn", "/x/out"), (3, "queued", None)]
        with engine.begin() as conn:
            account = conn.execute(text("SELECT id FROM accounts LIMIT 1")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO children (id, mis_id, first_name, last_name, year_group, "
                    "class_name, on_roll, created_at, updated_at) VALUES "
                    "(1, 'A1', 'Amy', 'Bell', 5, '', true, '2026-01-01', '2026-01-01')"
                )
            )
            for item, status, folders in rows:
                conn.execute(
                    text(
                        "INSERT INTO queue_items (id, account_id, caption, blurred_faces, "
                        "status, cleared_by, cleared_at, export_dir) VALUES "
                        "(:id, :account, '', 0, :status, 'head', '2026-01-01', :folders)"
                    ),
                    {"id": item, "account": account, "status": status, "folders": folders},
                )
                conn.execute(
                    text(
                        "INSERT INTO queue_item_children (item_id, child_id, shown, by_reviewer) "
                        "VALUES (:id, 1, true, false)"
                    ),
                    {"id": item},
                )
        upgrade_to_head(engine)
        with engine.connect() as conn:
            folders = conn.execute(
                select(PostingFolder.path, PostingFolder.unsettled).order_by(PostingFolder.path)
            ).all()
            entries = conn.execute(
                select(PostingEntry.item_id, PostingEntry.written).order_by(PostingEntry.folder_id)
            ).all()
            assert conn.execute(select(func.count()).select_from(QueueItemChild)).scalar() == 3
        assert [tuple(f) for f in folders] == [("/x/out", True), ("/x/usb", True)]
        assert [tuple(e) for e in entries] == [(1, True), (1, True)]
        _migrate(engine, "0006", down=True)
        with engine.connect() as conn:
            back = conn.execute(text("SELECT id, export_dir FROM queue_items ORDER BY id")).all()
        assert [tuple(r) for r in back] == [(1, "/x/out\n/x/usb"), (2, None), (3, None)]
    finally:
        engine.dispose()


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    """Commands read the head without importing Alembic (issue 15); it must be Alembic's."""
    from alembic.script import ScriptDirectory

    from ijs_vetting.db.engine import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
