"""Several stations on one register: the shared vault's marker, station names in the audit log,
and the change counter every station's GUI polls.

Two stations here are two homes on one database (SQLite file, and PostgreSQL when a server is
given), in one process; the races between real processes are in test_station_races.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ijs_vetting.config import write_station_file
from ijs_vetting.db import audit_log
from ijs_vetting.db.models import AuditEntry, Device, Photo
from ijs_vetting.domain import PhotoStatus, ServiceError
from ijs_vetting.services.core import changes
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import devices, importing
from ijs_vetting.services.intake.vetting import vet_pending
from ijs_vetting.services.privacy import audit
from ijs_vetting.vault import MARKER, VaultUnavailable, read_marker, write_marker
from tests import privacy_world


def _pending_photos(station: Station, count: int) -> list[int]:
    """Photos imported on `station` and not yet vetted (its worker is still busy, say)."""
    return [privacy_world.add_photo(station, [], status=PhotoStatus.PENDING) for _ in range(count)]


def _statuses(station: Station) -> set[PhotoStatus]:
    with station.read() as s:
        return set(s.scalars(select(Photo.status)))


def test_a_station_without_the_registers_vault_refuses_to_vet_and_fails_no_photo(
    station: Station, admin: Actor, db_url: str, tmp_path: Path
) -> None:
    """The report of issue 16: the second station, with a vault of its own, marked the first
    station's pending photos `failed` ("No such file")."""
    _pending_photos(station, 15)
    second = open_station(str(tmp_path / "second-home"), url=db_url)
    try:
        assert second.vault_fault is not None and "not this register's vault" in second.vault_fault
        with pytest.raises(VaultUnavailable) as refused:
            vet_pending(second, admin)
        assert "\n" not in str(refused.value)
        assert "cannot vet, clear or export" in str(refused.value)
        assert _statuses(station) == {PhotoStatus.PENDING}
    finally:
        second.close()


def test_another_registers_vault_is_refused_and_never_swept(
    station: Station, admin: Actor, db_url: str, tmp_path: Path
) -> None:
    other = tmp_path / "other-vault"
    write_marker(other, "0123456789abcdef")
    (other / "ab").mkdir()
    (other / "ab" / "cdef").write_bytes(b"another school's photo")
    second = open_station(str(tmp_path / "second-home"), url=db_url, vault=str(other))
    try:
        assert second.vault_fault is not None and "another register" in second.vault_fault
        with pytest.raises(VaultUnavailable):
            importing.import_folder(second, admin, tmp_path)
        assert read_marker(other) == "0123456789abcdef"
        assert (other / "ab" / "cdef").exists()
    finally:
        second.close()


