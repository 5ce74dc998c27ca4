"""Encoding what leaves the station: a brand-new sRGB JPEG with nothing in it but pixels.

An iPad photo carries far more than the picture: GPS position, capture time, the device's serial
in maker notes, and an EXIF thumbnail of the *unmasked* original. Copying or patching the
original's bytes risks carrying any of it along, so the posting file is always encoded afresh from
pixels, and then checked marker by marker (`metadata_problems`): only the JFIF header, the tables,
the frame and the scan may be present, and nothing may follow the end-of-image marker. The check
runs on every file before it is stored or exported, so a future Pillow that starts writing
something new fails closed instead of leaking it.

Limits follow the posting accounts: the longest side at most 4096 px and the file under 5 MB.
Untagged JPEGs are read as sRGB everywhere, so colours are converted to sRGB first and no ICC
profile is written.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageCms

log = logging.getLogger(__name__)

Pixels = NDArray[np.uint8]

MAX_SIDE = 4096
MAX_BYTES = 5_000_000  # "under 5 MB", counted the strict way
QUALITIES: tuple[int, ...] = (90, 85, 80, 75, 70, 60, 50)

# Markers a clean baseline/progressive JPEG may contain (besides SOI and EOI).
_SOF = {0xC0, 0xC1, 0xC2}
_ALLOWED = {0xC4, 0xDB, 0xDD, 0xDA, 0xE0} | _SOF
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length
_SRGB = ImageCms.createProfile("sRGB")


class ExportError(Exception):
    """The picture cannot be turned into a file that is safe and small enough to post."""


def to_srgb(pixels: Pixels, icc_profile: bytes | None) -> Pixels:
    """Convert RGB pixels described by `icc_profile` (an iPad's Display P3, say) to sRGB.

    Colour is not a safety matter, so an unreadable profile leaves the pixels as they are
    (logged) rather than refusing the photo.
    """
    if not icc_profile:
        return pixels
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            Image.fromarray(pixels, "RGB"), source, _SRGB, outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        log.warning("colour profile ignored: %s", exc)
        return pixels
    assert converted is not None
    return np.asarray(converted, dtype=np.uint8)


def encode_jpeg(
    pixels: Pixels,
    *,
    max_side: int = MAX_SIDE,
    max_bytes: int = MAX_BYTES,
    qualities: Sequence[int] = QUALITIES,
) -> bytes:
    """A fresh JPEG of `pixels` (upright RGB uint8, already sRGB), within the size limits.

    Quality steps down until the file fits; a picture that still does not fit, or whose bytes
    fail the metadata check, raises `ExportError`.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ExportError("the picture must be RGB with 8 bits per channel")
    height, width = pixels.shape[:2]
    if max(width, height) > max_side:
        raise ExportError(f"the picture is {width}x{height}; reduce it to {max_side} px first")
    image = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    for quality in qualities:
        buffer = io.BytesIO()
        # A fresh Image has empty `info`: no EXIF, ICC, comment or DPI can ride along.
        image.save(buffer, "JPEG", quality=quality, optimize=True, subsampling="4:2:0")
        data = buffer.getvalue()
        if len(data) < max_bytes:
            check_clean(data)
            return data
    raise ExportError(f"the picture does not fit in {max_bytes} bytes even at low quality")


def check_clean(data: bytes) -> None:
    """Raise `ExportError` unless `data` is a JPEG with no metadata at all."""
    problems = metadata_problems(data)
    if problems:
        raise ExportError("the encoded picture is not clean: " + "; ".join(problems))


def metadata_problems(data: bytes) -> list[str]:
    """Everything in a JPEG that is not picture: empty for a clean file.

    Walks the marker segments: only JFIF APP0, quantisation and Huffman tables, restart interval,
    frame and scan headers are allowed; entropy-coded data is skipped to the next real marker; the
    file must end exactly at EOI.
    """
    if not data.startswith(b"\xff\xd8"):
        return ["does not start with a JPEG start-of-image marker"]
    problems: list[str] = []
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            return [*problems, f"unexpected byte at {pos}"]
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= len(data):
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            if pos != len(data):
                problems.append(f"{len(data) - pos} bytes after the end-of-image marker")
            return problems
        if marker in _STANDALONE:
            continue
        if pos + 2 > len(data):
            break
        length = int.from_bytes(data[pos : pos + 2], "big")
        segment = data[pos + 2 : pos + length]
        if marker not in _ALLOWED:
            problems.append(_describe(marker, segment))
        elif marker == 0xE0 and not segment.startswith(b"JFIF\x00"):
            problems.append("an APP0 segment that is not JFIF")
        elif marker == 0xE0 and len(segment) >= 14 and any(segment[12:14]):
            problems.append("a JFIF thumbnail")
        pos += length
        if marker == 0xDA:
            pos = _skip_entropy_data(data, pos)
    return [*problems, "no end-of-image marker"]


def _skip_entropy_data(data: bytes, pos: int) -> int:
    """Position of the next marker after a scan (0xFF00 stuffing and RSTn belong to the scan)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
            continue
        return pos


def _describe(marker: int, segment: bytes) -> str:
    if marker == 0xE1:
        if segment.startswith(b"Exif"):
            return "an EXIF block (APP1)"
        if segment.startswith(b"http://ns.adobe.com/xap"):
            return "an XMP packet (APP1)"
        return "an APP1 segment"
    if marker == 0xE2:
        return "an ICC profile or other APP2 data"
    if marker == 0xED:
        return "IPTC/Photoshop data (APP13)"
    if marker == 0xFE:
        return "a comment"
    if 0xE0 <= marker <= 0xEF:
        return f"an APP{marker - 0xE0} segment"
    return f"an unexpected marker 0x{marker:02X}"
