"""What a reviewer does on Review to the photo shown and its faces.

Every action calls a review service (which checks the role, audits and re-applies the policy)
and then re-reads that one photo, so what the screen shows is always what the database holds.
The base class of `ReviewPage`, apart from it so that the page's module holds the screen (grid,
picture, lists, clearing) and this one the actions its buttons and keys (`review_keys`) call.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QInputDialog, QSpinBox, QWidget

from ijs_vetting.domain import ChangedElsewhere, FaceOverride, ServiceError
from ijs_vetting.gui.child_field import ChildField
from ijs_vetting.gui.clearing_panel import ClearingPanel
from ijs_vetting.gui.errors import ask, inform, show_error
from ijs_vetting.gui.face_rows import FaceRows
from ijs_vetting.gui.photo_canvas import PhotoCanvas
from ijs_vetting.gui.photo_model import PhotoListModel
from ijs_vetting.gui.who_is_this import WhoIsThisDialog
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, photos, review
from ijs_vetting.services.intake.photos import FaceInfo, PhotoInfo
from ijs_vetting.services.register import face_reference


class ReviewActions(QWidget):
    """The actions; the page provides the widgets and the reading (`current_photo`, ...).
    `reviewed` fires after any change to a photo's faces."""

    reviewed = Signal()

    station: Station
    actor: Actor
    model: PhotoListModel
    canvas: PhotoCanvas
    faces: FaceRows
    child_field: ChildField
    head_count: QSpinBox
    clearing: ClearingPanel

    def current_photo(self) -> PhotoInfo | None:
        raise NotImplementedError

    def current_face(self) -> FaceInfo | None:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def _show(self, photo: PhotoInfo | None, keep_face: int | None = None) -> None:
        raise NotImplementedError

    def _act(self, doing: str, call: Callable[[], object]) -> bool:
        """Run a review service for the current photo, then re-read it from the database."""
        photo = self.current_photo()
        if photo is None:
            return False
        face = self.current_face()
        try:
            call()
        except ServiceError as exc:
            show_error(self, exc, doing)
            if isinstance(exc, ChangedElsewhere):
                self.refresh()  # show the photo as the other station left it
            return False
        updated = photos.get_photo(self.station, photo.id)
        self.model.update_photo(updated)
        self._show(updated, keep_face=face.id if face else None)
        self.clearing.targets_changed()  # who is shown decides the account
        self.reviewed.emit()
        return True

    def _with_face(self, doing: str, call: Callable[[FaceInfo], object]) -> None:
        face = self.current_face()
        if face is None:
            show_error(self, ServiceError("Select a face first (click its box)."), doing)
            return
        self._act(doing, lambda: call(face))

    def assign_typed_child(self, mis_id: str) -> None:
        self.assign_child(mis_id)
        self.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def assign_child(self, mis_id: str) -> None:
        self._with_face(
            "identifying the face",
            lambda f: review.assign_child(self.station, self.actor, f.id, mis_id),
        )
        self.child_field.remember(mis_id)

    def assign_recent(self, number: int) -> None:
        mis_id = self.child_field.recent(number)
        if mis_id is not None:
            self.assign_child(mis_id)

    def show_face(self) -> None:
        self._with_face(
            "showing the face", lambda f: review.mark_show(self.station, self.actor, f.id)
        )

    def toggle_blur(self) -> None:
        def toggle(face: FaceInfo) -> object:
            override = None if face.override == FaceOverride.BLUR.value else FaceOverride.BLUR
            return review.set_override(self.station, self.actor, face.id, override)

        self._with_face("masking the face", toggle)

    def not_a_face(self) -> None:
        """Asked first: "not a face" is the one mark that leaves a box unblurred, and one
        key press put it on a real face (only the check before clearing stopped it)."""
        face = self.current_face()
        if face is not None and face.override != FaceOverride.NOT_A_FACE.value:
            number = self.faces.rows.currentRow() + 1
            if not ask(
                self,
                "Not a face?",
                f"Mark box {number} as not a face? It will not be blurred. Only for something "
                "that is not a person's face (a poster, a pattern, a reflection); the check "
                "before clearing looks at it again.",
            ):
                return
        self._with_face(
            "marking the box",
            lambda f: review.set_override(self.station, self.actor, f.id, FaceOverride.NOT_A_FACE),
        )

    def reset_face(self) -> None:
        self._with_face(
            "undoing the review", lambda f: review.reset_face(self.station, self.actor, f.id)
        )

    def delete_drawn(self) -> None:
        self._with_face(
            "deleting the drawn face",
            lambda f: review.delete_drawn_face(self.station, self.actor, f.id),
        )

    def accept_photo(self) -> None:
        photo = self.current_photo()
        if photo is not None:
            self._act(
                "accepting the photo",
                lambda: review.accept_photo(self.station, self.actor, photo.id),
            )

    def who_is_this(self) -> None:
        """Name the last import's unidentified faces together, then show what changed."""
        WhoIsThisDialog(self.station, self.actor, parent=self).exec()
        self.refresh()
        self.reviewed.emit()

    def add_as_reference(self) -> None:
        face = self.current_face()
        if face is None:
            show_error(self, ServiceError("Select a face first (click its box)."), "adding")
            return
        try:
            report = face_reference.add_face_as_reference(self.station, self.actor, face.id)
        except ServiceError as exc:
            show_error(self, exc, "adding the reference photo")
            return
        words = "; ".join(o.message for o in report.outcomes) or "Added as a reference photo."
        inform(self, "Reference photo", escape(words))
        self.refresh()

    def register_camera(self) -> None:
        """The photo's camera is a school iPad: register it (named by the admin), and every
        photo from it is decided again."""
        photo = self.current_photo()
        if photo is None or not photo.camera:
            return
        name, ok = QInputDialog.getText(
            self,
            "Register this camera",
            f"{photo.camera}, the camera of {photo.file}, becomes a school device. Its name "
            "(e.g. Year 5 iPad 2):",
            text=photo.camera,
        )
        if not ok or not name.strip():
            return
        try:
            devices.register_camera(self.station, self.actor, photo.id, name)
        except ServiceError as exc:
            show_error(self, exc, "registering the camera")
            return
        inform(self, "Camera registered", escape(f"{name.strip()} is a school device now."))
        self.refresh()  # every photo from it was decided again
        self.reviewed.emit()

    def _draw_face(self, left: int, top: int, right: int, bottom: int) -> None:
        photo = self.current_photo()
        if photo is None:
            return
        made: list[int] = []
        if self._act(
            "drawing a face",
            lambda: made.append(
                review.draw_face(self.station, self.actor, photo.id, (left, top, right, bottom))
            ),
        ):
            self.faces.select(made[0])

    def _head_count_changed(self) -> None:
        photo = self.current_photo()
        value = self.head_count.value()
        count = None if value < 0 else value
        if photo is not None and count != photo.head_count:
            # Shown as stored until the service says otherwise: the box loses focus to a
            # refusal's message and finishes editing a second time, which then asks nothing.
            self.head_count.blockSignals(True)
            self.head_count.setValue(-1 if photo.head_count is None else photo.head_count)
            self.head_count.blockSignals(False)
            self._act(
                "recording the head count",
                lambda: review.set_head_count(self.station, self.actor, photo.id, count),
            )
