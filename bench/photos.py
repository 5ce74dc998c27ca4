"""The benchmark's photo set: 12 MP school-like scenes saved as JPEG and HEIC, with ground truth.

Each scene holds 3-9 faces of the two test people: about a third small (40-70 px, to be found and
blurred but too small to identify), most mid-sized (80-220 px) and one close-up (250-600 px), some
tilted. The set is generated once into bench/out/<name>/ and reused, because building 28 scenes
takes longer than analysing them; `truth.json` beside the photos records every face's box and who
it is, so recall and identification can be scored without trusting any detector.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ijs_vetting.imaging.box import Box
from tests import scenes

OUT = Path(__file__).resolve().parent / "out"
# x265 quality of the HEICs. At 75 a scene's HEIC is 2.3 MB and takes 0.35 s to decode: the size
# of a real 12 MP iPad HEIC, and near the ~0.4 s the issue measured for one. It is still 1.7x its
# JPEG twin, where an iPad's HEIC is about half the JPEG's size, so HEIC stays the heavy case.
# (At 85, used before, the synthetic scenes gave 5.4 MB files, 4x the JPEG, decoding in 0.6 s.)
HEIC_QUALITY = 75


@dataclass(frozen=True)
class TrueFace:
    box: Box
    person: str


Truth = dict[str, list[TrueFace]]


def photo_set(jpegs: int, heics: int, heic_quality: int = HEIC_QUALITY) -> tuple[Path, Truth]:
    """The folder holding `jpegs` JPEGs then `heics` HEICs (made if missing) and its truth."""
    folder = OUT / f"jpeg{jpegs}-heic{heics}-q{heic_quality}"
    manifest = folder / "truth.json"
    if not manifest.exists():
        _generate(folder, jpegs, heics, heic_quality)
    raw: dict[str, list[dict[str, object]]] = json.loads(manifest.read_text())
    truth = {
        name: [TrueFace(Box(*face["box"]), str(face["person"])) for face in faces]  # type: ignore[misc]
        for name, faces in raw.items()
    }
    return folder, truth


def _generate(folder: Path, jpegs: int, heics: int, heic_quality: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    truth: dict[str, list[dict[str, object]]] = {}
    for i in range(jpegs + heics):
        scene = school_photo(rng, seed=i)
        if i < jpegs:
            name = f"photo{i:02d}.jpg"
            scenes.write_jpeg(folder / name, scene.pixels, quality=88)
        else:
            name = f"photo{i:02d}.heic"
            scenes.write_heic(folder / name, scene.pixels, quality=heic_quality)
        truth[name] = [
            {"box": [b.left, b.top, b.right, b.bottom], "person": person}
            for b, person in zip(scene.boxes, scene.people, strict=True)
        ]
        print(f"generated {name}: {len(scene.boxes)} faces", file=sys.stderr)
    # Written last: a half-generated folder has no manifest and is made again next time.
    (folder / "truth.json").write_text(json.dumps(truth))


def school_photo(rng: np.random.Generator, seed: int) -> scenes.Scene:
    """A 12 MP scene: 3-9 faces, a few small (40-70 px), most mid (80-220), one close-up."""
    width, height = scenes.CLASS_SIZE
    canvas = scenes.background(width, height, seed=100 + seed)
    taken: list[tuple[int, int, int, int]] = []
    boxes: list[Box] = []
    people: list[str] = []
    count = int(rng.integers(3, 10))
    sizes = [float(rng.uniform(40, 70)) for _ in range(count // 3)]
    sizes += [float(rng.uniform(80, 220)) for _ in range(count - len(sizes) - 1)]
    sizes.append(float(rng.uniform(250, 600)))
    for face_width in sorted(sizes, reverse=True):
        person = scenes.PEOPLE[int(rng.integers(0, 2))]
        patch = scenes.portrait(person, face_width)
        if rng.random() < 0.3:
            patch = scenes.rotated(patch, float(rng.uniform(-15, 15)))
        ph, pw = patch.pixels.shape[:2]
        for _attempt in range(50):
            x, y = int(rng.integers(0, width - pw)), int(rng.integers(0, height - ph))
            if all(x + pw < a or a + c < x or y + ph < b or b + d < y for a, b, c, d in taken):
                taken.append((x, y, pw, ph))
                boxes.append(scenes.paste(canvas, patch, x, y))
                people.append(person)
                break
    return scenes.Scene(canvas, tuple(boxes), tuple(people))
