"""Builders of test pictures made from two real faces, with their ground-truth face boxes.

Grace Hopper (matplotlib's sample data) and Eileen Collins (scikit-image's `astronaut`) are two
different real people. Everything here is a plain function so tests, the benchmark and a curious
engineer at a prompt can all call it; nothing is downloaded.

Ground truth: the face boxes in the two source photos were measured once with CenterFace at full
resolution (the convention the engine reports); boxes of pasted, scaled and rotated copies follow
by geometry.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from numpy.typing import NDArray
from PIL import ExifTags, Image

from ijs_vetting.imaging.box import Box
from ijs_vetting.samples import sample_picture

Pixels = NDArray[np.uint8]

GRACE = "grace"
ASTRONAUT = "astronaut"
PEOPLE = (GRACE, ASTRONAUT)

CLASS_SIZE = (4032, 3024)  # a 12 MP iPad photo, landscape

_FACE_BOXES = {
    GRACE: Box(175.0, 132.0, 357.0, 336.0),
    ASTRONAUT: Box(182.0, 58.0, 270.0, 178.0),
}

# EXIF orientation -> the PIL transpose that turns an upright picture into the stored one
# (the inverse of what a viewer applies on display).
_STORE_FOR_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


@dataclass(frozen=True)
class Scene:
    """A picture and the upright boxes of the faces in it, with who each face is."""

    pixels: Pixels
    boxes: tuple[Box, ...]
    people: tuple[str, ...]


def source_path(person: str) -> Path:
    """The original file of a person's photo as installed by the dev dependencies."""
    return sample_picture(person)


def source(person: str) -> Scene:
    """A person's original photo as RGB pixels with its one face box."""
    with Image.open(source_path(person)) as im:
        pixels = np.asarray(im.convert("RGB"))
    return Scene(pixels, (_FACE_BOXES[person],), (person,))


def portrait(person: str, face_width: float, margin: float = 0.6) -> Scene:
    """A head-and-shoulders cut of the person, resized so the face is `face_width` px wide."""
    full = source(person)
    face = full.boxes[0]
    height, width = full.pixels.shape[:2]
    cut = face.grown(margin).clipped(width, height)
    left, top, right, bottom = cut.as_ints()
    factor = face_width / face.width
    out_size = (max(1, round((right - left) * factor)), max(1, round((bottom - top) * factor)))
    area = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    pixels = cv2.resize(full.pixels[top:bottom, left:right], out_size, interpolation=area)
    box = face.shifted(-left, -top).scaled(out_size[0] / (right - left))
    return Scene(np.ascontiguousarray(pixels), (box,), (person,))


def scaled(scene: Scene, factor: float) -> Scene:
    """The whole scene resized by `factor` (area-averaged when shrinking, like a camera would)."""
    height, width = scene.pixels.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    area = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    pixels = cv2.resize(scene.pixels, size, interpolation=area)
    fx = size[0] / width
    return Scene(pixels, tuple(b.scaled(fx) for b in scene.boxes), scene.people)


