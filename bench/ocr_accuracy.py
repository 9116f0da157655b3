"""OCR of scanned pages: character accuracy and speed, English and Chinese.

Pages are made here, so their text is known: English prose (dbpedia-5k entries) and
Chinese prose (the lines of the production guide in ../shared/guide) are set in PyMuPDF's
own fonts (Helvetica, and its bundled CJK font "china-s") on A4 pages at 11 pt, and each
page is drawn in grey at SCAN_DPI into a PDF that holds only the picture: a scan without
a text layer. "Worn" pages are also turned by 0.6 degrees, grainy and saved as JPEG at
quality 70, as a tired office scanner gives them. The known text of a page is what
PyMuPDF reads from it before it is drawn.

Reported per kind of page: character accuracy, 1 - CER (edit distance between what was
recognised and the known text, divided by the known text's length; runs of white space
count as one space in English and not at all in Chinese), and pages per second.

- **candidates**, each on the same scans: Tesseract inside PyMuPDF (`get_textpage_ocr`,
  what Enclave uses, with Debian's tesseract-ocr-eng and -chi-sim data), Tesseract's
  command line (Debian's `tesseract-ocr`) and RapidOCR (`rapidocr-onnxruntime`: PP-OCRv4
  models in its wheel, on ONNX Runtime; not a dependency of Enclave: to measure it,
  `.venv/bin/pip install --no-deps rapidocr-onnxruntime==1.4.4
  opencv-python-headless==5.0.0.93 pyclipper==1.4.0 shapely==2.2.0 six==1.17.0
  pillow==13.0.0`). All read each page as English and Chinese at once (`eng+chi_sim`; a
  site does not say which language a scan is in). A candidate not installed is reported
  as such.
- **engine**: the scans ingested through the service as a user does (OCR on, the
  default), the text the library keeps compared with the known text; pages/s counts the
  reading stage (the reader process: drawing the pages, OCR, lines and reading order),
  not the embedding.

Writes bench/results/ocr_accuracy.json (with --only, ocr_accuracy_<part>.json).

    .venv/bin/python bench/ocr_accuracy.py [--pages N] [--only candidates|engine]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import open_service, write_results  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
DBPEDIA = SHARED / "datasets" / "dbpedia-5k" / "corpus.jsonl"
GUIDE = SHARED / "guide" / "000_50fa028c498f2963.txt"
TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")
SCAN_DPI = 200
FONT_SIZE = 11
FONTS = {"en": "helv", "zh": "china-s"}
_CJK = re.compile(r"[\u3400-\u9fff]")


def english_paragraphs() -> list[str]:
    entries = [json.loads(line)["text"] for line in DBPEDIA.read_text().splitlines()[:400]]
    return [text for text in entries if "http" not in text]  # some hold RDF triples


def chinese_paragraphs() -> list[str]:
    """The guide's lines that are mostly Chinese (table cells one by one), markdown marks
    and emoji taken off. They fill about a page and a half, so the pages cycle through them
    (OCR has no memory: a line read twice is two trials)."""
    out: list[str] = []
    for line in GUIDE.read_text().splitlines()[4:]:  # after the front matter
        for cell in line.split("|"):
            text = re.sub(r"[*#>`_\[\]\"'{},]+|\(http.*?\)|^\s*[-:]+|[:=]+\s*$", " ", cell)
            text = re.sub(r"[^\u0000-\uffff]|[\u2600-\u27bf\ufe0f]", "", text)  # emoji
            text = re.sub(r"\s+", " ", text).strip()
            cjk = len(_CJK.findall(text))
            if len(text) >= 4 and cjk >= 0.3 * len(text.replace(" ", "")) and text not in out:
                out.append(text)
    return out


def make_pages(language: str, count: int, degraded: bool = False) -> list[tuple[bytes, str]]:
    """`count` one-page scanned PDFs (no text layer) with their known text: the text set
    in a text box, then the page drawn in grey at SCAN_DPI and put alone in a new PDF."""
    import pymupdf

    paragraphs = english_paragraphs() if language == "en" else chinese_paragraphs()
    box = pymupdf.Rect(60, 60, 535, 782)

    def fits(text: str) -> bool:
        with pymupdf.open() as trial:
            return trial.new_page(width=595, height=842).insert_textbox(
                box, text, fontsize=FONT_SIZE, fontname=FONTS[language]) >= 0

    pages, at = [], 0
    for _ in range(count):
        body = [paragraphs[at % len(paragraphs)]]
        while fits("\n".join(body + [paragraphs[(at + 1) % len(paragraphs)]])):
            at += 1
            body.append(paragraphs[at % len(paragraphs)])
        at += 1
        with pymupdf.open() as source, pymupdf.open() as scan:
            page = source.new_page(width=595, height=842)
            page.insert_textbox(box, "\n".join(body), fontsize=FONT_SIZE,
                                fontname=FONTS[language])
            known = page.get_text()
            scan.new_page(width=595, height=842).insert_image(
                page.rect, stream=scanned(page, degraded, len(pages)))
            pages.append((scan.tobytes(garbage=3, deflate=True), known))
    return pages


def scanned(page, degraded: bool, seed: int) -> bytes:
    """The page drawn in grey at SCAN_DPI, as PNG; `degraded`: as a worn office scanner
    gives it, turned by 0.6 degrees, with grain (Gaussian noise, sigma 14 grey levels) and
    as JPEG at quality 70."""
    import pymupdf

    zoom = SCAN_DPI / 72
    matrix = pymupdf.Matrix(zoom, zoom).prerotate(0.6 if degraded else 0)
    picture = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csGRAY)
    if not degraded:
        return picture.tobytes("png")
    pixels = np.frombuffer(picture.samples, np.uint8).astype(np.float32)
    pixels += np.random.default_rng(seed).normal(0, 14, pixels.shape)
    grainy = pymupdf.Pixmap(pymupdf.csGRAY, picture.width, picture.height,
                            np.clip(pixels, 0, 255).astype(np.uint8).tobytes(), 0)
    return grainy.tobytes("jpg", jpg_quality=70)


def normalise(text: str, language: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace(" ", "") if language.startswith("zh") else text


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row at a time with numpy (pages hold thousands of
    characters)."""
    if not a or not b:
        return len(a) or len(b)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, char in enumerate(a, start=1):
        substitute = row[:-1] + (codes_b != ord(char))
        delete = row[1:] + 1
        candidate = np.concatenate(([i], np.minimum(substitute, delete)))
        row = np.minimum.accumulate(candidate - steps) + steps  # insertions, left to right
    return int(row[-1])


