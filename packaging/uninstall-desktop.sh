#!/usr/bin/env bash
# Remove what packaging/install-desktop.sh put under ${XDG_DATA_HOME:-~/.local/share}:
# the desktop entry, the metainfo, the icons, and the caches or folders that
# are left holding nothing else.
set -euo pipefail

APP_ID=io.github.alexnet_gui
ICON_SIZES="16 32 48 64 128 256"
data=${XDG_DATA_HOME:-$HOME/.local/share}
hicolor="$data/icons/hicolor"

rm -f "$data/applications/$APP_ID.desktop" "$data/metainfo/$APP_ID.metainfo.xml" \
      "$hicolor/scalable/apps/$APP_ID.svg"
for size in $ICON_SIZES; do
    rm -f "$hicolor/${size}x${size}/apps/$APP_ID.png"
done

# A cache with nothing left to describe goes; one that still serves other
# applications is refreshed.
only_cache_left() {  # folder, cache file name
    [ -d "$1" ] && [ -z "$(find "$1" -type f ! -name "$2" -print -quit)" ]
}
if only_cache_left "$data/applications" mimeinfo.cache; then
    rm -f "$data/applications/mimeinfo.cache"
elif [ -d "$data/applications" ] && command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$data/applications" || true
fi
if only_cache_left "$hicolor" icon-theme.cache; then
    rm -f "$hicolor/icon-theme.cache"
elif [ -d "$hicolor" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t -f "$hicolor" || true
fi

# Folders that are now empty (never $data itself).
for dir in "$data/applications" "$data/metainfo" "$hicolor/scalable/apps" "$hicolor/scalable" \
           $(for s in $ICON_SIZES; do echo "$hicolor/${s}x${s}/apps $hicolor/${s}x${s}"; done) \
           "$hicolor" "$data/icons"; do
    [ -d "$dir" ] && rmdir "$dir" 2>/dev/null || true
done
echo "removed $APP_ID from $data"
