"""Every text of the UI has its Chinese translation, and the compiled file is current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import translations  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("ts_file, options", [(translations.TS, ()),
                                              (translations.PLURALS_TS, ("-pluralonly",))])
def test_every_ui_string_is_translated_and_compiled(tmp_path, ts_file, options):
    """Chinese: every string; English: every plural form ("%n document(s)")."""
    ts = tmp_path / ts_file.name
    shutil.copy(ts_file, ts)
    sources = sorted(str(p) for p in (translations.ROOT / "ui").glob("*.py"))
    subprocess.run([translations.BIN / "pyside6-lupdate", *sources, "-no-obsolete",
                    "-locations", "none", *options, "-ts", str(ts)], check=True,
                   capture_output=True)
    assert translations.untranslated(ts) == [], "run `make translations` and translate"
    qm = ts.with_suffix(".qm")
    subprocess.run([translations.BIN / "pyside6-lrelease", str(ts), "-qm", str(qm)],
                   check=True, capture_output=True)
    assert qm.read_bytes() == ts_file.with_suffix(".qm").read_bytes(), \
        "the .qm file is older than the .ts file: run `make translations`"
