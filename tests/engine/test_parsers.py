"""Parsers: structure and pages from every supported kind, and a clear reason for bad files."""

import zipfile

import pytest

from engine.ingest import parsers
from engine.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    FileTooLargeError,
    UnsupportedFileError,
)
from tests.conftest import make_docx, make_pdf

LIMIT = parsers.ReadLimits(max_bytes=10 * 2**20)


def _blocks_match_text(doc):
    for block in doc.blocks:
        assert doc.text[block.start:block.end] == block.text


def test_pdf_keeps_pages_headings_and_offsets(tmp_path):
    path = make_pdf(tmp_path / "a.pdf", ["First page body text here.", "Second page body."],
                    heading="Big Title")
    doc = parsers.parse(path, LIMIT)
    assert doc.kind == "pdf" and doc.pages == 2
    assert [b.kind for b in doc.blocks if b.text == "Big Title"] == ["heading"]
    assert {b.page for b in doc.blocks if "Second page" in b.text} == {2}
    assert doc.text[doc.page_offsets[1]:].startswith("Second page")
    _blocks_match_text(doc)


def test_docx_paragraphs_headings_and_tables(tmp_path):
    path = make_docx(tmp_path / "a.docx", "Policy", ["Para one.", "Para two."],
                     table=[["Zone", "Level"], ["Clean room", "3"]])
    doc = parsers.parse(path, LIMIT)
    kinds = {b.text.splitlines()[0]: b.kind for b in doc.blocks}
    assert kinds["Policy"] == "heading" and kinds["Para one."] == "paragraph"
    table = next(b for b in doc.blocks if b.kind == "table")
    assert "Clean room" in table.text and "3" in table.text
    _blocks_match_text(doc)


def test_markdown_headings_and_code_fences(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# Title\n\nSome *text*.\n\n```\n# not a heading\n```\n\n## Next\n\nMore.\n")
    doc = parsers.parse(path, LIMIT)
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert headings == ["Title", "Next"]
    assert any("# not a heading" in b.text for b in doc.blocks if b.kind != "heading")
    _blocks_match_text(doc)


def test_html_drops_scripts_and_keeps_headings(tmp_path):
    path = tmp_path / "a.html"
    path.write_text("<html><head><script>var secret=1;</script><style>p{}</style></head>"
                    "<body><h2>Menu</h2><div><p>Soup on Monday.</p></div></body></html>")
    doc = parsers.parse(path, LIMIT)
    assert "secret" not in doc.text and "p{}" not in doc.text
    assert [(b.kind, b.text) for b in doc.blocks] == [("heading", "Menu"),
                                                      ("paragraph", "Soup on Monday.")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_text_in_common_encodings(tmp_path, encoding):
    path = tmp_path / "a.txt"
    path.write_bytes("冷却塔的风机。\n\nSecond paragraph.".encode(encoding))
    doc = parsers.parse(path, LIMIT)
    assert [b.text for b in doc.blocks] == ["冷却塔的风机。", "Second paragraph."]


def test_bad_files_raise_with_a_reason(tmp_path):
    def write(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    cases = {
        write("empty.txt", b""): (EmptyDocumentError, "empty file"),
        write("junk.pdf", b"%PDF-1.4 this is not really a pdf"): (CorruptDocumentError, "PDF"),
        write("junk.docx", b"not a zip at all"): (CorruptDocumentError, "Word"),
        write("old.docx", parsers.OLE_SIGNATURE + b"\0" * 600): (EncryptedDocumentError, "password"),
        write("binary.txt", b"\x00\x01\x02" * 100): (CorruptDocumentError, "binary"),
        write("blank.md", b"\n\n   \n"): (EmptyDocumentError, "no text"),
        write("image.png", b"\x89PNG"): (CorruptDocumentError, "not a readable image"),
        write("image.gif", b"GIF89a"): (UnsupportedFileError, "unsupported"),
    }
    for path, (error, words) in cases.items():
        with pytest.raises(error, match=f"(?i){words}") as info:
            parsers.parse(path, LIMIT)
        assert info.value.reason


def test_encrypted_and_scanned_pdfs(tmp_path):
    import pymupdf

    locked = tmp_path / "locked.pdf"
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "secret plans")
    pdf.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    with pytest.raises(EncryptedDocumentError, match="password"):
        parsers.parse(locked, LIMIT)

    scanned = tmp_path / "scan.pdf"
    pdf = pymupdf.open()
    pdf.new_page().draw_rect(pymupdf.Rect(50, 50, 200, 200), fill=(0, 0, 0))
    pdf.save(scanned)
    with pytest.raises(EmptyDocumentError, match="OCR"):
        parsers.parse(scanned, LIMIT)


def test_docx_without_document_part_is_corrupt(tmp_path):
    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(CorruptDocumentError):
        parsers.parse(path, LIMIT)


def test_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)
    with pytest.raises(FileTooLargeError, match="over the"):
        parsers.parse(path, parsers.ReadLimits(max_bytes=1000))
