"""Real storage faults for tests: a tmpfs (a disk that fills) and a read-only bind mount.

Both need root to mount; without it a folder is made read-only with its permission bits, and
a test that needs a full disk is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted(*args: str) -> Iterator[None]:
    done = subprocess.run(["mount", *args], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        close_logs_under(Path(args[-1]))  # the in-process commands' log file is open there
        subprocess.run(["umount", args[-1]], check=True)


def close_logs_under(folder: Path) -> None:
    root = logging.getLogger("ijs_vetting")
    for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        if Path(handler.baseFilename).is_relative_to(folder):
            root.removeHandler(handler)
            handler.close()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make `folder` read-only for real: a read-only bind mount as root (root ignores
    permission bits), else its permission bits."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for path in modes:
            path.chmod(modes[path] & 0o555)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    with mounted("--bind", str(folder), str(folder)):
        done = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only: {done.stderr.decode().strip()}")
        yield
