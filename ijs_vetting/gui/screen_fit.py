"""Sizes that fit the office's screens: 1366x768 at 100% and 1920x1080 at 150% scaling.

At 150% a 1920x1080 screen is 1280x720 logical pixels, the smaller of the two; a window also
loses a title bar and the taskbar. Windows open at a size that fits the screen they are on, and
tall contents scroll instead of pushing the buttons off the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget

# The smallest screen the station must fit, in logical pixels, less a title bar and a taskbar.
SMALLEST_SCREEN = QSize(1280, 720)
WINDOW_FRAME = QSize(16, 80)
USABLE = SMALLEST_SCREEN - WINDOW_FRAME
# Below this the main window starts maximised: the Review page's picture, faces and clearing
# panel want every pixel of a 1366-pixel screen.
ROOMY_WIDTH = 1440


def available(widget: QWidget | None = None) -> QSize:
    """The room on the widget's screen (else the primary one) for a window with its frame."""
    screen = widget.screen() if widget is not None else QGuiApplication.primaryScreen()
    if screen is None:
        return USABLE
    # availableGeometry already leaves out the taskbar; the title bar is left out here
    return screen.availableGeometry().size() - QSize(WINDOW_FRAME.width(), 40)


def fit_size(widget: QWidget, width: int, height: int) -> None:
    """Resize to `width` x `height`, or less where the screen is smaller."""
    widget.resize(QSize(width, height).boundedTo(available(widget)))


def scroll_tabs(tabs: QTabWidget) -> None:
    """Put each page of `tabs` in a scroll area, so a tall page scrolls instead of making the
    dialog taller than the screen."""
    current = tabs.currentIndex()
    for index in range(tabs.count()):
        page = tabs.widget(index)
        if page is None or isinstance(page, QScrollArea):
            continue
        text, tip = tabs.tabText(index), tabs.tabToolTip(index)
        tabs.removeTab(index)
        area = QScrollArea()
        area.setObjectName(f"{page.objectName()}Scroll")
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        area.setWidget(page)
        page.show()  # the tab widget hid it when it was taken out
        tabs.insertTab(index, area, text)
        tabs.setTabToolTip(index, tip)
    tabs.setCurrentIndex(current)
