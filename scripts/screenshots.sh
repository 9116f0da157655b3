#!/usr/bin/env bash
# Drive the real desktop app on a virtual screen (Xvfb) and save screenshots of it:
#   bash scripts/screenshots.sh [OUTPUT_DIR]     (default docs/screenshots)
# Installs Debian's xvfb, the X libraries Qt's xcb platform needs and a CJK font if
# missing. Uses a throw-away data and config directory; nothing of yours is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-docs/screenshots}"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
if ! dpkg -s xvfb libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 fonts-wqy-microhei >/dev/null 2>&1; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q xvfb libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
    libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0 fonts-wqy-microhei
fi
make install >/dev/null
WORK=$(mktemp -d)
trap 'kill $XVFB_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
DISPLAY_NUMBER=:97
Xvfb "$DISPLAY_NUMBER" -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
sleep 1
mkdir -p "$OUT"
DISPLAY="$DISPLAY_NUMBER" QT_QPA_PLATFORM=xcb ENCLAVE_CONFIG_DIR="$WORK/config" \
  ENCLAVE_DATA_DIR="$WORK/data" ENCLAVE_KEY_SOURCE=passphrase HF_HUB_OFFLINE=1 \
  .venv/bin/python scripts/screenshots.py "$OUT" "$WORK/samples"
echo "screenshots in $OUT"
