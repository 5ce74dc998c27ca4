"""Finding the data files the app ships: Designer forms (`ui/`) and `resources/`.

In a checkout (and an editable install) they sit at the top of the repository; a wheel carries
them inside the package as `ijs_vetting/_data/` (hatchling force-include). Looking in the package
first means an installed app never picks up some other folder that happens to be nearby.
"""

from __future__ import annotations

import importlib.util
import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

_CHECKOUT = Path(__file__).resolve().parent.parent


def _folder(name: str) -> Path:
    packaged = asset_folder(name)
    if packaged.is_dir():
        return packaged
    checkout = _CHECKOUT / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the app's {name}/ folder is missing (looked in {packaged})")


def package_folder(name: str) -> Path:
    """An installed package's folder (for the data files it ships), found without importing it:
    face_recognition_models' __init__ imports pkg_resources, matplotlib takes 0.3 s."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {name} package is not installed", name=name)
    return Path(next(iter(spec.submodule_search_locations)))


def asset_folder(name: str) -> Path:
    """Where the packaged folder `name` would be (it may not exist, e.g. samples/ outside the
    frozen app)."""
    return Path(str(files("ijs_vetting"))) / "_data" / name


def ui_file(name: str) -> Path:
    """A Designer form, e.g. `ui_file("main_window.ui")`."""
    return _folder("ui") / name


def resource(name: str) -> Path:
    """A file under resources/, e.g. `resource("icons/app.svg")`."""
    return _folder("resources") / name


@cache
def default_settings() -> dict[str, Any]:
    """The shipped defaults (resources/defaults.toml); station settings override them."""
    with resource("defaults.toml").open("rb") as handle:
        return tomllib.load(handle)
