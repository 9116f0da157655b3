"""Turn a file into text blocks with structure: headings, paragraphs, tables and pages.

Each parser returns a `ParsedDocument` whose `text` is the whole extracted text and whose
blocks carry their character offsets into it (and their page, for PDFs), so that a chunk
built from blocks can later be highlighted in the source. Bad files raise a
`DocumentError` subclass with a short reason; a file that would cost more than its
`ReadLimits` (size, unpacked size, parts, blocks) raises `OverBudgetError` before it
costs it. Time and memory are bounded by the reader process (`engine.ingest.reader`).
PDFs and image files are read by `engine.ingest.pages` (pages that are pictures with
OCR). Nothing here writes anything.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import pii
from ..errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    FileTooLargeError,
    OverBudgetError,
    UnsupportedFileError,
)

KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted Office files and legacy .doc


@dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost; a file past any of them fails with the reason."""

    max_bytes: int = 200 * 2**20
    max_unpacked_bytes: int = 256 * 2**20
    """A Word file's parts once decompressed (a zip bomb unpacks to gigabytes)."""
    max_parts: int = 10_000
    """Files inside a Word file's zip."""
    max_blocks: int = 100_000
    """Paragraphs, headings and tables; in a Word file empty paragraphs count too. The
    R reference manual (3,800 pages) has 45,000."""
    mask_personal_data: bool = False
    """Not a cost: whether personal data is masked in the text as it is read (engine.pii),
    before any offset is counted, so that pages and passages point at the masked text."""
    ocr: bool = True
    """Not a cost: whether pages that are pictures (scans, image files) are read with OCR."""
    max_ocr_pages: int = 1000
    """Pages of one file that OCR may read (each takes seconds)."""


@dataclass(frozen=True)
class Block:
    text: str
    kind: str  # "heading" | "paragraph" | "table"
    page: int | None  # 1-based, PDFs only
    start: int
    end: int


@dataclass
class ParsedDocument:
    kind: str
    max_blocks: int = ReadLimits.max_blocks
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    page_offsets: list[int] = field(default_factory=list)
    mask_personal_data: bool = False
    ocr_lines: dict[int, list[tuple[float, float, float, float, int, int]]] = field(
        default_factory=dict)
    """The pages read with OCR: each page's lines as (x0, y0, x1, y1) in PDF points and
    (start, end) offsets into `text`, to highlight a passage on the page's picture."""
    ocr_pages_tried: int = 0
    """How many pages were read with OCR (found text or not)."""
    _parts: list[str] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        if len(self._parts) > 1:  # joined once, not copied on every `add`
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def length(self) -> int:
        """Characters of text so far (what `text` would return, without joining it)."""
        return self.blocks[-1].end if self.blocks else 0

    def add(self, text: str, kind: str = "paragraph", page: int | None = None) -> None:
        text = text.strip()
        if not text:
            return
        if self.mask_personal_data:
            text = pii.mask(text)
        self.count_block()
        start = self.length + 2 if self.blocks else 0
        if self.blocks:
            self._parts.append("\n\n")
        self._parts.append(text)
        self.blocks.append(Block(text, kind, page, start, start + len(text)))

    def count_block(self, seen: int | None = None) -> None:
        """Raise OverBudgetError once the file holds more blocks than it may."""
        if (len(self.blocks) if seen is None else seen) >= self.max_blocks:
            raise OverBudgetError.said("file_too_many_blocks", limit=f"{self.max_blocks:,}")


def kind_of(path: Path) -> str | None:
    return KINDS.get(path.suffix.lower())


_ALLOCATION_FAILED = re.compile(r"\b(?:[mc]|re)alloc\b.*\bfailed|memory allocation failed|"
                                r"out of memory", re.IGNORECASE)


def check_size(size: int, limits: ReadLimits) -> None:
    """Raise the DocumentError for a file of `size` bytes that cannot be read for its size."""
    if size == 0:
        raise EmptyDocumentError.said("file_empty")
    if size > limits.max_bytes:
        raise FileTooLargeError.said("file_too_large", size_mib=f"{size / 2**20:.1f}",
                                     limit_mib=f"{limits.max_bytes / 2**20:.0f}")


Progress = Callable[[int, int], None]
"""Told (pages read with OCR so far, pages to read with OCR) before and after each."""


def parse(path: Path, limits: ReadLimits, data: bytes | None = None,
          progress: Progress | None = None) -> ParsedDocument:
    """Parse one file (or `data`, the bytes of a file of that name), or raise a
    DocumentError saying why it cannot be ingested. `progress` hears of the pages read
    with OCR."""
    kind = kind_of(path)
    if kind is None:
        raise UnsupportedFileError.said("file_unsupported_type",
                                        suffix=path.suffix or path.name)
    check_size(path.stat().st_size if data is None else len(data), limits)
    if data is None:
        data = path.read_bytes()
    doc = ParsedDocument(kind, limits.max_blocks, mask_personal_data=limits.mask_personal_data)
    try:
        if kind == "docx":
            _parse_docx(data, doc, limits)
        elif kind in ("pdf", "image"):
            from .pages import parse_pages

            parse_pages(data, doc, limits, path.suffix.lower().lstrip("."), progress)
        else:
            {"text": _parse_text, "markdown": _parse_markdown, "html": _parse_html}[kind](
                data, doc)
    except RecursionError as exc:
        raise CorruptDocumentError.said("file_nested_too_deeply") from exc
    except CorruptDocumentError as exc:
        if _ALLOCATION_FAILED.search(exc.reason):  # MuPDF and libxml2 say it in words
            raise MemoryError(exc.reason) from exc
        raise
    if not doc.length:
        code, values = _nothing_read(doc, limits)
        raise EmptyDocumentError.said(code, **values)
    return doc


