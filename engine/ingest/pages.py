"""PDFs and image files: each page's text layer, and OCR for the pages that are pictures.

A PDF page with text is read as it always was (blocks, with headings told by their font
size); a page without text that is not blank, and every page of an image file (PNG,
JPEG, one or more pages of a TIFF), is read with OCR (`engine.ingest.ocr`) when
`ReadLimits.ocr` allows it, in its place, so that page numbers and reading order hold.
The lines OCR found are kept in `ParsedDocument.ocr_lines` with their boxes and their
offsets into the text (after masking), for the source viewer to highlight a passage on
the page's picture.
"""

from __future__ import annotations

from collections import Counter

from ..errors import CorruptDocumentError, EncryptedDocumentError, OverBudgetError
from .parsers import _ALLOCATION_FAILED, ParsedDocument, Progress, ReadLimits


def parse_pages(data: bytes, doc: ParsedDocument, limits: ReadLimits, suffix: str,
                 progress: Progress | None) -> None:
    """A PDF (its text layer, and OCR for the pages without one) or an image file (one
    page, or several in a TIFF; all read with OCR)."""
    import pymupdf

    what = "PDF" if doc.kind == "pdf" else "image"
    try:
        pdf = pymupdf.open(stream=data, filetype="pdf" if doc.kind == "pdf" else suffix)
        if doc.kind == "image":  # MuPDF opens anything as an image and decodes it when drawn
            pdf[0].get_pixmap(matrix=pymupdf.Matrix(0.05, 0.05))
        elif not pdf.is_pdf:  # an image named .pdf: MuPDF tells by its content
            raise ValueError("not a PDF")
    except Exception as exc:  # pymupdf raises FileDataError and plain RuntimeErrors
        raise CorruptDocumentError.said({"PDF": "file_pdf_unreadable",
                                         "image": "file_image_unreadable"}[what]) from exc
    with pdf:
        if pdf.needs_pass:
            raise EncryptedDocumentError.said("file_pdf_encrypted")
        doc.pages = pdf.page_count
        flags = pymupdf.TEXTFLAGS_DICT | pymupdf.TEXT_DEHYPHENATE
        flags &= ~pymupdf.TEXT_PRESERVE_IMAGES
        pages: list = []
        blocks_seen = 0
        for page in pdf:  # each page's blocks as (text, smallest font size), sizes' weights
            try:
                pages.append(_pdf_page_blocks(page.get_text("dict", flags=flags)["blocks"])
                             if doc.kind == "pdf" else ([], Counter()))
            except Exception as exc:
                raise CorruptDocumentError.said(
                    {"PDF": "file_pdf_damaged", "image": "file_image_damaged"}[what],
                    detail=str(exc)) from exc
            blocks_seen += len(pages[-1][0])
            doc.count_block(blocks_seen)
        if limits.ocr:
            from .ocr import is_blank

            pictures = [number for number, (blocks, _) in enumerate(pages, start=1)
                        if not blocks and not is_blank(pdf[number - 1])]
            if pictures:
                _read_pictures(pdf, pictures, pages, doc, limits, progress)
    weights: Counter = Counter()
    for blocks, page_weights in pages:
        weights.update(page_weights)
    body_size = weights.most_common(1)[0][0] if weights else 0.0
    for number, (blocks, _) in enumerate(pages, start=1):
        doc.page_offsets.append(doc.length + (2 if doc.length else 0))
        if isinstance(blocks, _Recognised):
            _add_recognised(doc, number, blocks)
            continue
        for text, smallest in blocks:
            is_heading = smallest is not None and smallest > body_size * 1.15 and len(text) < 200
            doc.add(text, "heading" if is_heading else "paragraph", number)


class _Recognised(list):
    """A page's paragraphs as OCR read them (engine.ingest.ocr.Paragraph)."""


def _read_pictures(pdf, numbers: list[int], pages: list, doc: ParsedDocument,
                   limits: ReadLimits, progress: Progress | None) -> None:
    """Read the pages `numbers` (1-based, those without text) with OCR, in place in `pages`."""
    from .ocr import PageRecogniser

    if len(numbers) > limits.max_ocr_pages:
        raise OverBudgetError.said("file_too_many_pictures", pages=f"{len(numbers):,}",
                                   limit=f"{limits.max_ocr_pages:,}")
    recogniser = PageRecogniser()
    for done, number in enumerate(numbers):
        if progress:
            progress(done, len(numbers))
        try:
            paragraphs = recogniser.read(pdf[number - 1])
        except MemoryError:
            raise
        except Exception as exc:  # a picture MuPDF cannot draw, or Tesseract out of memory
            if "bad_alloc" in str(exc) or _ALLOCATION_FAILED.search(str(exc)):
                raise MemoryError(str(exc)) from exc
            raise CorruptDocumentError.said("file_page_ocr_failed", page=number,
                                            detail=str(exc)) from exc
        pages[number - 1] = (_Recognised(paragraphs), Counter())
        doc.ocr_pages_tried += 1
    if progress:
        progress(len(numbers), len(numbers))


def _add_recognised(doc: ParsedDocument, number: int, paragraphs: list) -> None:
    """Add a page's OCR paragraphs to `doc`, with their lines' boxes and offsets. A line's
    offsets are its own where masking left the paragraph's lines as they were, else the
    whole paragraph's."""
    lines = doc.ocr_lines.setdefault(number, [])
    for paragraph in paragraphs:
        before = len(doc.blocks)
        doc.add(paragraph.text, paragraph.kind, number)
        if len(doc.blocks) == before:
            continue
        block = doc.blocks[-1]
        pieces = block.text.split("\n")
        start = block.start
        for i, line in enumerate(paragraph.lines):
            if len(pieces) == len(paragraph.lines):
                span = (start, start + len(pieces[i]))
                start += len(pieces[i]) + 1
            else:
                span = (block.start, block.end)
            lines.append((*line.box, *span))


def _pdf_page_blocks(blocks: list[dict]) -> tuple[list[tuple[str, float | None]], Counter]:
    """A page's text blocks with the smallest font size of their visible text, and how many
    characters each font size carries (the size that carries most is the body's). Only
    this is kept of a page, not pymupdf's dictionary of every span."""
    found, weights = [], Counter()
    for block in blocks:
        lines, sizes = [], []
        for line in block.get("lines", []):
            spans = line.get("spans", [])
            lines.append("".join(span["text"] for span in spans))
            for span in spans:
                weights[round(span["size"], 1)] += len(span["text"])
                if span["text"].strip():
                    sizes.append(span["size"])
        text = "\n".join(lines).strip()
        if text:
            found.append((text, min(sizes) if sizes else None))
    return found, weights
