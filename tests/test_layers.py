"""Every module of the package sits in the import-linter layers, so no arrow escapes the check.

import-linter only checks the modules a contract names: a new top-level module left out of the
layers could import anything. This test makes adding one without placing it fail.
"""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import ijs_vetting

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def _top_level_modules() -> set[str]:
    return {
        f"ijs_vetting.{info.name}"
        for info in pkgutil.iter_modules(ijs_vetting.__path__)
        if info.name != "__main__"  # the entry point: it only starts the CLI
    }


def test_every_module_is_in_a_layer() -> None:
    (layers,) = [c for c in _contracts() if c["type"] == "layers" and not c.get("containers")]
    placed = {
        name.strip()
        for layer in layers["layers"]
        for name in str(layer).split("|")  # type: ignore[attr-defined]
    }
    assert _top_level_modules() - placed == set()


def test_every_core_module_is_kept_free_of_qt() -> None:
    (forbidden,) = [c for c in _contracts() if c["type"] == "forbidden"]
    core = _top_level_modules() - {"ijs_vetting.gui"}
    assert core - set(forbidden["source_modules"]) == set()  # type: ignore[arg-type]


def test_services_are_cut_into_named_packages_only() -> None:
    """No flat module beside the five packages: the services contract (exhaustive) places every
    package, and a module dropped at the top of services/ would sit in no layer."""
    services = importlib.import_module("ijs_vetting.services")
    flat = {info.name for info in pkgutil.iter_modules(services.__path__) if not info.ispkg}
    (contract,) = [c for c in _contracts() if c.get("containers") == ["ijs_vetting.services"]]
    packages = {info.name for info in pkgutil.iter_modules(services.__path__) if info.ispkg}
    assert flat == set()
    assert packages == set(contract["layers"])  # type: ignore[arg-type]