def test_stations_sharing_a_vault_folder_read_each_others_files(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "share" / "ijs-vault"
    first = open_station(str(tmp_path / "office"), url=db_url, vault=str(shared))
    # The second PC keeps the vault as its own setting (what `--vault DIR station join` writes).
    write_station_file(tmp_path / "head", vault=str(shared), name="HEAD-PC")
    second = open_station(str(tmp_path / "head"), url=db_url)
    try:
        assert read_marker(shared) is not None
        assert first.vault_fault is None and second.vault_fault is None
        assert second.paths.vault == shared and second.name == "HEAD-PC"
        sha = first.vault.put_bytes(b"an original imported in the office")
        assert second.vault.read_bytes(sha) == b"an original imported in the office"
        # The same bytes written again from the other station: harmless, the same file.
        assert second.vault.put_bytes(b"an original imported in the office") == sha
        # The environment wins over the station's setting.
        monkeypatch.setenv("IJS_VETTING_VAULT", str(tmp_path / "elsewhere"))
        third = open_station(str(tmp_path / "head"), url=db_url)
        assert third.paths.vault == tmp_path / "elsewhere" and third.vault_fault is not None
        assert not (tmp_path / "elsewhere").exists()  # a missing share is not made empty
        third.close()
    finally:
        first.close()
        second.close()


def test_a_vault_that_goes_away_is_refused_not_blamed_on_the_photos(
    station: Station, admin: Actor, db_url: str, tmp_path: Path
) -> None:
    """A network share that drops while the station runs: every file is missing at once."""
    _pending_photos(station, 3)
    shutil.move(station.paths.vault, tmp_path / "unmounted")
    with pytest.raises(VaultUnavailable) as refused:
        vet_pending(station, admin)
    assert "cannot be found" in str(refused.value)
    assert _statuses(station) == {PhotoStatus.PENDING}
    shutil.move(tmp_path / "unmounted", station.paths.vault)  # the share is back
    assert station.vault_fault is None


def test_a_vault_file_missing_from_a_present_vault_is_still_that_photos_fault(
    sqlite_station: Station,
    admin: Actor,
) -> None:
    station = sqlite_station
    (photo_id,) = _pending_photos(station, 1)
    with station.read() as s:
        sha = s.get_one(Photo, photo_id).sha256
    station.vault.remove(sha)
    assert (station.paths.vault / MARKER).exists()
    report = vet_pending(station, admin, workers=1)
    assert report.failed and "missing from the vault" in report.failed[0][1]


def test_every_audit_entry_names_its_station_and_the_chain_still_verifies(
    station: Station, admin: Actor, db_url: str, tmp_path: Path
) -> None:
    write_station_file(tmp_path / "second-home", name="DEPUTY-LAPTOP")
    second = open_station(str(tmp_path / "second-home"), url=db_url)
    try:
        devices.add_device(station, admin, "Office iPad", "Apple", "iPad")
        devices.add_device(second, admin, "Deputy iPad", "Apple", "iPad Air")
        with station.read() as s:
            rows = s.execute(
                select(AuditEntry.action, AuditEntry.station, AuditEntry.target_id).where(
                    AuditEntry.action == "device.add"
                )
            ).all()
        assert sorted((r.target_id, r.station) for r in rows) == [
            ("Deputy iPad", "DEPUTY-LAPTOP"),
            ("Office iPad", station.name),
        ]
        listed = audit.list_audit(station, action="device", reader=admin)
        assert {e.station for e in listed} == {"DEPUTY-LAPTOP", station.name}
        assert audit.verify_chain(station, admin).ok
        # The station's name is part of what the chain protects.
        with station.sessions.begin() as s:
            entry = s.scalars(select(AuditEntry).where(AuditEntry.station == "DEPUTY-LAPTOP")).one()
            entry.station = "OFFICE-PC"
        report = audit.verify_chain(station, admin)
        assert not report.ok and report.reason == "this entry was edited"
    finally:
        second.close()


def test_the_change_counter_tells_another_stations_writes_from_its_own(
    station: Station, admin: Actor, db_url: str, tmp_path: Path
) -> None:
    second = open_station(str(tmp_path / "second-home"), url=db_url)
    try:
        start = changes.change_mark(station)
        devices.add_device(station, admin, "Office iPad", "Apple", "iPad")
        mine = changes.change_mark(station)
        assert mine.counter > start.counter and not changes.changed_elsewhere(start, mine)
        devices.add_device(second, admin, "Deputy iPad", "Apple", "iPad Air")
        assert changes.changed_elsewhere(mine, changes.change_mark(station))
    finally:
        second.close()


@pytest.mark.postgres
def test_a_write_waiting_too_long_for_another_stations_turn_says_the_database_is_busy(
    postgres_url: str, tmp_path: Path, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL writers take turns: while another station's write holds the turn, this one
    waits, and after the wait limit gives up with the plain busy message, changing nothing."""
    first = open_station(str(tmp_path / "office"), url=postgres_url)
    second = open_station(str(tmp_path / "deputy"), url=postgres_url)
    monkeypatch.setattr(audit_log, "WRITE_WAIT_SECONDS", 1)
    try:
        with first.transaction() as held:  # the other station's write, still open
            devices_before = held.scalar(select(func.count(Device.id)))
            with pytest.raises(ServiceError, match="The database is busy"):
                devices.add_device(second, admin, "Deputy iPad", "Apple", "iPad Air")
        with second.read() as s:
            assert s.scalar(select(func.count(Device.id))) == devices_before == 0
    finally:
        first.close()
        second.close()
