"""scripts/bootstrap.sh's check for Qt's system libraries: what is installed is never reported
missing (the old `ldconfig -p | grep -q` under pipefail did so about 1 time in 24: grep -q's
early exit killed ldconfig with SIGPIPE and failed the pipeline)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bootstrap.sh"

# A linker cache as `ldconfig -p` prints it, long enough that an early-exiting reader would
# leave most of it unread; libEGL and a look-alike without the dots must not stand for libGL.
CACHE = "\n".join(
    ["600 libs found in cache `/etc/ld.so.cache'"]
    + [f"\tlibfiller{n}.so.1 (libc6,x86-64) => /lib/libfiller{n}.so.1" for n in range(600)]
    + [
        "\tlibEGL.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libEGL.so.1",
        "\tlibGLXso.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libGLXso.1",
        "\tlibdbus-1.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libdbus-1.so.3",
    ]
)


def _missing(cache: str, *entries: str, repeat: int = 1) -> list[str]:
    """Run the script's own `missing_packages` (sourced, nothing else runs) under pipefail."""
    body = 'for _ in $(seq "$REPEAT"); do missing_packages "$CACHE" "$@"; done'
    result = subprocess.run(
        [
            "bash",
            "-c",
            f'set -euo pipefail; BOOTSTRAP_FUNCTIONS_ONLY=1 source "{SCRIPT}"; {body}',
            "check",
            *entries,
        ],
        env={"CACHE": cache, "REPEAT": str(repeat), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_installed_libraries_are_never_reported_missing() -> None:
    present = ("libEGL.so.1:libegl1", "libdbus-1.so.3:libdbus-1-3")
    assert _missing(CACHE, *present, repeat=200) == []


def test_a_missing_library_is_reported_by_its_package() -> None:
    entries = ("libEGL.so.1:libegl1", "libGL.so.1:libgl1", "libxcb-cursor.so.0:libxcb-cursor0")
    assert _missing(CACHE, *entries) == ["libgl1", "libxcb-cursor0"]


def test_sourcing_for_the_function_installs_nothing(tmp_path: Path) -> None:
    """The test hook returns before uv or apt-get could run."""
    result = subprocess.run(
        ["bash", "-c", f'BOOTSTRAP_FUNCTIONS_ONLY=1 source "{SCRIPT}"; type -t missing_packages'],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert result.stdout.strip() == "function" and not list(tmp_path.iterdir())
