"""Renders resources/icons/enclave.svg to the PNG sizes Linux desktops use, an .ico for
Windows and an .icns for macOS (PyInstaller's icon formats), with Qt's own image writers.

    .venv/bin/python scripts/icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # the image plugins need an application
    app.setApplicationName("Enclave icons")
    renderer = QSvgRenderer(str(ICONS / "enclave.svg"))
    if not renderer.isValid():
        print("resources/icons/enclave.svg is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        render(renderer, size).save(str(ICONS / f"enclave-{size}.png"))
    render(renderer, 256).save(str(ICONS / "enclave.ico"))
    render(renderer, 512).save(str(ICONS / "enclave.icns"))
    print(f"wrote {len(SIZES)} PNGs, enclave.ico and enclave.icns to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
