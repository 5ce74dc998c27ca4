"""Fewer malloc arenas in the GUI process (glibc on Linux; elsewhere nothing changes).

glibc gives each thread that allocates its own arena, up to eight per core, and keeps what
each arena once held: the GUI's background reads and jobs run on many short-lived pool
threads, and at a school's scale their arenas held about 40 MB more than the memory in use
(peak 524 MB against 487 MB with two arenas, bench.scale, issue 15). Two arenas cost no
measurable speed here: the GUI's threads are few and mostly wait for the database.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
ARENAS = 2


def limit_arenas() -> bool:
    """Ask glibc for at most ARENAS arenas from now on; whether it applied (False off glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):  # a C library without mallopt (musl)
        return False
