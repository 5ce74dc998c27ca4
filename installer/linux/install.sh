#!/bin/sh
# Install the PyInstaller folder system-wide on Linux (run as root after `make installer`):
# the app in /opt/ijs-vetting, `ijs-vetting` on the PATH, a menu entry and its icon.
# The station's data stays in each user's data folder; reinstalling never touches it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=${PREFIX:-/opt/ijs-vetting}
[ -x "$root/dist/ijs-vetting/ijs-vetting" ] || { echo "build it first: make installer" >&2; exit 1; }
rm -rf "$prefix"
cp -a "$root/dist/ijs-vetting" "$prefix"
ln -sf "$prefix/ijs-vetting-cli" /usr/local/bin/ijs-vetting
install -Dm644 "$here/ijs-vetting.desktop" /usr/share/applications/ijs-vetting.desktop
sed -i "s|^Exec=.*|Exec=$prefix/ijs-vetting|" /usr/share/applications/ijs-vetting.desktop
install -Dm644 "$root/resources/icons/app.svg" /usr/share/icons/hicolor/scalable/apps/ijs-vetting.svg
echo "installed in $prefix"
