"""Refresh the Chinese translation after UI texts change (`make translations`).

pyside6-lupdate brings new strings from ui/*.py into resources/translations/
enclave_zh_CN.ts (keeping the translations already there); translate them there, with Qt
Linguist (`pyside6-linguist`) or any editor; pyside6-lrelease then compiles the .qm file
the app loads. English gets a file of its plural forms only (enclave_en.ts, `lupdate
-pluralonly`: "%n document(s)" -> "1 document", "%n documents"), kept the same way.
Strings still untranslated are listed and the exit status is 1.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "resources" / "translations" / "enclave_zh_CN.ts"
PLURALS_TS = ROOT / "resources" / "translations" / "enclave_en.ts"
BIN = Path(sys.executable).parent


def untranslated(ts: Path = TS) -> list[str]:
    missing = []
    for message in ET.parse(ts).iter("message"):
        translation = message.find("translation")
        forms = translation.findall("numerusform")
        done = all(f.text for f in forms) if forms else bool(translation.text)
        if translation.get("type") == "unfinished" or not done:
            missing.append(message.find("source").text)
    return missing


def update(ts: Path, language: str, sources: list[str], *options: str) -> None:
    """Bring the strings of `sources` into `ts` (keeping its translations) and compile it."""
    subprocess.run([BIN / "pyside6-lupdate", *sources, "-no-obsolete", "-locations", "none",
                    *options, "-target-language", language, "-ts", str(ts)], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([BIN / "pyside6-lrelease", str(ts), "-qm", str(ts.with_suffix(".qm"))],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").glob("*.py"))
    update(TS, "zh_CN", sources)
    update(PLURALS_TS, "en", sources, "-pluralonly")
    missing = untranslated(TS) + untranslated(PLURALS_TS)
    for source in missing:
        print(f"untranslated: {source!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
