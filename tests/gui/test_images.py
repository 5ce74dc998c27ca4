"""Loading pictures off the GUI thread: a picture for a table cell arrives whole in the cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSize
from pytestqt.qtbot import QtBot

from ijs_vetting.gui.app import make_app
from ijs_vetting.gui.images import ImageLoader
from ijs_vetting.gui.queue_page import THUMB_FIT
from tests import scenes

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(("width", "height"), [(4032, 3024), (3024, 4032), (640, 120)])
def test_a_picture_fitted_to_a_cell_is_never_cut_off(
    qtbot: QtBot, tmp_path: Path, width: int, height: int
) -> None:
    """The Queue page's thumbnails were cut off: a table draws an image at its own size, and a
    160 px one does not fit a 100 x 72 cell. Landscape, portrait and a wide banner."""
    make_app()
    path = tmp_path / "photo.jpg"
    scenes.write_jpeg(path, np.full((height, width, 3), 128, np.uint8))
    loader = ImageLoader(160, fit=THUMB_FIT)
    with qtbot.waitSignal(loader.loaded) as loaded:
        assert loader.get("key", path) is None
    image = loaded.args[1]
    assert not image.isNull()
    assert THUMB_FIT.boundedTo(image.size()) == image.size()
    box = THUMB_FIT.width() / THUMB_FIT.height()
    filled = (
        image.width() / THUMB_FIT.width()
        if width / height > box
        else image.height() / THUMB_FIT.height()
    )
    assert filled == pytest.approx(1, abs=0.03)  # as large as fits, not smaller
    assert abs(image.width() / image.height() - width / height) < 0.1 * width / height
    small = ImageLoader(160, fit=QSize(400, 400))
    with qtbot.waitSignal(small.loaded) as kept:
        small.get("k", path)
    assert max(kept.args[1].width(), kept.args[1].height()) == 160  # never enlarged
