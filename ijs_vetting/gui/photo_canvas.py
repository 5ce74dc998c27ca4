"""The review picture: the photo with every face box coloured by decision; draw missed faces.

Boxes are kept in upright-original pixel coordinates (as stored) and mapped to the widget on
paint, so the picture can be shown reduced at any window size. Dragging on the picture draws a
box for a face the detector missed; clicking a box selects that face.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ijs_vetting.imaging.box import Box
from ijs_vetting.imaging.redact import DEFAULT_MASK, head_region
from ijs_vetting.services.intake.face_order import reading_order
from ijs_vetting.services.intake.photos import FaceInfo, PhotoInfo

SHOW, BLUR, REVIEW, IGNORED = (
    QColor("#1b9e45"),
    QColor("#d13438"),
    QColor("#f7a600"),
    QColor("#8a8a8a"),
)
MIN_DRAWN = 8  # screen pixels: a smaller drag is a click


def face_colour(face: FaceInfo) -> QColor:
    if face.reason == "not_a_face":
        return IGNORED
    if face.reason in ("ambiguous", "found_at_check"):
        return REVIEW
    return SHOW if face.decision == "show" else BLUR


_UNNAMED = {
    "ambiguous": "who? (more than one child)",
    "too_small": "too small",
    "drawn": "drawn",
    "not_a_face": "not a face",
    "found_at_check": "found at check",
}


def face_label(face: FaceInfo, names: dict[str, str]) -> str:
    """The child's preferred name and class (`names`: MIS id -> that), or what the face is when
    nobody was identified. Never the MIS id or a distance: a person reads this."""
    if face.child_id:
        return names.get(face.child_id, "a child not on roll")
    return _UNNAMED.get(face.reason, "unknown")


HALO, OUTLINE, THIN = 4, 5, 2  # pen widths (px): the selected face's halo and outline, others'


def _outside(box: QRectF, by: float) -> QRectF:
    return box.adjusted(-by, -by, by, by)


def numbered(photo: PhotoInfo | None) -> list[FaceInfo]:
    """The photo's faces in reading order: face n on the picture is row n of the list."""
    return reading_order(photo.faces) if photo is not None else []


