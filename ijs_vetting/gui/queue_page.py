"""Queue: what SLT cleared, per account, with captions, export, posting and takedowns."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QWidget,
)

from ijs_vetting.domain import QueueStatus, ServiceError
from ijs_vetting.gui.caption_warning import confirm_names, show_report
from ijs_vetting.gui.column_fit import fit_on_load, refit
from ijs_vetting.gui.errors import inform, show_error
from ijs_vetting.gui.images import ImageLoader
from ijs_vetting.gui.jobs import Job, LatestRead, start_job
from ijs_vetting.gui.role_gate import gate
from ijs_vetting.gui.table_models import RowsTableModel
from ijs_vetting.gui.text_post import TextPostDialog
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.core.station_settings import current
from ijs_vetting.services.intake import pictures
from ijs_vetting.services.posting import accounts, queue
from ijs_vetting.services.posting.caption_check import CaptionReport, caption_length
from ijs_vetting.services.posting.caption_preview import preview_for_item
from ijs_vetting.services.posting.queue import QUEUE_ROLES, TEXT_ROLES, QueueItemInfo
from ijs_vetting.services.posting.queue_export import ExportReport, export_queue

Index = QModelIndex | QPersistentModelIndex
STATUS_FILTERS: list[tuple[str, set[QueueStatus] | None]] = [
    ("To post", {QueueStatus.QUEUED, QueueStatus.EXPORTED}),
    ("Posted", {QueueStatus.POSTED}),
    ("Withdrawn or taken down", {QueueStatus.WITHDRAWN, QueueStatus.TAKEN_DOWN}),
    ("Everything", None),
]


_ACTIONS = {
    "exportButton": "queue.export",
    "postedButton": "queue.posted",
    "withdrawButton": "queue.withdraw",
    "takenDownButton": "queue.taken_down",
}


THUMB_FIT = QSize(92, 64)  # each item's picture, whole, in its cell


class QueueTableModel(RowsTableModel[QueueItemInfo]):
    HEADERS = (
        "",
        "Account",
        "Caption",
        "Status",
        "Photo",
        "Children shown",
        "Masked faces",
        "Cleared",
    )

    def __init__(self, loader: ImageLoader, station: Station, parent: Any = None) -> None:
        super().__init__(parent)
        self._loader, self._station = loader, station
        loader.loaded.connect(self._thumbnail)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.row(index.row())
        if index.column() == 0 and role == Qt.ItemDataRole.DecorationRole and item.image_sha256:
            path = pictures.picture_file(self._station, item.image_sha256)
            return self._loader.get(item.id, path)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            "",
            item.account,
            item.caption or "(no caption)",
            item.status.value,
            item_photo(item),
            ", ".join(item.shown_names) or ("nobody" if item.photo_id else ""),
            str(item.blurred_faces),
            f"{item.cleared_at.astimezone():%d/%m %H:%M} by {item.cleared_by}",
        )[index.column()]

    def _thumbnail(self, key: object, _image: QImage) -> None:
        for row, item in enumerate(self._rows):
            if item.id == key:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)


def item_photo(item: QueueItemInfo) -> str:
    """The photo's file name as the office knows it (never an internal number)."""
    if item.photo_id is None:
        return "text only"
    return Path(item.photo_file).name if item.photo_file else "photo"


class AccountFilter(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.account: str | None = None

    def set_account(self, account: str | None) -> None:
        self.beginFilterChange()
        self.account = account
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, QueueTableModel)
        return self.account is None or model.row(source_row).account == self.account


