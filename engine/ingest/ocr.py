"""Optical character recognition of pages that are pictures: scanned PDF pages and images.

The recogniser is Tesseract as built into PyMuPDF's MuPDF (`Page.get_textpage_ocr`), with
Tesseract's English and Simplified Chinese language data (Debian's tesseract-ocr-eng and
tesseract-ocr-chi-sim, which the bundle carries in its `tessdata` folder): nothing is
downloaded, and no program but PyMuPDF runs. bench/ocr_accuracy.py chose it over RapidOCR
and Tesseract's command line (README, Performance): the most accurate on English, as
accurate on clean Chinese, 6.6 MB of data against 207 MB for RapidOCR's stack.

A page is drawn at up to MAX_DPI, its longer side at most MAX_SIDE pixels; every page is
read in both languages (a site does not say which a scan is in). Reading order is
Tesseract's own (its layout analysis finds the blocks, columns apart, and reads them in
order); here each block's words are made into lines, with Chinese characters joined
without spaces. Boxes are in the page's coordinates (PDF points, those of
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
    raise DocumentError.said("file_ocr_data_missing")


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
    """Whether a page has nothing for OCR to read: a PDF page without pictures or drawings
    (told from its contents: 3,000 of them in 0.1 s), or one that draws as one colour."""
    import pymupdf

    if page.parent.is_pdf and not page.get_images() and not page.get_cdrawings():
        return True
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
        return paragraphs_of(words)


def paragraphs_of(words: list[tuple]) -> list[Paragraph]:
    """Words (PyMuPDF's tuples: x0, y0, x1, y1, text, block, line, word) as paragraphs:
    Tesseract's blocks, in the order its layout analysis reads them, each block's words
    made into lines (`lines_of`). A block of one line much taller than the page's usual
    line is a heading."""
    blocks: dict[int, list[tuple]] = {}
    for word in words:
        blocks.setdefault(word[5], []).append(word)
    paragraphs = [lines_of(block) for block in blocks.values()]
    usual = statistics.median(line.height for lines in paragraphs for line in lines) if words else 0
    return [Paragraph(lines, "heading" if len(lines) == 1 and lines[0].height > _HEADING_HEIGHT
                      * usual else "paragraph") for lines in paragraphs]


def lines_of(words: list[tuple]) -> list[Line]:
    """One block's words, in Tesseract's order, put into lines: its lines, with a line
    that goes on the one before it (to its right, sharing most of its height: Tesseract
    may cut one printed line into pieces) joined to it."""
    pieces: dict[int, list[tuple]] = {}
    for word in words:
        pieces.setdefault(word[6], []).append(word)
    lines: list[list[tuple]] = []
    for piece in pieces.values():
        if lines and _goes_on(lines[-1][-1], piece[0]):
            lines[-1].extend(piece)
        else:
            lines.append(piece)
    return [_line(line) for line in lines]


def _goes_on(last: tuple, first: tuple) -> bool:
    """Whether the word `first` continues the printed line that ends with `last`."""
    shared = min(last[3], first[3]) - max(last[1], first[1])
    return first[0] >= last[0] and shared > 0.5 * min(last[3] - last[1], first[3] - first[1])


def _line(words: list[tuple]) -> Line:
    text = _SPACE_IN_CJK.sub("", " ".join(w[4].strip() for w in words))
    return Line(text, (round(min(w[0] for w in words), 1), round(min(w[1] for w in words), 1),
                       round(max(w[2] for w in words), 1), round(max(w[3] for w in words), 1)))
