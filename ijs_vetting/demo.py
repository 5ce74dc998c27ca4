"""A demo school, so a newcomer sees the whole flow in a minute: roster, references, iPad photos.

The only real faces available offline are the two sample pictures that installed packages ship
(Grace Hopper in matplotlib, the astronaut Eileen Collins in scikit-image). The demo casts them
as two pupils, places them in generated "school" scenes (alone, together, twice, small at the
back) and runs the real import, so every status and decision on screen is genuine.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ijs_vetting.domain import InvalidInput
from ijs_vetting.progress import Progress
from ijs_vetting.samples import sample_picture
from ijs_vetting.services.core.station import Actor, Station
from ijs_vetting.services.intake import devices, importing, photos
from ijs_vetting.services.register import children, roster, templates

ROSTER = """UPN,Legal Forename,Preferred Forename,Legal Surname,Year,Reg,Twitter,Website,Biometric
D100001,Grace,,Hopper,Year 5,5H,Y,Y,Y
D100002,Eileen,,Collins,Year 6,6C,N,Y,Y
D100003,Alan,,Turing,Year 3,3T,Y,Y,N
D100004,Ada,,Lovelace,Year 4,4L,Y,N,N
D100005,Katherine,Kath,Johnson,Year 6,6C,Y,Y,Y
D100006,Mary,,Jackson,Year 3,3T,N,N,N
"""
CAMERA = ("Apple", "iPad (9th generation)")
# Where each face sits in its package picture (left, top, right, bottom), to cut portraits.
_FACES = {"grace": (175, 132, 357, 336), "astronaut": (182, 58, 270, 178)}


def _sample(person: str) -> NDArray[np.uint8]:
    with Image.open(sample_picture(person)) as im:
        return np.asarray(im.convert("RGB"))


def _portrait(person: str, face_width: int) -> Image.Image:
    """Head and shoulders, scaled so the face is `face_width` pixels wide."""
    pixels = _sample(person)
    left, top, right, bottom = _FACES[person]
    pad = int((right - left) * 0.6)
    h, w = pixels.shape[:2]
    crop = Image.fromarray(
        pixels[max(0, top - pad) : min(h, bottom + pad), max(0, left - pad) : min(w, right + pad)]
    )
    factor = face_width / (right - left)
    return crop.resize(
        (max(1, int(crop.width * factor)), max(1, int(crop.height * factor))),
        Image.Resampling.LANCZOS,
    )


@dataclass(frozen=True)
class _Shot:
    name: str
    people: tuple[tuple[str, int, bool], ...]  # (person, face width, mirrored)
    camera: bool = True  # carries the school iPad's EXIF


SHOTS = (
    _Shot("IMG_0101.JPG", (("grace", 260, False),)),
    _Shot("IMG_0102.JPG", (("grace", 220, False), ("astronaut", 220, False))),
    _Shot("IMG_0103.JPG", (("astronaut", 300, False),)),
    _Shot("IMG_0104.JPG", (("grace", 200, False), ("grace", 200, True))),
    _Shot("IMG_0105.JPG", tuple((("grace", "astronaut")[i % 2], 48, False) for i in range(8))),
    _Shot("IMG_0106.JPG", (("grace", 240, False),), camera=False),
)


def _scene(shot: _Shot, size: tuple[int, int] = (2400, 1800)) -> Image.Image:
    width, height = size
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    sky, floor = np.array([168, 196, 221], np.float32), np.array([96, 128, 84], np.float32)
    canvas = Image.fromarray(
        ((1 - ramp) * sky + ramp * floor).repeat(width, axis=1).astype(np.uint8)
    )
    slot = width // (len(shot.people) + 1)
    for i, (person, face_width, mirrored) in enumerate(shot.people):
        patch = _portrait(person, face_width)
        if mirrored:
            patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x = slot * (i + 1) - patch.width // 2
        y = height // 3 - patch.height // 3 + (i % 2) * face_width // 3
        canvas.paste(patch, (x, y))
    return canvas


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = CAMERA
    return exif.tobytes()


def write_demo_files(folder: Path) -> tuple[Path, Path, Path]:
    """Write roster.csv, references/ and DCIM/ into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    roster_file = folder / "roster.csv"
    roster_file.write_text(ROSTER, encoding="utf-8")
    refs = folder / "references"
    refs.mkdir(exist_ok=True)
    _portrait("grace", 240).save(refs / "D100001.jpg", quality=92)
    _portrait("astronaut", 240).save(refs / "D100002.jpg", quality=92)
    dcim = folder / "DCIM" / "100APPLE"
    dcim.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        buffer = io.BytesIO()
        kwargs = {"exif": _exif()} if shot.camera else {}
        _scene(shot).save(buffer, "JPEG", quality=88, **kwargs)
        (dcim / shot.name).write_bytes(buffer.getvalue())
    return roster_file, refs, folder / "DCIM"


def load_demo(
    station: Station, actor: Actor, folder: Path, progress: Progress | None = None
) -> importing.ImportReport:
    """Fill an empty station with the demo school and import its photos."""
    if photos.status_counts(station) or roster_has_children(station):
        raise InvalidInput("The demo can only be loaded into an empty station.")
    roster_file, refs, dcim = write_demo_files(folder)
    roster.import_roster(station, actor, roster_file)
    devices.add_device(station, actor, "Year 5 iPad", *CAMERA)
    templates.enrol_references(station, actor, refs, progress=progress)
    return importing.import_folder(station, actor, dcim, device="Year 5 iPad", progress=progress)


def roster_has_children(station: Station) -> bool:
    return bool(children.list_children(station))