def accuracy(recognised: str, known: str, language: str) -> float:
    recognised, known = normalise(recognised, language), normalise(known, language)
    return 1 - edit_distance(recognised, known) / max(1, len(known))


def rapidocr_engine():
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def recognise(image: bytes, pdf: bytes) -> str:
        result, _ = engine(image, use_cls=False)  # its direction classifier garbles lines
        return "\n".join(line[1] for line in result or [])
    return recognise


def tesseract_cli():
    if shutil.which("tesseract") is None:
        return None

    def recognise(image: bytes, pdf: bytes) -> str:
        return subprocess.run(["tesseract", "-", "-", "-l", "eng+chi_sim", "--dpi",
                               str(SCAN_DPI)], input=image, capture_output=True,
                              check=True).stdout.decode()
    return recognise


def tesseract_in_pymupdf():
    """MuPDF's own Tesseract (in the PyMuPDF wheel) on the scan's page, drawn at SCAN_DPI."""
    import pymupdf

    if not (TESSDATA / "chi_sim.traineddata").is_file():
        return None

    def recognise(image: bytes, pdf: bytes) -> str:
        with pymupdf.open(stream=pdf, filetype="pdf") as scan:
            page = scan[0]
            textpage = page.get_textpage_ocr(language="eng+chi_sim", dpi=SCAN_DPI,
                                             full=True, tessdata=str(TESSDATA))
            return page.get_text(textpage=textpage)
    return recognise


