"""Loading pictures for the screen off the GUI thread, with a small cache.

Thumbnails and the review picture are decoded with the station's own decoder (EXIF orientation,
HEIC, reduced JPEG decoding) on a thread pool; results come back as a signal keyed by the
caller's key. Thousands of photos stay smooth because only visible thumbnails are asked for and
each is decoded once.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage

from ijs_vetting.imaging.decode import ImageDecodeError, decode_image

log = logging.getLogger(__name__)


def to_qimage(pixels: Any) -> QImage:
    """An RGB uint8 array as a QImage that owns its pixels."""
    height, width = pixels.shape[:2]
    image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_RGB888)
    return image.copy()


class _Load(QRunnable):
    def __init__(self, loader: ImageLoader, key: object, path: Path) -> None:
        super().__init__()
        self.loader, self.key, self.path = loader, key, path

    def run(self) -> None:
        fit = self.loader.fit
        try:
            image = to_qimage(decode_image(self.path, max_side=self.loader.max_side).pixels)
            if fit is not None and fit.boundedTo(image.size()) != image.size():
                image = image.scaled(
                    fit,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
        except (ImageDecodeError, OSError) as exc:
            log.info("cannot show %s: %s", self.path, exc)
            image = QImage()
        self.loader.loaded.emit(self.key, image)


class ImageLoader(QObject):
    """Decodes images in the background; `loaded(key, QImage)` (a null image when unreadable).
    With `fit`, each image is made small enough to fit that box: a table cell draws an image
    at its own size, so a wider or taller one is cut off."""

    loaded = Signal(object, QImage)

    def __init__(
        self,
        max_side: int,
        cache_size: int = 2000,
        parent: QObject | None = None,
        *,
        fit: QSize | None = None,
    ):
        super().__init__(parent)
        self.max_side, self.fit = max_side, fit
        self._cache: OrderedDict[object, QImage] = OrderedDict()
        self._cache_size = cache_size
        self._pending: set[object] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self.loaded.connect(self._store)

    def get(self, key: object, path: Path) -> QImage | None:
        """The cached image, or None after asking for it to be loaded."""
        image = self._cache.get(key)
        if image is not None:
            self._cache.move_to_end(key)
            return image
        if key not in self._pending:
            self._pending.add(key)
            self._pool.start(_Load(self, key, path))
        return None

    def forget(self, key: object) -> None:
        self._cache.pop(key, None)

    def wait(self) -> None:
        """Let running loads finish (for a clean shutdown and for tests)."""
        self._pool.waitForDone()

    def _store(self, key: object, image: QImage) -> None:
        self._pending.discard(key)
        self._cache[key] = image
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