def rotated(scene: Scene, degrees: float) -> Scene:
    """The scene turned anticlockwise by `degrees` on a canvas big enough to hold all of it.

    Quarter turns are exact; other angles interpolate and fill the corners with edge pixels. A
    turned face's ground truth is a box of the face's own size around its new centre (width and
    height swapping towards a quarter turn), since detectors report a box about the size of the
    face, not the upright hull of its tilted corners.
    """
    height, width = scene.pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    new_w, new_h = round(width * cos + height * sin), round(width * sin + height * cos)
    matrix[0, 2] += new_w / 2 - width / 2
    matrix[1, 2] += new_h / 2 - height / 2
    if degrees % 90 == 0:
        pixels = np.ascontiguousarray(np.rot90(scene.pixels, int(degrees // 90) % 4))
    else:
        pixels = cv2.warpAffine(
            scene.pixels,
            matrix,
            (new_w, new_h),
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
    return Scene(pixels, tuple(_rotate_box(b, matrix) for b in scene.boxes), scene.people)


def _rotate_box(box: Box, matrix: NDArray[np.float64]) -> Box:
    cx, cy = box.centre
    x, y = matrix @ np.array([cx, cy, 1.0])
    turned = abs(math.sin(math.atan2(matrix[1, 0], matrix[0, 0])))
    w = box.width * (1 - turned) + box.height * turned
    h = box.height * (1 - turned) + box.width * turned
    return Box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def background(width: int, height: int, seed: int = 0) -> Pixels:
    """A plausible indoor backdrop: a soft wall gradient, a few furniture blocks, sensor noise."""
    rng = np.random.default_rng(seed)
    gy = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    wall = np.array([200, 190, 170], np.float32) * (1 - 0.35 * gy)
    canvas = np.broadcast_to(wall, (height, 1, 3)).repeat(width, axis=1)
    canvas = np.ascontiguousarray(canvas)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(height // 3, height))
        w, h = (
            int(rng.integers(width // 20, width // 4)),
            int(rng.integers(height // 20, height // 4)),
        )
        canvas[y0 : y0 + h, x0 : x0 + w] = rng.integers(40, 220, 3)
    small = rng.normal(0, 6, (height // 4 + 1, width // 4 + 1, 3)).astype(np.float32)
    canvas += cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def paste(canvas: Pixels, patch: Scene, x: int, y: int) -> Box:
    """Blend a portrait onto the canvas at (x, y) with a soft oval edge; return its face box."""
    ph, pw = patch.pixels.shape[:2]
    ch, cw = canvas.shape[:2]
    yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
    r = ((xx - pw / 2) / (pw / 2)) ** 2 + ((yy - ph / 2) / (ph / 2)) ** 2
    alpha = np.clip((1.0 - r) * 4.0, 0.0, 1.0)[..., None]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + pw, cw), min(y + ph, ch)
    src = patch.pixels[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    dst = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (src * a + dst * (1 - a)).astype(np.uint8)
    return patch.boxes[0].shifted(x, y)


def group_scene(face_width: float = 160.0, seed: int = 1) -> Scene:
    """Both people side by side on a noisy backdrop (for enrolment refusals and pool tests)."""
    patches = [portrait(p, face_width) for p in PEOPLE]
    width = sum(p.pixels.shape[1] for p in patches) + 3 * int(face_width)
    height = max(p.pixels.shape[0] for p in patches) + int(face_width)
    canvas = background(width, height, seed)
    boxes, x = [], int(face_width)
    for patch in patches:
        boxes.append(paste(canvas, patch, x, int(face_width) // 2))
        x += patch.pixels.shape[1] + int(face_width)
    return Scene(canvas, tuple(boxes), PEOPLE)


def class_photo(
    rows: tuple[tuple[float, int], ...] = (
        (40, 14),
        (44, 12),
        (50, 11),
        (60, 9),
        (80, 7),
        (110, 5),
        (160, 4),
    ),
    size: tuple[int, int] = CLASS_SIZE,
    tilt: float = 12.0,
    seed: int = 2,
    person: Callable[[int, int, float], str] | None = None,
) -> Scene:
    """A 12 MP class photo: rows of faces, smallest at the back, alternating people.

    `rows` is (face width px, faces in the row), back row first. Every third face is tilted by up
    to `tilt` degrees, as children lean, so the detector is not only shown passport poses.
    `person(row, index, face width)` chooses who stands where (default: alternating).
    """
    choose = person or (lambda row, i, _width: PEOPLE[(i + row) % 2])
    rng = np.random.default_rng(seed)
    width, height = size
    canvas = background(width, height, seed)
    boxes: list[Box] = []
    people: list[str] = []
    y = height * 0.06
    for row, (face_width, count) in enumerate(rows):
        pitch = width / count
        for i in range(count):
            who = choose(row, i, face_width)
            patch = portrait(who, face_width)
            if i % 3 == 2:
                patch = rotated(patch, float(rng.uniform(-tilt, tilt)))
            ph, pw = patch.pixels.shape[:2]
            x = pitch * (i + 0.5) - pw / 2 + rng.uniform(-0.15, 0.15) * pitch
            boxes.append(paste(canvas, patch, round(x), round(y + rng.uniform(0, 0.2) * ph)))
            people.append(who)
        y += portrait(PEOPLE[0], face_width).pixels.shape[0] * 0.95
    return Scene(canvas, tuple(boxes), tuple(people))


CROWD_ROWS = ((40, 9), (48, 8), (60, 7), (76, 6), (96, 5), (130, 4), (170, 3))


def crowd_scene(seed: int = 4) -> Scene:
    """A crowd as a school posts it (an assembly, a trip): 42 heads of 40-170 px in 12 MP.

    Exactly one face is Grace big enough to identify (the front row's first), so she can be shown
    while any second identifiable Grace would make her ambiguous; every other face of 80 px and
    more is the astronaut, and the smaller ones, too small to identify, alternate.
    """
    last = len(CROWD_ROWS) - 1

    def who(row: int, i: int, width: float) -> str:
        if width >= 80:
            return GRACE if (row, i) == (last, 0) else ASTRONAUT
        return PEOPLE[(i + row) % 2]

    return class_photo(rows=CROWD_ROWS, seed=seed, tilt=15.0, person=who)


def write_jpeg(path: Path, pixels: Pixels, quality: int = 90, exif: bytes | None = None) -> Path:
    """Save as a baseline JPEG, optionally with a raw EXIF block."""
    kwargs: dict[str, object] = {"quality": quality}
    if exif is not None:
        kwargs["exif"] = exif
    Image.fromarray(pixels).save(path, "JPEG", **kwargs)
    return path


def write_exif_rotated_jpeg(path: Path, upright: Pixels, orientation: int = 6) -> Path:
    """Store the pixels turned and set the Orientation tag, so only an EXIF-aware viewer shows
    the picture upright (as an iPad held in portrait writes it)."""
    stored = Image.fromarray(upright).transpose(_STORE_FOR_ORIENTATION[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(path, "JPEG", quality=92, exif=exif.tobytes())
    return path


def write_heic(path: Path, pixels: Pixels, quality: int = 85) -> Path:
    pillow_heif.from_pillow(Image.fromarray(pixels)).save(path, quality=quality)
    return path


def write_png(path: Path, pixels: Pixels) -> Path:
    Image.fromarray(pixels).save(path, "PNG")
    return path


def write_truncated_jpeg(path: Path, pixels: Pixels, keep: float = 0.6) -> Path:
    """A JPEG cut off part-way, as an interrupted copy from an iPad leaves it."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_garbage(path: Path, size: int = 4096, seed: int = 3) -> Path:
    """A file named like a photo that is not one (starts with a JPEG marker, then noise)."""
    noise = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    path.write_bytes(b"\xff\xd8\xff\xe0" + noise)
    return path


def write_jpeg_with_gps_and_thumbnail(path: Path, pixels: Pixels) -> Path:
    """A JPEG whose EXIF carries iPad-like Make/Model/time, a GPS position and an IFD1 thumbnail:
    everything a metadata-stripping export must remove."""
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPad (9th generation)"
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[0x9003] = "2024:06:14 10:31:07"
    sub[0x9011] = "+01:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (52.0, 19.0, 37.0), 3: "W", 4: (0.0, 35.0, 51.0)})
    thumb = io.BytesIO()
    Image.fromarray(pixels).resize((160, 120)).save(thumb, "JPEG", quality=70)
    Image.fromarray(pixels).save(
        path, "JPEG", quality=90, exif=_with_thumbnail(exif, thumb.getvalue())
    )
    return path


def _with_thumbnail(exif: Image.Exif, thumbnail: bytes) -> bytes:
    """Append an IFD1 holding a JPEG thumbnail to Pillow's EXIF block (Pillow writes IFD0 only).

    The block is "Exif\\0\\0" + a TIFF file: header, IFD0 (entry count, 12-byte entries, offset of
    the next IFD). We point IFD0's next-IFD offset at a new IFD1 placed at the end, whose
    JPEGInterchangeFormat entry points at the thumbnail bytes right after it.
    """
    block = bytearray(exif.tobytes())
    tiff = 6  # len(b"Exif\0\0")
    endian = "<" if block[tiff : tiff + 2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(endian + "I", block, tiff + 4)
    (count,) = struct.unpack_from(endian + "H", block, tiff + ifd0)
    next_ifd_at = tiff + ifd0 + 2 + 12 * count
    ifd1 = len(block) - tiff
    struct.pack_into(endian + "I", block, next_ifd_at, ifd1)
    thumb_at = ifd1 + 2 + 3 * 12 + 4
    block += struct.pack(endian + "H", 3)
    block += struct.pack(endian + "HHIHH", 0x0103, 3, 1, 6, 0)  # Compression = JPEG
    block += struct.pack(endian + "HHII", 0x0201, 4, 1, thumb_at)  # JPEGInterchangeFormat
    block += struct.pack(endian + "HHII", 0x0202, 4, 1, len(thumbnail))  # ...Length
    block += struct.pack(endian + "I", 0)
    block += thumbnail
    return bytes(block)


def write_png_bytes(pixels: Pixels) -> bytes:
    """PNG bytes in memory, for engine calls that take bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
