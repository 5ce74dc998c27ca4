"""The `ijs-vetting` entry point stays light to import.

Spawned face workers import their parent's main module (the `ijs-vetting` script, which imports
`ijs_vetting.__main__`) before they load any model; the database and services stack must not
come with it (it cost each worker 1.2 s).
"""

from __future__ import annotations

import subprocess
import sys


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_importing_the_entry_point_loads_no_database_or_services() -> None:
    loaded = _python(
        "import sys, ijs_vetting.__main__; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'ijs_vetting.services', "
        "'ijs_vetting.cli') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_the_gui_and_the_services_load_no_neural_network_runtime() -> None:
    """onnxruntime and dlib are for the face workers: in the GUI they cost 100 MB of the
    window's memory for nothing (issue 15)."""
    loaded = _python(
        "import sys, ijs_vetting.gui.app, ijs_vetting.services.posting.clearing, "
        "ijs_vetting.services.intake.importing, ijs_vetting.services.register.templates; "
        "print(sorted(m for m in ('onnxruntime', 'dlib', 'face_recognition') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_python_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ijs_vetting", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "usage: ijs-vetting" in done.stdout
