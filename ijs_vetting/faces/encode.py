"""128-d face encodings and a sharpness measure, computed on a small upright face crop.

dlib's encoder works on a 150x150 chip whatever the photo size, so running its landmark model on
a whole 12 MP picture buys nothing. We cut the face out, turn it upright using CenterFace's
landmarks (so a tilted or sideways face gets the same treatment as a passport pose) and scale it
so the face is about 160 px wide, then hand dlib that crop with a box drawn the way its own
detector would draw it (square, eyebrows to chin), which is what its landmark model was trained on.

dlib's 5-point landmark model and dlib's chip cutting (`get_face_chip`, as
`face_recognition.face_encodings(..., model="small")` uses them) align each face; dlib's ResNet
weights, run by onnxruntime (`ResNetEncoder`; the graph comes from `resnet` through `networks`),
turn all the chips of a photo into encodings in one pass.
Importing `face_recognition` itself would also load its 68-point landmark model, the HOG and the
CNN detectors, none of which we use: 0.55 s and ~100 MB more in every pool worker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import dlib  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import NDArray

from ijs_vetting.faces import networks
from ijs_vetting.faces.onnx_session import session
from ijs_vetting.faces.results import Encoding, Landmarks
from ijs_vetting.imaging.box import Box

# dlib's face_recognition_model_v1 cuts its chips with this padding around the landmarks.
_CHIP_PADDING = 0.25

# Eye-to-mouth distance in the crop. dlib's detector box is about 2.3 times this distance wide,
# centred between eyes and mouth (measured on both test faces), so faces come out ~160 px wide.
_EYE_MOUTH_PX = 70.0
_DLIB_BOX_PER_EYE_MOUTH = 2.3
_CROP_SIDE = 360
# Sharpness is measured on the face resized to this width, so the number does not grow or
# shrink with the photo's resolution.
_SHARPNESS_WIDTH = 128


def upright_face_crop(
    pixels: NDArray[np.uint8], landmarks: Landmarks
) -> tuple[NDArray[np.uint8], Box]:
    """A square crop with the face upright and ~160 px wide, and dlib's box for it."""
    eyes = np.mean(np.array(landmarks[0:2]), axis=0)
    mouth = np.mean(np.array(landmarks[3:5]), axis=0)
    up = eyes - mouth
    span = max(float(np.hypot(*up)), 1.0)
    # Rotate about the eye-mouth midpoint so the mouth-to-eyes vector points straight up.
    angle = math.degrees(math.atan2(up[0], -up[1]))
    factor = _EYE_MOUTH_PX / span
    centre = (eyes + mouth) / 2
    source, centre = _prescaled(pixels, centre, span, factor)
    scale = factor if source is pixels else 1.0
    matrix = np.asarray(
        cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale), np.float64
    )
    matrix[:, 2] += _CROP_SIDE / 2 - centre
    crop = cv2.warpAffine(
        source,
        matrix,
        (_CROP_SIDE, _CROP_SIDE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    half = _EYE_MOUTH_PX * _DLIB_BOX_PER_EYE_MOUTH / 2
    middle = _CROP_SIDE / 2
    return np.asarray(crop, dtype=np.uint8), Box(
        middle - half, middle - half, middle + half, middle + half
    )


def _prescaled(
    pixels: NDArray[np.uint8], centre: NDArray[np.float64], span: float, factor: float
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """When shrinking a large face, cut its neighbourhood and area-average it down first:
    warpAffine's bilinear sampling would alias (and be needlessly slow on a 12 MP source)."""
    if factor >= 0.7:
        return pixels, centre
    reach = span * 4
    height, width = pixels.shape[:2]
    left, top = max(int(centre[0] - reach), 0), max(int(centre[1] - reach), 0)
    right, bottom = min(int(centre[0] + reach) + 1, width), min(int(centre[1] + reach) + 1, height)
    cut = pixels[top:bottom, left:right]
    size = (max(1, round(cut.shape[1] * factor)), max(1, round(cut.shape[0] * factor)))
    small = np.asarray(cv2.resize(cut, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return small, (centre - np.array([left, top])) * (size[0] / cut.shape[1])


class ResNetEncoder:
    """128-d face descriptors of aligned RGB face chips (as `dlib.get_face_chip` cuts them)."""

    def __init__(self, graph: bytes | Path, chip_size: int, threads: int = 1) -> None:
        self.chip_size = chip_size
        self._session = session(graph, threads)
        (self._input,) = (value.name for value in self._session.get_inputs())

    def encode(self, chips: NDArray[np.uint8]) -> NDArray[np.float64]:
        """Descriptors for a batch of chips shaped (n, size, size, 3); one network pass."""
        if chips.ndim != 4 or chips.shape[1:] != (self.chip_size, self.chip_size, 3):
            raise ValueError(f"chips must be (n, {self.chip_size}, {self.chip_size}, 3)")
        if len(chips) == 0:
            return np.zeros((0, 128), dtype=np.float64)
        (out,) = self._session.run(None, {self._input: np.ascontiguousarray(chips, np.uint8)})
        return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class _Models:
    landmarks: Any  # dlib.shape_predictor
    encoder: ResNetEncoder


_loaded: _Models | None = None


def load_models(prepared: networks.Networks | None = None) -> None:
    """Load dlib's landmark model and the encoder now rather than on first use; a pool worker
    passes the networks its parent prepared, anyone else gets this process's own."""
    global _loaded
    if _loaded is None:
        graphs = prepared or networks.prepared()
        _loaded = _Models(
            landmarks=dlib.shape_predictor(
                str(networks.dlib_model_folder() / networks.LANDMARK_MODEL)
            ),
            encoder=ResNetEncoder(graphs.encoder, graphs.chip_size),
        )


def _models() -> _Models:
    if _loaded is None:
        load_models()
    assert _loaded is not None
    return _loaded


def encode_faces(pixels: NDArray[np.uint8], faces: Sequence[Landmarks]) -> list[Encoding]:
    """dlib's 128-d encodings of the faces whose CenterFace landmarks are given (in `pixels`),
    computed in one network pass."""
    models = _models()
    size = models.encoder.chip_size
    chips = np.empty((len(faces), size, size, 3), dtype=np.uint8)
    for i, landmarks in enumerate(faces):
        crop, box = upright_face_crop(pixels, landmarks)
        left, top, right, bottom = box.as_ints()
        shape = models.landmarks(crop, dlib.rectangle(left, top, right, bottom))
        chips[i] = dlib.get_face_chip(crop, shape, size=size, padding=_CHIP_PADDING)
    return list(models.encoder.encode(chips))


def sharpness(pixels: NDArray[np.uint8], box: Box) -> float:
    """Variance of the Laplacian over the face, at a fixed size: low means blurred or smeared."""
    height, width = pixels.shape[:2]
    left, top, right, bottom = box.clipped(width, height).as_ints()
    face = pixels[top:bottom, left:right]
    if face.size == 0:
        return 0.0
    grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    size = (_SHARPNESS_WIDTH, max(1, round(_SHARPNESS_WIDTH * grey.shape[0] / grey.shape[1])))
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())