class QueuePage(QWidget):
    """`changed` fires when photos' states changed (an item withdrawn sends one to review)."""

    changed = Signal()
    loaded = Signal()  # a reload was read and is shown

    def __init__(
        self, station: Station, actor: Actor, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.settings = station, actor, settings
        form = mount_form(self, "queue_page.ui")
        self.thumbs = ImageLoader(160, parent=self, fit=THUMB_FIT)
        self.model = QueueTableModel(self.thumbs, station, self)
        self.filter = AccountFilter(self)
        self.filter.setSourceModel(self.model)
        self.table = child(form, QTableView, "queueTable")
        self.table.setModel(self.filter)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_FIT.height() + 8)
        self.table.verticalHeader().hide()
        fit_on_load(self.table, stretch=2)
        header = self.table.horizontalHeader()
        # The picture column has a fixed width: measuring it would decode every item's picture.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(0, THUMB_FIT.width() + 8)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.status_filter = child(form, QComboBox, "queueStatusFilter")
        for text, statuses in STATUS_FILTERS:
            self.status_filter.addItem(text, statuses)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.account_filter = child(form, QComboBox, "queueAccountFilter")
        self.account_filter.addItem("All accounts", None)
        for handle in accounts.account_handles(station):
            self.account_filter.addItem(handle, handle)
        self.account_filter.currentIndexChanged.connect(
            lambda _i: self.filter.set_account(self.account_filter.currentData())
        )
        self.caption = child(form, QLineEdit, "queueCaptionEdit")
        self.counter = child(form, QLabel, "queueCaptionCounter")
        self.caption.textChanged.connect(self._count)
        self.takedowns = child(form, QListWidget, "takedownList")
        for name, slot in (
            ("saveCaptionButton", self.save_caption),
            ("exportButton", self.export),
            ("postedButton", self.mark_posted),
            ("withdrawButton", self.withdraw),
            ("addTextButton", self.add_text),
            ("takenDownButton", self.taken_down),
        ):
            child(form, QPushButton, name).clicked.connect(slot)
        for name in ("exportButton", "postedButton", "withdrawButton", "takenDownButton"):
            gate(child(form, QPushButton, name), actor, _ACTIONS[name], QUEUE_ROLES)
        self.save_button = child(form, QPushButton, "saveCaptionButton")
        self._count("")
        self.job: Job | None = None
        self._statuses: set[QueueStatus] | None = None
        self._reload = LatestRead(
            self._read,
            self._show_read,
            lambda exc: show_error(self, exc, "loading the queue"),
            self,
        )

    @property
    def loading(self) -> bool:
        """A reload is being read (the page shows what it held before until it ends)."""
        return self._reload.running

    def refresh(self) -> None:
        """Read the queue and the takedowns again in the background (`loaded` when shown):
        both grow with the school's years, and the GUI thread never waits on them."""
        self._statuses = self.status_filter.currentData()
        self._reload.request()

    def _read(self) -> tuple[list[QueueItemInfo], list[QueueItemInfo]]:
        """On a worker thread: no widget is read (the statuses are the newest request's)."""
        items = queue.list_queue(self.station, statuses=self._statuses)
        return items, queue.list_takedowns(self.station)

    def _show_read(self, read: Any) -> None:
        items, takedowns = read
        shown = self.current_item()
        self.model.set_rows(items)
        refit(self.table)
        # the reset left no row current: the item shown stays so if it is still listed, and
        # the caption field never keeps the words of an item no longer selected
        row = next(
            (r for r, item in enumerate(self.model.rows()) if shown and item.id == shown.id), None
        )
        index = self.filter.mapFromSource(self.model.index(row, 0)) if row is not None else None
        if index is not None and index.isValid():
            self.table.setCurrentIndex(index)
        else:
            self._current_changed(QModelIndex(), QModelIndex())
        self.takedowns.clear()
        for item in takedowns:
            who = ", ".join(item.shown_names) or "children no longer shown"
            entry = QListWidgetItem(
                f"{item_photo(item)} on {item.account} showing {who} "
                f"({item.post_url or 'no address recorded'}): {item.takedown_reason or ''}"
            )
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            self.takedowns.addItem(entry)
        self.loaded.emit()

    def current_item(self) -> QueueItemInfo | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row(self.filter.mapToSource(index).row())

    def _current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.current_item()
        self.caption.setText(item.caption if item else "")
        # staff may change the caption of a text-only post only (the service's rule)
        roles = TEXT_ROLES if item is not None and item.photo_id is None else QUEUE_ROLES
        self.save_button.setEnabled(True)
        self.save_button.setToolTip("")
        may = gate(self.save_button, self.actor, "queue.caption", roles)
        editable = bool(may and item and item.status is QueueStatus.QUEUED)
        self.caption.setEnabled(editable)
        if may:  # a refusal's tooltip stays; otherwise Save is there only for a caption to edit
            self.save_button.setEnabled(editable)

    def _caption_report(self, text: str) -> CaptionReport | None:
        item = self.current_item()
        return preview_for_item(self.station, text, item.id) if item else None

    def _count(self, text: str) -> None:
        report = self._caption_report(text)
        limit = current(self.station).caption_limit
        show_report(self.counter, report or CaptionReport(text, caption_length(text), limit))

    def _run(self, doing: str, call: Any) -> bool:
        try:
            call()
        except ServiceError as exc:
            show_error(self, exc, doing)
            return False
        self.refresh()
        self.changed.emit()
        return True

    def save_caption(self) -> None:
        item = self.current_item()
        report = self._caption_report(self.caption.text())
        allow_names = confirm_names(self, report, self.actor) if report else False
        if item is not None and allow_names is not None:
            self._run(
                "saving the caption",
                lambda: queue.edit_caption(
                    self.station, self.actor, item.id, self.caption.text(), allow_names=allow_names
                ),
            )

    def export(self) -> None:
        start = str(self.settings.value("queue/export_folder", ""))
        folder = QFileDialog.getExistingDirectory(self, "Export the queue to a folder", start)
        if not folder:
            return
        self.settings.setValue("queue/export_folder", folder)

        def done(report: object) -> None:
            assert isinstance(report, ExportReport)
            self.refresh()
            self.changed.emit()
            inform(
                self,
                "Queue exported",
                f"{len(report.items)} item{'' if len(report.items) == 1 else 's'} written to "
                f"{escape(folder)} with manifest.json.",
            )

        # Export re-checks every image and writes files: off the GUI thread, like every long job.
        self.job = start_job(
            lambda _p: export_queue(self.station, self.actor, Path(folder)),
            on_done=done,
            on_error=lambda e: show_error(self, e, "exporting the queue"),
            parent=self,
        )

    def mark_posted(self) -> None:
        item = self.current_item()
        if item is None:
            return
        url, ok = QInputDialog.getText(self, "Mark posted", "Address of the post (optional):")
        if ok:
            self._run(
                "marking the item posted",
                lambda: queue.mark_posted(self.station, self.actor, item.id, url.strip() or None),
            )

    def withdraw(self) -> None:
        item = self.current_item()
        if item is None:
            return
        reason, ok = QInputDialog.getText(self, "Withdraw", "Why is this item withdrawn?")
        if ok:
            self._run(
                "withdrawing the item",
                lambda: queue.withdraw_item(self.station, self.actor, item.id, reason),
            )

    def add_text(self) -> None:
        dialog = TextPostDialog(self.station, self.actor, self)
        if dialog.exec() == TextPostDialog.DialogCode.Accepted:
            self.refresh()
            self.changed.emit()

    def taken_down(self) -> None:
        entry = self.takedowns.currentItem()
        if entry is None:
            return
        item_id = entry.data(Qt.ItemDataRole.UserRole)
        if (
            QMessageBox.question(
                self, "Taken down", f"Confirm item {item_id} has been deleted from the account?"
            )
            == QMessageBox.StandardButton.Yes
        ):
            self._run(
                "confirming the takedown",
                lambda: queue.mark_taken_down(self.station, self.actor, item_id),
            )
