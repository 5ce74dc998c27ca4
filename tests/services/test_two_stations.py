"""Done when (issue 16): two stations — two homes, one PostgreSQL database, one shared vault
folder — import, review, clear and export each other's photos.

The office sets the register up; the head's PC joins it with the key file the office exported
(`station join`'s service). Each imports its own iPad folder; each reviews and clears the
other's photos; each exports the queue, which holds renderings the other station made. Every
audit entry names the station it was made on, and the chain verifies from both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from ijs_vetting.crypto import read_key
from ijs_vetting.db.models import AuditEntry, Setting
from ijs_vetting.domain import FaceOverride, PhotoStatus, QueueStatus
from ijs_vetting.key_wrap import wrap_key
from ijs_vetting.services.core import joining
from ijs_vetting.services.core.station import Actor, open_station
from ijs_vetting.services.core.station_key import STATION_ID
from ijs_vetting.services.intake import importing, photos, review
from ijs_vetting.services.posting import clearing, queue, queue_export
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import roster
from ijs_vetting.services.register import templates as enrolment
from tests import scenes
from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROSTER = (
    "UPN,Forename,Surname,Year,Reg,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,Year 5,5H,Y,Y\n"
    "ASTRO1,Eileen,Collins,Year 5,5H,N,Y\n"
)
PASSPHRASE = "the office keeps the key on a usb stick"


def test_two_stations_import_review_clear_and_export_each_others_photos(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    admin: Actor,
    slt: Actor,
    staff: Actor,
) -> None:
    shared = tmp_path / "share" / "ijs-vault"
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / "office-keys"))
    office = open_station(str(tmp_path / "office"), url=postgres_url, vault=str(shared))
    office.keep_setup("OFFICE")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    roster.import_roster(office, admin, tmp_path / "roster.csv")
    refs = tmp_path / "references"
    refs.mkdir()
    scenes.write_jpeg(refs / "GRACE1.jpg", scenes.portrait(scenes.GRACE, 220).pixels)
    scenes.write_jpeg(refs / "ASTRO1.jpg", scenes.portrait(scenes.ASTRONAUT, 220).pixels)
    enrolment.enrol_references(office, admin, refs, workers=1)

    # The head's PC joins with the exported key: its own key folder, home and name.
    with office.read() as s:
        register = str(s.get_one(Setting, STATION_ID).value["id"])
    key = read_key(register)
    assert key is not None
    key_file = wrap_key(key, register, PASSPHRASE)
    monkeypatch.setenv("IJS_VETTING_KEY_DIR", str(tmp_path / "head-keys"))
    head, _admin = joining.join_station(
        str(tmp_path / "head"),
        postgres_url,
        key_file,
        PASSPHRASE,
        TEST_PASSWORD,
        name="HEAD",
        vault=str(shared),
    )
    try:
        assert head.vault_fault is None and head.name == "HEAD"

        office_dcim, head_dcim = tmp_path / "office-ipad", tmp_path / "head-ipad"
        office_dcim.mkdir()
        head_dcim.mkdir()
        grace = scenes.portrait(scenes.GRACE, 170, margin=1.0).pixels
        scenes.write_jpeg(office_dcim / "grace.jpg", grace)
        scenes.write_jpeg(head_dcim / "astro.jpg", scenes.portrait(scenes.ASTRONAUT, 170).pixels)
        importing.import_folder(office, staff, office_dcim, workers=1)
        importing.import_folder(head, staff, head_dcim, workers=1)
        by_file = {p.file: p for p in photos.list_photos(head)}
        grace_photo, astro_photo = by_file["grace.jpg"], by_file["astro.jpg"]
        assert grace_photo.status is PhotoStatus.READY
        assert astro_photo.status is PhotoStatus.READY_WITH_BLUR

        # Each reviews the other's photo: the head masks nothing new on Grace's (it shows
        # her), the office confirms the astronaut's mask by hand.
        (astro_face,) = astro_photo.faces
        assert review.set_override(office, staff, astro_face.id, FaceOverride.BLUR) is (
            PhotoStatus.READY_WITH_BLUR
        )
        assert photos.get_photo(head, astro_photo.id).faces[0].override == "blur"

        # Each clears the other's photo; the renderings go into the shared vault.
        by_head = clearing.clear_photos(head, slt, [grace_photo.id], account="@Year5IJS", workers=1)
        by_office = clearing.clear_photos(
            office, slt, [astro_photo.id], account="@Year5IJS", workers=1
        )
        assert not by_head.refused and not by_office.refused, (by_head, by_office)

        # Each exports what the other cleared (the office first, then the head to its folder).
        out_office, out_head = tmp_path / "office-out", tmp_path / "head-out"
        exported = queue_export.export_queue(office, slt, out_office)
        assert {i.photo_id for i in exported.items} == {grace_photo.id, astro_photo.id}
        for item in exported.items:
            assert item.image is not None
            with Image.open(out_office / item.image) as picture:
                picture.load()  # the rendering the other station made, read whole
        item_of = {i.photo_id: i.id for i in exported.items}
        queue.mark_posted(head, slt, item_of[grace_photo.id], None)
        assert queue.get_item(office, item_of[grace_photo.id]).status is QueueStatus.POSTED
        again = queue_export.export_queue(head, slt, out_head)
        assert [i.photo_id for i in again.items] == [astro_photo.id]  # posted: not again

        with office.read() as s:
            signed = set(s.execute(select(AuditEntry.action, AuditEntry.station)))
        assert ("photos.import", "OFFICE") in signed and ("photos.import", "HEAD") in signed
        assert ("queue.clear", "HEAD") in signed and ("queue.clear", "OFFICE") in signed
        assert ("review.override", "OFFICE") in signed
        assert audit.verify_chain(office, admin).ok and audit.verify_chain(head, admin).ok
    finally:
        head.close()
        office.close()
