"""Every vault file is checked when it is read: an altered original is never rendered or queued,
a missing one is named as missing, and importing the same file again puts it back.

Grace Hopper (GRACE1, Twitter consent, enrolled) is the one child; her photo is vetted `ready`
by the real engine on a real database before each test changes the vault behind its back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ijs_vetting.db.models import Form, Photo, QueueItem
from ijs_vetting.domain import PhotoStatus
from ijs_vetting.faces.rendering_check import CheckRequest, check_rendering
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import importing, photos
from ijs_vetting.services.intake.vetting import vet_pending
from ijs_vetting.services.posting import clearing
from ijs_vetting.services.register import consent, roster
from ijs_vetting.services.register import templates as enrolment
from ijs_vetting.vault import VaultFileAltered, VaultFileMissing
from tests import scenes

pytestmark = pytest.mark.slow

ROSTER = "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\nGRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vault-files")
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (root / "references").mkdir()
    scenes.write_jpeg(root / "references" / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    (root / "DCIM").mkdir()
    grace = scenes.portrait(scenes.GRACE, 170, margin=1.0).pixels
    scenes.write_jpeg(root / "DCIM" / "grace.jpg", grace)
    # the same framing with another face: what an attacker would paste into Grace's photo
    scenes.write_jpeg(
        root / "stranger.jpg", scenes.portrait(scenes.ASTRONAUT, 170, margin=1.0).pixels
    )
    # Grace's photo with something added far from her face: it would pass every face check
    doctored = grace.copy()
    doctored[-40:, :60] = (0, 0, 0)
    scenes.write_jpeg(root / "doctored.jpg", doctored)
    return root


def _ready_photo(station: Station, admin: Actor, folder: Path) -> Photo:
    roster.import_roster(station, admin, folder / "roster.csv")
    enrolment.enrol_references(station, admin, folder / "references", workers=1)
    importing.import_folder(station, admin, folder / "DCIM", workers=1)
    with station.read() as session:
        (photo,) = session.scalars(select(Photo))
    assert photo.status is PhotoStatus.READY
    return photo


def _queued(station: Station) -> int:
    with station.read() as session:
        return int(session.scalar(select(func.count(QueueItem.id))) or 0)


def _replace(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


def test_an_altered_original_is_refused_and_nothing_is_queued(
    sqlite_station: Station, admin: Actor, slt: Actor, folder: Path
) -> None:
    photo = _ready_photo(sqlite_station, admin, folder)
    original = sqlite_station.vault.path_for(photo.sha256)
    _replace(original, (folder / "stranger.jpg").read_bytes())

    result = clearing.clear_photos(sqlite_station, slt, [photo.id], workers=1)
    assert result.cleared == []
    ((refused_id, reason, _file),) = result.refused
    assert refused_id == photo.id
    assert "its original in the vault" in reason and "has been changed" in reason
    assert _queued(sqlite_station) == 0
    assert photos.get_photo(sqlite_station, photo.id).status is PhotoStatus.READY

    # re-vetting never looks at the altered bytes either: the photo fails with the reason
    with sqlite_station.transaction() as session:
        session.get(Photo, photo.id).status = PhotoStatus.PENDING  # type: ignore[union-attr]
    report = vet_pending(sqlite_station, admin, workers=1)
    assert report.failed and "has been changed" in report.failed[0][1]
    assert photos.get_photo(sqlite_station, photo.id).status is PhotoStatus.FAILED

    # importing the real file again puts the original back, and the photo is vetted again
    again = importing.import_folder(sqlite_station, admin, folder / "DCIM", workers=1)
    assert (again.duplicates, again.restored) == (1, 1)
    assert original.read_bytes() == (folder / "DCIM" / "grace.jpg").read_bytes()
    assert photos.get_photo(sqlite_station, photo.id).status is PhotoStatus.READY


def test_an_original_replaced_after_the_clear_was_planned_is_not_rendered(
    sqlite_station: Station,
    admin: Actor,
    slt: Actor,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The original is checked on the bytes that are rendered, not only when the clear is
    planned: a file swapped in between (here: a doctored copy that every face check passes)
    is refused, and nothing is queued."""
    photo = _ready_photo(sqlite_station, admin, folder)
    original = sqlite_station.vault.path_for(photo.sha256)
    real_render_and_check = clearing.render_and_check

    def swap_then_render(*args: object, **kwargs: object) -> object:
        _replace(original, (folder / "doctored.jpg").read_bytes())
        return real_render_and_check(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(clearing, "render_and_check", swap_then_render)
    result = clearing.clear_photos(sqlite_station, slt, [photo.id], workers=1)
    assert result.cleared == []
    ((refused_id, reason, _file),) = result.refused
    assert refused_id == photo.id and "has been changed" in reason
    assert _queued(sqlite_station) == 0


def test_the_check_compares_only_with_an_intact_original(
    sqlite_station: Station, admin: Actor, folder: Path
) -> None:
    """The worker reads the original to judge a detection by the unmasked picture; an original
    that no longer hashes to its vault name is not believed (the check fails, nothing passes)."""
    photo = _ready_photo(sqlite_station, admin, folder)
    rendering = (folder / "DCIM" / "grace.jpg").read_bytes()
    request = CheckRequest(
        rendering=rendering,
        original=str(sqlite_station.vault.path_for(photo.sha256)),
        original_sha256=photo.sha256,
        opaque=(),
        colour=(128, 128, 128),
        decided=(),
        judged=(),  # Grace's face is judged by the original, which must be read
        min_identify_width=80.0,
    )
    intact = check_rendering(request)
    assert not isinstance(intact, str) and intact.before[0] is not None
    _replace(sqlite_station.vault.path_for(photo.sha256), (folder / "doctored.jpg").read_bytes())
    assert check_rendering(request) == (
        "its original in the vault changed while the picture was being checked"
    )


def test_a_deleted_original_is_named_missing_and_reimporting_restores_it(
    sqlite_station: Station, admin: Actor, slt: Actor, folder: Path
) -> None:
    photo = _ready_photo(sqlite_station, admin, folder)
    sqlite_station.vault.path_for(photo.sha256).unlink()

    result = clearing.clear_photos(sqlite_station, slt, [photo.id], workers=1)
    ((_id, reason, _file),) = result.refused
    assert "missing from the vault" in reason and "importing the same file again" in reason
    assert "retention" not in reason
    assert _queued(sqlite_station) == 0

    again = importing.import_folder(sqlite_station, admin, folder / "DCIM", workers=1)
    assert (again.imported, again.duplicates, again.restored) == (0, 1, 1)
    sqlite_station.vault.check(photo.sha256)  # intact again
    result = clearing.clear_photos(sqlite_station, slt, [photo.id], workers=1)
    assert [c.photo_id for c in result.cleared] == [photo.id]
    assert _queued(sqlite_station) == 1
    # a further import of the same folder restores nothing: the vault is whole
    assert importing.import_folder(sqlite_station, admin, folder / "DCIM", workers=1).restored == 0


def test_a_sealed_form_with_one_bit_flipped_is_refused(
    sqlite_station: Station, admin: Actor, folder: Path, tmp_path: Path
) -> None:
    roster.import_roster(sqlite_station, admin, folder / "roster.csv")
    scan = tmp_path / "form.jpg"
    scenes.write_jpeg(scan, scenes.background(200, 100))
    consent.set_consent(sqlite_station, admin, "GRACE1", "twitter", True, form=scan)
    with sqlite_station.read() as session:
        (form,) = session.scalars(select(Form))
    stored = sqlite_station.vault.path_for(form.sha256)
    blob = bytearray(stored.read_bytes())
    blob[len(blob) // 2] ^= 1
    _replace(stored, bytes(blob))
    with pytest.raises(VaultFileAltered, match="has been changed"):
        sqlite_station.vault.read_sealed(form.sha256, b"form")
    stored.unlink()
    with pytest.raises(VaultFileMissing, match="missing from the vault"):
        sqlite_station.vault.read_sealed(form.sha256, b"form")
