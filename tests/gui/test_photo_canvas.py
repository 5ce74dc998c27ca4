"""The photo on Review: the boxes drawn over it never hide the face they mark."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from ijs_vetting.domain import FaceDecision, FaceOrigin, FaceReason, PhotoStatus
from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.photo_canvas import PhotoCanvas
from ijs_vetting.services.intake.photos import FaceInfo, PhotoInfo

pytestmark = pytest.mark.gui


def _face(face_id: int, left: int, top: int, side: int) -> FaceInfo:
    return FaceInfo(
        id=face_id,
        left=left,
        top=top,
        right=left + side,
        bottom=top + side,
        child_id=None,
        distance=None,
        decision=FaceDecision.BLUR,
        reason=FaceReason.UNKNOWN,
        origin=FaceOrigin.DETECTED,
        override=None,
        by_reviewer=False,
        too_small=False,
    )


def _photo(*faces: FaceInfo) -> PhotoInfo:
    return PhotoInfo(
        id=1,
        sha256="0" * 64,
        file="IMG_0105.JPG",
        status=PhotoStatus.REVIEW,
        note=None,
        taken_at=None,
        device=None,
        camera=None,
        width=4000,
        height=3000,
        head_count=None,
        faces=faces,
    )


@pytest.mark.parametrize("selected", [True, False])
def test_a_tiny_face_stays_visible_inside_its_box(qtbot: QtBot, selected: bool) -> None:
    """A crowd's face about 9 px wide on screen was covered by the selected face's halo and
    outline (drawn across the box edge): only a white dot was left to see."""
    make_app()
    image = QImage(4000, 3000, QImage.Format.Format_RGB32)
    image.fill(QColor("#3a7f3a"))
    canvas = PhotoCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(820, 640)
    face = _face(7, 2000, 1500, 45)  # about 9 px at this scale
    canvas.set_photo(_photo(face), image)
    canvas.set_selected(7 if selected else None)
    shot = canvas.grab().toImage()
    box = canvas._to_screen(face)
    assert 7 <= box.width() <= 11
    inside = [
        shot.pixelColor(x, y).name()
        for x in range(int(box.left()) + 1, int(box.right()))
        for y in range(int(box.top()) + 1, int(box.bottom()))
    ]
    assert inside and set(inside) == {"#3a7f3a"}, set(inside)
    # ...and the box is drawn: the pixels just outside it are not the photo's.
    ring = shot.pixelColor(int(box.left()) - 2, int(box.center().y())).name()
    assert ring != "#3a7f3a"
