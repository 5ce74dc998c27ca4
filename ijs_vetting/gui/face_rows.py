"""The Review page's list of a photo's faces: one row per face, numbered as on the picture, each
with its small crop, and the selected face enlarged beside the list.

Apart from the page because it only shows: which face is selected here is which face the
page's actions act on (`current`), and the picture's boxes follow the selection.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem

from ijs_vetting.gui.photo_canvas import PhotoCanvas, face_label, numbered
from ijs_vetting.services.intake.photos import FaceInfo, PhotoInfo

REASON_WORDS = {
    "consent": "shown: consent recorded",
    "no_consent": "blurred: no consent for this channel",
    "unknown": "blurred: not identified",
    "ambiguous": "needs review: could be more than one child",
    "too_small": "blurred: too small to identify",
    "no_biometric_consent": "blurred: no biometric consent",
    "safeguarding": "never publish (safeguarding)",
    "marked_blur": "blurred by a reviewer",
    "drawn": "drawn by a reviewer: blurred",
    "not_a_face": "not a face",
    "found_at_check": "found by the check before posting: blurred until you mark it",
}
ZOOM_SIDE = 110  # the enlarged selected face beside the list
ROW_ICON = 40  # each face row's own small crop
FACE_ROLE = Qt.ItemDataRole.UserRole


class FaceRows(QObject):
    """The face list (`rows`) and the enlarged face (`zoom`) of the photo the canvas shows;
    `face_changed` gives the face now selected (or None)."""

    face_changed = Signal(object)

    def __init__(self, rows: QListWidget, zoom: QLabel, canvas: PhotoCanvas) -> None:
        super().__init__(rows)
        self.rows, self.zoom, self.canvas = rows, zoom, canvas
        self._photo: PhotoInfo | None = None
        rows.currentItemChanged.connect(self._row_changed)
        canvas.face_clicked.connect(self.select)

    def show(self, photo: PhotoInfo | None, names: dict[str, str], keep: int | None) -> None:
        """List `photo`'s faces (with the children's names); face `keep` stays selected if it
        is still there, else the first face is."""
        self._photo = photo
        self.rows.blockSignals(True)
        self.rows.clear()
        for number, face in enumerate(numbered(photo) if photo else [], start=1):
            words = REASON_WORDS.get(face.reason, face.reason)
            by = " (by reviewer)" if face.by_reviewer else ""
            item = QListWidgetItem(f"{number}. {face_label(face, names)}{by} — {words}")
            item.setData(FACE_ROLE, face.id)
            if face.child_id:
                item.setToolTip(f"MIS id {face.child_id}")
            self.rows.addItem(item)
        self.rows.blockSignals(False)
        self.show_crops()
        if keep is not None:
            self.select(keep)
        elif photo is not None and photo.faces:
            self.rows.setCurrentRow(0)
        self._row_changed(self.rows.currentItem(), None)

    def current(self) -> FaceInfo | None:
        item = self.rows.currentItem()
        if item is None or self._photo is None:
            return None
        return next((f for f in self._photo.faces if f.id == item.data(FACE_ROLE)), None)

    def show_crops(self) -> None:
        """Each row's small crop (once the picture is loaded) and the enlarged one."""
        faces = {f.id: f for f in self._photo.faces} if self._photo else {}
        for row in range(self.rows.count()):
            item = self.rows.item(row)
            face = faces.get(item.data(FACE_ROLE))
            crop = self.canvas.crop(face, ROW_ICON) if face else QImage()
            item.setIcon(QIcon(QPixmap.fromImage(crop)) if not crop.isNull() else QIcon())
        self._zoom()

    def select(self, face_id: int) -> None:
        for row in range(self.rows.count()):
            if self.rows.item(row).data(FACE_ROLE) == face_id:
                self.rows.setCurrentRow(row)
                return

    def select_number(self, number: int) -> None:
        """Face `number` as numbered on the picture (reading order)."""
        if number <= self.rows.count():
            self.rows.setCurrentRow(number - 1)

    def next(self) -> None:
        if self.rows.count():
            self.rows.setCurrentRow((self.rows.currentRow() + 1) % self.rows.count())

    def _row_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        self.canvas.set_selected(item.data(FACE_ROLE) if item else None)
        self._zoom()
        self.face_changed.emit(self.current())

    def _zoom(self) -> None:
        face = self.current()
        crop = self.canvas.crop(face, ZOOM_SIDE) if face else QImage()
        if crop.isNull():
            self.zoom.clear()
        else:
            self.zoom.setPixmap(QPixmap.fromImage(crop))
