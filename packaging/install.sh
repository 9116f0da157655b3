#!/bin/sh
# Installs Enclave from this folder: the program under /opt/enclave (as root) or
# ~/.local/opt/enclave (as a user), `enclave` and `enclave-desktop` on the PATH, and a menu
# entry with its icon. Needs no network. An older installation is replaced; libraries and
# settings (in the data and config folders) are not touched.
#
#   sh install.sh [--user] [--prefix DIR]     (--user: for this user only, even as root)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
user=no prefix=
while [ $# -gt 0 ]; do
    case $1 in
        --user) user=yes; shift ;;
        --prefix) [ -n "${2:-}" ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        *) echo "usage: sh install.sh [--user] [--prefix DIR]" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" = 0 ] && [ $user = no ]; then
    prefix=${prefix:-/opt/enclave} bin=/usr/local/bin share=/usr/share
else
    prefix=${prefix:-$HOME/.local/opt/enclave} bin=$HOME/.local/bin share=$HOME/.local/share
fi
if [ ! -x "$here/enclave/enclave" ]; then
    echo "install.sh: $here/enclave/enclave is missing: unpack the whole tarball first." >&2
    exit 1
fi

if [ -e "$prefix" ] && ! { [ -f "$prefix/enclave" ] && [ -d "$prefix/_internal" ]; }; then
    echo "install.sh: $prefix exists and is not an Enclave installation: choose another --prefix." >&2
    exit 1
fi
echo "Installing Enclave into $prefix"
mkdir -p "$(dirname "$prefix")" "$bin" "$share/applications"
rm -rf "$prefix.new"
cp -R "$here/enclave" "$prefix.new"       # copy first, then swap: a failed copy changes nothing
sed "s|@BIN@|$bin|; s|@SHARE@|$share|" "$here/uninstall.sh" > "$prefix.new/uninstall.sh"
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
