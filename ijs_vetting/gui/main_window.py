"""The main window: navigation between the station's sections, menus with every shortcut, and
a status bar of what is waiting."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QWidget,
)

from ijs_vetting.assets import resource
from ijs_vetting.domain import Role
from ijs_vetting.gui.admin_dialogs import SettingsDialog, UsersDialog
from ijs_vetting.gui.audit_page import AuditPage
from ijs_vetting.gui.backup_dialogs import BackupDialog
from ijs_vetting.gui.change_watch import ChangeWatch
from ijs_vetting.gui.children_page import ChildrenPage
from ijs_vetting.gui.device_dialog import DevicesDialog
from ijs_vetting.gui.errors import inform
from ijs_vetting.gui.first_run import next_step
from ijs_vetting.gui.import_page import ImportPage
from ijs_vetting.gui.log_view import LogDialog
from ijs_vetting.gui.queue_page import QueuePage
from ijs_vetting.gui.review_page import ReviewPage
from ijs_vetting.gui.screen_fit import ROOMY_WIDTH, available, fit_size
from ijs_vetting.gui.uiload import child, load_form, named
from ijs_vetting.services.core.changes import change_mark
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import photos
from ijs_vetting.services.posting import queue
from ijs_vetting.services.register import children

SECTIONS = ("import", "review", "queue", "children", "audit")

SHORTCUT_HELP = """
<h3>Keyboard</h3>
<table cellpadding="3">
<tr><td><b>Ctrl+1 … Ctrl+5</b></td><td>Import, Review, Queue, Children, Audit</td></tr>
<tr><td><b>Arrows, Home, End</b></td><td>move between photos</td></tr>
<tr><td><b>Shift/Ctrl + arrows, Space</b></td><td>select several photos</td></tr>
<tr><td><b>Enter</b></td><td>open the photo's faces</td></tr>
<tr><td><b>Tab</b></td><td>next face</td></tr>
<tr><td><b>B</b></td><td>blur / unblur the selected face</td></tr>
<tr><td><b>S</b>, <b>N</b></td><td>show the face; not a face (asks first)</td></tr>
<tr><td><b>U</b></td><td>undo the review of the selected face</td></tr>
<tr><td><b>1 … 9</b></td><td>select face 1 … 9 (the numbers on the boxes)</td></tr>
<tr><td><b>F2</b> or <b>I</b></td><td>type the child's name; Enter assigns, Esc leaves</td></tr>
<tr><td><b>Alt+1 … Alt+9</b></td><td>assign a recently used child to the face</td></tr>
<tr><td><b>W</b></td><td>who is this? name the unknown faces of many photos together</td></tr>
<tr><td><b>P</b></td><td>see the photo as it will be posted</td></tr>
<tr><td><b>Ctrl+Shift+A</b></td><td>select every photo ready to clear</td></tr>
<tr><td><b>C</b>, <b>R</b></td><td>clear or reject the selected photos</td></tr>
<tr><td><b>F5</b></td><td>refresh</td></tr>
</table>
<p>Letter keys act only while the photos, the picture or the face list has the focus.
Drag on the photo to draw a face the station missed; it will be blurred.</p>
"""


class MainWindow(QMainWindow):
    """Top-level window; each section is a page in the stacked widget of `ui/main_window.ui`.
    `switch_user` fires when the user asks to hand the station to someone else,
    `settings_changed` when an admin changed a setting from it."""

    switch_user = Signal()
    settings_changed = Signal()  # an admin changed a station setting here

    def __init__(self, station: Station, actor: Actor) -> None:
        super().__init__()
        self.station = station
        self.actor = actor
        self.settings = QSettings(str(station.paths.home / "gui.ini"), QSettings.Format.IniFormat)
        self.setWindowTitle(
            f"IJS photo vetting station — {station.name} — {actor.username} ({actor.role.label})"
        )
        self.setWindowIcon(QIcon(str(resource("icons/app.svg"))))

        panel = load_form("main_window.ui", self)
        self.setCentralWidget(panel)
        self.navigation = child(panel, QListWidget, "navigation")
        self.pages = child(panel, QStackedWidget, "pages")

        self.import_page = ImportPage(station, actor, self.settings, self)
        self.review_page = ReviewPage(station, actor, self)
        self.queue_page = QueuePage(station, actor, self.settings, self)
        self.children_page = ChildrenPage(station, actor, self.settings, self)
        self.audit_page = AuditPage(station, actor, self)
        for page in (
            self.import_page,
            self.review_page,
            self.queue_page,
            self.children_page,
            self.audit_page,
        ):
            self.pages.addWidget(page)
        self._connect_pages()
        self.navigation.currentRowChanged.connect(self._show_section)
        # A section loads when shown if the register changed since it last loaded (by this
        # station or another: the register's write counter); the one in view reloads at once.
        self._loaded: dict[str, int] = {}
        self.watch = ChangeWatch(station, self)
        self.watch.changed.connect(self.changed_elsewhere)

        self._setup_menus()
        self.counts = QLabel()
        self.hint = named(QLabel(), "firstRunHint")
        self.statusBar().addWidget(self.hint)
        self.statusBar().addPermanentWidget(self.counts)
        # Nothing loads until shown: the saved section loads now, each other one when opened.
        start = str(self.settings.value("window/section", "review"))
        row = SECTIONS.index(start) if start in SECTIONS else 1
        self.navigation.setCurrentRow(row)
        if SECTIONS[row] not in self._loaded:  # the row was already current: no signal
            self._show_section(row)
        self.refresh_counts()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            fit_size(self, 1280, 760)
            if available(self).width() < ROOMY_WIDTH:  # a 1366x768 office screen: use all of it
                self.setWindowState(Qt.WindowState.WindowMaximized)

    def _connect_pages(self) -> None:
        """What a change on one page reloads: the register's sections, or only the counts."""
        self.import_page.imported.connect(self.refresh)
        # While an import runs, the section in view (Review, if open) and the counts pick up
        # newly vetted photos every few seconds; a hidden Review loads when it is opened.
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(3000)
        self._live.timeout.connect(self.refresh)
        self.import_page.progressed.connect(
            lambda: None if self._live.isActive() else self._live.start()
        )
        self.children_page.changed.connect(self.refresh)
        self.review_page.changed.connect(self.refresh)
        self.review_page.reviewed.connect(self.refresh_counts)
        self.queue_page.changed.connect(self.refresh)

    def page(self, section: str) -> QWidget:
        page = self.pages.widget(SECTIONS.index(section))
        assert page is not None
        return page

    def _setup_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Refresh", QKeySequence.StandardKey.Refresh, self.refresh)
        self._action(file_menu, "S&witch user…", QKeySequence(), self.switch_user.emit)
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        go_menu = self.menuBar().addMenu("&Go")
        for number in range(1, len(SECTIONS) + 1):
            # "Children & consent": a lone & in a menu would underline the next letter instead
            text = self.navigation.item(number - 1).text().replace("&", "&&")
            self._action(
                go_menu,
                text,
                QKeySequence(f"Ctrl+{number}"),
                partial(self.navigation.setCurrentRow, number - 1),
            )
        self.photo_menu = photo_menu = self.menuBar().addMenu("&Photo")
        for action in self.review_page.actions_for_menu:
            photo_menu.addAction(action)
        if self.actor.role is Role.ADMIN:
            admin_menu = self.menuBar().addMenu("&Admin")
            self._action(admin_menu, "&Users…", QKeySequence(), self.show_users)
            self._action(admin_menu, "&Settings…", QKeySequence(), self.show_settings)
            self._action(admin_menu, "&Devices…", QKeySequence(), self.show_devices)
            admin_menu.addSeparator()
            self._action(admin_menu, "&Backup…", QKeySequence(), partial(self.show_backup, False))
            self._action(admin_menu, "&Restore…", QKeySequence(), partial(self.show_backup, True))
        help_menu = self.menuBar().addMenu("&Help")
        self._action(
            help_menu,
            "&Keyboard shortcuts",
            QKeySequence.StandardKey.HelpContents,
            self.show_shortcuts,
        )
        self._action(help_menu, "Station &log", QKeySequence("Ctrl+L"), self.show_log)

    def _action(
        self,
        menu: QMenu,
        text: str,
        keys: QKeySequence | QKeySequence.StandardKey,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcut(keys)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def show_users(self) -> None:
        UsersDialog(self.station, self.actor, self).open()

    def show_settings(self) -> None:
        dialog = SettingsDialog(self.station, self.actor, self)
        dialog.changed.connect(self.refresh)
        dialog.changed.connect(self.settings_changed)
        dialog.open()

    def show_backup(self, restoring: bool) -> None:
        BackupDialog(self.station, self.actor, restoring, self).open()

    def show_devices(self) -> None:
        dialog = DevicesDialog(self.station, self.actor, self)
        dialog.changed.connect(self.refresh)
        dialog.open()

    def show_log(self) -> None:
        LogDialog(self.station.paths, self).open()

    def show_shortcuts(self) -> None:
        inform(self, "Keyboard shortcuts", SHORTCUT_HELP)

    def changed_elsewhere(self) -> None:
        self.refresh()

    def _refresh_section(self, section: str) -> None:
        self._loaded[section] = change_mark(self.station).counter  # read first: never misses
        pages = (
            self.import_page,
            self.review_page,
            self.queue_page,
            self.children_page,
            self.audit_page,
        )
        pages[SECTIONS.index(section)].refresh()

    def _show_section(self, row: int) -> None:
        if self._loaded.get(SECTIONS[row]) != change_mark(self.station).counter:
            self._refresh_section(SECTIONS[row])
        self.pages.setCurrentIndex(row)
        # the Photo menu acts on the photo the Review page shows: offered only there
        self.photo_menu.menuAction().setEnabled(SECTIONS[row] == "review")
        self.settings.setValue("window/section", SECTIONS[row])
        if SECTIONS[row] == "review":
            self.review_page.grid.setFocus(Qt.FocusReason.OtherFocusReason)

    def refresh(self) -> None:
        """Reload the section in view and the counts; the others reload when next shown, if
        the register changed. Reloading all five after every action froze the window for 11 s
        on a school's four years of photos (issue 15)."""
        self._refresh_section(SECTIONS[self.pages.currentIndex()])
        self.refresh_counts()

    def refresh_counts(self) -> None:
        """The status bar's counts, after every review action and while an import runs."""
        counts = photos.status_counts(self.station)
        ready = counts.get("ready", 0) + counts.get("ready_with_blur", 0)
        posting = queue.queue_counts(self.station)
        on_roll = children.on_roll_count(self.station)
        self.hint.setText(next_step(self.actor, on_roll, counts) or "")
        self.counts.setText(
            f"To review: {counts.get('review', 0)} · Ready: {ready} · "
            f"Queued: {posting.waiting} · Takedowns due: {posting.takedowns_due}"
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.watch.stop()
        self.review_page.thumbs.wait()
        self.review_page.pictures.wait()
        super().closeEvent(event)
