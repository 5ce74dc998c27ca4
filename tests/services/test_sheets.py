"""Do-not-photograph sheets through the service: who is listed and why, one page per class, the
reference photo only when the school allows it, lists of names, and the audit of each print.

The PDF is read back with pypdfium2 (its text per page, and its images), as a printer would get it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import select

from ijs_vetting.db.models import AuditEntry
from ijs_vetting.domain import InvalidInput
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.register import configure, consent, roster, sheets
from tests import privacy_world

ROSTER = (
    "UPN,Legal Forename,Preferred Forename,Legal Surname,Year,Reg,Twitter,Biometric\n"
    "A1,Amelia,Millie,Smith,5,5H,Y,Y\n"
    "A2,Noah,,Jones,5,5H,N,N\n"
    "A3,Zoë,,Brown,5,5K,Y,N\n"
    "A4,Łukasz,,Kowalczyk,5,5K,Y,N\n"
    "A5,Kit,,Able,5,5K,Y,N\n"
    "B1,Eve,,Hall,6,6C,Y,N\n"
)


@pytest.fixture
def school(station: Station, admin: Actor, tmp_path: Path) -> Station:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    roster.import_roster(station, admin, path)
    consent.set_consent(station, admin, "A3", "twitter", False)  # a withdrawal
    consent.set_safeguarding(station, admin, "A5", True, "court order")
    return station


def _pages(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(path)
    return [page.get_textpage().get_text_range() for page in pdf]


def test_a_year_group_sheet_lists_who_must_not_appear_one_page_per_class(
    school: Station, staff: Actor, tmp_path: Path
) -> None:
    out = tmp_path / "y5.pdf"
    report = sheets.make_sheet(school, staff, out, channel="twitter", year=5)
    listed = {
        name: [(e.mis_id, e.why) for e in entries] for name, entries in report.classes.items()
    }
    assert listed == {
        "5H": [("A2", sheets.Why.NO_CONSENT)],
        "5K": [("A5", sheets.Why.NEVER_PUBLISH), ("A3", sheets.Why.WITHDRAWN)],
    }
    pages = _pages(out)
    assert len(pages) == 2
    assert "INTERNAL — DO NOT SHARE" in pages[0] and "5H" in pages[0]
    assert "Noah Jones" in pages[0] and "Millie Smith" not in pages[0]
    assert "Zoë Brown" in pages[1] and "Consent withdrawn" in pages[1]
    assert "Kit Able" in pages[1] and "Never publish" in pages[1]
    assert "court order" not in "".join(pages)  # the safeguarding reason never prints
    assert report.register_state in pages[0]
    with school.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "sheet.print")).one()
    assert entry.actor == "teacher"
    assert entry.details["listed"] == ["A2", "A5", "A3"]
    assert sorted(entry.details["selected"]) == ["A1", "A2", "A3", "A4", "A5"]


def test_a_trip_list_of_pasted_names_and_ids(school: Station, staff: Actor, tmp_path: Path) -> None:
    out = tmp_path / "trip.pdf"
    report = sheets.make_sheet(
        school,
        staff,
        out,
        names=["zoe brown", "MILLIE SMITH", "", "# coach 2", "b1", "lukasz kowalczyk"],
    )
    assert report.selected == 4
    assert {n: [e.mis_id for e in es] for n, es in report.classes.items()} == {
        "5H": [],
        "5K": ["A3"],
        "6C": [],
    }
    pages = [" ".join(page.split()) for page in _pages(out)]
    assert "Nobody" in pages[0]
    assert "a trip list of 4 children" in pages[1]
    assert "The other children of 5K on the trip list have consent today" in pages[1]
    with pytest.raises(InvalidInput, match="line 2 'Noa Jones' is no child on roll"):
        sheets.make_sheet(school, staff, tmp_path / "bad.pdf", names=["A1", "Noa Jones"])
    assert not (tmp_path / "bad.pdf").exists()


def test_consent_to_re_confirm_is_listed_and_reference_photos_only_when_allowed(
    school: Station, admin: Actor, staff: Actor, tmp_path: Path
) -> None:
    configure.set_setting(school, admin, "consent.review_rule", "years")
    configure.set_setting(school, admin, "consent.review_years", "1")
    configure.set_setting(school, admin, "consent.notice_days", "365")
    privacy_world.add_template(school, "A1")  # a stand-in reference: unreadable, so no picture
    report = sheets.make_sheet(school, staff, tmp_path / "a.pdf", class_name="5h")
    due = [e for e in report.classes["5H"] if e.mis_id == "A1"]
    assert [e.why for e in due] == [sheets.Why.REVIEW_DUE] and due[0].until is not None
    assert all(e.photo is None for es in report.classes.values() for e in es)

    configure.set_setting(school, admin, "sheets.reference_photos", "true")
    face = io.BytesIO()
    Image.new("RGB", (300, 400), (90, 60, 40)).save(face, "JPEG")
    _replace_reference(school, "A1", face.getvalue())
    report = sheets.make_sheet(school, staff, tmp_path / "b.pdf", class_name="5H")
    [amelia] = [e for e in report.classes["5H"] if e.mis_id == "A1"]
    assert amelia.photo is not None
    images = [
        obj
        for page in pdfium.PdfDocument(tmp_path / "b.pdf")
        for obj in page.get_objects()
        if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE
    ]
    assert len(images) == 1


def _replace_reference(station: Station, mis_id: str, jpeg: bytes) -> None:
    from ijs_vetting.db.models import FaceTemplate
    from ijs_vetting.services.register.templates import REFERENCE

    sha = station.vault.put_sealed(jpeg, REFERENCE)
    with station.sessions.begin() as s:
        template = s.scalars(select(FaceTemplate)).one()
        template.reference_sha256 = sha
