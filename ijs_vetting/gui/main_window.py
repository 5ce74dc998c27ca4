"""The main window: navigation between the station's sections, and a status bar of counts."""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QTableView,
    QWidget,
)

from ijs_vetting.assets import resource
from ijs_vetting.domain import YEAR_GROUPS, year_label
from ijs_vetting.gui.table_models import (
    AuditTableModel,
    ChildrenFilter,
    ChildrenTableModel,
)
from ijs_vetting.gui.uiload import child, load_form
from ijs_vetting.services import audit, children
from ijs_vetting.services.station import Actor, Station

SECTIONS = ("import", "review", "queue", "children", "audit")


class MainWindow(QMainWindow):
    """Top-level window; each section is a page of the stacked widget from `ui/main_window.ui`."""

    def __init__(self, station: Station, actor: Actor) -> None:
        super().__init__()
        self.station = station
        self.actor = actor
        self.settings = QSettings(str(station.paths.home / "gui.ini"), QSettings.Format.IniFormat)
        self.setWindowTitle(f"IJS photo vetting station — {actor.username} ({actor.role.value})")
        self.setWindowIcon(QIcon(str(resource("icons/app.svg"))))

        panel = load_form("main_window.ui", self)
        self.setCentralWidget(panel)
        self.navigation = child(panel, QListWidget, "navigation")
        self.pages = child(panel, QStackedWidget, "pages")
        self.navigation.currentRowChanged.connect(self._show_section)

        self._setup_children(panel)
        self._setup_audit(panel)
        self._setup_menus()
        self.counts = QLabel()
        self.statusBar().addPermanentWidget(self.counts)

        self.refresh()
        self.navigation.setCurrentRow(SECTIONS.index("children"))
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 760)

    def _setup_children(self, panel: QWidget) -> None:
        self.children_model = ChildrenTableModel(children.channel_codes(self.station), self)
        self.children_filter = ChildrenFilter(self)
        self.children_filter.setSourceModel(self.children_model)
        table = child(panel, QTableView, "childrenTable")
        table.setModel(self.children_filter)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.verticalHeader().hide()
        table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
        self.children_table = table
        search = child(panel, QLineEdit, "childrenSearch")
        search.textChanged.connect(self.children_filter.set_text)
        year = child(panel, QComboBox, "childrenYear")
        year.addItem("All years", None)
        for y in YEAR_GROUPS:
            year.addItem(year_label(y), y)
        year.currentIndexChanged.connect(
            lambda _i: self.children_filter.set_year(year.currentData())
        )
        on_roll = child(panel, QCheckBox, "childrenOnRoll")
        on_roll.toggled.connect(self.children_filter.set_on_roll_only)

    def _setup_audit(self, panel: QWidget) -> None:
        self.audit_model = AuditTableModel(self)
        self.audit_filter = QSortFilterProxyModel(self)
        self.audit_filter.setSourceModel(self.audit_model)
        self.audit_filter.setFilterKeyColumn(-1)
        self.audit_filter.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        table = child(panel, QTableView, "auditTable")
        table.setModel(self.audit_filter)
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().hide()
        self.audit_table = table
        search = child(panel, QLineEdit, "auditSearch")
        search.textChanged.connect(self.audit_filter.setFilterFixedString)

    def _setup_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        refresh = QAction("&Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.refresh)
        file_menu.addAction(refresh)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        go_menu = self.menuBar().addMenu("&Go")
        for number in range(1, len(SECTIONS) + 1):
            item = self.navigation.item(number - 1)
            action = QAction(item.text(), self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(
                lambda _c=False, row=number - 1: self.navigation.setCurrentRow(row)
            )
            go_menu.addAction(action)

    def _show_section(self, row: int) -> None:
        self.pages.setCurrentIndex(row)

    def refresh(self) -> None:
        """Reload the register and the audit log from the services."""
        rows = children.list_children(self.station)
        self.children_model.set_children(rows)
        self.audit_model.set_entries(audit.list_audit(self.station, limit=5000))
        on_roll = [c for c in rows if c.on_roll]
        twitter = sum(1 for c in on_roll if c.consents.get("twitter"))
        self.counts.setText(f"{len(on_roll)} children on roll · {twitter} with Twitter consent")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        super().closeEvent(event)
