"""The audit page: search by a child's name or a file name, a date range, CSV, verification."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.audit_page import AuditPage
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.privacy import audit
from ijs_vetting.services.register import consent, roster

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot: QtBot, sqlite_station: Station, admin: Actor, roster_file: Path) -> AuditPage:
    make_app()
    roster.import_roster(sqlite_station, admin, roster_file)
    consent.set_consent(sqlite_station, admin, "A123", "twitter", False)
    shown = AuditPage(sqlite_station, admin)
    qtbot.addWidget(shown)
    shown.refresh()
    _wait(qtbot, shown)
    return shown


def _wait(qtbot: QtBot, page: AuditPage) -> None:
    """Until the page shows what its (background) search read."""
    qtbot.waitUntil(lambda: not page.loading, timeout=30_000)


def _records(page: AuditPage) -> list[str]:
    return [page.model.data(page.model.index(r, 4)) for r in range(page.model.rowCount())]


def test_search_by_a_childs_name_shows_names_not_only_ids(qtbot: QtBot, page: AuditPage) -> None:
    page.search.setText("millie")  # the preferred name; the log holds only the MIS id
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and all("A123" in r for r in _records(page)))
    assert "Millie Smith (A123)" in _records(page)
    actions = {page.model.row(r).action for r in range(page.model.rowCount())}
    assert "consent.set" in actions


def test_a_date_range_without_today_finds_nothing(qtbot: QtBot, page: AuditPage) -> None:
    assert page.model.rowCount() >= 2
    page.dated.setChecked(True)
    page.since.setDate(QDate.currentDate().addDays(-10))
    page.until.setDate(QDate.currentDate().addDays(-3))
    _wait(qtbot, page)
    assert page.model.rowCount() == 0 and page.found.text() == "0 entries"
    page.until.setDate(QDate.currentDate())
    _wait(qtbot, page)
    assert page.model.rowCount() >= 2


def test_the_entries_found_are_saved_as_csv_and_the_export_audited(
    qtbot: QtBot, page: AuditPage, sqlite_station: Station, admin: Actor, tmp_path: Path
) -> None:
    page.search.setText("A123")
    page.refresh()
    _wait(qtbot, page)
    found = page.model.rowCount()
    out = tmp_path / "audit.csv"
    page.write_csv(out)
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["id", "when", "user", "station", "action", "record", "what"]
    assert len(rows) == found + 1 and any(r[5] == "Millie Smith (A123)" for r in rows[1:])
    newest = audit.list_audit(sqlite_station, limit=1)[0]
    assert newest.action == "audit.export" and newest.actor == admin.username


def test_verify_says_the_log_is_intact(qtbot: QtBot, page: AuditPage) -> None:
    button = page.findChild(QPushButton, "auditVerifyButton")
    button.click()
    assert not button.isEnabled() and "Checking" in button.text()  # in the background
    qtbot.waitUntil(lambda: bool(page.findChildren(QMessageBox)), timeout=30_000)
    box = page.findChildren(QMessageBox)[-1]
    assert "intact" in box.text()
    assert button.isEnabled() and button.text() == "Check the audit log"


def test_staff_are_told_who_can_check_and_save(
    qtbot: QtBot, sqlite_station: Station, staff: Actor
) -> None:
    make_app()
    shown = AuditPage(sqlite_station, staff)
    qtbot.addWidget(shown)
    verify = shown.findChild(QPushButton, "auditVerifyButton")
    export = shown.findChild(QPushButton, "auditExportButton")
    assert (
        not verify.isEnabled()
        and verify.toolTip() == "Only SLT or an admin can check the audit log."
    )
    assert (
        not export.isEnabled()
        and export.toolTip() == "Only SLT or an admin can export the audit log."
    )


def test_the_log_shows_no_sort_it_does_not_do(qtbot: QtBot, page: AuditPage) -> None:
    """Newest first is the log's order; the header showed an "oldest first" arrow that a
    click did not change (the search and the days are how entries are found)."""
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() > 1)
    assert not page.table.isSortingEnabled()
    assert not page.table.horizontalHeader().isSortIndicatorShown()
    ids = [page.model.row(r).id for r in range(page.model.rowCount())]
    assert ids == sorted(ids, reverse=True)
