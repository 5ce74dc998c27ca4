#!/usr/bin/env bash
# Set up everything the station needs on a fresh Linux machine with Python 3.11+:
#   uv (into .tools/ if it is not on PATH), the locked .venv, and the system libraries Qt needs.
# Usage: scripts/bootstrap.sh [gui|installer]
#   gui: adds the X11/xcb libraries for a real window; installer: also PyInstaller (locked)
set -euo pipefail
# The missing packages among "library:package" entries, given the linker cache's listing.
# Read once into a variable and matched with grep -F against it: `ldconfig -p | grep -q` under
# pipefail failed whenever grep -q exited at its first match before ldconfig finished writing
# (ldconfig then died of SIGPIPE, the pipeline "failed", and a present library was reported
# missing, about 1 time in 24); a library name with dots must match as text, not a pattern.
missing_packages() {
    local cache="$1" entry
    shift
    for entry in "$@"; do
        grep -qF -- $'\t'"${entry%%:*} (" <<<"$cache" || printf '%s\n' "${entry#*:}"
    done
}
# Sourced with BOOTSTRAP_FUNCTIONS_ONLY=1 (tests/test_bootstrap.py): define, do nothing else.
if [ "${BOOTSTRAP_FUNCTIONS_ONLY:-}" = 1 ]; then return 0 2>/dev/null || exit 0; fi

cd "$(dirname "$0")/.."

if command -v uv >/dev/null 2>&1; then
    UV=uv
else
    if [ ! -x .tools/bin/uv ]; then
        echo "bootstrap: installing uv into .tools/" >&2
        python3 -m venv .tools
        .tools/bin/python -m pip install --quiet --disable-pip-version-check uv
    fi
    UV=.tools/bin/uv
fi

# Bytecode is compiled at install, not at each start: with PYTHONDONTWRITEBYTECODE set (as on
# this project's CI machines) every command compiled SQLAlchemy & co. from source, 2.1 s of a
# 3.4 s start (issue 15). The project's own modules are compiled too (skipped when up to date).
if [ "${1:-}" = "installer" ]; then
    "$UV" sync --locked --quiet --compile-bytecode --group installer
else
    "$UV" sync --locked --quiet --compile-bytecode
fi
.venv/bin/python -m compileall -q -j 0 ijs_vetting bench >/dev/null

# Qt needs a few shared libraries even offscreen; a real window needs the xcb ones too.
libs=(libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0
      libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3)
if [ "${1:-}" = "gui" ] || [ "${1:-}" = "installer" ]; then
    libs+=(libxcb-cursor.so.0:libxcb-cursor0 libxkbcommon-x11.so.0:libxkbcommon-x11-0
           libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1
           libxcb-image.so.0:libxcb-image0 libxcb-render-util.so.0:libxcb-render-util0
           libxcb-shape.so.0:libxcb-shape0 libxcb-xinerama.so.0:libxcb-xinerama0)
fi
cache="$(ldconfig -p 2>/dev/null || true)"
mapfile -t missing < <(missing_packages "$cache" "${libs[@]}")
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "bootstrap: Qt needs these packages; ask IT to install them: ${missing[*]}" >&2
    fi
fi
