"""A child's page: consent recorded through real widgets, the scanned form rendered, references."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PySide6.QtWidgets import QLabel, QListWidget, QMessageBox, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import Role
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.child_dialog import ChildDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import children, consent, roster, templates
from tests import scenes

pytestmark = pytest.mark.gui


def _pdf(path: Path) -> Path:
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def registered(sqlite_station: Station, admin: Actor, roster_file: Path, tmp_path: Path) -> Station:
    roster.import_roster(sqlite_station, admin, roster_file)
    consent.set_consent(
        sqlite_station, admin, "A123", "website", True, form=_pdf(tmp_path / "form.pdf")
    )
    refs = tmp_path / "refs"
    refs.mkdir()
    scenes.write_jpeg(refs / "A123.jpg", scenes.portrait(scenes.GRACE, 200).pixels)
    templates.enrol_references(sqlite_station, admin, refs, workers=1)
    return sqlite_station


def test_admin_sees_forms_and_references_and_records_consent(
    qtbot: QtBot, registered: Station, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    dialog = ChildDialog(registered, admin, "A123")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    # the Designer form is embedded in the dialog, not a second (invisible) window
    assert dialog.findChild(QTableWidget, "consentTable").isVisible()
    forms = dialog.findChild(QListWidget, "formList")
    assert forms.count() == 1 and "form.pdf" in forms.item(0).text()
    forms.setCurrentRow(0)
    assert not dialog.findChild(QLabel, "formPreview").pixmap().isNull()
    assert dialog.page.maximum() == 2  # both pages of the PDF
    references = dialog.findChild(QListWidget, "referenceList")
    assert references.count() == 1 and "px wide" in references.item(0).text()

    table = dialog.findChild(QTableWidget, "consentTable")
    table.selectRow(0)  # twitter
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName", lambda *a, **k: ("", ""))
    with qtbot.waitSignal(dialog.changed):
        dialog.findChild(QPushButton, "withdrawButton").click()
    assert children.get_child(registered, "A123").consents["twitter"] is False
    assert table.item(0, 1).text() == "no" and table.item(0, 0).text() == "Twitter"


def test_staff_do_not_see_consent_forms(qtbot: QtBot, registered: Station) -> None:
    make_app()
    dialog = ChildDialog(registered, Actor("teacher", Role.STAFF), "A123")
    qtbot.addWidget(dialog)
    assert dialog.findChild(QListWidget, "formList").count() == 0
    assert "admins and SLT only" in dialog.findChild(QLabel, "formPreview").text()
    assert dialog.findChild(QListWidget, "referenceList").count() == 0


def test_references_show_quality_in_words_and_an_objection_says_what_it_deletes(
    qtbot: QtBot, registered: Station, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    dialog = ChildDialog(registered, admin, "A123")
    qtbot.addWidget(dialog)
    references = dialog.findChild(QListWidget, "referenceList")
    assert references.item(0).text().splitlines()[1].startswith("good: face ")
    assert "sharpness" not in references.item(0).text()
    assert dialog.findChild(QPushButton, "addReferenceButton").isEnabled()
    asked: list[str] = []

    def answer(_parent: object, _title: str, text: str, *a: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.No if len(asked) == 1 else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    dialog.bio_choice.setCurrentIndex(dialog.bio_choice.findData("child-objects"))
    dialog.findChild(QPushButton, "biometricButton").click()  # answered No: nothing recorded
    assert "deletes the child's 1 reference photo(s)" in asked[0]
    assert references.count() == 1
    with qtbot.waitSignal(dialog.changed):
        dialog.findChild(QPushButton, "biometricButton").click()
    assert references.count() == 0
    assert "child objects" in dialog.findChild(QLabel, "referencesNote").text()
    assert not dialog.findChild(QPushButton, "addReferenceButton").isEnabled()


def test_a_scanned_form_asks_the_date_written_on_it(
    qtbot: QtBot, registered: Station, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from ijs_vetting.gui import child_dialog

    make_app()
    dialog = ChildDialog(registered, admin, "B456")
    qtbot.addWidget(dialog)
    form = _pdf(tmp_path / "b456.pdf")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getOpenFileName", lambda *a, **k: (str(form), "")
    )
    monkeypatch.setattr(child_dialog, "ask_form_date", lambda _parent: date(2026, 9, 3))
    dialog.consents.selectRow(0)
    with qtbot.waitSignal(dialog.changed):
        dialog.findChild(QPushButton, "grantButton").click()
    with_form = [h for h in children.consent_history(registered, "B456") if h.form_sha256]
    assert [(h.granted, h.given_on) for h in with_form] == [(True, date(2026, 9, 3))]
    monkeypatch.setattr(child_dialog, "ask_form_date", lambda _parent: None)  # Cancel
    before = len(children.consent_history(registered, "B456"))
    dialog.findChild(QPushButton, "withdrawButton").click()
    assert len(children.consent_history(registered, "B456")) == before


def test_a_reference_is_removed_and_added_again_from_the_tab(
    qtbot: QtBot, registered: Station, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Remove asks first, then the photos not yet cleared are matched again without it (an
    audited re-vet); Add checks and enrols the chosen file in the background."""
    make_app()
    dialog = ChildDialog(registered, admin, "A123")
    qtbot.addWidget(dialog)
    references = dialog.findChild(QListWidget, "referenceList")
    references.setCurrentRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(dialog.changed):
        dialog.findChild(QPushButton, "removeReferenceButton").click()
    assert references.count() == 0
    assert templates.child_templates(registered, admin, "A123") == []
    qtbot.waitUntil(lambda: not dialog.references.revet.running, timeout=60_000)
    assert audit.list_audit(registered, limit=1)[0].action == "photos.vet"

    again = tmp_path / "again.jpg"
    scenes.write_jpeg(again, scenes.portrait(scenes.GRACE, 200).pixels)
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getOpenFileNames", lambda *a, **k: ([str(again)], "")
    )
    add = dialog.findChild(QPushButton, "addReferenceButton")
    with qtbot.waitSignal(dialog.changed, timeout=60_000):
        add.click()
        # at once, while the face engine starts: the tab says what it is doing
        assert not add.isEnabled() and add.text() == "Adding reference photos…"
        assert "Looking for the child's face in 1 photo" in dialog.references.note.text()
    assert add.isEnabled() and add.text() == "Add reference photos…"
    assert references.count() == 1 and "px wide" in references.item(0).text()
    for box in dialog.findChildren(QMessageBox):
        box.close()


def test_the_enrolment_message_says_what_else_it_did() -> None:
    """Two cleared posts went back to review with only "4 photos checked again" said."""
    from ijs_vetting.gui.child_references import after_enrolment
    from ijs_vetting.services.register.look_alike import REASON
    from ijs_vetting.services.register.templates import EnrolReport, ReferenceOutcome

    report = EnrolReport(
        outcomes=[
            ReferenceOutcome("A1", "kath.jpg", templates.ReferenceStatus.ENROLLED, REASON, "alike"),
            ReferenceOutcome("A2", "tom.jpg", templates.ReferenceStatus.ENROLLED, None, "enrolled"),
        ],
        withdrawn=[7, 9],
    )
    text = after_enrolment(report, lambda o: o.file)
    assert "2 post(s) waiting in the queue went back to review" in text
    assert "<li>kath.jpg: alike</li>" in text and "tom.jpg" not in text
    assert after_enrolment(EnrolReport(), lambda o: o.file) == ""
