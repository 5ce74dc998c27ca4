"""Encodings are dlib's own: loading its two models directly gives what face_recognition gave.

The engine stopped importing `face_recognition` (whose import also loads a 68-point landmark
model and two detectors it never used); templates enrolled before that must still match, so the
encoding of the same crop has to be bit-for-bit what `face_recognition.face_encodings` returns.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ijs_vetting.faces.encode import encode_face, upright_face_crop
from ijs_vetting.faces.engine import analyse_photo
from tests import scenes

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("person", scenes.PEOPLE)
def test_encoding_is_what_face_recognition_computes(person: str) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import face_recognition

    pixels = scenes.source(person).pixels
    face = max(analyse_photo(scenes.write_png_bytes(pixels)).faces, key=lambda f: f.width)
    crop, box = upright_face_crop(pixels, face.landmarks)
    left, top, right, bottom = box.as_ints()
    theirs = face_recognition.face_encodings(
        crop, known_face_locations=[(top, right, bottom, left)], num_jitters=1, model="small"
    )[0]
    ours = encode_face(pixels, face.landmarks)
    assert ours.shape == (128,) and ours.dtype == np.float64
    assert np.array_equal(ours, theirs)
