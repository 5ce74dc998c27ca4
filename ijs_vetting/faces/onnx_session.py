"""One onnxruntime session, set up the way the face engine runs all its networks.

onnxruntime (about 60 MB resident) is imported when the first session is made, in a face
worker: the GUI and the commands import the engine's modules for their types and task names
only, and never run a network themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime as ort


def session(model: bytes | Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU session of an ONNX model, serialised or in a file."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Each worker process runs one photo at a time, one worker per core: more intra-op threads
    # would only make the processes fight for the same cores.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Warnings (e.g. about unused weights in the shipped CenterFace) are not for the user;
    # errors still get through.
    options.log_severity_level = 3
    # Memory patterns pre-plan one buffer set per input shape and keep it; with photos, tiles
    # and batches of faces of many sizes that costs hundreds of MB per worker for no measurable
    # speed.
    options.enable_mem_pattern = False
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
