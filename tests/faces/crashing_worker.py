"""Stand-ins for the pool's worker functions, importable by spawned workers (tests only).

A photo whose path contains "poison" kills its worker outright, as a crash in native code or
the system's out-of-memory killer would; `load_fails` is a worker that cannot load its models.
"""

from __future__ import annotations

import os

from ijs_vetting.faces.networks import Networks
from ijs_vetting.faces.results import PhotoAnalysis


def analyse(path: str, _min_identify_width: float | None) -> PhotoAnalysis | str:
    if "poison" in path:
        os._exit(3)
    return PhotoAnalysis(width=1, height=1, faces=())


def load_nothing(_prepared: Networks) -> None:
    """Nothing to load: these workers analyse nothing real."""


def load_fails(_prepared: Networks) -> None:
    raise RuntimeError("the face models cannot be loaded")
