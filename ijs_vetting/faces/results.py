"""What the face engine hands back, as plain data with no dlib or onnxruntime behind it.

These types cross the process boundary from pool workers, so the process that unpickles them (the
GUI) imports only numpy and this module. Encodings are biometric data: they live in memory for
matching and are never meant to be written anywhere by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from ijs_vetting.imaging.box import Box

Encoding = NDArray[np.float64]
# Five (x, y) points: left-hand eye, right-hand eye, nose tip, left and right mouth corners.
Landmarks = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Face:
    """One detected face, in upright-original pixel coordinates.

    `too_small` faces were found (and must be treated as faces, e.g. blurred) but are too small
    for an encoding to say reliably who they are, so `encoding` is None.
    """

    box: Box
    score: float
    landmarks: Landmarks
    sharpness: float
    too_small: bool
    encoding: Encoding | None

    @property
    def width(self) -> float:
        return self.box.width


@dataclass(frozen=True)
class PhotoAnalysis:
    """All faces found in one photo, best detection score first, and its upright size."""

    width: int
    height: int
    faces: tuple[Face, ...]


class Refusal(StrEnum):
    """Why a photo cannot serve as someone's reference (enrolment) picture."""

    UNREADABLE = "unreadable"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    TOO_SMALL = "too_small"
    BLURRED = "blurred"


@dataclass(frozen=True)
class ReferenceCheck:
    """The verdict on a reference photo: an encoding, or a refusal with a message for people."""

    encoding: Encoding | None
    refusal: Refusal | None
    message: str
    face: Face | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None