def _nothing_read(doc: ParsedDocument, limits: ReadLimits) -> tuple[str, dict]:
    """Why a file gave no text: the code of the words (engine/texts.py), with its values."""
    if doc.kind not in ("pdf", "image"):
        return "file_no_text", {}
    if not limits.ocr:
        return "file_scanned_pdf_ocr_off" if doc.kind == "pdf" else "file_image_ocr_off", {}
    if doc.kind == "image" and doc.ocr_pages_tried:
        return "file_image_illegible", {}
    if doc.ocr_pages_tried > 1:
        return "file_scanned_pages_illegible", {"pages": doc.ocr_pages_tried}
    if doc.ocr_pages_tried:
        return "file_scanned_page_illegible", {}
    return "file_image_blank" if doc.kind == "image" else "file_pages_blank", {}


def _parse_docx(data: bytes, doc: ParsedDocument, limits: ReadLimits) -> None:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if data[:8] == OLE_SIGNATURE:
        raise EncryptedDocumentError.said("file_docx_encrypted")
    _check_zip(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # PackageNotFoundError, BadZipFile, KeyError, lxml errors
        raise CorruptDocumentError.said("file_docx_unreadable", detail=str(exc)) from exc
    for seen, item in enumerate(document.iter_inner_content()):
        doc.count_block(seen)  # four million empty paragraphs are read as many
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "") or ""
            heading = style.startswith("Heading") or style == "Title"
            doc.add(item.text, "heading" if heading else "paragraph")
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    if not cells or cells[-1] != cell.text:  # merged cells repeat
                        cells.append(cell.text.strip())
                rows.append(" | ".join(cells))
            doc.add("\n".join(rows), "table")


_WORD_PARAGRAPH = re.compile(rb"<w:p[ />]")


def _check_zip(data: bytes, limits: ReadLimits) -> None:
    """Refuse a Word file whose zip holds too many parts or unpacks to too much (from its
    directory, before anything is decompressed), or whose body holds too many paragraphs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CorruptDocumentError.said("file_docx_unreadable", detail=str(exc)) from exc
    if len(parts) > limits.max_parts:
        raise OverBudgetError.said("file_too_many_parts", parts=f"{len(parts):,}",
                                   limit=f"{limits.max_parts:,}")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.max_unpacked_bytes:
        raise OverBudgetError.said("file_unpacks_too_large", size_mib=f"{unpacked / 2**20:,.0f}",
                                   limit_mib=f"{limits.max_unpacked_bytes / 2**20:.0f}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            body = archive.read("word/document.xml")
    except KeyError:
        return  # python-docx says what is missing
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise CorruptDocumentError.said("file_docx_unreadable", detail=str(exc)) from exc
    paragraphs = len(_WORD_PARAGRAPH.findall(body))
    if paragraphs > limits.max_blocks:  # counted before the XML is parsed: that is the cost
        raise OverBudgetError.said("file_too_many_paragraphs", paragraphs=f"{paragraphs:,}",
                                   limit=f"{limits.max_blocks:,}")


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise CorruptDocumentError.said("file_binary_text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp1252", errors="replace")


def _parse_text(data: bytes, doc: ParsedDocument) -> None:
    for paragraph in re.split(r"\n\s*\n", _decode(data).replace("\r\n", "\n")):
        doc.add(paragraph)


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _parse_markdown(data: bytes, doc: ParsedDocument) -> None:
    """Headings start blocks; blank lines end paragraphs; a fenced code block stays whole."""
    paragraph: list[str] = []
    in_fence = False
    for line in _decode(data).replace("\r\n", "\n").split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else _MD_HEADING.match(line)
        if heading or (not in_fence and not line.strip()):
            doc.add("\n".join(paragraph))
            paragraph = []
            if heading:
                doc.add(heading.group(2), "heading")
        else:
            paragraph.append(line)
    doc.add("\n".join(paragraph))


_HTML_BLOCKS = {"p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption",
                "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article"}


def _parse_html(data: bytes, doc: ParsedDocument) -> None:
    """The text of the innermost block elements (those holding no other block)."""
    from bs4 import BeautifulSoup

    text = _decode(data)
    elements = text.count("<")
    if elements > 5 * doc.max_blocks:  # counted before parsing: parsing is the cost
        raise OverBudgetError.said("file_too_many_elements", limit=f"{5 * doc.max_blocks:,}")
    soup = BeautifulSoup(text, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "head", "nav"]):
        tag.decompose()
    blocks = soup.find_all(list(_HTML_BLOCKS))
    outer: set[int] = set()  # blocks that hold another block, found from the inner one
    for element in blocks:
        parent = element.parent
        while parent is not None and parent.name not in _HTML_BLOCKS:
            parent = parent.parent
        if parent is not None:
            outer.add(id(parent))
    for element in blocks:
        if id(element) in outer:
            continue
        doc.add(element.get_text(" ", strip=True),
                "heading" if element.name[0] == "h" and element.name[1:].isdigit()
                else "paragraph")
