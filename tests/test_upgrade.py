"""Upgrades keep the data: a library made by an older release's code opens in this one.

The older code is taken from the repository's history (`git archive`), not from a stored
fixture: the test makes the library with that code in a fresh process (its `python -m
app`, the same installed dependencies), then opens it with the code of this tree, whose
vault runs the migrations in between. Each entry of OLDER_RELEASES is a commit whose
schema is older than today's; the newest `v*` tag is tried too once there is one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, make_pdf

ROOT = Path(__file__).parents[1]
OLDER_RELEASES = {
    "51cf814": "the first engine (schema 1: no chats, keys, audit or health)",
    "538f1d7": "the last code before checked answers (schema 5)",
}


def _newest_tag() -> list[str]:
    tags = subprocess.run(["git", "tag", "--list", "v*", "--sort=-v:refname"], cwd=ROOT,
                          capture_output=True, text=True).stdout.split()
    return tags[:1]


def _checkout(commit: str, folder: Path) -> Path:
    archive = subprocess.run(["git", "archive", "--format=tar", commit, "app", "engine"],
                             cwd=ROOT, capture_output=True)
    if archive.returncode != 0:
        pytest.fail(f"commit {commit} is not in this clone (a shallow clone?): "
                    f"{archive.stderr.decode().strip()}")
    folder.mkdir()
    (folder / "code.tar").write_bytes(archive.stdout)
    with tarfile.open(folder / "code.tar") as tar:
        tar.extractall(folder, filter="data")
    return folder


def _enclave(code: Path, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ENCLAVE_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(code)}
    result = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
                            cwd=code, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
@pytest.mark.parametrize("commit", [*OLDER_RELEASES, *_newest_tag()])
def test_a_library_made_by_an_older_release_opens_with_its_documents(commit, tmp_path):
    old = _checkout(commit, tmp_path / "old")
    made_by = subprocess.run([sys.executable, "-c", "import engine; print(engine.__path__[0])"],
                             cwd=old, env={**os.environ, "PYTHONPATH": str(old)},
                             capture_output=True, text=True).stdout.strip()
    assert made_by == str(old / "engine")  # the old code, not this tree's
    data = tmp_path / "data"
    make_pdf(tmp_path / "pumps.pdf", [
        "The primary cooling pump P-101 must be inspected every 450 operating hours.",
        "The relief valve on line 7 opens at a pressure of 12.5 bar."])
    _enclave(old, data, "ingest", str(tmp_path / "pumps.pdf"))

    hits = json.loads(_enclave(ROOT, data, "search", "--json", "relief valve pressure").stdout)
    assert (hits["results"][0]["document"], hits["results"][0]["page"]) == ("pumps.pdf", 2)
    (tmp_path / "notes.txt").write_text("The spare seal kit is kept in cabinet 14.")
    _enclave(ROOT, data, "ingest", str(tmp_path / "notes.txt"))
    status = _enclave(ROOT, data, "status").stdout
    assert "documents: 2" in status, status
    key = _enclave(ROOT, data, "keys", "create", "after-upgrade").stdout.splitlines()[0]
    assert key.startswith("enc_")

    from engine.store.vault import SCHEMA_VERSION

    assert f"schema: {SCHEMA_VERSION}" in status  # every migration ran
    figures = dict(line.split(": ", 1) for line in status.splitlines())
    assert figures["indexed_vectors"] == figures["chunks"]
