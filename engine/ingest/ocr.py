"""Optical character recognition of pages that are pictures: scanned PDF pages and images.

The recogniser is RapidOCR: the PP-OCRv4 detection and recognition models (Chinese and
English in one model) and the PP-OCR direction classifier, shipped inside the
`rapidocr-onnxruntime` wheel and run by ONNX Runtime, so nothing is downloaded.
bench/ocr_accuracy.py chose it over Tesseract (README, Performance).

A page is drawn by PyMuPDF in grey with its longer side at most MAX_SIDE pixels (what
RapidOCR reads without shrinking it), at most at MAX_DPI. The recogniser finds text lines
with their boxes; the lines are put in reading order here: a line joins the paragraph
whose last line sits just above it and overlaps it sideways (so columns stay apart), and
the paragraphs are ordered by cutting the page along the white space between them
(columns left to right, each top to bottom; a table's rows top to bottom). A paragraph of one line
much taller than the page's usual line is a heading. Boxes are kept in the page's
coordinates (PDF points, those of `Page.get_text("words")`), so that a passage found in
the text can be highlighted on the page image.

Runs in the reader process (`engine.ingest.reader`), which loads the models on the first
page it recognises.
"""

from __future__ import annotations

import statistics
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, ContextManager

MAX_SIDE = 2000
MAX_DPI = 300
_BLANK_CHECK_ZOOM = 0.25
_HEADING_HEIGHT = 1.3  # a heading's line height, in the page's usual line heights


@dataclass(frozen=True)
class Line:
    """One recognised line: its text and its box on the page, (x0, y0, x1, y1) in points."""

    text: str
    box: tuple[float, float, float, float]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Paragraph:
    lines: list[Line]
    kind: str  # "heading" | "paragraph"

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def is_blank(page) -> bool:
    """Whether a page draws as one colour (nothing for OCR to read), from a small drawing."""
    import pymupdf

    zoom = pymupdf.Matrix(_BLANK_CHECK_ZOOM, _BLANK_CHECK_ZOOM)
    return page.get_pixmap(matrix=zoom, colorspace=pymupdf.csGRAY).is_unicolor


class PageRecogniser:
    """Reads the text of page pictures; the models load on the first page, inside
    `loading()` (the reader process lifts its memory cap while they load)."""

    def __init__(self, loading: Callable[[], ContextManager] = nullcontext) -> None:
        self._engine = None
        self._loading = loading

    def read(self, page) -> list[Paragraph]:
        """The paragraphs of a PyMuPDF page (drawn first), in reading order; [] if
        nothing legible was found on it."""
        import pymupdf

        rect = page.rect
        zoom = min(MAX_DPI / 72, MAX_SIDE / max(rect.width, rect.height, 1))
        picture = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY,
                                  alpha=False)
        lines = []
        to_page = pymupdf.Matrix(1 / zoom, 1 / zoom) * pymupdf.Matrix(1, 0, 0, 1, rect.x0, rect.y0)
        to_page = to_page * page.derotation_matrix  # the unrotated page, as get_text uses
        for corners, text in self._recognise(picture):
            text = text.strip()
            if not text:
                continue
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            box = pymupdf.Rect(min(xs), min(ys), max(xs), max(ys)) * to_page
            lines.append(Line(text, (round(box.x0, 1), round(box.y0, 1), round(box.x1, 1),
                                     round(box.y1, 1))))
        return reading_order(lines)

    def _recognise(self, picture) -> list[tuple[list[list[float]], str]]:
        import numpy as np

        if self._engine is None:
            with self._loading():
                from rapidocr_onnxruntime import RapidOCR

                self._engine = RapidOCR()
        pixels = np.frombuffer(picture.samples, dtype=np.uint8).reshape(
            picture.height, picture.width, picture.n)
        # without the direction classifier: it turned whole lines of upright text upside
        # down (English accuracy 0.73 with it, 0.98 without, bench/ocr_accuracy.py)
        found, _ = self._engine(pixels[:, :, 0] if picture.n == 1 else pixels, use_cls=False)
        return [(corners, text) for corners, text, _score in found or []]


def reading_order(lines: list[Line]) -> list[Paragraph]:
    """Lines grouped into paragraphs, in reading order (see the module's docstring)."""
    paragraphs: list[list[Line]] = []
    for line in sorted(lines, key=lambda l: (l.box[1], l.box[0])):
        home = next((p for p in paragraphs if _continues(p[-1], line)), None)
        if home is None:
            paragraphs.append([line])
        else:
            home.append(line)
    usual = statistics.median(line.height for line in lines) if lines else 0.0
    return [Paragraph(p, "heading" if len(p) == 1 and p[0].height > _HEADING_HEIGHT * usual
                      else "paragraph")
            for p in _cut(paragraphs)]


def _continues(last: Line, line: Line) -> bool:
    """Whether `line` goes on the paragraph that ends with `last`: just below it, of about
    its height, and overlapping it sideways."""
    gap = line.box[1] - last.box[3]
    overlap = min(last.box[2], line.box[2]) - max(last.box[0], line.box[0])
    taller, shorter = max(last.height, line.height), min(last.height, line.height)
    return (-0.5 * shorter <= gap <= 0.8 * taller and overlap > 0
            and shorter >= 0.7 * taller)


def _bounds(paragraph: list[Line]) -> tuple[float, float, float, float]:
    return (min(l.box[0] for l in paragraph), min(l.box[1] for l in paragraph),
            max(l.box[2] for l in paragraph), max(l.box[3] for l in paragraph))


def _cut(paragraphs: list[list[Line]]) -> list[list[Line]]:
    """Recursive XY-cut: split the paragraphs where a band of white space runs down the
    page (columns, left to right) or across it (top to bottom), and order each part the
    same way; what no band divides is ordered by its top. Where both cuts are possible,
    prose (paragraphs of several lines) is cut into columns first, and a table or form
    (one line per cell) into rows, so that a row reads together."""
    if len(paragraphs) <= 1:
        return paragraphs
    down, across = _parts(paragraphs, 0), _parts(paragraphs, 1)
    prose = sum(len(p) for p in paragraphs) >= 2 * len(paragraphs)
    parts = down if len(down) > 1 and (prose or len(across) == 1) else across
    if len(parts) == 1:
        return sorted(paragraphs, key=lambda p: (_bounds(p)[1], _bounds(p)[0]))
    return [p for part in parts for p in _cut(part)]


def _parts(paragraphs: list[list[Line]], axis: int) -> list[list[list[Line]]]:
    """The paragraphs split where nothing spans along `axis` (0: x, 1: y), in order."""
    spans = sorted(paragraphs, key=lambda p: _bounds(p)[axis])
    parts, reach = [[spans[0]]], _bounds(spans[0])[axis + 2]
    for paragraph in spans[1:]:
        bounds = _bounds(paragraph)
        if bounds[axis] >= reach:
            parts.append([paragraph])
        else:
            parts[-1].append(paragraph)
        reach = max(reach, bounds[axis + 2])
    return parts
