#!/bin/sh
# Installs Enclave from this folder: the program under /opt/enclave (as root) or
# ~/.local/opt/enclave (as a user), `enclave` and `enclave-desktop` on the PATH, and a menu
# entry with its icon. Needs no network. An older installation is replaced only once the
# new copy has started; libraries and settings (in the data and config folders) are never
# touched.
#
#   sh install.sh [--user] [--prefix /ABSOLUTE/DIR]   (--user: for this user only, even as root)
set -eu
umask 022
here=$(cd "$(dirname "$0")" && pwd)
user=no prefix=
while [ $# -gt 0 ]; do
    case $1 in
        --user) user=yes; shift ;;
        --prefix) [ -n "${2:-}" ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        *) echo "usage: sh install.sh [--user] [--prefix /ABSOLUTE/DIR]" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" = 0 ] && [ $user = no ]; then
    prefix=${prefix:-/opt/enclave} bin=/usr/local/bin share=/usr/share
else
    prefix=${prefix:-$HOME/.local/opt/enclave} bin=$HOME/.local/bin share=$HOME/.local/share
fi
while [ "${prefix%/}" != "$prefix" ] && [ "$prefix" != / ]; do prefix=${prefix%/}; done
case $prefix in
    /?*) ;;
    *) echo "install.sh: --prefix must be an absolute folder, not '$prefix'." >&2; exit 2 ;;
esac
for program in enclave enclave-desktop; do
    if [ ! -e "$here/enclave/$program" ]; then
        echo "install.sh: $here/enclave/$program is missing: unpack the whole tarball" \
             "on a local disk (a FAT/exFAT USB stick cannot hold its links), then run this again." >&2
        exit 1
    fi
done
if [ ! -x "$here/enclave/enclave" ]; then
    echo "install.sh: $here/enclave/enclave is not executable: unpack the tarball on a local disk." >&2
    exit 1
fi
is_installation() {  # only Enclave's own files, nothing a person put there
    [ -f "$1/enclave" ] && [ -d "$1/_internal" ] || return 1
    for entry in "$1"/* "$1"/.[!.]*; do
        case ${entry##*/} in enclave|enclave-desktop|_internal|uninstall.sh|'*'|'.[!.]*') ;;
            *) return 1 ;; esac
    done
}
if [ -e "$prefix" ] && ! is_installation "$prefix"; then
    echo "install.sh: $prefix exists and holds more than an Enclave installation:" \
         "choose another --prefix (nothing was changed)." >&2
    exit 1
fi
for exe in /proc/[0-9]*/exe; do
    case $(readlink "$exe" 2>/dev/null || true) in
        "$prefix"/*) echo "install.sh: Enclave is running from $prefix (process ${exe#/proc/};" \
                          "${exe%/exe}): close it, stop \`enclave serve\`, then run this again." >&2
                     exit 1 ;;
    esac
done

echo "Installing Enclave into $prefix"
mkdir -p "$(dirname "$prefix")" "$bin" "$share/applications"
staging=$(mktemp -d "$(dirname "$prefix")/.enclave-install.XXXXXX")
trap 'rm -rf "$staging"' EXIT
cp -R "$here/enclave" "$staging/enclave"     # copy and start it first: a failure changes nothing
{ printf "bin='%s' share='%s'  # written by install.sh\n" "$bin" "$share"
  sed '1,/^# --- install.sh writes the folders above ---$/d' "$here/uninstall.sh"; } \
    > "$staging/enclave/uninstall.sh"
if ! "$staging/enclave/enclave" --version > /dev/null; then
    echo "install.sh: the new copy does not start on this machine (see above; it needs" \
         "Linux with glibc 2.36+: \`ldd --version\`). The installed version, if any, is unchanged." >&2
    exit 1
fi
if [ -e "$prefix" ]; then mv "$prefix" "$staging/old"; fi
mv "$staging/enclave" "$prefix"

for program in enclave enclave-desktop; do
    link=$bin/$program
    if [ -e "$link" ] && [ ! -L "$link" ]; then
        echo "install.sh: $link is not ours, left as it is: run $prefix/$program"
    else
        ln -sf "$prefix/$program" "$link"
    fi
done
sed "s|@PREFIX@|$(printf '%s' "$prefix" | sed 's/[&|\\]/\\&/g')|g" "$here/enclave.desktop" \
    > "$share/applications/enclave.desktop"
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
