#!/bin/sh
# Removes the Enclave program, its PATH links, menu entry and icons. Libraries, settings and
# backups are kept: the data folder is only ever removed by a person who means it.
# (install.sh puts this file into the installation, with the two folders it used first.)
# --- install.sh writes the folders above ---
set -eu
prefix=$(cd "$(dirname "$0")" && pwd)
if [ -z "${bin:-}" ] || [ ! -f "$prefix/enclave" ] || [ ! -d "$prefix/_internal" ]; then
    echo "uninstall.sh: run the copy inside the installation folder (e.g. /opt/enclave)." >&2
    exit 1
fi
for entry in "$prefix"/* "$prefix"/.[!.]*; do
    case ${entry##*/} in enclave|enclave-desktop|_internal|uninstall.sh|'*'|'.[!.]*') ;;
        *) echo "uninstall.sh: $entry is not part of Enclave (a library or model kept there?):" \
                "move it out of $prefix first; nothing was removed." >&2
           exit 1 ;;
    esac
done
for program in enclave enclave-desktop; do
    link=$bin/$program
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$prefix/$program" ]; then
        rm -f "$link"
    fi
done
rm -f "$share/applications/enclave.desktop"
for icon in "$share"/icons/hicolor/*/apps/enclave.png "$share/icons/hicolor/scalable/apps/enclave.svg"; do
    rm -f "$icon"
done
update-desktop-database "$share/applications" >/dev/null 2>&1 || true
rm -rf "$prefix"
echo "Enclave removed from $prefix. Your libraries and settings were kept."
