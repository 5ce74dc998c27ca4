#!/usr/bin/env bash
# Set up everything the station needs on a fresh Linux machine with Python 3.11+:
#   uv (into .tools/ if it is not on PATH), the locked .venv, and the system libraries Qt needs.
# Usage: scripts/bootstrap.sh [gui|installer]
#   gui: adds the X11/xcb libraries for a real window; installer: also PyInstaller (locked)
set -euo pipefail
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

if [ "${1:-}" = "installer" ]; then
    "$UV" sync --locked --quiet --group installer
else
    "$UV" sync --locked --quiet
fi

# Qt needs a few shared libraries even offscreen; a real window needs the xcb ones too.
libs=(libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0
      libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3)
if [ "${1:-}" = "gui" ] || [ "${1:-}" = "installer" ]; then
    libs+=(libxcb-cursor.so.0:libxcb-cursor0 libxkbcommon-x11.so.0:libxkbcommon-x11-0
           libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1
           libxcb-image.so.0:libxcb-image0 libxcb-render-util.so.0:libxcb-render-util0
           libxcb-shape.so.0:libxcb-shape0 libxcb-xinerama.so.0:libxcb-xinerama0)
fi
missing=()
for entry in "${libs[@]}"; do
    ldconfig -p 2>/dev/null | grep -q "${entry%%:*}" || missing+=("${entry#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "bootstrap: Qt needs these packages; ask IT to install them: ${missing[*]}" >&2
    fi
fi
