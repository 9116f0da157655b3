"""Shared fixtures: a temporary data directory for every test, real documents made on the
fly with PyMuPDF and python-docx, and the real bundled models loaded once per session."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PASSPHRASE = "correct horse battery"
MODEL_CACHE_DIR = Path(platformdirs.user_cache_dir("Enclave", appauthor=False))
"""The app's own cache of converted models (the int8 embedding graph), shared with the
commands the tests run: made once per machine."""
R_INTRO = Path("/usr/share/R/doc/manual/R-intro.pdf")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No test touches the real user data directory or keyring."""
    monkeypatch.setenv("ENCLAVE_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.setenv("ENCLAVE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ENCLAVE_KEY_SOURCE", "passphrase")
    monkeypatch.delenv("ENCLAVE_PASSPHRASE", raising=False)
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # as on a machine without one; a test may set its own
    yield
    keyring.set_keyring(previous)


def make_pdf(path: Path, pages: list[str], heading: str | None = None) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for number, text in enumerate(pages):
        page = doc.new_page()
        y = 72
        if heading and number == 0:
            page.insert_text((72, y), heading, fontsize=20)
            y += 40
        rect = pymupdf.Rect(72, y, 540, 770)
        page.insert_textbox(rect, text, fontsize=11)
    doc.save(path)
    return path


def make_docx(path: Path, heading: str, paragraphs: list[str],
              table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(path)
    return path


@pytest.fixture(scope="session")
def embedder():
    from engine.config import BUNDLED_EMBEDDING_MODEL
    from engine.retrieval.embedder import Embedder

    return Embedder.named(BUNDLED_EMBEDDING_MODEL, 32, MODEL_CACHE_DIR)


@pytest.fixture(scope="session")
def generator(tmp_path_factory):
    from engine.config import EngineConfig
    from engine.answers.generator import Generator
    from engine.models import generation_model_file

    config = EngineConfig(data_dir=tmp_path_factory.mktemp("models"))
    return Generator(generation_model_file(config.generation_model, config.data_dir),
                     config.context_tokens, config.threads, 0.0)  # greedy: tests repeat


@pytest.fixture
def config(tmp_path):
    from engine.config import EngineConfig

    return EngineConfig(data_dir=tmp_path / "data", kdf_log2_n=12)


@pytest.fixture
def open_service(config, embedder, generator):
    """Open services on the test's data directory, sharing the loaded models; closes them."""
    from engine.service import EnclaveService

    opened = []

    def _open(cfg=None, passphrase=PASSPHRASE, shared_embedder=True):
        """`shared_embedder=False`: the embedder the configuration names, loaded anew."""
        service = EnclaveService.open(cfg or config, lambda new: passphrase,
                                      prefer_keyring=False,
                                      embedder=embedder if shared_embedder else None,
                                      generator=generator)
        opened.append(service)
        return service

    yield _open
    for service in opened:
        try:
            service.close()
        except Exception:
            pass


@pytest.fixture
def service(open_service):
    return open_service()


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_sample_corpus(tmp_path / "corpus")


def write_sample_corpus(folder: Path) -> Path:
    """A folder with one document of each supported kind, each with a distinctive fact
    (the tests' corpus, and the sample documents of scripts/screenshots.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    make_pdf(folder / "pumps.pdf", [
        "Maintenance schedule for the cooling pumps. The primary cooling pump P-101 must be "
        "inspected every 450 operating hours by a certified technician.",
        "Safety valves. The relief valve on line 7 opens at a pressure of 12.5 bar and must be "
        "tested annually during the spring shutdown.",
        "Lubrication. Bearings of pump P-101 are greased with lithium complex grease, 30 grams "
        "per bearing, every quarter.",
    ], heading="Cooling Plant Manual")
    make_docx(folder / "policy.docx", "Visitor policy", [
        "All visitors to the laboratory must wear a blue badge issued at the north gate.",
        "Visitor badges are returned to the security desk before 18:00 on the same day.",
    ], table=[["Zone", "Clearance"], ["Clean room", "Level 3"], ["Archive", "Level 2"]])
    (folder / "notes.txt").write_text(
        "Field notes.\n\nThe weather station on the east ridge records wind speed every ten "
        "minutes and uploads readings at midnight.\n")
    (folder / "guide.md").write_text(
        "# Backup guide\n\nThe archive server copies the finance share to tape every Friday "
        "at 23:00.\n\n## Restore\n\nTapes are kept offsite in the Harlow vault for seven years.\n")
    (folder / "page.html").write_text(
        "<html><head><title>t</title><script>var x=1;</script></head><body>"
        "<h1>Canteen</h1><p>The canteen serves vegetarian lasagne every Wednesday.</p>"
        "</body></html>")
    (folder / "设备.txt").write_text(
        "设备维护说明。\n\n冷却塔的风机每运行三百小时需要更换一次润滑油。"
        "变压器室的温度不得超过四十摄氏度。\n", encoding="utf-8")
    return folder
