"""The schema comes from Alembic migrations, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from ijs_vetting.db.engine import create_db_engine, current_revision, head_revision, upgrade_to_head
from ijs_vetting.db.models import Account, Base, Channel
from ijs_vetting.services.station import Station


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
