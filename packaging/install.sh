#!/bin/sh
# Installs Enclave from this folder: the program under /opt/enclave (as root) or
# ~/.local/opt/enclave (as a user), `enclave` and `enclave-desktop` on the PATH, and a menu
# entry with its icon. Needs no network. An older installation is replaced; libraries and
# settings (in the data and config folders) are not touched.
#
#   sh install.sh [--prefix DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
    prefix=/opt/enclave bin=/usr/local/bin share=/usr/share
else
    prefix=$HOME/.local/opt/enclave bin=$HOME/.local/bin share=$HOME/.local/share
fi
if [ "${1:-}" = "--prefix" ] && [ -n "${2:-}" ]; then
    prefix=$2
elif [ $# -gt 0 ]; then
    echo "usage: sh install.sh [--prefix DIR]" >&2
    exit 2
fi
if [ ! -x "$here/enclave/enclave" ]; then
    echo "install.sh: $here/enclave/enclave is missing: unpack the whole tarball first." >&2
    exit 1
fi

echo "Installing Enclave into $prefix"
mkdir -p "$(dirname "$prefix")" "$bin" "$share/applications"
rm -rf "$prefix.new"
cp -R "$here/enclave" "$prefix.new"       # copy first, then swap: a failed copy changes nothing
cp "$here/uninstall.sh" "$prefix.new/uninstall.sh"
rm -rf "$prefix.old"
if [ -e "$prefix" ]; then mv "$prefix" "$prefix.old"; fi
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"

ln -sf "$prefix/enclave" "$bin/enclave"
ln -sf "$prefix/enclave-desktop" "$bin/enclave-desktop"
sed "s|@PREFIX@|$prefix|g" "$here/enclave.desktop" > "$share/applications/enclave.desktop"
icons=$prefix/_internal/resources/icons
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$share/icons/hicolor/${size}x$size/apps"
    cp "$icons/enclave-$size.png" "$share/icons/hicolor/${size}x$size/apps/enclave.png"
done
mkdir -p "$share/icons/hicolor/scalable/apps"
cp "$icons/enclave.svg" "$share/icons/hicolor/scalable/apps/enclave.svg"
update-desktop-database "$share/applications" >/dev/null 2>&1 || true
gtk-update-icon-cache -q "$share/icons/hicolor" >/dev/null 2>&1 || true

"$prefix/enclave" --version
echo "Done. Start Enclave from the applications menu, or run: enclave-desktop"
case ":$PATH:" in *":$bin:"*) ;; *) echo "(add $bin to your PATH to run enclave from a terminal)";; esac
echo "To remove the program: sh $prefix/uninstall.sh"
