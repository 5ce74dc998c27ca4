"""The GUI asks glibc for fewer malloc arenas (gui/malloc_arenas)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a glibc setting")
def test_glibc_takes_the_arena_limit() -> None:
    """In a fresh process (the setting stays for the process's life): glibc says it applied."""
    code = "from ijs_vetting.gui.malloc_arenas import limit_arenas; print(limit_arenas())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
