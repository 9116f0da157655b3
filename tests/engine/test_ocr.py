"""OCR at ingest, end to end with the real recogniser, vault, embedding and answer models:
scanned PDFs (whole, or one page of a digital one) and image files are read, searched,
answered from and highlighted on the page's picture; bad images fail with their reason
beside good files; with OCR off, scans are refused as before. The pages are small (a few
lines each), so that each test reads them in seconds."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pymupdf
import pytest

from engine.ingest.ocr import paragraphs_of

VALVE = ["Scanned maintenance record.", "The relief valve on pump P-104 opens",
         "at a pressure of 7.5 bar."]
BADGE = ["Visitor rules.", "Visitors wear a green badge and stay",
         "with their host at all times."]


def page_picture(lines: list[str], size=(420, 200), dpi=150) -> pymupdf.Pixmap:
    """A small page with `lines` on it, drawn as a scanner would hand it over."""
    with pymupdf.open() as source:
        page = source.new_page(width=size[0], height=size[1])
        page.insert_text((36, 48), "\n".join(lines), fontsize=13, lineheight=1.6)
        return page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)


def add_scanned_page(pdf: pymupdf.Document, lines: list[str]) -> None:
    page = pdf.new_page(width=420, height=200)
    page.insert_image(page.rect, stream=page_picture(lines).tobytes("png"))


def scanned_pdf(path: Path, *pages: list[str]) -> Path:
    with pymupdf.open() as pdf:
        for lines in pages:
            add_scanned_page(pdf, lines)
        pdf.save(path)
    return path


def test_a_scanned_pdf_is_read_searched_answered_and_highlighted(service, tmp_path):
    path = scanned_pdf(tmp_path / "scan.pdf", BADGE, VALVE)
    assert pymupdf.open(path)[1].get_text() == ""  # a picture, no text layer
    events = []
    report = service.library.ingest([path], progress=events.append)
    assert report.failed == [] and report.pages == 2
    assert [(e.ocr_pages_done, e.ocr_pages_total) for e in events
            if e.stage == "recognising"] == [(0, 2), (1, 2), (2, 2)]

    hit = service.answers.search("relief valve pressure pump P-104", k=1)[0]
    assert (hit.document, hit.page) == ("scan.pdf", 2)
    assert "7.5 bar" in hit.text and "Visitors" not in hit.text  # pages kept apart
    passage = service.answers.passage(hit.document_id, hit.char_start, hit.char_end)
    assert passage.page == 2 and passage.drawable
    assert passage.text.index("Visitor rules") < passage.text.index("relief valve")
    drawn = service.answers.render_page(hit.document_id, 2, hit.text)
    assert drawn.highlights == 3  # the passage's three lines, from their OCR boxes
    assert service.answers.render_page(hit.document_id, 1, hit.text).highlights == 0

    stream = service.answers.ask("At what pressure does the relief valve on pump P-104 open?")
    text = "".join(stream)
    answer = stream.answer
    assert answer.kind in ("answer", "quote") and "7.5" in text, text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert {(answer.sources[n - 1].hit.document, answer.sources[n - 1].hit.page)
            for n in cited} == {("scan.pdf", 2)}


def test_an_image_file_is_read_and_drawn_with_its_passage_highlighted(service, tmp_path):
    path = tmp_path / "notice.png"
    path.write_bytes(page_picture(BADGE).tobytes("png"))
    report = service.library.ingest([path])
    assert report.failed == [] and report.pages == 1
    hit = service.answers.search("What colour badge do visitors wear?", k=1)[0]
    assert (hit.document, hit.page) == ("notice.png", 1) and "green badge" in hit.text
    drawn = service.answers.render_page(hit.document_id, 1, hit.text)
    assert drawn.png.startswith(b"\x89PNG") and drawn.highlights == 3


def test_the_scanned_page_of_a_digital_pdf_is_read_in_its_place(service, tmp_path):
    path = tmp_path / "mixed.pdf"
    with pymupdf.open() as pdf:
        pdf.new_page(width=420, height=200).insert_text((36, 48), "Page one is typed: the "
                                                        "canteen opens at noon.")
        add_scanned_page(pdf, VALVE)
        pdf.new_page(width=420, height=200).insert_text((36, 48), "Page three is typed: "
                                                        "tapes go to the fire safe.")
        pdf.save(path)
    events = []
    report = service.library.ingest([path], progress=events.append)
    assert report.failed == [] and report.pages == 3
    assert {e.ocr_pages_total for e in events if e.stage == "recognising"} == {1}
    found = {hit.page for hit in service.answers.search("relief valve pressure", k=3)
             if "7.5 bar" in hit.text}
    assert found == {2}
    text = service.answers.passage(hit_document(service, "mixed.pdf"), 0, 0).text
    assert text.index("canteen") < text.index("relief valve") < text.index("fire safe")


def hit_document(service, name: str) -> int:
    return next(d.id for d in service.library.documents() if d.name == name)


def test_bad_images_fail_with_their_reason_and_the_good_files_go_in(service, tmp_path):
    good = scanned_pdf(tmp_path / "good.pdf", VALVE)
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "png-named.jpg").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pymupdf.open() as picture:
        page = picture.new_page(width=420, height=200)
        page.draw_circle((210, 100), 60, fill=(0.2, 0.4, 0.8))
        (tmp_path / "no-text.png").write_bytes(page.get_pixmap(dpi=100).tobytes("png"))
        (tmp_path / "white.jpeg").write_bytes(picture.new_page().get_pixmap(dpi=50)
                                              .tobytes("jpeg"))
    report = service.library.ingest([tmp_path])
    reasons = {Path(path).name: reason for path, reason in report.failed}
    assert [Path(p).name for p in report.ingested] == [good.name]
    assert reasons.keys() == {"corrupt.png", "png-named.jpg", "no-text.png", "white.jpeg"}
    assert "not a readable image" in reasons["corrupt.png"]
    assert "not a readable image" in reasons["png-named.jpg"]
    assert "OCR found no legible text in the image" in reasons["no-text.png"]
    assert "the image is blank" in reasons["white.jpeg"]
    assert {f.reason for f in service.library.failures()} == set(reasons.values())
    assert "7.5 bar" in service.answers.search("relief valve", k=1)[0].text


def test_with_ocr_off_scans_and_images_are_refused_as_before(open_service, config, tmp_path):
    service = open_service(dataclasses.replace(config, ocr=False))
    scan = scanned_pdf(tmp_path / "scan.pdf", VALVE)
    image = tmp_path / "notice.png"
    image.write_bytes(page_picture(BADGE).tobytes("png"))
    report = service.library.ingest([scan, image])
    reasons = {Path(path).name: reason for path, reason in report.failed}
    assert report.ingested == []
    assert "a scanned PDF needs OCR, which is switched off" in reasons["scan.pdf"]
    assert "only be read with OCR, which is switched off" in reasons["notice.png"]


def test_words_become_lines_in_the_order_of_tesseracts_blocks():
    def word(x0, y0, x1, text, block, line=0, height=10):
        return (x0, y0, x1, y0 + height, text, block, line, 0)

    title = [word(50, 20, 300, "Two columns", 0, height=18)]
    right = [word(200, 50 + 12 * n, 320, f"right {n}", 2, n) for n in range(3)]
    left = [word(50 + 40 * k, 50 + 12 * n + k, 80 + 40 * k, f"L{n}{k}", 1, 2 * n + k)
            for n in range(3) for k in range(2)]  # each printed line cut in two pieces
    chinese = [word(50, 100, 70, "安全", 3), word(71, 101, 80, "阀", 3),
               word(82, 100, 120, "P-104", 3)]
    paragraphs = paragraphs_of([*title, *left, *right, *chinese])  # as Tesseract reads them
    assert [p.text for p in paragraphs] == ["Two columns", "L00 L01\nL10 L11\nL20 L21",
                                            "right 0\nright 1\nright 2", "安全阀 P-104"]
    assert [p.kind for p in paragraphs] == ["heading", "paragraph", "paragraph", "paragraph"]
    assert paragraphs[3].lines[0].box == (50, 100, 120, 111)
    assert paragraphs_of([]) == []
