"""Shared fixtures: a fresh station per test on SQLite and, when a server is given, PostgreSQL.

`IJS_TEST_POSTGRES_URL` names a PostgreSQL server (`make test` starts one); every test that asks
for `station` then runs twice, once per backend, each time on a brand-new database. Without a
server the PostgreSQL half is skipped — except in CI, where a missing server is a failure.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Station keys from fixtures wider than one test go here, never to the developer's real folder.
os.environ["IJS_VETTING_KEY_DIR"] = tempfile.mkdtemp(prefix="ijs-test-keys-")

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ijs_vetting.domain import Role
from ijs_vetting.services.core.station import Actor, Station, open_station

POSTGRES_ENV = "IJS_TEST_POSTGRES_URL"
TEST_PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may touch the developer's real data folder or database."""
    monkeypatch.setenv("IJS_VETTING_HOME", str(tmp_path / "default-home"))
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("IJS_VETTING_DB", raising=False)
    monkeypatch.setenv("IJS_VETTING_USER", "office-admin")
    monkeypatch.setenv("IJS_VETTING_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("IJS_VETTING_NEW_PASSWORD", TEST_PASSWORD)


def _postgres_server() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must run the database tests on PostgreSQL")
        pytest.skip(f"no PostgreSQL server ({POSTGRES_ENV} unset); run 'make test' to start one")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    server = _postgres_server()
    assert server is not None
    name = f"ijs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'station.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def station(db_url: str, tmp_path: Path) -> Iterator[Station]:
    """A freshly created station (schema at head, seeds in place) on each backend."""
    opened = open_station(str(tmp_path / "home"), url=db_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_station(tmp_path: Path) -> Iterator[Station]:
    """A SQLite-only station, for tests about the fronts rather than the database."""
    opened = open_station(str(tmp_path / "home"), url=f"sqlite:///{tmp_path / 'station.db'}")
    yield opened
    opened.close()


ADMIN = Actor("office-admin", Role.ADMIN)
SLT = Actor("head-teacher", Role.SLT)
STAFF = Actor("teacher", Role.STAFF)


@pytest.fixture
def admin() -> Actor:
    return ADMIN


@pytest.fixture
def slt() -> Actor:
    return SLT


@pytest.fixture
def staff() -> Actor:
    return STAFF


ROSTER_SIMS = (
    "UPN,Legal Forename,Preferred Forename,Legal Surname,Year,Reg,"
    "Photo consent - Twitter,Website,Biometric consent,Notes\n"
    "A123,Amelia,Millie,Smith,Year 3,3S,Y,Yes,Y,likes art\n"
    "B456,Noah,,Jones,4,4J,N,,N,\n"
    "C789,Zoë,,Brown,R,RB,1,0,,\n"
)


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    """A small SIMS-style roster, UTF-8, three children in Reception, Year 3 and Year 4."""
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER_SIMS, encoding="utf-8")
    return path
