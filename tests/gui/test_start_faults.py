"""The app meets a key or storage fault at start with one dialog saying what to do, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import Role
from ijs_vetting.gui import app
from ijs_vetting.gui.main_window import MainWindow
from ijs_vetting.services.core.station import Actor, open_station


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda _parent, title, text: shown.append((title, text))
    )
    return shown


def test_a_missing_key_is_one_dialog(
    qtbot: QtBot, tmp_path: Path, dialogs: list[tuple[str, str]]
) -> None:
    home = tmp_path / "home"
    open_station(str(home)).close()
    (key,) = (tmp_path / "keys").glob("*.key")
    key.unlink()
    assert app.run_gui(str(home)) == 1
    ((title, text),) = dialogs
    assert title == "The station cannot start"
    assert str(key) in text and "no new key was made" in text
    assert list((tmp_path / "keys").glob("*.key")) == []


def test_a_damaged_key_file_is_one_dialog_and_the_file_is_left_as_it_was(
    qtbot: QtBot, tmp_path: Path, dialogs: list[tuple[str, str]]
) -> None:
    home = tmp_path / "home"
    open_station(str(home)).close()
    (key,) = (tmp_path / "keys").glob("*.key")
    saved = key.read_bytes()
    key.write_bytes(saved[:20])  # truncated, as a bad copy leaves it
    assert app.run_gui(str(home)) == 1
    ((title, text),) = dialogs
    assert title == "The station cannot start"
    assert "damaged" in text and str(key) in text
    assert key.read_bytes() == saved[:20]  # never overwritten or replaced
    key.write_bytes(saved)
    open_station(str(home)).close()  # the key back: the station opens again


def test_a_corrupted_database_is_one_dialog(
    qtbot: QtBot, tmp_path: Path, dialogs: list[tuple[str, str]]
) -> None:
    home = tmp_path / "home"
    open_station(str(home)).close()
    (home / "station.db").write_bytes(b"\x00garbage" * 512)
    assert app.run_gui(str(home)) == 1
    ((_title, text),) = dialogs
    assert "database file is damaged" in text


def test_a_deleted_audit_anchor_is_told_to_slt_and_admins_at_start(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    first = open_station(str(home))
    assert first.anchor is not None and first.anchor_fault is None
    first.anchor.unlink()
    first.close()
    station = open_station(str(home))
    warned: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, title, text: warned.append((title, text))
    )
    try:
        for role, told in ((Role.STAFF, 0), (Role.SLT, 1), (Role.ADMIN, 1)):
            window = MainWindow(station, Actor(f"a.{role.value}", role))
            qtbot.addWidget(window)
            warned.clear()
            app.warn_at_start(window, station, window.actor)
            assert len(warned) == told, role
        ((title, text),) = warned
        assert title == "The audit log cannot be fully checked"
        assert str(station.anchor) in text and "deleted or moved" in text
        assert text.startswith("The audit anchor") and text.endswith(".")
    finally:
        station.close()
