"""Measure how encodings degrade as faces shrink: the evidence for the too-small limit.

Run `.venv/bin/python -m bench.measure_identify`. For each face width, both people are shrunk to
that width (upright, and tilted by +-6 degrees; saved as JPEG at quality 95 and 75) and encoded
by the engine; the table gives their distance to the same person's full-size encoding and to the
other person's. The engine's DEFAULT_MIN_IDENTIFY_WIDTH is the width below which the same-person
distances grow quickly.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WIDTHS = (24, 30, 36, 40, 48, 56, 64, 72, 80, 96, 120, 150)


def main() -> None:
    import numpy as np
    from PIL import Image

    from ijs_vetting.faces.engine import analyse_photo, analyse_reference
    from ijs_vetting.imaging.box import Box
    from tests import scenes

    reference = {}
    for person in scenes.PEOPLE:
        check = analyse_reference(scenes.source_path(person))
        assert check.encoding is not None, check.message
        reference[person] = check.encoding

    def encoding_at(pixels: np.ndarray, truth: Box) -> np.ndarray | None:
        analysis = analyse_photo(scenes.write_png_bytes(pixels), min_identify_width=0)
        faces = [f for f in analysis.faces if f.box.iou(truth) > 0.3]
        return faces[0].encoding if faces else None

    print("face px  same mean  same max  other min  other mean  not found")
    for width in WIDTHS:
        same: list[float] = []
        other: list[float] = []
        missing = 0
        for person in scenes.PEOPLE:
            rival = next(p for p in scenes.PEOPLE if p != person)
            for angle in (0.0, 6.0, -6.0):
                for quality in (95, 75):
                    patch = scenes.portrait(person, width, margin=1.0)
                    if angle:
                        patch = scenes.rotated(patch, angle)
                    h, w = patch.pixels.shape[:2]
                    canvas = scenes.background(w + 40, h + 40, seed=int(angle) + quality)
                    canvas[20 : 20 + h, 20 : 20 + w] = patch.pixels
                    buffer = io.BytesIO()
                    Image.fromarray(canvas).save(buffer, "JPEG", quality=quality)
                    pixels = np.asarray(Image.open(buffer).convert("RGB"))
                    found = encoding_at(pixels, patch.boxes[0].shifted(20, 20))
                    if found is None:
                        missing += 1
                        continue
                    same.append(float(np.linalg.norm(found - reference[person])))
                    other.append(float(np.linalg.norm(found - reference[rival])))
        print(
            f"{width:7d}  {np.mean(same):9.3f}  {np.max(same):8.3f}  {np.min(other):9.3f}"
            f"  {np.mean(other):10.3f}  {missing:9d}"
        )


if __name__ == "__main__":
    main()
