""" "Who is this?": the last import's unidentified faces as crops, named by a person in groups.

The reviewer looks at the crops, selects those that are one child and names them together; the
service records each as a human identification (one transaction, one audit entry). Only the
crops selected are named: nothing here compares faces, and no name is proposed by likeness.
Names are offered with the year groups the photos already show first.

Opened by itself when an import finishes with faces nobody identified. If the school enabled
`faces.order_unknown_by_likeness`, that import's arrangement (made in memory from the encodings
it computed, `VetReport.likeness`) puts faces alike next to each other; opened later from
Review, the crops come photo by photo (the arrangement is never stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from ijs_vetting.domain import ServiceError, year_label
from ijs_vetting.gui.errors import show_error
from ijs_vetting.gui.images import ImageLoader
from ijs_vetting.gui.jobs import LatestRead
from ijs_vetting.gui.photo_canvas import face_crop
from ijs_vetting.gui.uiload import child, mount_form
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import pictures, review
from ijs_vetting.services.register import children, naming
from ijs_vetting.services.register.children import ChildSummary
from ijs_vetting.services.register.naming import UnnamedFace

CROP_SIDE = 96
FACE_ROLE = Qt.ItemDataRole.UserRole


class WhoIsThisDialog(QDialog):
    """Names faces of the newest import batch (or of `batch_id`), arranged by `likeness`.

    The faces and the register are read off the GUI thread (a batch can hold hundreds of
    faces, the register a whole school): `loaded` fires when they are shown."""

    loaded = Signal()

    def __init__(
        self,
        station: Station,
        actor: Actor,
        batch_id: int | None = None,
        parent: QWidget | None = None,
        likeness: Sequence[int] = (),
    ) -> None:
        super().__init__(parent)
        self.station, self.actor, self.likeness = station, actor, likeness
        self.batch_id = batch_id if batch_id is not None else naming.latest_batch(station)
        self.setWindowTitle("Who is this? (faces alike together)" if likeness else "Who is this?")
        form = mount_form(self, "who_is_this.ui", margins=None)
        if likeness:
            hint = child(form, QLabel, "whoHint")
            hint.setText(
                f"{hint.text()} Faces that look alike are placed next to each other (a school "
                "setting): look at each one, as a look-alike may sit among them."
            )
        self.crops = child(form, QListWidget, "faceCrops")
        self.count = child(form, QLabel, "whoCount")
        self.choice = child(form, QComboBox, "childChoice")
        # Nobody is chosen until the reviewer chooses: Enter must never name faces as the
        # first child of the list.
        self.choice.setPlaceholderText("Choose the child…")
        self.crops.itemSelectionChanged.connect(self._selection_changed)
        self.name_button = child(form, QPushButton, "nameButton")
        self.name_button.clicked.connect(self.name_selected)
        self.choice.currentIndexChanged.connect(lambda _i: self._offer_naming())
        child(form, QPushButton, "closeButton").clicked.connect(self.reject)
        self.pictures = ImageLoader(1600, cache_size=64, parent=self)
        self.pictures.loaded.connect(self._picture_loaded)
        self._register: list[ChildSummary] = []
        self._faces: dict[int, UnnamedFace] = {}
        self._reload = LatestRead(
            self._read, self._show, lambda exc: show_error(self, exc, "loading the faces"), self
        )
        self.resize(900, 560)
        self.refresh()

    @property
    def loading(self) -> bool:
        return self._reload.running

    def refresh(self) -> None:
        """Read the faces still unnamed (and who may be named) again, in the background."""
        self._reload.request()

    def _read(self) -> tuple[list[ChildSummary], list[UnnamedFace]]:
        """On a worker thread: reads the register only, no widget."""
        register = children.list_children(self.station, include_left=False)
        if self.batch_id is None:
            return register, []
        return register, naming.unnamed_faces(self.station, self.batch_id, self.likeness)

    def _show(self, read: Any) -> None:
        self._register, faces = read
        self.crops.clear()
        self._faces = {f.face_id: f for f in faces}
        for face in faces:
            item = QListWidgetItem(f"{face.file}\nface {face.position}")
            item.setData(FACE_ROLE, face.face_id)
            item.setToolTip(f"{face.file}, face {face.position} (numbered as on the Review page)")
            self.crops.addItem(item)
            path = pictures.picture_file(self.station, face.sha256)
            image = self.pictures.get(face.photo_id, path)
            if image is not None:
                self._set_crop(item, face, image)
        self._selection_changed()
        self.loaded.emit()

    def selected_faces(self) -> list[UnnamedFace]:
        return [self._faces[i.data(FACE_ROLE)] for i in self.crops.selectedItems()]

    def _picture_loaded(self, key: object, image: QImage) -> None:
        for row in range(self.crops.count()):
            item = self.crops.item(row)
            face = self._faces[item.data(FACE_ROLE)]
            if face.photo_id == key:
                self._set_crop(item, face, image)

    @staticmethod
    def _set_crop(item: QListWidgetItem, face: UnnamedFace, image: QImage) -> None:
        box = (face.left, face.top, face.right, face.bottom)
        item.setIcon(QIcon(QPixmap.fromImage(face_crop(image, face.photo_width, box, CROP_SIDE))))

    def _selection_changed(self) -> None:
        selected = self.selected_faces()
        self.count.setText(f"{len(selected)} selected")
        chosen = self.choice.currentData()
        self.choice.clear()
        for c in naming.proposed_order(self._register, selected):
            self.choice.addItem(
                f"{c.display_name} — {c.class_name or year_label(c.year_group)}", c.mis_id
            )
        self.choice.setCurrentIndex(self.choice.findData(chosen) if chosen is not None else -1)
        self._offer_naming()

    def _offer_naming(self) -> None:
        """Naming is offered once faces are selected and a child is chosen, not refused after."""
        ready = bool(self.crops.selectedItems()) and self.choice.currentData() is not None
        self.name_button.setEnabled(ready)

    def name_selected(self) -> None:
        faces = self.selected_faces()
        mis_id = self.choice.currentData()
        if not faces or mis_id is None:
            words = "Choose who they are first." if faces else "Select one child's faces first."
            show_error(self, ServiceError(words), "naming")
            return
        try:
            review.assign_faces(self.station, self.actor, [f.face_id for f in faces], mis_id)
        except ServiceError as exc:
            show_error(self, exc, "naming the faces")
            return
        self.refresh()

    def done(self, result: int) -> None:
        self.pictures.wait()
        super().done(result)
