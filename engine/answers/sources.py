"""Opening a cited source: the passage in the document's text, and PDF pages as images.

A citation names a document and the character offsets of its passage in the text the
vault keeps. `passage` returns that text with the offsets (enough to show any kind of
document with the passage highlighted); `render_page` draws a page of the original PDF
(or image file) with the passage's words highlighted, found by aligning the passage's
words with the page's words (the page text is extracted the same way as at ingest, so
they line up). A page that was read with OCR has no words of its own: its words are those
of the lines OCR found, placed along each line's box (`recognised_words`).
`whole_sentences` widens retrieved chunks to the sentences they cut.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import NotFoundError, UserError
from ..records import SearchHit
from ..store.vault import Vault

_WORD = re.compile(r"\w+", re.UNICODE)
_MIN_RUN = 4  # words that must match in a row to count as the passage ("must be" does not)
DRAWABLE_KINDS = ("pdf", "image")


@dataclass(frozen=True)
class Passage:
    document_id: int
    name: str
    path: str
    kind: str
    pages: int | None
    page: int | None
    """1-based page where the passage starts (None for formats without pages)."""
    text: str
    """The whole text of the document as ingested."""
    start: int
    end: int

    @property
    def file_available(self) -> bool:
        return Path(self.path).is_file()

    @property
    def drawable(self) -> bool:
        """Whether its pages can be drawn (`render_page`): a PDF or an image file."""
        return self.kind in DRAWABLE_KINDS


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    page: int
    pages: int
    highlights: int
    """How many line boxes of the page were highlighted."""


def passage(vault: Vault, document_id: int, start: int, end: int) -> Passage:
    rows = vault.rows("SELECT name, path, kind, pages, page_offsets, text FROM documents "
                      "WHERE id = ?", (document_id,))
    if not rows:
        raise NotFoundError.said("document_gone")
    name, path, kind, pages, offsets_text, text = rows[0]
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    page = None
    if pages:
        offsets = [int(o) for o in offsets_text.split(",") if o]
        page = 1 + sum(1 for o in offsets[1:] if o <= start)
    return Passage(document_id, name, path, kind, pages, page, text, start, end)


def render_page(path: str, page: int, highlight: str = "", zoom: float = 1.5,
                recognised: list[tuple] | None = None) -> RenderedPage:
    """PNG of one page (1-based) of a PDF or an image file, with the words of `highlight`
    marked; `recognised`: the page's words as OCR read them (`recognised_words`), for a
    page without text of its own."""
    import pymupdf

    if not 0.2 <= zoom <= 6:
        raise UserError("The zoom must be between 20% and 600%.")
    try:
        doc = pymupdf.open(path)
        if not doc.is_pdf:  # an image: highlights are PDF annotations
            doc = pymupdf.open("pdf", doc.convert_to_pdf())
    except (pymupdf.FileNotFoundError, RuntimeError) as exc:
        raise NotFoundError(f"The file {path} cannot be opened: {exc}") from exc
    with doc:
        if not 1 <= page <= doc.page_count:
            raise NotFoundError(f"{Path(path).name} has no page {page}.")
        pdf_page = doc[page - 1]
        boxes = passage_boxes(pdf_page, highlight, recognised) if highlight else []
        if boxes:
            annot = pdf_page.add_highlight_annot(boxes)
            annot.set_colors(stroke=(1.0, 0.85, 0.2))
            annot.update()
        pixmap = pdf_page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), annots=True)
        return RenderedPage(pixmap.tobytes("png"), page, doc.page_count, len(boxes))


def passage_boxes(pdf_page, passage_text: str, recognised: list[tuple] | None = None) -> list:
    """Rectangles, one per line, of the page words that belong to the passage (the page's
    own words, or `recognised`, in the same shape)."""
    import pymupdf

    # (x0, y0, x1, y1, word, block, line, word_no); words split on white space both sides
    words = [w for w in (pdf_page.get_text("words") if recognised is None else recognised)
             if _norm(w[4])]
    page_tokens = [_norm(w[4]) for w in words]
    wanted = [t for t in map(_norm, passage_text.split()) if t]
    matcher = difflib.SequenceMatcher(None, page_tokens, wanted, autojunk=False)
    lines: dict[tuple[int, int], pymupdf.Rect] = {}
    for block in matcher.get_matching_blocks():
        if block.size < min(_MIN_RUN, len(wanted)):
            continue
        for w in words[block.a : block.a + block.size]:
            key = (w[5], w[6])
            rect = pymupdf.Rect(w[:4])
            lines[key] = lines[key] | rect if key in lines else rect
    return list(lines.values())


def recognised_words(vault: Vault, document_id: int, page: int) -> list[tuple] | None:
    """The words OCR read on a page, in the shape of PyMuPDF's `get_text("words")`: each
    line's words placed along its box by their place in the line's text. None if the page
    was not read with OCR."""
    rows = vault.rows("SELECT ocr_lines FROM documents WHERE id = ?", (document_id,))
    lines = json.loads(rows[0][0]).get(str(page)) if rows and rows[0][0] else None
    if not lines:
        return None
    low, high = min(line[4] for line in lines), max(line[5] for line in lines)
    text = vault.scalar("SELECT substr(text, ?, ?) FROM documents WHERE id = ?",
                        (low + 1, high - low, document_id)) or ""
    words = []
    for number, (x0, y0, x1, y1, start, end) in enumerate(lines):
        line = text[start - low:end - low]
        for found in re.finditer(r"\S+", line):
            left = x0 + (x1 - x0) * found.start() / len(line)
            right = x0 + (x1 - x0) * found.end() / len(line)
            words.append((left, y0, right, y1, found.group(), number, 0, len(words)))
    return words


def _norm(word: str) -> str:
    return "".join(_WORD.findall(word)).lower()


_SENTENCE_START = re.compile(r"(?:[.!?。！？]\s+|\n\s*\n)(?=\S)")
_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)")
REACH = 300
"""How far before and after a chunk `whole_sentences` looks for its sentences' ends."""


def whole_sentences(vault: Vault, hits: list[SearchHit]) -> list[SearchHit]:
    """The hits widened to whole sentences: a chunk cut mid-sentence gets the rest of its
    first and last sentence from the document's text (within REACH characters), so that
    neither the model nor a quotation reads half a sentence. Offsets follow the text."""
    out = []
    for hit in hits:
        window_start = max(0, hit.char_start - REACH)
        rows = vault.rows(
            "SELECT substr(text, ?, ?), substr(text, ?, ?), substr(text, ?, ?) FROM documents "
            "WHERE id = ?", (window_start + 1, hit.char_start - window_start,
                             hit.char_start + 1, hit.char_end - hit.char_start,
                             hit.char_end + 1, REACH, hit.document_id))
        if not rows or rows[0][1] != hit.text:  # changed since the search: keep the hit
            out.append(hit)
            continue
        before, text, after = rows[0]
        starts = list(_SENTENCE_START.finditer(before))
        head = before[starts[-1].end():] if starts and not _starts_sentence(text) else ""
        # a chunk that stops mid-sentence ("the command is") reads on to the sentence's
        # end, across the lines of code or the list that complete it
        end = _SENTENCE_END.search(after) if not _SENTENCE_END.search(text[-2:] or ".") else None
        tail = after[: end.end()] if end else ""
        out.append(replace(hit, text=head + text + tail, char_start=hit.char_start - len(head),
                           char_end=hit.char_end + len(tail)))
    return out


def _starts_sentence(text: str) -> bool:
    first = text.lstrip()[:1]
    return not first or not first.islower()
