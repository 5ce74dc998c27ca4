"""The schema comes from Alembic migrations, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import inspect, select

from ijs_vetting.audit_chain import verify
from ijs_vetting.config import StationPaths
from ijs_vetting.crypto import Sealer
from ijs_vetting.db.audit_log import chain_rows
from ijs_vetting.db.engine import create_db_engine, current_revision, head_revision, upgrade_to_head
from ijs_vetting.db.models import Account, Base, Channel
from ijs_vetting.services import children
from ijs_vetting.services.station import Station, seal_legacy_records

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
