"""The restore drill: a station with real photos is backed up, wiped, and restored elsewhere.

The station is built once through the services with the real face engine: the roster, a consent
with its scanned form, reference photos enrolled as templates (Grace Hopper and Eileen Collins
stand in for two children, see tests/scenes.py), an iPad folder imported and vetted, two photos
cleared into the queue, one caption edited and one photo rejected. It is backed up; then its home
and its key folder are deleted, so nothing but the archive survives. Each test restores that
archive onto a new PC — a SQLite home, an empty PostgreSQL database, and from a PostgreSQL
station's own backup onto PostgreSQL and SQLite again — and checks that the audit chain
verifies, every template and form decrypts, every photo and queued picture decodes, and the
register, the photos and the queue are exactly what they were.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from ijs_vetting.db.models import FaceTemplate
from ijs_vetting.domain import Role
from ijs_vetting.imaging.decode import decode_image
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import importing, photos
from ijs_vetting.services.intake.vetting import load_templates, open_encoding
from ijs_vetting.services.posting import clearing, queue, rejecting
from ijs_vetting.services.privacy import audit, backup, restore
from ijs_vetting.services.register import children, consent, forms, roster
from ijs_vetting.services.register import templates as enrolment
from tests import scenes

pytestmark = pytest.mark.slow

PASSPHRASE = "drill passphrase for the office"
ADMIN = Actor("office-admin", Role.ADMIN)
SLT = Actor("head-teacher", Role.SLT)
ROSTER = (
    "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"
    "ASTRO1,Eileen,Collins,Year 6,6C,N,Y\n"
    "NOAH1,Noah,Jones,Year 5,5H,N,N\n"
)


@dataclass(frozen=True)
class Drill:
    archive: Path
    state: dict[str, Any]


def _state(station: Station) -> dict[str, Any]:
    """What the office sees: the register, every photo with its faces, the queue, the log."""
    return {
        "children": [c.as_json() for c in children.list_children(station)],
        "photos": [p.as_json() for p in photos.list_photos(station)],
        "queue": [i.as_json() for i in queue.list_queue(station)],
        "audit": [e.as_json() for e in audit.list_audit(station)],
    }


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    folder = tmp_path_factory.mktemp("drill")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("IJS_VETTING_KEY_DIR", str(folder / "keys"))
        station = open_station(str(folder / "home"), url=f"sqlite:///{folder / 'station.db'}")
        try:
            state = _build(station, folder)
            archive = folder / "school.ijsbackup"
            backup.make_backup(station, ADMIN, archive, PASSPHRASE)
        finally:
            station.close()
    # The office PC dies: its data, database and key folder are gone; the archive is all.
    for lost in ("home", "keys", "station.db", "files"):
        path = folder / lost
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    yield Drill(archive, state)


def _build(station: Station, folder: Path) -> dict[str, Any]:
    files = folder / "files"
    (files / "refs").mkdir(parents=True)
    (files / "DCIM").mkdir()
    (files / "roster.csv").write_text(ROSTER, encoding="utf-8")
    scenes.write_jpeg(files / "refs" / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    scenes.write_jpeg(files / "refs" / "ASTRO1.jpg", scenes.portrait(scenes.ASTRONAUT, 220).pixels)
    group = scenes.group_scene(face_width=170)
    scenes.write_jpeg_with_gps_and_thumbnail(files / "DCIM" / "group.jpg", group.pixels)
    grace = scenes.portrait(scenes.GRACE, 170, margin=1.0)
    scenes.write_jpeg(files / "DCIM" / "grace.jpg", grace.pixels)
    scenes.write_jpeg(files / "DCIM" / "astro.jpg", scenes.portrait(scenes.ASTRONAUT, 170).pixels)
    Image.new("RGB", (600, 840), "white").save(files / "letter.jpg")

    roster.import_roster(station, ADMIN, files / "roster.csv")
    consent.set_consent(station, ADMIN, "NOAH1", "website", True, form=files / "letter.jpg")
    enrolment.enrol_references(station, ADMIN, files / "refs", workers=1)
    importing.import_folder(station, ADMIN, files / "DCIM", workers=1)
    ids = {p.file: p.id for p in photos.list_photos(station)}
    cleared = clearing.clear_photos(
        station, SLT, [ids["group.jpg"], ids["grace.jpg"]], caption="Sports day!", workers=1
    )
    assert len(cleared.cleared) == 2, cleared.refused
    queue.edit_caption(station, SLT, cleared.cleared[1].item_id, "Sports day, Year 5")
    rejecting.reject_photos(station, SLT, [ids["astro.jpg"]], reason="eyes closed")
    state = _state(station)
    assert {q["status"] for q in state["queue"]} == {"queued"}
    assert len(state["photos"]) == 3 and len(_changes(state["audit"])) == 9  # import: start, end
    return state


def _changes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries of what people did (not the station's own: anchoring, first sealing)."""
    return [e for e in entries if e["action"] not in ("audit.anchor", "station.seals_made")]


