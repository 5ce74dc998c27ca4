"""Benchmark: the whole photo import (and the face engine alone) against plain face_recognition.

Run `.venv/bin/python -m bench.run_faces` (28 photos: 24 JPEG + 4 HEIC, 12 MP, several faces
each), `--quick` for 4 + 1. Everything is pinned to `--cores` CPUs (default 2, the office PC).
Three rows, each measured in its own fresh process so that its memory is its own:

- plain face_recognition as its README shows it: load_image_file, face_locations,
  face_encodings, default settings, one process (HEIC through pillow_heif's Pillow plugin, which
  it would otherwise not read at all);
- the ijs face engine alone: `faces.pool.analyse_photos` with `--workers` processes;
- the whole import: `services.photos.import_folder` into a fresh station (real SQLite database,
  vault, two enrolled children whose templates come from `tests.scenes.portrait` reference
  photos) — hashing, vault copy, EXIF, decode, detect, encode, match, decide, store. Its boxes are
  read back from the database with `list_photos`. Station set-up and enrolment are not timed;
  starting the worker pool is (every import pays it).

Plain runs once (minutes; `--skip-plain` reuses its last result). The engine and import rows run
`--repeat` times (default 3) and show the run of median wall time: this shared machine's speed
drifts by about 10% within minutes, so one run can flatter or wrong the row.

Columns: photos/s and seconds of the timed part; "x plain" = plain seconds / row seconds; CPU
seconds per photo summed over the row's processes (the number to compare on a shared machine:
below the table the speed-up is also given from CPU time, as an idle PC of `--cores` cores would
show it, next to the 1-minute load average around each run); faces found; true faces found
(ground truth from the generator, IoU >= 0.3); faces plain found that the row missed (IoU >= 0.3
against plain's boxes: the issue's recall bar); "named right": true faces of 80 px and more whose
stored nearest child is the right one within the match threshold; peak RSS summed over the
process and its workers (see bench/rss.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.photos import HEIC_QUALITY, Truth, photo_set  # noqa: E402
from bench.rss import PeakRss  # noqa: E402

MATCH_IOU = 0.3
IDENTIFY_WIDTH = 80.0
TARGET_SPEEDUP = 20.0
TARGET_PEAK_MB = 1536.0
PHASES = ("plain", "engine", "import")
# Roster of the bench station: MIS id -> the test person whose reference photo enrols them.
CHILDREN = {"GRACE1": "grace", "ASTRO1": "astronaut"}
ROSTER_CSV = (
    "UPN,Forename,Surname,Year,Twitter,Biometric\n"
    "GRACE1,Grace,Hopper,5,Y,Y\n"
    "ASTRO1,Eileen,Collins,6,Y,Y\n"
)

# One found face as it crosses from a phase process: box, then nearest child and distance.
FoundFace = tuple[float, float, float, float, str | None, float | None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 JPEGs + 1 HEIC instead of 24 + 4")
    parser.add_argument(
        "--heic-quality",
        type=int,
        default=HEIC_QUALITY,
        help=f"x265 quality of the HEICs (default {HEIC_QUALITY}; see bench/photos.py)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the engine and import rows (median kept)"
    )
    parser.add_argument("--cores", type=int, default=2, help="CPUs the whole run may use")
    parser.add_argument(
        "--skip-plain", action="store_true", help="reuse the last plain result (it takes minutes)"
    )
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    counts = (4, 1) if args.quick else (24, 4)
    _pin(args.cores)
    folder, truth = photo_set(*counts, heic_quality=args.heic_quality)
    if args.phase:
        print(json.dumps(_run_phase(args.phase, folder, args.workers)))
        return
    cached = folder / "plain-result.json"
    results: dict[str, dict[str, object]] = {}
    for phase in PHASES:
        if phase == "plain" and args.skip_plain and cached.exists():
            results[phase] = json.loads(cached.read_text())
            continue
        if phase == "plain":
            results[phase] = _phase_in_child(phase, args)
            cached.write_text(json.dumps(results[phase]))
            continue
        # This shared machine's speed drifts by 10% within minutes: the faster rows are run
        # --repeat times and the run of median wall time is reported (each run is whole).
        runs = sorted((_phase_in_child(phase, args) for _ in range(args.repeat)), key=_seconds)
        results[phase] = runs[len(runs) // 2]
        results[phase]["runs"] = [_seconds(run) for run in runs]
    _report(folder, truth, results, args)


def _seconds(result: dict[str, object]) -> float:
    return float(result["seconds"])  # type: ignore[arg-type]


def _pin(cores: int) -> None:
    """Run on the first `cores` CPUs (inherited by every process started from here)."""
    available = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, set(available[:cores]))


def _phase_in_child(phase: str, args: argparse.Namespace) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.run_faces", "--phase", phase]
    command += ["--workers", str(args.workers), "--cores", str(args.cores)]
    command += ["--heic-quality", str(args.heic_quality)]
    if args.quick:
        command.append("--quick")
    print(f"running {phase} ...", file=sys.stderr)
    load_before = os.getloadavg()[0]
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    # The 1-minute load average around the run: above ~1 on 2 cores, something else was
    # competing for the CPUs and the wall-clock columns flatter or wrong the row.
    result["load"] = [load_before, os.getloadavg()[0]]
    return result


def _run_phase(phase: str, folder: Path, workers: int) -> dict[str, object]:
    files = sorted(p for p in folder.iterdir() if p.suffix in (".jpg", ".heic"))
    if phase == "import":
        return _import(folder, workers)
    with PeakRss() as rss:
        started = time.perf_counter()
        found = _plain(files) if phase == "plain" else _engine(files, workers)
        elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "cpu_seconds": rss.cpu_seconds,
        "faces": found,
        "peak_rss_mb": rss.peak / 2**20,
    }


def _plain(files: list[Path]) -> dict[str, list[FoundFace]]:
    import face_recognition
    import pillow_heif

    pillow_heif.register_heif_opener()
    found: dict[str, list[FoundFace]] = {}
    for path in files:
        image = face_recognition.load_image_file(path)
        locations = face_recognition.face_locations(image)
        face_recognition.face_encodings(image, locations)
        found[path.name] = [
            (float(left), float(top), float(right), float(bottom), None, None)
            for top, right, bottom, left in locations  # face_recognition's (css) order
        ]
    return found


def _engine(files: list[Path], workers: int) -> dict[str, list[FoundFace]]:
    from ijs_vetting.faces.pool import PhotoDone, analyse_photos

    found: dict[str, list[FoundFace]] = {}
    for result in analyse_photos([(p.name, p) for p in files], workers=workers):
        assert isinstance(result, PhotoDone), result
        found[result.key] = [
            (f.box.left, f.box.top, f.box.right, f.box.bottom, None, None)
            for f in result.analysis.faces
        ]
    return found


def _import(folder: Path, workers: int) -> dict[str, object]:
    """A fresh station with two enrolled children, then one timed `import_folder`."""
    from ijs_vetting.domain import Role
    from ijs_vetting.services.photos import import_folder, list_photos
    from ijs_vetting.services.roster import import_roster
    from ijs_vetting.services.station import Actor, open_station
    from ijs_vetting.services.templates import enrol_references
    from tests import scenes

    with tempfile.TemporaryDirectory(prefix="ijs-bench-") as tmp:
        home = Path(tmp)
        station = open_station(str(home), url=f"sqlite:///{home}/station.db")
        actor = Actor("bench", Role.ADMIN)
        roster = home / "roster.csv"
        roster.write_text(ROSTER_CSV)
        import_roster(station, actor, roster)
        references = home / "references"
        references.mkdir()
        for mis_id, person in CHILDREN.items():
            portrait = scenes.portrait(person, 200.0, margin=1.0)
            scenes.write_jpeg(references / f"{mis_id}.jpg", portrait.pixels, quality=95)
        enrolled = enrol_references(station, actor, references, workers=workers)
        if enrolled.count("enrolled") != len(CHILDREN):
            raise RuntimeError(f"enrolment failed: {enrolled.as_json()}")
        _wait_for_workers_to_exit()

        with PeakRss() as rss:
            started = time.perf_counter()
            report = import_folder(station, actor, folder, workers=workers)
            elapsed = time.perf_counter() - started
        if report.failed or report.imported != report.vetted:
            raise RuntimeError(f"import incomplete: {report.as_json()}")
        candidates = _candidates(station)
        found: dict[str, list[FoundFace]] = {}
        for photo in list_photos(station):
            found[photo.file] = [
                (
                    float(f.left),
                    float(f.top),
                    float(f.right),
                    float(f.bottom),
                    *candidates.get((photo.id, f.left, f.top, f.right, f.bottom), (None, None)),
                )
                for f in photo.faces
            ]
        station.engine.dispose()
    return {
        "seconds": elapsed,
        "cpu_seconds": rss.cpu_seconds,
        "faces": found,
        "peak_rss_mb": rss.peak / 2**20,
        "statuses": report.statuses,
    }


def _wait_for_workers_to_exit(limit: float = 10.0) -> None:
    """The enrolment's pool shuts down without waiting; let its workers go before measuring."""
    import multiprocessing

    deadline = time.monotonic() + limit
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)


