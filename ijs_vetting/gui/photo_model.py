"""The review grid: a list model of photos, a filter, and a delegate that paints each tile.

Model/view with one painted tile per photo (no widget per thumbnail), thumbnails requested only
when a tile is painted and decoded off the GUI thread (see `images.ImageLoader`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ijs_vetting.domain import PhotoStatus
from ijs_vetting.gui.images import ImageLoader
from ijs_vetting.services.intake.photos import PhotoInfo

Index = QModelIndex | QPersistentModelIndex
PHOTO_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB_ROLE = Qt.ItemDataRole.UserRole + 2
TILE = QSize(200, 190)
THUMB_SIDE = 240

BADGES: dict[str, tuple[str, str]] = {
    # status value: (label, colour)
    "pending": ("to be vetted", "#767676"),  # vetting now, or when an import runs again
    "ready": ("ready", "#1b6e34"),
    "ready_with_blur": ("ready · blur", "#2b5797"),
    "review": ("review", "#b35c00"),
    "rejected": ("rejected", "#a4262c"),
    "failed": ("failed", "#a4262c"),
    "queued": ("queued", "#5c2d91"),
    "exported": ("exported", "#5c2d91"),
    "posted": ("posted", "#333333"),
}


def badge(status: str) -> tuple[str, str]:
    return BADGES.get(status, (status.replace("_", " "), "#555555"))


class PhotoListModel(QAbstractListModel):
    """Photos with their status; thumbnails come from the loader as they are decoded."""

    def __init__(self, loader: ImageLoader, vault_path: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self._photos: list[PhotoInfo] = []
        self._row_of: dict[int, int] = {}
        self._loader = loader
        self._vault_path = vault_path  # photo id -> Path of the original
        loader.loaded.connect(self._thumbnail_ready)

    def set_photos(self, photos: list[PhotoInfo]) -> None:
        self.beginResetModel()
        self._photos = photos
        self._row_of = {p.id: i for i, p in enumerate(photos)}
        self.endResetModel()

    def update_photo(self, photo: PhotoInfo) -> None:
        row = self._row_of.get(photo.id)
        if row is None:
            return
        self._photos[row] = photo
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def photo(self, row: int) -> PhotoInfo:
        return self._photos[row]

    def row_of(self, photo_id: int) -> int | None:
        return self._row_of.get(photo_id)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._photos)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        photo = self._photos[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return photo.file
        if role == PHOTO_ROLE:
            return photo
        if role == THUMB_ROLE:
            path: Path = self._vault_path(photo.id)
            return self._loader.get(photo.id, path)
        if role == Qt.ItemDataRole.ToolTipRole:
            shown = sum(1 for f in photo.faces if f.decision == "show")
            note = f"\n{photo.note}" if photo.note else ""
            return (
                f"{photo.file}: {badge(photo.status.value)[0]}, {len(photo.faces)} faces, "
                f"{shown} shown{note}"
            )
        return None

    def _thumbnail_ready(self, key: object, _image: QImage) -> None:
        row = self._row_of.get(key) if isinstance(key, int) else None
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [THUMB_ROLE])


class PhotoFilter(QSortFilterProxyModel):
    """Filters by status, date taken, year group and free text (file, child id, device), and
    sorts by import order or by the time the photo was taken."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._statuses: set[str] | None = None
        self._text = ""
        self._since: datetime | None = None
        self._year: int | None = None
        self._year_of: dict[str, int] = {}  # MIS id -> year group

    def set_since(self, since: datetime | None) -> None:
        self.beginFilterChange()
        self._since = since
        self.endFilterChange()

    def set_year(self, year: int | None, year_of: dict[str, int]) -> None:
        self.beginFilterChange()
        self._year, self._year_of = year, year_of
        self.endFilterChange()

    def set_statuses(self, statuses: set[str] | None) -> None:
        self.beginFilterChange()
        self._statuses = statuses
        self.endFilterChange()

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange()

    def lessThan(self, left: Index, right: Index) -> bool:
        """Taken earlier (photos without a capture time first), then imported earlier. Compared
        here in Python: a tuple handed to Qt as a sort value is an opaque object whose
        comparison crashed the view at random."""
        model = self.sourceModel()
        assert isinstance(model, PhotoListModel)
        return _taken_order(model.photo(left.row())) < _taken_order(model.photo(right.row()))

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, PhotoListModel)
        photo = model.photo(source_row)
        if self._statuses is not None and photo.status.value not in self._statuses:
            return False
        if self._since is not None and (photo.taken_at is None or photo.taken_at < self._since):
            return False
        if self._year is not None and not any(
            self._year_of.get(f.child_id or "") == self._year for f in photo.faces
        ):
            return False
        if self._text:
            words = [photo.file, photo.device or "", photo.camera or ""]
            words += [f.child_id for f in photo.faces if f.child_id]
            return any(self._text in w.lower() for w in words)
        return True


def _taken_order(photo: PhotoInfo) -> tuple[float, int]:
    return (photo.taken_at.timestamp() if photo.taken_at else 0.0, photo.id)


class PhotoDelegate(QStyledItemDelegate):
    """Paints a tile: the thumbnail, a coloured status badge and the file name."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        photo: PhotoInfo = index.data(PHOTO_ROLE)
        rect = option.rect.adjusted(3, 3, -3, -3)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(rect, QColor("#cfe2f3") if selected else QColor("#ffffff"))
        painter.setPen(QColor("#1f4e79") if selected else QColor("#d0d0d0"))
        painter.drawRect(rect)
        picture = QRect(rect.left() + 6, rect.top() + 6, rect.width() - 12, rect.height() - 40)
        thumb = index.data(THUMB_ROLE)
        if isinstance(thumb, QImage) and not thumb.isNull():
            scaled = thumb.scaled(
                picture.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = picture.left() + (picture.width() - scaled.width()) // 2
            y = picture.top() + (picture.height() - scaled.height()) // 2
            painter.drawImage(x, y, scaled)
        else:
            painter.fillRect(picture, QColor("#eeeeee"))
        text, colour = badge(photo.status.value)
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text) + 12
        pill = QRect(picture.left() + 4, picture.top() + 4, width, 20)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawRoundedRect(pill, 9, 9)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(QColor("#222222"))
        caption = QRect(rect.left() + 6, rect.bottom() - 30, rect.width() - 12, 26)
        faces = f"{len(photo.faces)} face{'s' if len(photo.faces) != 1 else ''}"
        label = painter.fontMetrics().elidedText(
            f"{photo.file} · {faces}", Qt.TextElideMode.ElideMiddle, caption.width()
        )
        painter.drawText(caption, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        painter.restore()


STATUS_FILTERS: list[tuple[str, set[str] | None]] = [
    (
        "To do (review, ready)",
        {
            PhotoStatus.REVIEW.value,
            PhotoStatus.READY.value,
            PhotoStatus.READY_WITH_BLUR.value,
            PhotoStatus.PENDING.value,
        },
    ),
    ("Needs review", {PhotoStatus.REVIEW.value}),
    ("Ready", {PhotoStatus.READY.value, PhotoStatus.READY_WITH_BLUR.value}),
    ("Queued or posted", {PhotoStatus.QUEUED.value, PhotoStatus.POSTED.value}),
    ("Rejected or failed", {PhotoStatus.REJECTED.value, PhotoStatus.FAILED.value}),
    ("All photos", None),
]


DATE_FILTERS: list[tuple[str, int | None]] = [
    ("Any date", None),
    ("Taken today", 0),
    ("Last 7 days", 7),
    ("Last 30 days", 30),
]
