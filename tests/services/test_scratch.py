"""Children's data worked on for a moment (a face crop being enrolled, reference photos being
checked, the database copy of a backup) stays in the station's private scratch folder, never
in the system temp folder, and what a crash leaves there goes at the next start."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from ijs_vetting.db.models import Photo
from ijs_vetting.scratch import scratch_dir, sweep
from ijs_vetting.services.core.station import Actor, Station, open_station
from ijs_vetting.services.intake import importing
from ijs_vetting.services.register import face_reference, roster, templates
from tests import scenes
from tests.conftest import STAFF
from tests.crashing import run_killed
from tests.grace_school import ROSTER, enrol_grace


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.slow  # the real engine
def test_a_face_crop_killed_mid_enrolment_is_private_and_gone_at_the_next_start(
    sqlite_station: Station, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = enrol_grace(sqlite_station, admin, tmp_path)
    dcim = tmp_path / "DCIM"
    dcim.mkdir()
    scenes.write_jpeg(dcim / "IMG_1.JPG", scenes.portrait(scenes.GRACE, 180, margin=1.0).pixels)
    importing.import_folder(station, STAFF, dcim, workers=1)
    with station.read() as s:
        (face,) = s.scalars(select(Photo)).one().faces
        face_id = face.id
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))

    # Killed once the crop has been checked and enrolled, before its folder is removed.
    run_killed(
        station,
        "after:ijs_vetting.services.register.templates:enrol_references",
        lambda opened: face_reference.add_face_as_reference(opened, admin, face_id),
        tmp_path / "n",
    )
    assert _files(system_temp) == []
    left = _files(station.paths.scratch)  # the crop, and its copy being enrolled
    assert left and all(f.suffix == ".jpg" and f"-face-{face_id}" in f.name for f in left)
    assert (station.paths.scratch.stat().st_mode & 0o077) == 0  # this user's only

    open_station(str(station.paths.home), url=str(station.engine.url)).close()
    assert list(station.paths.scratch.iterdir()) == []


def test_the_sweep_keeps_what_a_running_process_works_on(sqlite_station: Station) -> None:
    """The GUI and a command may share a home: a start removes only the folders of
    processes that are gone."""
    paths = sqlite_station.paths
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    gone = paths.scratch / f"{int(ended.stdout)}-backup-x"
    gone.mkdir(parents=True)
    (gone / "station.db").write_bytes(b"a copy of the register")
    stray = paths.scratch / "not-a-pid"
    stray.write_bytes(b"?")
    with scratch_dir(paths, "enrol") as mine:
        (mine / "face.jpg").write_bytes(b"\xff\xd8")
        assert sorted(sweep(paths)) == sorted([gone, stray])
        assert (mine / "face.jpg").exists()
    assert list(paths.scratch.iterdir()) == []  # and its own goes when the work ends


def test_backup_and_reference_photos_use_no_system_temp(
    sqlite_station: Station, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ijs_vetting.services.privacy import backup

    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    seen: list[list[Path]] = []
    real = templates.enrol_references

    def watching(station: Station, actor: Actor, folder: Path, **kwargs: object) -> object:
        seen.append(_files(folder))
        assert folder.is_relative_to(station.paths.scratch)
        return real(station, actor, folder, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(templates, "enrol_references", watching)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")  # no template yet
    roster.import_roster(sqlite_station, admin, tmp_path / "roster.csv")
    photo = tmp_path / "grace.jpg"
    scenes.write_jpeg(photo, scenes.portrait(scenes.GRACE, 220).pixels)
    templates.enrol_files(sqlite_station, admin, "GRACE1", [photo])
    assert len(seen) == 1 and len(seen[0]) == 1
    backup.make_backup(sqlite_station, admin, tmp_path / "b.ijsbackup", "a passphrase long enough")
    assert _files(system_temp) == [] and list(sqlite_station.paths.scratch.iterdir()) == []
    assert os.path.getsize(tmp_path / "b.ijsbackup") > 0