CANDIDATES = {"tesseract-in-pymupdf": tesseract_in_pymupdf, "tesseract": tesseract_cli,
              "rapidocr": rapidocr_engine}


def page_image(pdf: bytes) -> bytes:
    """The scan's picture, as the scanner handed it over (PNG or JPEG)."""
    import pymupdf

    with pymupdf.open(stream=pdf, filetype="pdf") as scan:
        return scan.extract_image(scan[0].get_images()[0][0])["image"]


def measure_candidates(pages: dict[str, list[tuple[bytes, str]]]) -> dict:
    results = {}
    for name, make in CANDIDATES.items():
        try:
            recognise = make()
        except ImportError:
            recognise = None
        if recognise is None:
            results[name] = "not installed"
            continue
        first = pages["en"][0][0]
        recognise(page_image(first), first)  # models loaded outside the timing
        results[name] = {}
        for language, found in pages.items():
            images = [page_image(pdf) for pdf, _ in found]
            started = time.perf_counter()
            texts = [recognise(image, pdf) for image, (pdf, _) in zip(images, found)]
            seconds = time.perf_counter() - started
            scores = [accuracy(text, known, language) for text, (_, known) in zip(texts, found)]
            results[name][language] = {
                "pages": len(found), "accuracy": round(float(np.mean(scores)), 4),
                "accuracy_per_page": [round(s, 4) for s in scores],
                "pages_per_s": round(len(found) / seconds, 3)}
            print(name, language, results[name][language], flush=True)
    return results


def measure_engine(pages: dict[str, list[tuple[bytes, str]]], work: Path) -> dict:
    """The scans ingested through the service; accuracy of the text the library keeps."""
    results = {}
    for language, found in pages.items():
        folder = work / language
        folder.mkdir(parents=True)
        for n, (pdf, _) in enumerate(found):
            (folder / f"scan-{n:02d}.pdf").write_bytes(pdf)
        service = open_service(work / f"library-{language}")
        try:
            report = service.library.ingest([folder])
            if report.failed:
                raise SystemExit(f"ingest failed: {report.failed}")
            documents = {Path(d.path).name: d for d in service.library.documents()}
            scores = []
            for n, (_, known) in enumerate(found):
                document = documents[f"scan-{n:02d}.pdf"]
                text = service.answers.passage(document.id, 0, 0).text
                scores.append(accuracy(text, known, language))
            reading = report.timings["parse"]
        finally:
            service.close()
        results[language] = {
            "pages": len(found), "accuracy": round(float(np.mean(scores)), 4),
            "accuracy_per_page": [round(s, 4) for s in scores],
            "reading_s": round(reading, 2), "pages_per_s": round(len(found) / reading, 3)}
        print("engine", language, results[language], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4,
                        help="pages per language, clean and worn each")
    parser.add_argument("--only", choices=("candidates", "engine"))
    args = parser.parse_args()
    pages = {f"{language}{worn}": make_pages(language, args.pages, bool(worn))
             for worn in ("", "-worn") for language in ("en", "zh")}
    results: dict = {"scan_dpi": SCAN_DPI, "font_size_pt": FONT_SIZE,
                     "known_characters": {language: sum(len(normalise(known, language))
                                                        for _, known in found)
                                          for language, found in pages.items()}}
    if args.only != "engine":
        results["candidates"] = measure_candidates(pages)
    if args.only != "candidates":
        with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
            results["engine"] = measure_engine(pages, Path(tmp))
    write_results("ocr_accuracy" if args.only is None else f"ocr_accuracy_{args.only}", results)


if __name__ == "__main__":
    main()
