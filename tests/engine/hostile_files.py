"""A corpus of hostile and broken files, made on the spot, each with what its failure says.

`make_hostile_corpus(folder)` writes every kind and returns {file name: a pattern its
failure reason must match, or None for one that must be read all the same}. Kinds come from an attacker's and a careless user's attempts
(issue 13): bombs that unpack or multiply, files that lie about their type, files that are
empty, locked, binary, endless or not files at all.
"""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pymupdf

from tests.conftest import make_docx, make_pdf

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BUDGET = r"paragraphs|elements|memory|longer than|passages|parts|unpacks|crashed"
"""What a file past one of its budgets says (which budget it meets first may vary)."""


def _docx_with_body(path: Path, body_xml: bytes, template: Path, extra_parts: int = 0,
                    prolog: bytes = b"") -> Path:
    """A real Word file (from `template`) whose document body is replaced."""
    with zipfile.ZipFile(template) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename == "word/document.xml":
                out.writestr(item, prolog + b'<w:document xmlns:w="' + _W.encode()
                             + b'"><w:body>' + body_xml + b"</w:body></w:document>")
            else:
                out.writestr(item, source.read(item))
        for n in range(extra_parts):
            out.writestr(f"extra/part{n}.xml", b"<a/>")
    return path


def _zip_bomb(path: Path, template: Path, unpacked_mib: int) -> Path:
    with zipfile.ZipFile(template) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        with out.open("word/media/padding.bin", "w", force_zip64=True) as part:
            zeros = bytes(2**20)
            for _ in range(unpacked_mib):
                part.write(zeros)
    return path


def make_hostile_corpus(folder: Path) -> dict[str, str | None]:
    folder.mkdir(parents=True, exist_ok=True)
    template = make_docx(folder.parent / "template.docx", "Template", ["A paragraph."])
    expected: dict[str, str | None] = {}

    def bad(name: str, reason: str) -> Path:
        expected[name] = reason
        return folder / name

    def readable(name: str) -> Path:  # hostile in shape, yet read within its budget
        expected[name] = None
        return folder / name

    # Word files that multiply or unpack
    _docx_with_body(bad("empty-paragraphs.docx", BUDGET), b"<w:p/>" * 4_000_000, template)
    _zip_bomb(bad("zip-bomb.docx", "unpacks to"), template, 400)
    _docx_with_body(bad("many-parts.docx", "parts"), b"<w:p><w:r><w:t>x</w:t></w:r></w:p>",
                    template, extra_parts=12_000)
    laughs = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "hahahahahaha">'
              + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10)
                         for i in range(9)) + b"]>")
    _docx_with_body(bad("billion-laughs.docx", r"no text|not a readable"),
                    b"<w:p><w:r><w:t>&j;</w:t></w:r></w:p>", template, prolog=laughs)
    _docx_with_body(bad("bad-xml.docx", "not a readable Word"), b"<w:p><unclosed>", template)
    bad("random.docx", "not a readable Word").write_bytes(os.urandom(4096))
    bad("legacy.docx", "password").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))

    # Markdown and HTML that multiply into passages or nest without end
    bad("headings.md", BUDGET).write_text("".join(f"# {n}\n" for n in range(150_000)))
    bad("short-sections.md", "passages").write_text(
        "".join(f"# Section {n}\nword\n" for n in range(40_000)))
    readable("nested.html").write_text("<div>" * 200_000 + "deep" + "</div>" * 200_000)
    bad("million-paragraphs.html", BUDGET).write_text("<p>x</p>" * 1_000_000)

    # PDFs that are locked, scanned, blank, or not PDFs
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "secret plans")
    pdf.save(bad("locked.pdf", "password"), encryption=pymupdf.PDF_ENCRYPT_AES_256,
             user_pw="u", owner_pw="o")
    pdf = pymupdf.open()
    pdf.new_page().draw_rect(pymupdf.Rect(50, 50, 200, 200), fill=(0, 0, 0))
    pdf.save(bad("scanned.pdf", "OCR"))
    pdf = pymupdf.open()
    for _ in range(3000):
        pdf.new_page()
    pdf.save(bad("blank-pages.pdf", "no text"))
    image = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
    bad("image-named.pdf", r"OCR|not a readable PDF").write_bytes(image.tobytes("png"))
    bad("garbage.pdf", "not a readable PDF").write_bytes(b"%PDF-1.7\n" + os.urandom(8192))

    # text that is not text, nothing, or too much
    bad("binary.txt", "binary").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(100) + os.urandom(900))
    bad("gzip.txt", "binary").write_bytes(gzip.compress(b"hello " * 1000, mtime=0))
    bad("empty.txt", "empty").write_bytes(b"")
    bad("whitespace.md", "no text").write_text(" \n\t\n" * 1000)
    with bad("huge.txt", "over the").open("wb") as f:
        f.truncate(300 * 2**20)  # sparse: costs no disk
    os.mkfifo(bad("pipe.txt", "empty|not a regular"))
    return expected


def make_good_files(folder: Path) -> list[Path]:
    return [
        make_pdf(folder / "good.pdf", ["The pump runs at 40 bar on weekdays."], heading="Pump"),
        make_docx(folder / "good.docx", "Valve", ["The relief valve opens at 12 bar."]),
        _write(folder / "good.txt", "The boiler is inspected every spring by the site team."),
    ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
