"""`backup`, `restore` and `key export` from the command line: the archive, its checks, refusals
that leave the target untouched, the folder that keeps the last N, and the reminder. SQLite here;
the restore drill (tests/services/test_restore_drill.py) covers PostgreSQL and real photos."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, inspect

from ijs_vetting.cli import main
from ijs_vetting.db.types import utcnow
from ijs_vetting.domain import PermissionDenied, QueueStatus, Role
from ijs_vetting.key_wrap import unwrap_key
from ijs_vetting.progress import Cancelled, Progress
from ijs_vetting.services.core.station import Actor, open_station
from ijs_vetting.services.core.station_key import station_key_info
from ijs_vetting.services.privacy import backup
from ijs_vetting.services.register import forms
from tests.privacy_world import ROSTER, Face, add_item, add_photo, add_template

PASSPHRASE = "four words for the office"
ADMIN = Actor("office-admin", Role.ADMIN)


class Cli:
    def __init__(
        self, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.home, self.capsys, self.monkeypatch = home, capsys, monkeypatch

    def __call__(self, *args: str, home: Path | None = None) -> tuple[int, str, str]:
        code = main(["--home", str(home or self.home), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str, home: Path | None = None) -> Any:
        code, out, err = self(*args, "--json", home=home)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A station with the roster, a consent form, a template and a queued photo."""
    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", PASSPHRASE)
    runner = Cli(tmp_path / "home", capsys, monkeypatch)
    runner.json("init", "--admin", "office-admin")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    runner.json("roster", "import", str(tmp_path / "roster.csv"))
    Image.new("RGB", (300, 420), "white").save(tmp_path / "form.jpg")  # a scanned letter
    runner.json("consent", "set", "A123", "website", "yes", "--form", str(tmp_path / "form.jpg"))
    station = open_station(str(runner.home))
    try:
        add_template(station, "A123")
        photo = add_photo(station, [Face("A123"), Face("B456")])
        add_item(station, photo, status=QueueStatus.QUEUED)
    finally:
        station.close()
    return runner


def _fresh_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> Path:
    """A new PC: a home and a key folder that never existed."""
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / f"{name}-keys"))
    return tmp_path / name


def _untouched(home: Path, tmp_path: Path, name: str) -> None:
    """No database, vault or key was made; only the log of the refusal is there (and the
    empty private folder the archive's database was checked in)."""
    assert not home.exists() or {p.name for p in home.iterdir()} <= {"logs", "scratch"}
    assert not (home / "scratch").exists() or list((home / "scratch").iterdir()) == []
    assert not (tmp_path / f"{name}-keys").exists()


