#!/usr/bin/env bash
# Add AlexNet GUI to the desktop's application menu for the current user:
# the desktop entry, the AppStream metainfo and the icons (hicolor sizes and
# scalable) under ${XDG_DATA_HOME:-~/.local/share}. No root needed.
#
#   packaging/install-desktop.sh                       # runs `alexnet-gui` from PATH (pip install)
#   packaging/install-desktop.sh --exec /opt/alexnet-gui/alexnet-gui   # a PyInstaller bundle
#   packaging/install-desktop.sh --resources DIR       # take the files from DIR instead of ../resources
#
# packaging/uninstall-desktop.sh removes exactly what this puts there.
set -euo pipefail

APP_ID=io.github.alexnet_gui
ICON_SIZES="16 32 48 64 128 256"
here=$(cd "$(dirname "$0")" && pwd)
resources="$here/../resources"
exec_path=""

while [ $# -gt 0 ]; do
    case "$1" in
        --exec) exec_path=${2:?--exec needs the path of the alexnet-gui executable}; shift 2 ;;
        --resources) resources=${2:?--resources needs a folder}; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-desktop.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

data=${XDG_DATA_HOME:-$HOME/.local/share}
for f in "$APP_ID.desktop" "$APP_ID.metainfo.xml" icons/alexnet-gui.svg; do
    [ -f "$resources/$f" ] || { echo "install-desktop.sh: missing $resources/$f" >&2; exit 1; }
done

if [ -n "$exec_path" ]; then
    case "$exec_path" in /*) ;; *) exec_path="$(pwd)/$exec_path" ;; esac
    [ -x "$exec_path" ] || { echo "install-desktop.sh: not an executable: $exec_path" >&2; exit 1; }
elif ! command -v alexnet-gui >/dev/null 2>&1; then
    echo "install-desktop.sh: note: alexnet-gui is not on PATH; the menu entry stays hidden until it is" \
         "(or rerun with --exec PATH)" >&2
fi

desktop="$data/applications/$APP_ID.desktop"
mkdir -p "$(dirname "$desktop")"
if [ -n "$exec_path" ]; then
    # Exec quotes the path (spaces are fine); the characters the Desktop Entry
    # spec would need escaped twice over are refused rather than mangled.
    case "$exec_path" in *[\"\`\$\\%]*)
        echo "install-desktop.sh: move the app to a path without \" \` \$ \\ or %: $exec_path" >&2; exit 1 ;;
    esac
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in
            Exec=alexnet-gui*) printf 'Exec="%s"%s\n' "$exec_path" "${line#Exec=alexnet-gui}" ;;
            TryExec=*) printf 'TryExec=%s\n' "$exec_path" ;;
            *) printf '%s\n' "$line" ;;
        esac
    done < "$resources/$APP_ID.desktop" > "$desktop.tmp"
    mv "$desktop.tmp" "$desktop"
    chmod 644 "$desktop"
else
    install -m 644 "$resources/$APP_ID.desktop" "$desktop"
fi
install -D -m 644 "$resources/$APP_ID.metainfo.xml" "$data/metainfo/$APP_ID.metainfo.xml"
for size in $ICON_SIZES; do
    install -D -m 644 "$resources/icons/alexnet-gui-$size.png" \
        "$data/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
install -D -m 644 "$resources/icons/alexnet-gui.svg" "$data/icons/hicolor/scalable/apps/$APP_ID.svg"

# Refresh the caches menus and file managers read, where the tools exist.
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$data/applications" || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    # -t: a user's hicolor folder has no index.theme of its own.
    gtk-update-icon-cache -q -t -f "$data/icons/hicolor" || true
fi
echo "installed $APP_ID into $data"
