"""Review: the photo grid, the picture with its faces, the face list and the clearing controls.

What the reviewer does to the photo shown and its faces is in `review_actions` (this page's
base class); the keys for it in `review_keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ijs_vetting.domain import (
    FaceOrigin,
    InvalidInput,
    Role,
    year_label,
)
from ijs_vetting.gui.child_field import ChildField
from ijs_vetting.gui.clearing_panel import ClearingPanel
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.face_rows import FaceRows
from ijs_vetting.gui.images import ImageLoader
from ijs_vetting.gui.jobs import LatestRead
from ijs_vetting.gui.photo_canvas import PhotoCanvas
from ijs_vetting.gui.photo_model import (
    PHOTO_ROLE,
    THUMB_SIDE,
    PhotoDelegate,
    PhotoFilter,
    PhotoListModel,
    badge,
)
from ijs_vetting.gui.review_actions import ReviewActions
from ijs_vetting.gui.review_data import ReviewData, read_review_data
from ijs_vetting.gui.review_filters import GridFilters
from ijs_vetting.gui.review_keys import review_actions
from ijs_vetting.gui.role_gate import gate
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import pictures
from ijs_vetting.services.intake.deciding import UNREGISTERED_CAMERA
from ijs_vetting.services.intake.photos import FaceInfo, PhotoInfo
from ijs_vetting.services.posting.clearing import CLEARABLE


class ReviewPage(ReviewActions):
    """The SLT's and office's main screen; `changed` fires when photos left for the queue,
    `reviewed` after any change to a photo's faces (so the window's counts stay live)."""

    changed = Signal()
    loaded = Signal()  # a reload was read and is shown

    def __init__(self, station: Station, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station, self.actor = station, actor
        form = mount_form(self, "review_page.ui")
        self.form = form
        self._reload = LatestRead(
            lambda: read_review_data(self.station),
            self._show_data,
            lambda exc: show_error(self, exc, "loading the photos"),
            self,
        )

        self.thumbs = ImageLoader(THUMB_SIDE, parent=self)
        self.pictures = ImageLoader(1800, cache_size=12, parent=self)
        self.pictures.loaded.connect(self._picture_loaded)
        self.model = PhotoListModel(self.thumbs, self._original_path, self)
        self.filter = PhotoFilter(self)
        self.filter.setSourceModel(self.model)
        self.grid = self._mount_grid(form)
        self.canvas = self._mount_canvas(form)

        self.title = child(form, QLabel, "photoTitle")
        self.note = child(form, QLabel, "noteLabel")
        self.faces = FaceRows(
            child(form, QListWidget, "faceList"), child(form, QLabel, "faceZoom"), self.canvas
        )
        self.selection_count = child(form, QLabel, "selectionCount")
        self._names: dict[str, str] = {}  # MIS id -> "preferred name · class"
        self.grid.activated.connect(lambda _i: self.faces.rows.setFocus())
        self.head_count = child(form, QSpinBox, "headCountSpin")
        self.head_count.editingFinished.connect(self._head_count_changed)
        self.after = child(form, QCheckBox, "afterCheck")
        self.after.toggled.connect(self.canvas.set_as_posted)

        self.filters = GridFilters(form, self.filter)
        child(form, QLineEdit, "photoSearch").textChanged.connect(self.filter.set_text)
        child(form, QPushButton, "selectReadyButton").clicked.connect(self.select_all_ready)

        self.child_field = ChildField(child(form, QLineEdit, "assignEdit"))
        self.child_field.chosen.connect(self.assign_typed_child)
        self.child_field.unknown.connect(
            lambda words: show_error(self, InvalidInput(words), "identifying the face")
        )
        self.child_field.left.connect(
            lambda: self.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)
        )

        self._connect_buttons(form)
        self.clearing = ClearingPanel(self, station, actor, self._targets)
        self.clearing.changed.connect(self.changed)
        # A burst of selection changes (shift-click, a script) is followed once: the account
        # and the caption's names are read from the register for the photos chosen.
        self._selection_timer = QTimer(self, singleShot=True, interval=0)
        self._selection_timer.timeout.connect(self._selection_changed)
        self.grid.selectionModel().selectionChanged.connect(
            lambda *_: self._selection_timer.start()
        )
        self.actions_for_menu = review_actions(self)
        # Templates are the admin's (biometric data): others do not see the button at all.
        child(form, QPushButton, "referenceButton").setVisible(actor.role is Role.ADMIN)
        self.register_button = child(form, QPushButton, "registerCameraButton")
        self.register_button.setVisible(actor.role is Role.ADMIN)  # devices are the admin's

    def _mount_grid(self, form: QWidget) -> QListView:
        grid = child(form, QListView, "photoGrid")
        grid.setModel(self.filter)
        grid.setItemDelegate(PhotoDelegate(grid))
        grid.setMinimumWidth(230)
        splitter = child(form, QSplitter, "reviewSplitter")
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([430, 650])
        grid.selectionModel().currentChanged.connect(self._current_changed)
        return grid

    def _mount_canvas(self, form: QWidget) -> PhotoCanvas:
        canvas = PhotoCanvas(form)
        host = child(form, QWidget, "canvasHost")
        host_layout = QVBoxLayout(host)
        host_layout.setContentsMargins(0, 0, 0, 0)
        host_layout.addWidget(canvas)
        canvas.box_drawn.connect(self._draw_face)
        return canvas

    def _connect_buttons(self, form: QWidget) -> None:
        buttons: dict[str, Callable[[], None]] = {
            "assignButton": self.child_field.submit,
            "showButton": self.show_face,
            "blurButton": self.toggle_blur,
            "notFaceButton": self.not_a_face,
            "resetButton": self.reset_face,
            "deleteDrawnButton": self.delete_drawn,
            "confirmCameraButton": self.accept_photo,
            "whoButton": self.who_is_this,
            "referenceButton": self.add_as_reference,
            "registerCameraButton": self.register_camera,
        }
        for name, slot in buttons.items():
            child(form, QPushButton, name).clicked.connect(slot)
        undraw = child(form, QPushButton, "deleteDrawnButton")  # only a drawn face can go
        self.faces.face_changed.connect(
            lambda face: undraw.setEnabled(face is not None and face.origin == FaceOrigin.DRAWN)
        )
        accept = child(form, QPushButton, "confirmCameraButton")
        gate(accept, self.actor, "review.accept", (Role.ADMIN, Role.SLT))

    def _selection_changed(self) -> None:
        self.clearing.targets_changed()
        ranges = self.grid.selectionModel().selection()  # counted without reading the rows
        chosen = sum(ranges.at(n).height() for n in range(ranges.count()))
        self.selection_count.setText(f"{chosen} selected")

    # data ---------------------------------------------------------------------------------
    def _original_path(self, photo_id: int) -> Path:
        row = self.model.row_of(photo_id)
        assert row is not None
        return pictures.picture_file(self.station, self.model.photo(row).sha256)

    @property
    def loading(self) -> bool:
        """A reload is being read (the page shows what it held before until it ends)."""
        return self._reload.running

    def refresh(self) -> None:
        """Reload photos and the child list in the background (`loaded` when shown); the
        current photo stays selected if it still shows. Four years of photos take seconds to
        read: the page stays usable meanwhile."""
        self._reload.request()

    def _show_data(self, data: Any) -> None:
        assert isinstance(data, ReviewData)
        current = self.current_photo()
        self.clearing.set_accounts(data.accounts)
        self.model.set_photos(data.photos)
        names = {}
        on_roll = [c for c in data.children if c.on_roll]
        for c in on_roll:
            names[f"{c.display_name} — {c.class_name or year_label(c.year_group)}"] = c.mis_id
        self._names = {
            c.mis_id: f"{c.display_name} · {c.class_name or year_label(c.year_group)}"
            for c in data.children
        }
        self.canvas.set_names(self._names)
        self.filters.set_year_groups({c.mis_id: c.year_group for c in on_roll})
        self.child_field.set_children(names)
        if current is not None:
            self.select_photo(current.id)
        if self.current_photo() is None:
            self._show(None)  # the photo shown left the grid (cleared, rejected): not left editable
        self._selection_changed()
        self.loaded.emit()

    def current_photo(self) -> PhotoInfo | None:
        index = self.grid.currentIndex()
        return index.data(PHOTO_ROLE) if index.isValid() else None

    def selected_photos(self) -> list[PhotoInfo]:
        return [i.data(PHOTO_ROLE) for i in self.grid.selectionModel().selectedIndexes()]

    def current_face(self) -> FaceInfo | None:
        return self.faces.current()

    def select_photo(self, photo_id: int) -> None:
        row = self.model.row_of(photo_id)
        if row is None:
            return
        index = self.filter.mapFromSource(self.model.index(row))
        if index.isValid():
            self.grid.setCurrentIndex(index)

    def select_all_ready(self) -> None:
        """Select every ready photo shown, in one selection change (row by row, a year's
        photos took 9 s: each row re-merged the selection so far, measured)."""
        chosen, start, rows = QItemSelection(), None, self.filter.rowCount()
        for row in range(rows + 1):  # runs of ready rows, each one range
            index = self.filter.index(row, 0) if row < rows else None
            ready = index is not None and index.data(PHOTO_ROLE).status in CLEARABLE
            if ready and start is None:
                start = row
            elif not ready and start is not None:
                chosen.select(self.filter.index(start, 0), self.filter.index(row - 1, 0))
                start = None
        selection = self.grid.selectionModel()
        selection.select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    # showing ------------------------------------------------------------------------------
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(current.data(PHOTO_ROLE) if current.isValid() else None)

    def _show(self, photo: PhotoInfo | None, keep_face: int | None = None) -> None:
        if photo is None:
            self.canvas.set_photo(None)
            self.title.setText("Select a photo")
            self.note.clear()
            self.register_button.setEnabled(False)
            self.faces.show(None, self._names, None)
            return
        image = self.pictures.get(photo.id, pictures.picture_file(self.station, photo.sha256))
        self.canvas.set_photo(photo, image)
        taken = f" · taken {photo.taken_at:%d/%m/%Y %H:%M}" if photo.taken_at else ""
        camera = f" · {photo.device or photo.camera}" if (photo.device or photo.camera) else ""
        self.title.setText(f"<b>{photo.file}</b> — {badge(photo.status.value)[0]}{taken}{camera}")
        self.note.setText(photo.note or "")
        self.register_button.setEnabled(UNREGISTERED_CAMERA in (photo.note or ""))
        self.head_count.blockSignals(True)
        self.head_count.setValue(-1 if photo.head_count is None else photo.head_count)
        self.head_count.blockSignals(False)
        self.faces.show(photo, self._names, keep_face)

    def _picture_loaded(self, key: object, image: QImage) -> None:
        photo = self.current_photo()
        if photo is not None and key == photo.id:
            self.canvas.set_image(image)
            self.faces.show_crops()

    def _targets(self) -> list[PhotoInfo]:
        """The photos a Clear or Reject is for: those selected, or else the one shown."""
        chosen = self.selected_photos()
        current = self.current_photo()
        return chosen or ([current] if current else [])