def test_backup_wipe_restore_on_a_fresh_home(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {
        "children": cli.json("children", "list"),
        "photos": cli.json("photos", "list"),
        "queue": cli.json("queue", "list"),
        "audit": cli.json("audit")["entries"],
    }
    made = cli.json("backup", str(tmp_path / "school.ijsbackup"))
    assert made["snapshot"] == "sqlite-online-backup"
    assert made["vault_files"] == 4  # original, rendering, form, reference photo
    assert made["tables"]["children"] == 3 and made["vault_missing"] == []
    archive = zipfile.ZipFile(tmp_path / "school.ijsbackup")
    names = set(archive.namelist())
    assert {"manifest.json", "manifest.mac", "database/station.db"} <= names
    assert {"key/station-key.json", "audit/anchor.json"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["files"]) == names - {"manifest.json", "manifest.mac"}
    # The key travels only wrapped: the raw key's base64 is nowhere in the archive.
    raw_key = next((tmp_path / "keys").glob("*.key")).read_bytes().strip()
    assert all(raw_key not in archive.read(n) for n in names)

    shutil.rmtree(cli.home)  # the office PC dies: data and key folder both gone
    shutil.rmtree(tmp_path / "keys")
    target = _fresh_target(monkeypatch, tmp_path, "new-pc")
    restored = cli.json("restore", str(tmp_path / "school.ijsbackup"), home=target)
    assert restored["target_backend"] == "sqlite" and restored["replaced"] is False
    assert restored["vault_files"] == 4 and restored["audit_entries"] == len(before["audit"])
    assert restored["key_installed"] is True

    assert cli.json("audit", "verify", home=target)["ok"] is True
    assert cli.json("children", "list", home=target) == before["children"]
    assert cli.json("photos", "list", home=target) == before["photos"]
    assert cli.json("queue", "list", home=target) == before["queue"]
    entries = cli.json("audit", home=target)["entries"]
    assert entries[0]["action"] == "backup.restore"  # the restore is on the record
    assert entries[1:] == before["audit"]  # the backup's own entry came after its snapshot
    station = open_station(str(target))
    try:
        form = forms.child_forms(station, ADMIN, "A123")[0]
        assert forms.form_pages(station, ADMIN, form.id)  # decrypts with the restored key
    finally:
        station.close()


def _flipped(source: Path, target: Path, member: str) -> None:
    """A copy of the archive with one byte flipped in the middle of `member`'s stored data."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(member)
    at = info.header_offset  # the local header: 30 bytes, then the name and the extra field
    name = int.from_bytes(data[at + 26 : at + 28], "little")
    extra = int.from_bytes(data[at + 28 : at + 30], "little")
    start = at + 30 + name + extra
    data[start + info.compress_size // 2] ^= 0x01
    target.write_bytes(bytes(data))


def test_a_damaged_archive_is_refused_and_the_target_untouched(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "good.ijsbackup"
    cli.json("backup", str(good))
    with zipfile.ZipFile(good) as archive:
        members = archive.namelist()
    assert len(members) == 9  # database, 4 vault files, key, anchor, manifest and its MAC
    for number, member in enumerate(members):
        bad = tmp_path / f"bad-{number}.ijsbackup"
        _flipped(good, bad, member)
        target = _fresh_target(monkeypatch, tmp_path, f"pc-{number}")
        code, _, err = cli("restore", str(bad), home=target)
        assert code == 1, member
        assert err.count("\n") == 1 and "damaged" in err and "nothing was restored" in err, err
        _untouched(target, tmp_path, f"pc-{number}")


def test_an_archive_rebuilt_with_matching_hashes_is_refused(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever edits a file and its hash in the manifest cannot make the manifest's MAC."""
    good = tmp_path / "good.ijsbackup"
    cli.json("backup", str(good))
    forged = tmp_path / "forged.ijsbackup"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(forged, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        photo = next(n for n in manifest["files"] if n.startswith("vault/"))
        swapped = b"\xff\xd8\xff a stranger's face"
        manifest["files"][photo] = {"sha256": hashlib.sha256(swapped).hexdigest(), "size": 20}
        for name in src.namelist():
            if name == "manifest.json":
                dst.writestr(name, json.dumps(manifest))
            elif name == photo:
                dst.writestr(name, swapped)
            else:
                dst.writestr(name, src.read(name))
    target = _fresh_target(monkeypatch, tmp_path, "pc")
    code, _, err = cli("restore", str(forged), home=target)
    assert code == 1 and "was changed" in err and err.count("\n") == 1
    _untouched(target, tmp_path, "pc")


def test_a_wrong_passphrase_is_refused_and_the_target_untouched(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.json("backup", str(tmp_path / "school.ijsbackup"))
    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", "not the passphrase at all")
    target = _fresh_target(monkeypatch, tmp_path, "pc")
    code, _, err = cli("restore", str(tmp_path / "school.ijsbackup"), home=target)
    assert code == 1
    assert err == (
        "ijs-vetting: The passphrase is wrong for the backup school.ijsbackup (or its key was "
        "changed); nothing was restored.\n"
    )
    _untouched(target, tmp_path, "pc")


def test_a_short_passphrase_is_refused_before_anything_is_written(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", "short")
    code, _, err = cli("backup", str(tmp_path / "school.ijsbackup"))
    assert code == 1 and "at least 10 characters" in err
    assert list(tmp_path.glob("*school*")) == []


def test_restoring_over_a_register_needs_force_and_keeps_the_old_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.json("backup", str(tmp_path / "school.ijsbackup"))
    cli.json("consent", "set", "B456", "website", "yes")  # a change after the backup
    code, _, err = cli("restore", str(tmp_path / "school.ijsbackup"))
    assert code == 1 and "already holds a register (3 children" in err and "--force" in err
    assert cli.json("audit", "verify")["ok"] is True  # untouched

    restored = cli.json("restore", "--force", str(tmp_path / "school.ijsbackup"))
    assert restored["replaced"] is True
    kept = Path(restored["previous_database"])
    assert kept.parent == cli.home / "backups" and kept.stat().st_size > 0
    assert restored["previous_anchor"] is not None  # the newer chain's anchor, moved aside
    assert cli.json("audit", "verify")["ok"] is True
    children = {c["id"]: c for c in cli.json("children", "list")["children"]}
    assert children["B456"]["consents"]["website"] is None  # as it was when backed up


def test_backup_to_a_folder_keeps_the_newest(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "usb"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"not ours")
    made = [cli.json("backup", "--to-folder", str(folder), "--keep", "2") for _ in range(3)]
    kept = sorted(p.name for p in folder.glob("*.ijsbackup"))
    assert kept == sorted(Path(m["file"]).name for m in made[1:])
    assert made[2]["deleted"] == [Path(made[0]["file"]).name]
    assert (folder / "holiday.jpg").exists()  # only its own archives are ever deleted

    cli.json("settings", "set", "backup.folder", str(folder))
    cli.json("settings", "set", "backup.keep", "1")
    latest = cli.json("backup")
    assert Path(latest["file"]).parent == folder
    assert [p.name for p in folder.glob("*.ijsbackup")] == [Path(latest["file"]).name]


def test_key_export_is_for_admins_and_audited(cli: Cli, tmp_path: Path) -> None:
    cli.json("users", "add", "teacher", "--role", "staff")
    cli.monkeypatch.setenv("IJS_VETTING_USER", "teacher")
    code, _, err = cli("key", "export", str(tmp_path / "k.json"))
    assert code == 1 and "Only an admin can export the station key" in err
    assert not (tmp_path / "k.json").exists()
    cli.monkeypatch.setenv("IJS_VETTING_USER", "office-admin")
    result = cli.json("key", "export", str(tmp_path / "k.json"))
    station = open_station(str(cli.home))
    try:
        fingerprint = station_key_info(station).fingerprint
    finally:
        station.close()
    assert result == {"file": str(tmp_path / "k.json"), "fingerprint": fingerprint}
    assert unwrap_key((tmp_path / "k.json").read_bytes(), PASSPHRASE).fingerprint == fingerprint
    actions = [e["action"] for e in cli.json("audit", "--action", "key.export")["entries"]]
    assert actions == ["key.export", "key.export"]  # the export and the refusal before it


def test_the_reminder_follows_backup_remind_days(cli: Cli, tmp_path: Path) -> None:
    station = open_station(str(cli.home))
    try:
        assert "never been backed up" in (backup.backup_reminder(station) or "")
        with pytest.raises(PermissionDenied):
            backup.make_backup(
                station, Actor("teacher", Role.STAFF), tmp_path / "x.ijsbackup", PASSPHRASE
            )
        backup.make_backup(station, ADMIN, tmp_path / "x.ijsbackup", PASSPHRASE)
        assert backup.backup_reminder(station) is None
        later = utcnow() + timedelta(days=8)
        assert "was last backed up" in (backup.backup_reminder(station, later) or "")
        assert backup.backup_reminder(station, utcnow() + timedelta(days=6)) is None
    finally:
        station.close()


def test_a_register_edited_outside_the_station_is_not_restored(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup copies the register as it is; the restore checks its audit chain first."""
    with sqlite3.connect(cli.home / "station.db") as db:
        db.execute("UPDATE audit_entries SET summary = 'nothing happened' WHERE id = 2")
    cli.json("backup", str(tmp_path / "school.ijsbackup"))
    target = _fresh_target(monkeypatch, tmp_path, "pc")
    code, _, err = cli("restore", str(tmp_path / "school.ijsbackup"), home=target)
    assert code == 1 and err.count("\n") == 1
    assert "audit chain does not verify (this entry was edited)" in err
    _untouched(target, tmp_path, "pc")


@pytest.mark.postgres
def test_refusals_leave_an_empty_postgresql_database_empty(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    good = tmp_path / "good.ijsbackup"
    cli.json("backup", str(good))
    _flipped(good, tmp_path / "bad.ijsbackup", "database/station.db")
    monkeypatch.setenv("IJS_VETTING_DB", postgres_url)
    target = _fresh_target(monkeypatch, tmp_path, "server")
    code, _, err = cli("restore", str(tmp_path / "bad.ijsbackup"), home=target)
    assert code == 1 and "damaged" in err
    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", "not the passphrase at all")
    code, _, err = cli("restore", str(good), home=target)
    assert code == 1 and "passphrase is wrong" in err
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()
    _untouched(target, tmp_path, "server")

    monkeypatch.setenv("IJS_VETTING_BACKUP_PASSPHRASE", PASSPHRASE)
    restored = cli.json("restore", str(good), home=target)
    assert restored["target_backend"] == "postgresql" and restored["tables"]["children"] == 3
    assert cli.json("audit", "verify", home=target)["ok"] is True


@pytest.mark.postgres
def test_restoring_over_a_postgresql_register_keeps_it_as_an_archive(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    """Rows overwritten in place leave no file to keep: the replaced register is backed up
    (same passphrase) into the home's backups folder first, and that archive restores."""
    good = tmp_path / "good.ijsbackup"
    cli.json("backup", str(good))
    monkeypatch.setenv("IJS_VETTING_DB", postgres_url)
    server = _fresh_target(monkeypatch, tmp_path, "server")
    cli.json("restore", str(good), home=server)
    cli.json("consent", "set", "B456", "website", "yes", home=server)  # a change after it

    restored = cli.json("restore", "--force", str(good), home=server)
    assert restored["replaced"] is True
    kept = Path(restored["previous_database"])
    assert kept.parent == server / "backups" and kept.suffix == ".ijsbackup"
    children = {c["id"]: c for c in cli.json("children", "list", home=server)["children"]}
    assert children["B456"]["consents"]["website"] is None  # as it was when backed up

    monkeypatch.delenv("IJS_VETTING_DB")
    elsewhere = _fresh_target(monkeypatch, tmp_path, "undo")
    cli.json("restore", str(kept), home=elsewhere)
    children = {c["id"]: c for c in cli.json("children", "list", home=elsewhere)["children"]}
    assert children["B456"]["consents"]["website"] is True  # the replaced register, whole
    assert cli.json("audit", "verify", home=elsewhere)["ok"] is True


def test_a_cancelled_backup_leaves_no_file_and_no_record(cli: Cli, tmp_path: Path) -> None:
    station = open_station(str(cli.home))
    try:
        progress = Progress()
        progress.cancel()
        with pytest.raises(Cancelled):
            backup.make_backup(station, ADMIN, tmp_path / "x.ijsbackup", PASSPHRASE, progress)
        assert list(tmp_path.glob("*x.ijsbackup*")) == []  # not even the temporary file
        assert backup.last_backup(station) is None
    finally:
        station.close()
