"""The two real faces the demo (and the tests) use: sample pictures that installed packages ship.

Grace Hopper comes with matplotlib, the astronaut Eileen Collins with scikit-image; both photos
are in the public domain. They are found without importing either package (matplotlib alone
takes 0.3 s, and every spawned face worker would pay it again). The frozen app carries just the
two files, in its packaged data folder (installer/bundle.py).
"""

from __future__ import annotations

from pathlib import Path

from ijs_vetting.assets import asset_folder, package_folder
from ijs_vetting.domain import InvalidInput

# person -> (package, path inside it)
SAMPLES = {
    "grace": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    "astronaut": ("skimage", "data/astronaut.png"),
}


def sample_picture(person: str) -> Path:
    """The picture of `person`: the frozen app's bundled copy, else the installed package's."""
    package, inside = SAMPLES[person]
    bundled = asset_folder("samples") / Path(inside).name
    if bundled.is_file():
        return bundled
    try:
        return package_folder(package) / inside
    except ModuleNotFoundError as exc:
        raise InvalidInput(f"The demo needs the {package} package for its sample faces.") from exc
