"""The detector network run in tiled stages gives exactly what the whole network gives.

The speed-up (centerface's docstring) is only acceptable if it changes nothing: a face whose score
moved would be a face the measured thresholds no longer describe. The reference here is the
shipped network in one onnxruntime run, on real faces, at the sizes the cascade uses and at sizes
that leave odd-sized edge tiles.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from numpy.typing import NDArray

from ijs_vetting.faces import centerface_model
from ijs_vetting.faces.centerface import CenterFace
from ijs_vetting.faces.onnx_session import session
from tests import scenes


@pytest.fixture(scope="module")
def detector() -> CenterFace:
    return CenterFace(centerface_model.stages(), threads=1)


@pytest.fixture(scope="module")
def whole_network() -> ort.InferenceSession:
    return session(centerface_model.shipped().SerializeToString())


def _in_one_run(session: ort.InferenceSession, pixels: NDArray[np.uint8]) -> list[NDArray]:
    height, width = pixels.shape[:2]
    blob = np.zeros((1, 3, -(-height // 32) * 32, -(-width // 32) * 32), dtype=np.float32)
    blob[0, :, :height, :width] = pixels.transpose(2, 0, 1)
    outputs: list[NDArray] = session.run(
        list(centerface_model.OUTPUTS), {centerface_model.INPUT: blob}
    )
    return outputs


@pytest.mark.parametrize("long_side", [1536, 1210, 700, 400, 250, 31])
def test_tiled_stages_equal_the_whole_network(
    detector: CenterFace, whole_network: ort.InferenceSession, long_side: int
) -> None:
    scene = scenes.group_scene(face_width=120.0)
    factor = long_side / max(scene.pixels.shape[:2])
    pixels = cv2.resize(scene.pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    staged = detector.maps(pixels)
    whole = _in_one_run(whole_network, pixels)
    assert [m.shape for m in staged] == [m.shape for m in whole]
    for ours, theirs in zip(staged, whole, strict=True):
        # Bit for bit in practice; the tolerance only allows another summation order.
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    if long_side >= 700:
        assert whole[0].max() > 0.5, "the scene's faces must show in the heatmap"


def test_empty_picture_has_no_faces(detector: CenterFace) -> None:
    assert detector.detect(np.zeros((0, 40, 3), dtype=np.uint8), 0.3) == []


def test_a_tensor_the_model_lacks_is_refused() -> None:
    model = centerface_model.shipped()
    with pytest.raises(centerface_model.ModelError, match="no tensor 'nonexistent'"):
        centerface_model.stage(model, [centerface_model.INPUT], ["nonexistent"])


def test_prepared_networks_are_rebuilt_when_their_files_are_gone_and_orphans_removed() -> None:
    """The station runs for weeks; the system may clean its temporary folder meanwhile."""
    import shutil

    from ijs_vetting.faces import networks

    first = networks.prepared()
    shutil.rmtree(first.encoder.parent)
    # A station that was killed left its folder behind; the next one to build removes it.
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    orphan = Path(tempfile.gettempdir()) / f"ijs-vetting-networks-{ended.stdout.strip()}-abc"
    orphan.mkdir()
    (orphan / "resnet.onnx").write_bytes(b"left behind")
    alive = Path(tempfile.gettempdir()) / f"ijs-vetting-networks-{os.getpid()}-live"
    alive.mkdir()
    again = networks.prepared()
    assert all(path.is_file() for path in (*again.detector, again.encoder))
    assert len(CenterFace(again.detector).maps(np.zeros((64, 64, 3), dtype=np.uint8))) == 4
    assert not orphan.exists()
    assert alive.exists()  # a running station's folder is left alone
    shutil.rmtree(alive)
