"""Optical character recognition of pages that are pictures: scanned PDF pages and images.

The recogniser is Tesseract as built into PyMuPDF's MuPDF (`Page.get_textpage_ocr`), with
Tesseract's English and Simplified Chinese language data (Debian's tesseract-ocr-eng and
tesseract-ocr-chi-sim, which the bundle carries in its `tessdata` folder): nothing is
downloaded, and no program but PyMuPDF runs. bench/ocr_accuracy.py chose it over RapidOCR
and Tesseract's command line (README, Performance): the most accurate on English, as
accurate on clean Chinese, 6.6 MB of data against 207 MB for RapidOCR's stack.

A page is drawn at up to MAX_DPI, its longer side at most MAX_SIDE pixels; every page is
read in both languages (a site does not say which a scan is in). The words Tesseract
finds are put into lines here (words side by side, split where a wide gap runs between
them, so that columns stay apart), with Chinese characters joined without spaces; the
lines are put in reading order: a line joins the paragraph whose last line sits just
above it and overlaps it sideways, and the paragraphs are ordered by cutting the page
along the white space between them (columns left to right, each top to bottom; a
table's rows top to bottom). A paragraph of one line much taller than the page's usual
line is a heading. Boxes are in the page's coordinates (PDF points, those of
`Page.get_text("words")`), so that a passage found in the text can be highlighted on the
page's picture.
"""

from __future__ import annotations

import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import DocumentError

LANGUAGES = "eng+chi_sim"
MAX_SIDE = 2500
MAX_DPI = 300
_BLANK_CHECK_ZOOM = 0.25
_HEADING_HEIGHT = 1.3  # a heading's line height, in the page's usual line heights
_COLUMN_GAP = 1.5  # a gap this many line heights wide between words parts a line
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_SPACE_IN_CJK = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")
TESSDATA_FOLDERS = (Path("/usr/share/tesseract-ocr/5/tessdata"),
                    Path("/usr/share/tesseract-ocr/4.00/tessdata"), Path("/usr/share/tessdata"))
"""Where Tesseract's language data is looked for, after the bundle's own `tessdata`."""


def tessdata() -> Path:
    """The folder with Tesseract's eng and chi_sim data: the bundle's, else the system's;
    DocumentError if there is none (OCR cannot run)."""
    bundled = [Path(sys._MEIPASS) / "tessdata"] if hasattr(sys, "_MEIPASS") else []
    for folder in (*bundled, *TESSDATA_FOLDERS):
        if all((folder / f"{language}.traineddata").is_file()
               for language in LANGUAGES.split("+")):
            return folder
    raise DocumentError("OCR cannot run: its language data (Tesseract's eng and chi_sim) is "
                        "missing from this installation")


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
    """Reads the text of page pictures with Tesseract's data in `tessdata()`."""

    def __init__(self) -> None:
        self.tessdata = tessdata()

    def read(self, page) -> list[Paragraph]:
        """The paragraphs of a PyMuPDF page, in reading order; [] if nothing legible was
        found on it."""
        rect = page.rect
        dpi = min(MAX_DPI, int(72 * MAX_SIDE / max(rect.width, rect.height, 1)))
        textpage = page.get_textpage_ocr(language=LANGUAGES, dpi=dpi, full=True,
                                         tessdata=str(self.tessdata))
        words = [w for w in page.get_text("words", textpage=textpage) if w[4].strip()]
        return reading_order(lines_of(words))


def lines_of(words: list[tuple]) -> list[Line]:
    """Words (PyMuPDF's tuples: x0, y0, x1, y1, text, ...) put into lines: a word joins the
    row whose middle band it shares, rows read left to right and split at wide gaps."""
    rows: list[list[tuple]] = []
    for word in sorted(words, key=lambda w: ((w[1] + w[3]) / 2, w[0])):
        middle = (word[1] + word[3]) / 2
        row = next((r for r in rows if r[0][1] <= middle <= r[0][3]), None)
        if row is None:
            rows.append([word])
        else:
            row.append(word)
    lines = []
    for row in rows:
        row.sort(key=lambda w: w[0])
        height = statistics.median(w[3] - w[1] for w in row)
        piece = [row[0]]
        for word in row[1:]:
            if word[0] - piece[-1][2] > _COLUMN_GAP * height:
                lines.append(_line(piece))
                piece = []
            piece.append(word)
        lines.append(_line(piece))
    return lines


def _line(words: list[tuple]) -> Line:
    text = _SPACE_IN_CJK.sub("", " ".join(w[4].strip() for w in words))
    return Line(text, (round(min(w[0] for w in words), 1), round(min(w[1] for w in words), 1),
                       round(max(w[2] for w in words), 1), round(max(w[3] for w in words), 1)))


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
