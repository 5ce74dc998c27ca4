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


def test_python_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ijs_vetting", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "usage: ijs-vetting" in done.stdout
