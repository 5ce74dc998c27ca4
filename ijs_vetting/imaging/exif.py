"""Read the few EXIF facts the station needs: when a photo was taken and on which camera.

The capture time orders photos and ties them to an event; Make/Model tell a school iPad from a
picture that arrived from elsewhere. Anything missing or malformed is `None`, never an error: a
photo without EXIF still has to be vetted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import ExifTags, Image

from ijs_vetting.imaging.decode import ImageDecodeError, Source, open_image, unreadable_reason

_MAKE = 0x010F
_MODEL = 0x0110
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011


@dataclass(frozen=True)
class CaptureInfo:
    """When and with what a photo was taken, as far as its EXIF says."""

    taken_at: datetime | None
    make: str | None
    model: str | None


def read_capture_info(source: Source) -> CaptureInfo:
    """Capture time (aware when OffsetTimeOriginal is present, else naive), Make and Model."""
    try:
        with open_image(source) as im:
            exif = im.getexif()
            sub = exif.get_ifd(ExifTags.IFD.Exif)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(unreadable_reason(exc)) from exc
    return CaptureInfo(
        taken_at=_capture_time(sub.get(_DATETIME_ORIGINAL), sub.get(_OFFSET_TIME_ORIGINAL)),
        make=_text(exif.get(_MAKE)),
        model=_text(exif.get(_MODEL)),
    )


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.strip("\x00 \t\r\n")
    return cleaned or None


def _capture_time(stamp: object, offset: object) -> datetime | None:
    text = _text(stamp)
    if text is None:
        return None
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _zone(_text(offset))
    return taken if zone is None else taken.replace(tzinfo=zone)


def _zone(offset: str | None) -> timezone | None:
    """Parse EXIF's "+01:00" / "-05:30" form; anything else means "unknown zone"."""
    if offset is None or len(offset) != 6 or offset[0] not in "+-" or offset[3] != ":":
        return None
    try:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
    except ValueError:
        return None
    sign = 1 if offset[0] == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
