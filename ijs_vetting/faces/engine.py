"""The face engine's entry points: analyse a photo, check a reference (enrolment) photo.

`analyse_photo` finds every face and encodes those big enough to identify; `analyse_reference`
insists on exactly one large, sharp face. The numbers below were set by measurement (see
bench/measure_identify.py and the report in tests/faces/):

- identifying: shrinking a face adds error to its encoding. Against the same person's full-size
  encoding the worst distance is 0.15 at 80 px, 0.19 at 64 px, 0.27 at 48 px and 0.32 at 40 px,
  while two different people stay above 0.6. Below 80 px the shrinking alone eats too much of the
  gap a real second photo needs, so smaller faces are flagged `too_small` and get no encoding;
- references must meet the same size limit and not be blurred: the variance of the Laplacian on
  the face (resized to 128 px) is 80-1200 for the sharp test portraits and at most 37 once they
  are blurred with a Gaussian of sigma 2 px per 160 px of face, so 50 separates the two.
"""

from __future__ import annotations

from ijs_vetting.faces import networks
from ijs_vetting.faces.centerface import CenterFace
from ijs_vetting.faces.detect import DEFAULT_THRESHOLD, detect_faces
from ijs_vetting.faces.encode import encode_faces, sharpness
from ijs_vetting.faces.encode import load_models as load_encoder
from ijs_vetting.faces.reference import (
    REFERENCE_MIN_SHARPNESS,
    REFERENCE_MIN_WIDTH,
    judge_reference,
)
from ijs_vetting.faces.results import Face, PhotoAnalysis, ReferenceCheck, Refusal
from ijs_vetting.imaging.decode import DecodedImage, ImageDecodeError, Source, decode_image

DEFAULT_MIN_IDENTIFY_WIDTH = 80.0


_detector: CenterFace | None = None


def load_models(prepared: networks.Networks | None = None) -> None:
    """Load the detector and dlib's models now, e.g. in a pool worker's initializer with the
    networks its parent prepared; without them this process prepares its own."""
    global _detector
    if _detector is None:
        graphs = prepared or networks.prepared()
        # One thread: the pool runs one worker per core, and in-process callers (CLI, tests)
        # analyse one photo at a time where a second thread would gain little.
        _detector = CenterFace(graphs.detector, threads=1)
        load_encoder(graphs)


def detector() -> CenterFace:
    """This process's detector, loaded on first use."""
    if _detector is None:
        load_models()
    assert _detector is not None
    return _detector


def analyse_photo(
    source: Source | DecodedImage,
    *,
    min_identify_width: float = DEFAULT_MIN_IDENTIFY_WIDTH,
    threshold: float = DEFAULT_THRESHOLD,
) -> PhotoAnalysis:
    """Every face in the photo with box/score/landmarks; encodings for faces at least
    `min_identify_width` px wide. Raises `ImageDecodeError` for unreadable files."""
    image = source if isinstance(source, DecodedImage) else decode_image(source)
    found = detect_faces(image, detector(), threshold)
    # Detections are in original coordinates; the pixels may be a reduced decode.
    in_pixels = [face.scaled(image.scale) for face in found]
    identifiable = [i for i, face in enumerate(found) if face.box.width >= min_identify_width]
    encodings = dict(
        zip(
            identifiable,
            encode_faces(image.pixels, [in_pixels[i].landmarks for i in identifiable]),
            strict=True,
        )
    )
    faces = tuple(
        Face(
            box=face.box,
            score=face.score,
            landmarks=face.landmarks,
            sharpness=sharpness(image.pixels, in_pixels[i].box),
            too_small=i not in encodings,
            encoding=encodings.get(i),
        )
        for i, face in enumerate(found)
    )
    return PhotoAnalysis(width=image.full_width, height=image.full_height, faces=faces)


def analyse_reference(
    source: Source,
    *,
    min_width: float = REFERENCE_MIN_WIDTH,
    min_sharpness: float = REFERENCE_MIN_SHARPNESS,
) -> ReferenceCheck:
    """Accept a reference photo with exactly one clear, large face, or say why not."""
    try:
        analysis = analyse_photo(source, min_identify_width=min_width)
    except ImageDecodeError as exc:
        return ReferenceCheck(None, Refusal.UNREADABLE, f"The picture cannot be read ({exc}).")
    return judge_reference(analysis, min_width=min_width, min_sharpness=min_sharpness)
