"""Refresh the Chinese translation after UI texts change (`make translations`).

pyside6-lupdate brings new strings from ui/*.py into resources/translations/
enclave_zh_CN.ts (keeping the translations already there); translate them there, with Qt
Linguist (`pyside6-linguist`) or any editor; pyside6-lrelease then compiles the .qm file
the app loads. Strings still untranslated are listed and the exit status is 1.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "resources" / "translations" / "enclave_zh_CN.ts"
BIN = Path(sys.executable).parent


def untranslated(ts: Path = TS) -> list[str]:
    return [m.find("source").text for m in ET.parse(ts).iter("message")
            if m.find("translation").get("type") == "unfinished" or not m.find("translation").text]


def main() -> int:
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").glob("*.py"))
    subprocess.run([BIN / "pyside6-lupdate", *sources, "-no-obsolete", "-locations", "none",
                    "-target-language", "zh_CN", "-ts", str(TS)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    subprocess.run([BIN / "pyside6-lrelease", str(TS), "-qm", str(TS.with_suffix(".qm"))],
                   check=True, stdout=subprocess.DEVNULL)
    missing = untranslated()
    for source in missing:
        print(f"untranslated: {source!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