def _check(station: Station, drill: Drill) -> None:
    """The restored station is the one that was backed up, and every secret opens."""
    report = audit.verify_chain(station, ADMIN)
    assert report.ok, report.reason
    restored = _state(station)
    assert restored["audit"][0]["action"] == "backup.restore"
    # The backup's own entry was written after its snapshot; the drill's second backup (from
    # PostgreSQL) adds its restore entry and backup entry between.
    kept = [e for e in restored["audit"] if not e["action"].startswith("backup.")]
    assert kept == drill.state["audit"]  # the restored anchor is this PC's: no new entry
    for part in ("children", "photos", "queue"):
        assert restored[part] == drill.state[part], part

    with station.read() as session:
        rows = session.execute(
            select(FaceTemplate.id, FaceTemplate.child_id, FaceTemplate.encoding)
        )
        rows = list(rows)
        usable = load_templates(station, session)  # refuses if any template fails to open
    assert {child for _, child, _ in rows} and len(rows) >= 2
    for _, child, sealed in rows:
        assert usable.distance_to(child, open_encoding(station, sealed)) == pytest.approx(0)
    template_ids = [template_id for template_id, _, _ in rows]
    for template_id in template_ids:
        assert enrolment.reference_picture(station, ADMIN, template_id).size > 0
    letter = forms.child_forms(station, ADMIN, "NOAH1")
    assert len(letter) == 1 and forms.form_pages(station, ADMIN, letter[0].id)[0].shape[:2] == (
        840,
        600,
    )
    for photo in restored["photos"]:
        info = photos.get_photo(station, photo["id"])
        picture = decode_image(station.vault.read_bytes(info.sha256)).pixels
        assert picture.shape[:2] == (photo["height"], photo["width"])
    for item in restored["queue"]:
        rendered = queue.get_item(station, item["id"]).image_sha256
        assert rendered is not None
        assert decode_image(station.vault.read_bytes(rendered)).pixels.size > 0


def _restored(
    drill: Drill, archive: Path, home: Path, url: str | None, env: pytest.MonkeyPatch
) -> Station:
    env.setenv("IJS_VETTING_KEY_DIR", str(home.parent / f"{home.name}-keys"))
    report = restore.restore_backup(archive, PASSPHRASE, home=str(home), url=url)
    assert report.vault_files == 8  # 3 originals, 2 renderings, 2 reference photos, 1 form
    station = open_station(str(home), url=url)
    assert station.vault_fault is None  # the restored folder is marked as the register's vault
    return station


def test_restore_drill_on_sqlite(
    drill: Drill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = _restored(drill, drill.archive, tmp_path / "new-pc", None, monkeypatch)
    try:
        _check(station, drill)
    finally:
        station.close()


@pytest.fixture
def second_postgres(postgres_url: str) -> Iterator[str]:
    """Another empty database on the same server, for restoring a PostgreSQL station's backup."""
    name = f"ijs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_restore_drill_sqlite_to_postgres_and_back(
    drill: Drill,
    postgres_url: str,
    second_postgres: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The move to several stations (a SQLite station's backup onto PostgreSQL), then a
    PostgreSQL station's own backup restored onto PostgreSQL and onto SQLite."""
    station = _restored(drill, drill.archive, tmp_path / "server-1", postgres_url, monkeypatch)
    try:
        _check(station, drill)
        made = backup.make_backup(station, ADMIN, tmp_path / "from-pg.ijsbackup", PASSPHRASE)
        assert made.snapshot == "postgresql-repeatable-read"
    finally:
        station.close()
    for home, url in ((tmp_path / "server-2", second_postgres), (tmp_path / "laptop", None)):
        again = _restored(drill, tmp_path / "from-pg.ijsbackup", home, url, monkeypatch)
        try:
            _check(again, drill)
            # New rows get new ids after the copied ones (PostgreSQL's sequences were moved).
            consent.set_consent(again, ADMIN, "GRACE1", "website", True)
            assert audit.verify_chain(again, ADMIN).ok
        finally:
            again.close()
