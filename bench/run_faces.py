"""Benchmark: our face engine (pool of 2 workers) against plain face_recognition.

Run `.venv/bin/python -m bench.run_faces` (or `python bench/run_faces.py`), `--quick` for a
smaller set. The photo set is generated once into bench/out/ (12 MP JPEGs and a few HEICs with
faces of many sizes, ground truth alongside) and reused. Each side runs in its own process so
that its memory is measured alone; peak RSS is sampled from /proc as the sum over the process
and all its children.

The plain run is face_recognition as its README shows it: load_image_file, face_locations,
face_encodings, default settings, one process (HEIC files are opened through pillow_heif's
Pillow plugin, which it would otherwise not read at all).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"
MATCH_IOU = 0.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 JPEGs + 1 HEIC instead of 12 + 3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--phase", choices=["plain", "engine"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = OUT / ("quick" if args.quick else "full")
    if args.phase:
        _run_phase(args.phase, folder, args.workers)
        return
    truth = _generate(folder, jpegs=4 if args.quick else 12, heics=1 if args.quick else 3)
    results = {phase: _phase_in_child(phase, folder, args.workers) for phase in ("plain", "engine")}
    _report(truth, results, args.workers)


def _generate(folder: Path, jpegs: int, heics: int) -> dict[str, list[list[float]]]:
    """Make the photo set once; return {file name: ground-truth boxes}."""
    manifest = folder / "truth.json"
    if manifest.exists():
        loaded: dict[str, list[list[float]]] = json.loads(manifest.read_text())
        return loaded
    import numpy as np

    from tests import scenes

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    truth: dict[str, list[list[float]]] = {}
    for i in range(jpegs + heics):
        scene = _school_photo(rng, seed=i)
        if i < jpegs:
            name = f"photo{i:02d}.jpg"
            scenes.write_jpeg(folder / name, scene.pixels, quality=88)
        else:
            name = f"photo{i:02d}.heic"
            scenes.write_heic(folder / name, scene.pixels)
        truth[name] = [[b.left, b.top, b.right, b.bottom] for b in scene.boxes]
        print(f"generated {name}: {len(scene.boxes)} faces", file=sys.stderr)
    manifest.write_text(json.dumps(truth))
    return truth


def _school_photo(rng: object, seed: int) -> object:
    """A 12 MP scene: 3-9 faces, a few small (40-70 px), most mid (80-220), one close-up."""
    import numpy as np

    from tests import scenes

    assert isinstance(rng, np.random.Generator)
    width, height = scenes.CLASS_SIZE
    canvas = scenes.background(width, height, seed=100 + seed)
    taken: list[tuple[int, int, int, int]] = []
    boxes, people = [], []
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


def _phase_in_child(phase: str, folder: Path, workers: int) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.run_faces", "--phase", phase, "--workers", str(workers)]
    if folder.name == "quick":
        command.append("--quick")
    print(f"running {phase} ...", file=sys.stderr)
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _run_phase(phase: str, folder: Path, workers: int) -> None:
    files = sorted(p for p in folder.iterdir() if p.suffix in (".jpg", ".heic"))
    sampler = _PeakRss()
    sampler.start()
    started = time.perf_counter()
    found = _plain(files) if phase == "plain" else _engine(files, workers)
    elapsed = time.perf_counter() - started
    sampler.stop()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "boxes": found,
                "peak_rss_mb": sampler.peak / 2**20,
                "maxrss_self_mb": own / 1024,
                "maxrss_largest_child_mb": children / 1024,
            }
        )
    )


def _plain(files: list[Path]) -> dict[str, list[list[float]]]:
    import face_recognition
    import pillow_heif

    pillow_heif.register_heif_opener()
    found = {}
    for path in files:
        image = face_recognition.load_image_file(path)
        locations = face_recognition.face_locations(image)
        face_recognition.face_encodings(image, locations)
        found[path.name] = [
            [float(left), float(top), float(right), float(bottom)]
            for top, right, bottom, left in locations  # face_recognition's (css) order
        ]
    return found


def _engine(files: list[Path], workers: int) -> dict[str, list[list[float]]]:
    from ijs_vetting.faces.pool import PhotoDone, analyse_photos

    found = {}
    for result in analyse_photos([(p.name, p) for p in files], workers=workers):
        assert isinstance(result, PhotoDone), result
        found[result.key] = [
            [f.box.left, f.box.top, f.box.right, f.box.bottom] for f in result.analysis.faces
        ]
    return found


class _PeakRss(threading.Thread):
    """Samples the summed resident memory of this process and its descendants from /proc."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.1):
            self.peak = max(self.peak, sum(_rss(pid) for pid in _family(os.getpid())))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _family(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    family, todo = [], [root]
    while todo:
        pid = todo.pop()
        family.append(pid)
        todo += parents.get(pid, [])
    return family


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _report(
    truth: dict[str, list[list[float]]], results: dict[str, dict[str, object]], workers: int
) -> None:
    from ijs_vetting.imaging.box import Box

    def boxes(raw: object) -> dict[str, list[Box]]:
        assert isinstance(raw, dict)
        return {name: [Box(*b) for b in found] for name, found in raw.items()}

    real = boxes(truth)
    plain, ours = boxes(results["plain"]["boxes"]), boxes(results["engine"]["boxes"])
    photos = len(real)

    def hits(found: dict[str, list[Box]], wanted: dict[str, list[Box]]) -> int:
        return sum(
            any(f.iou(w) >= MATCH_IOU for f in found.get(name, []))
            for name, ws in wanted.items()
            for w in ws
        )

    missed_vs_plain = sum(len(v) for v in plain.values()) - hits(ours, plain)
    rows = []
    for label, key, found in (
        ("plain face_recognition (1 process)", "plain", plain),
        (f"ijs engine (pool, {workers} workers)", "engine", ours),
    ):
        r = results[key]
        seconds = float(r["seconds"])  # type: ignore[arg-type]
        rows.append(
            (
                label,
                f"{photos / seconds:.2f}",
                f"{seconds:.1f}",
                str(sum(len(v) for v in found.values())),
                f"{hits(found, real)}/{sum(len(v) for v in real.values())}",
                f"{float(r['peak_rss_mb']):.0f}",  # type: ignore[arg-type]
            )
        )
    header = ("", "photos/s", "seconds", "faces found", "true faces found", "peak RSS MB")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    speedup = float(results["plain"]["seconds"]) / float(results["engine"]["seconds"])  # type: ignore[arg-type]
    print(f"\nspeed-up: {speedup:.1f}x   faces plain found that ours missed: {missed_vs_plain}")
    every = [b for v in real.values() for b in v]
    small = sum(b.width < 80 for b in every)
    print(f"photos: {photos}; true faces: {len(every)} ({small} under 80 px wide)")


if __name__ == "__main__":
    main()
