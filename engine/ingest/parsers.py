"""Turn a file into text blocks with structure: headings, paragraphs, tables and pages.

Each parser returns a `ParsedDocument` whose `text` is the whole extracted text and whose
blocks carry their character offsets into it (and their page, for PDFs), so that a chunk
built from blocks can later be highlighted in the source. Bad files raise a
`DocumentError` subclass with a short reason; nothing here writes anything.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    FileTooLargeError,
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
}
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted Office files and legacy .doc


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
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None
    page_offsets: list[int] = field(default_factory=list)
    text: str = ""

    def add(self, text: str, kind: str = "paragraph", page: int | None = None) -> None:
        text = text.strip()
        if not text:
            return
        if self.text:
            self.text += "\n\n"
        start = len(self.text)
        self.text += text
        self.blocks.append(Block(text, kind, page, start, len(self.text)))


def kind_of(path: Path) -> str | None:
    return KINDS.get(path.suffix.lower())


def parse(path: Path, max_bytes: int) -> ParsedDocument:
    """Parse one file, or raise a DocumentError saying why it cannot be ingested."""
    kind = kind_of(path)
    if kind is None:
        raise UnsupportedFileError(f"unsupported file type '{path.suffix or path.name}'")
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocumentError("empty file")
    if size > max_bytes:
        raise FileTooLargeError(
            f"file is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit"
        )
    parsed = {"pdf": _parse_pdf, "docx": _parse_docx, "text": _parse_text,
              "markdown": _parse_markdown, "html": _parse_html}[kind](path)
    if not parsed.text.strip():
        raise EmptyDocumentError(
            "no text could be extracted (a scanned PDF needs OCR, which Enclave does not do)"
            if kind == "pdf" else "no text in the file"
        )
    return parsed


def _parse_pdf(path: Path) -> ParsedDocument:
    import pymupdf

    try:
        pdf = pymupdf.open(path)
    except Exception as exc:  # pymupdf raises FileDataError and plain RuntimeErrors
        raise CorruptDocumentError("not a readable PDF (damaged, or not a PDF)") from exc
    with pdf:
        if pdf.needs_pass:
            raise EncryptedDocumentError("the PDF is password-protected")
        doc = ParsedDocument("pdf", pages=pdf.page_count)
        flags = pymupdf.TEXTFLAGS_DICT | pymupdf.TEXT_DEHYPHENATE
        flags &= ~pymupdf.TEXT_PRESERVE_IMAGES
        try:
            pages = [page.get_text("dict", flags=flags)["blocks"] for page in pdf]
        except Exception as exc:
            raise CorruptDocumentError(f"damaged PDF ({exc})") from exc
    body_size = _body_font_size(pages)
    for number, blocks in enumerate(pages, start=1):
        doc.page_offsets.append(len(doc.text) + (2 if doc.text else 0))
        for block in blocks:
            lines, sizes = [], []
            for line in block.get("lines", []):
                spans = line.get("spans", [])
                lines.append("".join(span["text"] for span in spans))
                sizes.extend(span["size"] for span in spans if span["text"].strip())
            text = "\n".join(lines).strip()
            if not text:
                continue
            is_heading = bool(sizes) and min(sizes) > body_size * 1.15 and len(text) < 200
            doc.add(text, "heading" if is_heading else "paragraph", number)
    return doc


def _body_font_size(pages: list[list[dict]]) -> float:
    """The font size that carries the most characters: everything larger is a heading."""
    weights: Counter = Counter()
    for blocks in pages:
        for block in blocks:
            for line in block.get("lines", []):
                for span in line.get("spans", []):
                    weights[round(span["size"], 1)] += len(span["text"])
    return weights.most_common(1)[0][0] if weights else 0.0


def _parse_docx(path: Path) -> ParsedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if path.open("rb").read(8) == OLE_SIGNATURE:
        raise EncryptedDocumentError("the document is password-protected (or a legacy .doc)")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # PackageNotFoundError, BadZipFile, KeyError, lxml errors
        raise CorruptDocumentError(f"not a readable Word document ({exc})") from exc
    doc = ParsedDocument("docx")
    for item in document.iter_inner_content():
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
    return doc


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise CorruptDocumentError("binary data in a text file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp1252", errors="replace")


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]


def _parse_text(path: Path) -> ParsedDocument:
    doc = ParsedDocument("text")
    for paragraph in _paragraphs(_read_text(path)):
        doc.add(paragraph)
    return doc


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _parse_markdown(path: Path) -> ParsedDocument:
    """Headings start blocks; blank lines end paragraphs; a fenced code block stays whole."""
    doc = ParsedDocument("markdown")
    paragraph: list[str] = []
    in_fence = False
    for line in _read_text(path).replace("\r\n", "\n").split("\n"):
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
    return doc


_HTML_BLOCKS = {"p", "li", "pre", "blockquote", "td", "th", "dt", "dd", "figcaption",
                "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article"}


def _parse_html(path: Path) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "lxml")
    for tag in soup(["script", "style", "noscript", "template", "head", "nav"]):
        tag.decompose()
    doc = ParsedDocument("html")
    for element in soup.find_all(list(_HTML_BLOCKS)):
        if element.find(list(_HTML_BLOCKS)):  # only the innermost blocks carry text
            continue
        text = element.get_text(" ", strip=True)
        doc.add(text, "heading" if element.name[0] == "h" and element.name[1:].isdigit()
                else "paragraph")
    return doc
