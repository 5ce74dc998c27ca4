"""Fixtures for the tamper tests: a sealed school, and someone with the database but no key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from ijs_vetting.services.core import legacy_seals
from ijs_vetting.services.core.station import Actor, Station, open_station
from tests.privacy_world import add_template, school


@pytest.fixture
def sealed_world(station: Station, admin: Actor, tmp_path: Path) -> Station:
    """The privacy world's school, with a reference template for A123."""
    school(station, admin, tmp_path)
    add_template(station, "A123")
    return station


@pytest.fixture
def unrecorded_world(
    db_url: str, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Station]:
    """The sealed school as a release before this one left it: its chain never said that the
    rows from before seals were sealed (`legacy_seals.SEALING_ACTION`)."""
    with monkeypatch.context() as before:
        before.setattr(legacy_seals, "_record_sealing", lambda _session, _done: None)
        opened = open_station(str(tmp_path / "old-home"), url=db_url)
    school(opened, admin, tmp_path)
    add_template(opened, "A123")
    yield opened
    opened.close()


@pytest.fixture
def attacker(db_url: str) -> Iterator[Engine]:
    """Someone with the database but not the key folder: their own connection, no station."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
