"""Render resources/icons/app.svg into a Windows .ico (16-256 px) for the executables.

Generated at build time rather than kept in the repository, so the SVG stays the one source of
the app's icon. Qt renders the SVG (the GUI already depends on QtSvg); Pillow writes the .ico.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_ico(svg: Path, ico: Path) -> None:
    """Write `ico` with every size in SIZES rendered from `svg`."""
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not a valid SVG")
    largest = max(SIZES)
    image = QImage(largest, largest, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    with Image.open(io.BytesIO(bytes(data.data()))) as png:
        ico.parent.mkdir(parents=True, exist_ok=True)
        png.save(ico, format="ICO", sizes=[(size, size) for size in SIZES])


if __name__ == "__main__":
    render_ico(Path(sys.argv[1]), Path(sys.argv[2]))
