#!/bin/sh
# Removes the Enclave program, its PATH links, menu entry and icons. Libraries, settings and
# backups are kept: the data folder is only ever removed by a person who means it.
set -eu
prefix=$(cd "$(dirname "$0")" && pwd)
bin=@BIN@ share=@SHARE@  # written by install.sh
if [ ! -f "$prefix/enclave" ] || [ ! -d "$prefix/_internal" ] || [ "${bin#@}" != "$bin" ]; then
    echo "uninstall.sh: run the copy inside the installation folder (e.g. /opt/enclave)." >&2
    exit 1
fi
for link in "$bin/enclave" "$bin/enclave-desktop"; do
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$prefix/$(basename "$link")" ]; then
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
