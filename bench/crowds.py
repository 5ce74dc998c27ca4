"""The benchmark's real set: real group photos laid out as iPad-sized scenes, with true boxes.

bench/real/ holds the sources (SOURCES.json: where each photo comes from, its author and
licence) and the hand-checked face boxes (boxes.json, in each photo's own pixels). The photos
are looked for in bench/real/photos/ and then in the shared folder beside the repository
(../shared/bench-real/); SOURCES.json says how to get them. From them the set is built once into
bench/out/real-*/, like the synthetic set:

- each photo alone, fitted into a 12 MP frame (4032x3024) on a plain backdrop: faces of 60-250 px;
- 2x2 mosaics of four different photos (each in a 2016x1512 cell): crowds of 40-60 faces of
  37-130 px, the photos the issue found to cost the most;
- tall 24 MP frames (4032x6048) of two photos stacked, planned by pixels like any other;
- class composites: the 170 official portraits of SOURCES.json's "portraits" (one face each,
  170 different people) in grids at iPad size, the school's own kind of page of faces: 56
  portraits with faces of about 155 px, 60 of about 115 px, and 54 of about 52 px.

`truth.json` beside the scenes gives every true face's box in scene pixels (person "" : nobody
in the set is enrolled, so every face must be masked).
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from bench.photos import OUT, TrueFace, Truth
from ijs_vetting.imaging.box import Box
from tests import scenes

REAL = Path(__file__).resolve().parent / "real"
PLACES = (REAL / "photos", Path(__file__).resolve().parents[2] / "shared" / "bench-real")
FRAME = (4032, 3024)
TALL = (4032, 6048)
_QUALITY = 88


class MissingPhotos(RuntimeError):
    """The real photos are not where the benchmark looks for them."""


# Class composites: columns, rows and the portraits' scale (a portrait is 225x275 px, its face
# about 115 px wide), laid out as a block in the middle of the frame with _GAP px between them.
COMPOSITES = ((8, 7, 1.35), (10, 6, 1.0), (9, 6, 0.45))
_PORTRAIT = (225, 275)
_GAP = 24


def sources() -> dict[str, dict[str, str]]:
    raw: dict[str, dict[str, dict[str, str]]] = json.loads((REAL / "SOURCES.json").read_text())
    return raw["photos"]


def portraits() -> list[str]:
    """The portraits' names as photos (`congress/<id>`), in the composites' order."""
    raw = json.loads((REAL / "SOURCES.json").read_text())
    return [f"congress/{id_}" for id_ in raw["portraits"]["ids"]]


def real_set(quick: bool = False) -> tuple[Path, Truth]:
    """The folder of real-photo scenes (made if missing) and its truth; `quick` takes three."""
    folder = OUT / ("real-quick" if quick else "real")
    manifest = folder / "truth.json"
    if not manifest.exists():
        _generate(folder, quick)
    raw: dict[str, list[dict[str, object]]] = json.loads(manifest.read_text())
    truth = {
        name: [TrueFace(Box(*face["box"]), str(face["person"])) for face in faces]  # type: ignore[misc]
        for name, faces in raw.items()
    }
    return folder, truth


def _photo(name: str) -> NDArray[np.uint8]:
    for place in PLACES:
        path = place / f"{name}.jpg"
        if path.exists():
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB"))
    raise MissingPhotos(
        f"the real photo {name}.jpg is in none of {', '.join(map(str, PLACES))}; "
        "bench/real/SOURCES.json says where each comes from"
    )


_Cell = tuple[str, int, int, int, int]  # photo, cell left, top, width, height


def _composites() -> list[tuple[str, tuple[int, int], list[_Cell]]]:
    """The portraits in grids, in the composites' order, each grid centred in its frame."""
    names = iter(portraits())  # 170: exactly the composites' cells
    scenes_: list[tuple[str, tuple[int, int], list[_Cell]]] = []
    for k, (cols, rows, scale) in enumerate(COMPOSITES):
        width, height = round(_PORTRAIT[0] * scale), round(_PORTRAIT[1] * scale)
        left = (FRAME[0] - cols * width - (cols - 1) * _GAP) // 2
        top = (FRAME[1] - rows * height - (rows - 1) * _GAP) // 2
        cells = [
            (name, left + c * (width + _GAP), top + r * (height + _GAP), width, height)
            for (r, c), name in zip(
                itertools.product(range(rows), range(cols)),
                itertools.islice(names, rows * cols),
                strict=True,
            )
        ]
        scenes_.append((f"composite-{k}", FRAME, cells))
    return scenes_


def _layouts(
    quick: bool,
) -> list[tuple[str, tuple[int, int], list[_Cell]]]:
    """Scene name, frame size and (photo, cell left, top, width, height) for every scene."""
    names = list(sources())
    cell_w, cell_h = FRAME[0] // 2, FRAME[1] // 2
    singles = [(f"single-{n}", FRAME, [(n, 0, 0, *FRAME)]) for n in names]
    mosaics = [
        (
            f"mosaic-{k}",
            FRAME,
            [(n, (i % 2) * cell_w, (i // 2) * cell_h, cell_w, cell_h) for i, n in enumerate(four)],
        )
        for k, four in enumerate(itertools.combinations(names, 4))
    ]
    pairs = [(names[0], names[3]), (names[4], names[1])]
    tall = [
        (f"tall-{a}-{b}", TALL, [(a, 0, 0, *FRAME), (b, 0, FRAME[1], *FRAME)]) for a, b in pairs
    ]
    composites = _composites()
    if quick:
        return [singles[1], mosaics[0], tall[0], composites[-1]]
    return singles + mosaics + tall + composites


def _generate(folder: Path, quick: bool) -> None:
    boxes: dict[str, list[dict[str, object]]] = json.loads((REAL / "boxes.json").read_text())
    photos = {name: _photo(name) for name in [*sources(), *portraits()]}
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, list[dict[str, object]]] = {}
    for number, (scene, (width, height), cells) in enumerate(_layouts(quick)):
        canvas = scenes.background(width, height, seed=200 + number).copy()
        faces: list[dict[str, object]] = []
        for name, left, top, cell_w, cell_h in cells:
            photo = photos[name]
            factor = min(cell_w / photo.shape[1], cell_h / photo.shape[0])
            resample = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
            fitted = cv2.resize(photo, None, fx=factor, fy=factor, interpolation=resample)
            x = left + (cell_w - fitted.shape[1]) // 2
            y = top + (cell_h - fitted.shape[0]) // 2
            canvas[y : y + fitted.shape[0], x : x + fitted.shape[1]] = fitted
            for face in boxes[name]:
                box = Box(*face["box"]).scaled(factor).shifted(x, y)  # type: ignore[misc]
                faces.append({"box": [box.left, box.top, box.right, box.bottom], "person": ""})
        file = f"{number:02d}-{scene}.jpg"
        scenes.write_jpeg(folder / file, canvas, quality=_QUALITY)
        truth[file] = faces
        print(f"generated {file}: {len(faces)} faces", file=sys.stderr)
    (folder / "truth.json").write_text(json.dumps(truth))
