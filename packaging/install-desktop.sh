#!/usr/bin/env bash
# Put facefinder in the desktop's application menu (current user only, no root needed):
#   ~/.local/share/applications/facefinder.desktop   pointing at the built app
#   ~/.local/share/icons/hicolor/NxN/apps/facefinder.png
#
# Usage: packaging/install-desktop.sh [APP_DIR]   (default: the app folder this script is in,
#                                                 else dist/facefinder in this repository)
#        packaging/install-desktop.sh --uninstall
# APP_DIR is the unpacked one-folder app (the folder holding the `facefinder` executable); move
# it where it should live (e.g. ~/.local/opt/facefinder) before running this, since the menu
# entry records its absolute path. Also works from an unpacked release archive:
#   tar xzf facefinder-*-linux-*.tar.gz -C ~/.local/opt && \
#     packaging/install-desktop.sh ~/.local/opt/facefinder
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
apps="$data/applications"
icons="$data/icons/hicolor"
sizes="16 32 48 64 128 256 512"

refresh() {
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
    command -v gtk-update-icon-cache >/dev/null && \
        gtk-update-icon-cache -q -t -f "$icons" 2>/dev/null || true
}

if [[ "${1:-}" == "--uninstall" ]]; then
    rm -f "$apps/facefinder.desktop"
    for n in $sizes; do rm -f "$icons/${n}x${n}/apps/facefinder.png"; done
    refresh
    echo "Removed the facefinder menu entry and icons (the app folder itself is untouched)."
    exit 0
fi

# Default app folder: the one this script sits in (it is copied into the built app and the
# release archive), else dist/facefinder in the repository.
default="$repo/dist/facefinder"
[[ -x "$here/facefinder" ]] && default="$here"
app_dir="$(cd "${1:-$default}" 2>/dev/null && pwd)" || {
    echo "No app folder at ${1:-$default}; build it first: .venv/bin/python packaging/build.py" >&2
    exit 1
}
exe="$app_dir/facefinder"
if [[ ! -x "$exe" || -d "$exe" ]]; then
    echo "$exe is not an executable; pass the folder that holds the built facefinder app." >&2
    exit 1
fi
case "$exe" in
    *[\"\`\$\\]*)
        echo "The app's path contains \", \`, \$ or \\; move it to a plainer folder first." >&2
        exit 1 ;;
esac

# The icons and the .desktop template: from the repository, or from inside the built app.
res="$repo/resources"
[[ -f "$res/facefinder.desktop" ]] || res="$app_dir/_internal/resources"
if [[ ! -f "$res/facefinder.desktop" ]]; then
    echo "facefinder.desktop not found in $repo/resources or $app_dir/_internal/resources" >&2
    exit 1
fi
mkdir -p "$apps"
for n in $sizes; do
    src="$res/icons/hicolor/${n}x${n}/apps/facefinder.png"
    [[ -f "$src" ]] || continue
    install -Dm644 "$src" "$icons/${n}x${n}/apps/facefinder.png"
done

# Exec and TryExec point at the app; Exec's path is quoted (spaces are fine).
tmpdir="$(mktemp -d)"
tmp="$tmpdir/facefinder.desktop"  # the validator wants the .desktop extension
FF_EXE="$exe" awk '
    /^Exec=/    { print "Exec=\"" ENVIRON["FF_EXE"] "\" %F"; next }
    /^TryExec=/ { print "TryExec=" ENVIRON["FF_EXE"]; next }
    { print }' "$res/facefinder.desktop" > "$tmp"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$tmp"
fi
install -m644 "$tmp" "$apps/facefinder.desktop"
rm -rf "$tmpdir"
refresh
echo "Installed $apps/facefinder.desktop -> $exe"
echo "Icons in $icons/<size>/apps/facefinder.png. Remove with: $0 --uninstall"
