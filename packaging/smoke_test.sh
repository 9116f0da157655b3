#!/usr/bin/env bash
# `make package-test`: the bundle used as a site would use it, from the unpacked tarball,
# with a fresh HOME, config and data folder, the source tree's venv off PATH and NO NETWORK
# (a new network namespace holding only loopback): version, ingest of a real PDF and a
# DOCX, search, ask, serve with an API key, backup and verify, the desktop app reaching
# Ready offscreen; then the same `ask` under `qemu-x86_64 -cpu Nehalem` (a CPU without AVX).
# Fails on the first error; prints sizes and timings into bench/results/package.json.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=dist/enclave-$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)-linux-x86_64.tar.gz
work=$(mktemp -d /tmp/enclave-package-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
checks="python3 $(pwd)/packaging/smoke_checks.py"

echo "== checksum, unpack"
(cd dist && sha256sum -c --quiet "$(basename "$tarball").sha256")
tar -C "$work" -xzf "$tarball"
bundle=$(ls -d "$work"/enclave-*-linux-x86_64)/enclave

echo "== a DOCX made for the test"
build/package-venv/bin/python - "$work/maintenance.docx" <<'PY'
import sys
from docx import Document
doc = Document()
doc.add_heading("Orion-7 coolant pump: maintenance", 1)
doc.add_paragraph("The Orion-7 coolant pump must be serviced every 1,200 operating hours. "
                  "Servicing means replacing the shaft seal and checking the impeller for wear.")
doc.add_paragraph("Only technicians with a valid pump certificate may open the pump housing.")
doc.save(sys.argv[1])
PY
echo "== a scanned PDF made for the test (a picture of a page, no text layer)"
build/package-venv/bin/python - "$work/scan.pdf" <<'PY'
import sys
import pymupdf
with pymupdf.open() as source, pymupdf.open() as scan:
    page = source.new_page()
    page.insert_text((72, 90), "Boiler house procedure BH-7\n\nThe safety valve on boiler B2\n"
                     "is set to lift at 10.4 bar.", fontsize=12, lineheight=1.5)
    picture = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
    scan.new_page().insert_image(page.rect, stream=picture.tobytes("png"))
    scan.save(sys.argv[1])
PY

# Each step runs in a network namespace of its own with only loopback (as root `unshare -n`,
# else `unshare -rn`), in a clean environment: HOME, config and data are fresh folders.
if [ "$(id -u)" = 0 ]; then netless=(unshare -n); else netless=(unshare -rn); fi
mkdir -p "$work/home"
offline() {
    env -i HOME="$work/home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
        XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
        XDG_CACHE_HOME="$work/home/.cache" ENCLAVE_PASSPHRASE="smoke test passphrase 42" \
        ENCLAVE_BACKUP_DIR="$work/usb" QT_QPA_PLATFORM=offscreen \
        "${netless[@]}" sh -c 'ip link set lo up && exec "$@"' sh "$@"
}
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
cd "$work"
e=$bundle/enclave

echo "== no interface but loopback"
offline sh -c '! ip -o link | grep -v " lo:"'
echo "== version"
offline "$e" --version
echo "== ingest R-intro.pdf and a DOCX"
t=$(now); offline "$e" ingest /usr/share/R/doc/manual/R-intro.pdf maintenance.docx
echo "ingest_s $(elapsed "$t")" >> timings
echo "== search"
offline "$e" search --json "How do I quit R?" > search.json
$checks search search.json
echo "== a scanned PDF, read with OCR and the bundle's language data"
offline "$e" ingest scan.pdf
offline "$e" search --json "safety valve boiler B2" > scan.json
$checks scan scan.json
echo "== ask"
t=$(now)
offline "$e" -v ask --json "How often must the Orion-7 coolant pump be serviced?" > ask.json 2> ask.log \
    || { cat ask.log >&2; exit 1; }
echo "ask_s $(elapsed "$t")" >> timings
variant=$(grep -o 'libggml-cpu-[a-z0-9]*' ask.log | head -1)
[ -n "$variant" ] || { echo "no llama.cpp CPU variant was loaded" >&2; cat ask.log >&2; exit 1; }
echo "native $variant" | tee -a timings
$checks ask ask.json
echo "== serve, and /v1/search with and without a key"
key=$(offline "$e" keys create smoke | head -1)
offline sh -c '"$1" serve --port 18765 > serve.log 2>&1 & server=$!
    for _ in $(seq 120); do curl -sf http://127.0.0.1:18765/health > /dev/null && break; sleep 1; done
    status=0; $2 api-search http://127.0.0.1:18765 "$3" || status=$?
    kill $server; wait $server; exit $status' sh "$e" "$checks" "$key" || { cat serve.log >&2; exit 1; }
echo "== backup, verify"
offline "$e" backup
offline "$e" backups verify
echo "== the desktop app, offscreen, until Ready (3 starts)"
for run in 1 2 3; do
    offline "$bundle/enclave-desktop" --smoke 2> desktop.log | tail -1 >> desktop.json \
        || { cat desktop.log >&2; exit 1; }
done
cat desktop.json
echo "== install.sh for this user (twice: the second replaces the first), uninstall.sh"
for run in 1 2; do
    offline sh "$(dirname "$bundle")/install.sh" --user > install.log 2>&1 \
        || { cat install.log >&2; exit 1; }
done
home=$work/home
[ -z "$(ls -A "$home/.local/opt" | grep -v '^enclave$')" ]  # no staging folder left behind
[ "$("$home/.local/bin/enclave" --version)" = "$(offline "$e" --version)" ]
grep -qx "Exec=\"$home/.local/opt/enclave/enclave-desktop\"" "$home/.local/share/applications/enclave.desktop"
[ -f "$home/.local/share/icons/hicolor/256x256/apps/enclave.png" ]
offline "$home/.local/bin/enclave" status | grep -q "documents: 3"
offline sh "$home/.local/opt/enclave/uninstall.sh"
[ ! -e "$home/.local/opt/enclave" ] && [ ! -e "$home/.local/bin/enclave" ] \
    && [ ! -e "$home/.local/share/applications/enclave.desktop" ]
offline "$e" status | grep -q "documents: 3"
echo "installed, started from the PATH, uninstalled; the library is intact"
echo "== the same ask under qemu-x86_64 -cpu Nehalem (no AVX)"
# PyInstaller's bootloader re-executes itself once with LD_LIBRARY_PATH set, and that exec
# would leave qemu (the new process runs natively): give the guest the environment of the
# re-executed process, so that the whole run stays emulated.
t=$(now)
offline qemu-x86_64 -cpu Nehalem -E "LD_LIBRARY_PATH=$bundle/_internal" \
    -E "_PYI_ARCHIVE_FILE=$e" -E _PYI_PARENT_PROCESS_LEVEL=-1 "$e" -v ask --json \
    "How often must the Orion-7 coolant pump be serviced?" > ask-nehalem.json 2> ask-nehalem.log \
    || { tail -30 ask-nehalem.log >&2; exit 1; }
echo "nehalem_ask_s $(elapsed "$t")" >> timings
variant=$(grep -o 'libggml-cpu-[a-z0-9]*' ask-nehalem.log | head -1)
echo "nehalem $variant" | tee -a timings
# the proof that it ran on the emulated CPU: ggml saw no AVX and took an SSE variant
case $variant in libggml-cpu-sse42|libggml-cpu-x64) ;;
    *) echo "under Nehalem ggml chose '$variant': the run was not emulated" >&2; exit 1;; esac
$checks ask ask-nehalem.json
cd - > /dev/null

echo "== start-up of the source tree's app on the same library, for comparison"
if [ -x .venv/bin/enclave-desktop ]; then
    for run in 1 2 3; do
        env HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" \
            XDG_DATA_HOME="$work/home/.local/share" ENCLAVE_PASSPHRASE="smoke test passphrase 42" \
            QT_QPA_PLATFORM=offscreen .venv/bin/enclave-desktop --smoke 2>/dev/null \
            | tail -1 >> "$work/source-desktop.json"
    done
fi
$checks summary "$work" "$tarball"
