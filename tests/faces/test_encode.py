"""Encodings are dlib's: its weights run by onnxruntime give what face_recognition gives.

The engine runs dlib's ResNet through onnxruntime (20x faster than the dlib-bin wheel) and stopped
importing `face_recognition` (whose import also loads models it never used). Templates enrolled
before either change must still match, so the encoding of the same crop has to agree with
`face_recognition.face_encodings` to far better than the match threshold's resolution.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from ijs_vetting.faces.dlib_file import DlibFileError, read_resnet
from ijs_vetting.faces.encode import encode_faces, upright_face_crop
from ijs_vetting.faces.engine import analyse_photo
from tests import scenes

pytestmark = pytest.mark.slow

# float32 arithmetic in another order: measured differences are below 1e-6 per component.
_AGREEMENT = 1e-5


def _face_recognition():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import face_recognition

    return face_recognition


@pytest.mark.parametrize("person", scenes.PEOPLE)
@pytest.mark.parametrize("width", [90.0, 400.0])
def test_encoding_is_what_face_recognition_computes(person: str, width: float) -> None:
    pixels = scenes.portrait(person, width, margin=1.0).pixels
    face = max(analyse_photo(scenes.write_png_bytes(pixels)).faces, key=lambda f: f.width)
    crop, box = upright_face_crop(pixels, face.landmarks)
    left, top, right, bottom = box.as_ints()
    theirs = _face_recognition().face_encodings(
        crop, known_face_locations=[(top, right, bottom, left)], num_jitters=1, model="small"
    )[0]
    (ours,) = encode_faces(pixels, [face.landmarks])
    assert ours.shape == (128,) and ours.dtype == np.float64
    assert np.abs(ours - theirs).max() < _AGREEMENT
    assert face.encoding is not None and np.abs(face.encoding - theirs).max() < _AGREEMENT


def test_a_batch_gives_each_face_its_own_encoding() -> None:
    scene = scenes.group_scene()
    analysis = analyse_photo(scenes.write_png_bytes(scene.pixels))
    faces = [f for f in analysis.faces if f.encoding is not None]
    assert len(faces) >= 2
    one_by_one = [encode_faces(scene.pixels, [f.landmarks])[0] for f in faces]
    batched = encode_faces(scene.pixels, [f.landmarks for f in faces])
    for single, together in zip(one_by_one, batched, strict=True):
        assert np.abs(single - together).max() < _AGREEMENT
    assert encode_faces(scene.pixels, []) == []


def test_a_model_file_that_is_not_the_resnet_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.dat"
    bad.write_bytes(b"\x01\x01\x01\x05hello")
    with pytest.raises(DlibFileError):
        read_resnet(bad)
    bad.write_bytes(b"\x01\x01")
    with pytest.raises(DlibFileError):
        read_resnet(bad)


def test_the_built_network_is_a_valid_onnx_model() -> None:
    import onnx

    from ijs_vetting.faces.networks import ENCODER_MODEL, dlib_model_folder
    from ijs_vetting.faces.resnet import build_graph

    network = read_resnet(dlib_model_folder() / ENCODER_MODEL)
    assert network.input_size == 150
    onnx.checker.check_model(build_graph(network), full_check=True)