def _candidates(station: object) -> dict[tuple[int, int, int, int, int], tuple[str, float]]:
    """Nearest child (MIS id) and distance per stored face, whatever the policy decided.

    `list_photos` shows the child a face was *decided* to be; the bench scenes repeat the same two
    people in one photo, which the policy rightly calls ambiguous, so the decision says nothing
    about whether the encodings were good. The stored candidate does.
    """
    from sqlalchemy import select

    from ijs_vetting.db.models import Child, PhotoFace
    from ijs_vetting.services.station import Station

    assert isinstance(station, Station)
    query = select(
        PhotoFace.photo_id,
        PhotoFace.left,
        PhotoFace.top,
        PhotoFace.right,
        PhotoFace.bottom,
        Child.mis_id,
        PhotoFace.distance,
    ).join(Child, Child.id == PhotoFace.candidate_child_id)
    with station.read() as session:
        return {
            (pid, left, top, right, bottom): (mis_id, float(distance))
            for pid, left, top, right, bottom, mis_id, distance in session.execute(query)
        }


def _report(
    folder: Path, truth: Truth, results: dict[str, dict[str, object]], args: argparse.Namespace
) -> None:
    from ijs_vetting.imaging.box import Box
    from ijs_vetting.settings import DEFAULTS

    threshold = DEFAULTS.thresholds.match
    person_of = {mis_id: person for mis_id, person in CHILDREN.items()}

    def faces(phase: str) -> dict[str, list[FoundFace]]:
        raw = results[phase]["faces"]
        assert isinstance(raw, dict)
        return {name: [tuple(f) for f in found] for name, found in raw.items()}  # type: ignore[misc]

    def box(face: FoundFace) -> Box:
        return Box(*face[:4])

    def matched(found: list[FoundFace], wanted: Box) -> list[FoundFace]:
        return [f for f in found if box(f).iou(wanted) >= MATCH_IOU]

    plain = faces("plain")
    plain_seconds = float(results["plain"]["seconds"])  # type: ignore[arg-type]
    every_true = [(name, t) for name, ts in truth.items() for t in ts]
    identifiable = [(n, t) for n, t in every_true if t.box.width >= IDENTIFY_WIDTH]
    labels = {
        "plain": "plain face_recognition (1 process)",
        "engine": f"ijs face engine only (pool, {args.workers} workers)",
        "import": f"ijs whole import, SQLite ({args.workers} workers)",
    }
    header = (
        "",
        "photos/s",
        "seconds",
        "x plain",
        "CPU s/photo",
        "faces found",
        "true faces found",
        "missed vs plain",
        "named right",
        "peak RSS MB",
    )
    rows = [header]
    verdicts: list[str] = []
    distances = ""
    for phase in PHASES:
        found = faces(phase)
        seconds = float(results[phase]["seconds"])  # type: ignore[arg-type]
        peak = float(results[phase]["peak_rss_mb"])  # type: ignore[arg-type]
        hits = sum(bool(matched(found.get(n, []), t.box)) for n, t in every_true)
        missed = sum(
            not matched(found.get(name, []), box(p)) for name, ps in plain.items() for p in ps
        )
        named = "-"
        if phase == "import":
            right = sum(
                any(
                    f[4] is not None
                    and person_of.get(f[4]) == t.person
                    and f[5] is not None
                    and f[5] <= threshold
                    for f in matched(found.get(n, []), t.box)
                )
                for n, t in identifiable
            )
            named = f"{right}/{len(identifiable)}"
            own = [
                f[5]
                for n, t in identifiable
                for f in matched(found.get(n, []), t.box)[:1]
                if f[4] is not None and person_of.get(f[4]) == t.person and f[5] is not None
            ]
            distances = (
                f"distance of identifiable faces to their own child's template: mean "
                f"{sum(own) / max(len(own), 1):.3f}, max {max(own, default=0.0):.3f} "
                f"(match threshold {threshold})"
            )
            plain_cpu = float(results["plain"]["cpu_seconds"])  # type: ignore[arg-type]
            cpu = float(results[phase]["cpu_seconds"])  # type: ignore[arg-type]
            verdicts = [
                _verdict("speed-up", plain_seconds / seconds, TARGET_SPEEDUP, "x", higher=True)
                + f" [from CPU time, as on an idle {args.cores}-core PC: "
                f"{plain_cpu / (cpu / args.cores):.1f}x]",
                _verdict("faces plain found, import missed", missed, 0, "", higher=False),
                _verdict("peak RSS", peak, TARGET_PEAK_MB, " MB", higher=False, strict=True),
            ]
        rows.append(
            (
                labels[phase],
                f"{len(truth) / seconds:.2f}",
                f"{seconds:.1f}",
                f"{plain_seconds / seconds:.1f}",
                f"{float(results[phase].get('cpu_seconds', 0.0)) / len(truth):.2f}",  # type: ignore[arg-type]
                str(sum(len(v) for v in found.values())),
                f"{hits}/{len(every_true)}",
                "-" if phase == "plain" else str(missed),
                named,
                f"{peak:.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    small = sum(t.box.width < IDENTIFY_WIDTH for _n, t in every_true)

    def mean_mb(suffix: str) -> float:
        sizes = [(folder / n).stat().st_size for n in truth if n.endswith(suffix)]
        return sum(sizes) / max(len(sizes), 1) / 1e6

    print(
        f"\n{len(truth)} photos (12 MP; JPEG {mean_mb('.jpg'):.1f} MB; "
        f"{sum(n.endswith('.heic') for n in truth)} HEIC at x265 quality {args.heic_quality}, "
        f"{mean_mb('.heic'):.1f} MB), "
        f"{len(every_true)} true faces ({small} under {IDENTIFY_WIDTH:.0f} px), "
        f"{args.cores} cores; import statuses: {results['import'].get('statuses')}"
    )
    loads = ", ".join(
        f"{phase} {'-'.join(f'{x:.1f}' for x in results[phase].get('load', []))}"  # type: ignore[attr-defined]
        for phase in PHASES
    )
    print(f"1-minute load average before-after each run: {loads}")
    spread = ", ".join(
        f"{phase} " + " / ".join(f"{x:.2f}" for x in results[phase].get("runs", []))  # type: ignore[attr-defined]
        for phase in PHASES[1:]
    )
    print(f"seconds of each run (the median is in the table): {spread}")
    print(distances)
    print("targets: " + "; ".join(verdicts))


def _verdict(
    name: str, value: float, target: float, unit: str, *, higher: bool, strict: bool = False
) -> str:
    if higher:
        ok = value >= target
        sign = ">="
    else:
        ok = value < target if strict else value <= target
        sign = "<" if strict else "<="
    shown = f"{value:.1f}" if isinstance(value, float) else str(value)
    return f"{name} {shown}{unit} (target {sign} {target:g}{unit}) {'OK' if ok else 'MISSED'}"


if __name__ == "__main__":
    main()