def face_crop(image: QImage, photo_width: int, box: tuple[int, int, int, int], side: int) -> QImage:
    """A face with a little room around it, `side` pixels square, from `image` (the photo,
    possibly reduced; `box` is in the original's upright pixels, `photo_width` wide)."""
    left, top, right, bottom = box
    s, pad = image.width() / photo_width, (right - left) * 0.25
    area = QRect(
        round((left - pad) * s),
        round((top - pad) * s),
        round((right - left + 2 * pad) * s),
        round((bottom - top + 2 * pad) * s),
    ).intersected(image.rect())
    return image.copy(area).scaled(
        side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def box_label(number: int, words: str, box_width: float, metrics: QFontMetrics) -> str:
    """The label over a face's box: its number and words, or the number only where the words
    are much wider than the box. Small faces side by side would otherwise cover each other's
    numbers, the selected one's too (its words are in the face list and the zoom anyway)."""
    text = f"{number}  {words}"
    return str(number) if metrics.horizontalAdvance(text) > box_width * 1.5 else text


class PhotoCanvas(QWidget):
    """Shows one photo and its faces; emits `face_clicked(face_id)` and `box_drawn(l, t, r, b)`."""

    face_clicked = Signal(int)
    box_drawn = Signal(int, int, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self.setMouseTracking(False)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Photo with face boxes")
        self._photo: PhotoInfo | None = None
        self._image = QImage()
        self._selected: int | None = None
        self._as_posted = False
        self._drag_from: QPoint | None = None
        self._drag_to: QPoint | None = None
        self._names: dict[str, str] = {}

    def set_names(self, names: dict[str, str]) -> None:
        """MIS id -> "preferred name · class", for the labels on the boxes."""
        self._names = names
        self.update()

    def crop(self, face: FaceInfo, side: int) -> QImage:
        """The face, `side` pixels square, from the loaded picture (empty while it loads)."""
        if self._image.isNull() or self._photo is None or not self._photo.width:
            return QImage()
        box = (face.left, face.top, face.right, face.bottom)
        return face_crop(self._image, self._photo.width, box, side)

    def sizeHint(self) -> QSize:
        return QSize(800, 560)

    def set_photo(self, photo: PhotoInfo | None, image: QImage | None = None) -> None:
        self._photo = photo
        self._image = image if image is not None else QImage()
        if photo is None or self._selected not in {f.id for f in photo.faces}:
            self._selected = None
        self.update()

    def set_image(self, image: QImage) -> None:
        self._image = image
        self.update()

    def set_selected(self, face_id: int | None) -> None:
        self._selected = face_id
        self.update()

    def set_as_posted(self, on: bool) -> None:
        """Preview the masks: every blurred face covered as the posted image will have it."""
        self._as_posted = on
        self.update()

    # geometry -----------------------------------------------------------------------------
    def _target(self) -> QRectF:
        """Where the whole photo is painted inside the widget (aspect kept, centred)."""
        if self._photo is None or not self._photo.width or not self._photo.height:
            return QRectF()
        scale = min(self.width() / self._photo.width, self.height() / self._photo.height)
        w, h = self._photo.width * scale, self._photo.height * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _scale(self) -> float:
        target = self._target()
        return target.width() / self._photo.width if self._photo and self._photo.width else 1.0

    def _to_screen(self, face: FaceInfo) -> QRectF:
        target, s = self._target(), self._scale()
        return QRectF(
            target.left() + face.left * s,
            target.top() + face.top * s,
            (face.right - face.left) * s,
            (face.bottom - face.top) * s,
        )

    def _to_image(self, point: QPoint) -> QPointF:
        target, s = self._target(), self._scale()
        return QPointF((point.x() - target.left()) / s, (point.y() - target.top()) / s)

    # painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#2b2b2b"))
        target = self._target()
        if self._photo is None:
            painter.setPen(QColor("#dddddd"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Select a photo")
            return
        if not self._image.isNull():
            painter.drawImage(target, self._image)
        else:
            painter.setPen(QColor("#dddddd"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Loading…")
        for number, face in enumerate(numbered(self._photo), start=1):
            self._paint_face(painter, face, number)
        if self._drag_from is not None and self._drag_to is not None:
            painter.setPen(QPen(QColor("#ffffff"), 2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRect(self._drag_from, self._drag_to).normalized())

    def _paint_face(self, painter: QPainter, face: FaceInfo, number: int) -> None:
        box = self._to_screen(face)
        if self._as_posted:
            if face.decision == "blur":  # the same head region and colour the export masks
                region = head_region(Box(face.left, face.top, face.right, face.bottom))
                target, s = self._target(), self._scale()
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(*DEFAULT_MASK.colour))
                painter.drawEllipse(
                    QRectF(
                        target.left() + region.left * s,
                        target.top() + region.top * s,
                        region.width * s,
                        region.height * s,
                    )
                )
            return
        colour = QColor(face_colour(face))  # a copy: dimming must not change the palette
        selected = face.id == self._selected
        if self._selected is not None and not selected:
            colour.setAlpha(110)  # the others step back: the selected face is unmistakable
        # Every stroke lies outside the box: a face of a few pixels on screen (a crowd seen
        # whole) stays visible inside its outline, selected or not.
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if selected:  # a white halo, then the colour, thick
            painter.setPen(QPen(QColor("#ffffff"), HALO))
            painter.drawRect(_outside(box, OUTLINE + HALO / 2))
        width = OUTLINE if selected else THIN
        pen = QPen(colour, width)
        if face.reason == "not_a_face" or face.origin == "drawn":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(_outside(box, width / 2 + 0.5))
        box = _outside(box, OUTLINE + HALO if selected else THIN + 1)  # the label sits outside
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        text = box_label(number, face_label(face, self._names), box.width(), metrics)
        label = QRectF(
            box.left(),
            box.top() - metrics.height() - 4,
            metrics.horizontalAdvance(text) + 10,
            metrics.height() + 4,
        )
        if label.top() < 0:
            label.moveTop(box.bottom() + 2)
        painter.fillRect(label, colour)
        painter.setPen(QColor(255, 255, 255, colour.alpha() if not selected else 255))
        painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)

    # mouse --------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._photo is not None:
            self._drag_from = self._drag_to = event.position().toPoint()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self._drag_to = event.position().toPoint()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is None or self._photo is None:
            return
        start, end = self._drag_from, event.position().toPoint()
        self._drag_from = self._drag_to = None
        self.update()
        rect = QRect(start, end).normalized()
        if rect.width() >= MIN_DRAWN and rect.height() >= MIN_DRAWN:
            a, b = self._to_image(rect.topLeft()), self._to_image(rect.bottomRight())
            self.box_drawn.emit(round(a.x()), round(a.y()), round(b.x()), round(b.y()))
            return
        for face in reversed(numbered(self._photo)):
            if self._to_screen(face).contains(QPointF(end)):
                self.face_clicked.emit(face.id)
                return
