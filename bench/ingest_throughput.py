"""Ingest throughput on a real corpus: the R manuals from Debian's r-doc-pdf.

Ingests every manual except fullrefman.pdf (it repeats refman.pdf) into a fresh vault,
end to end through the public service, and reports pages/s and chunks/s with the share
of time spent in parse (and chunk), embed, store and index. It also times the same
PDFs through PyMuPDF's plain text extraction alone, the floor any PDF ingest pays. Writes bench/results/ingest_throughput.json.

    .venv/bin/python bench/ingest_throughput.py [--files R-intro.pdf ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import R_MANUALS, open_service, write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", help="manual file names (default: all but fullrefman)")
    args = parser.parse_args()
    files = [R_MANUALS / name for name in args.files] if args.files else sorted(
        p for p in R_MANUALS.glob("*.pdf") if p.name != "fullrefman.pdf")

    import pymupdf

    started = time.monotonic()
    for path in files:
        with pymupdf.open(path) as pdf:
            for page in pdf:
                page.get_text()
    plain_extraction_s = time.monotonic() - started

    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        service = open_service(Path(tmp))
        started = time.monotonic()
        # load the model outside the timed ingest, as a running app has it: embedding one
        # word loads it
        service.answers.embed(["load"])
        load_s = time.monotonic() - started
        started = time.monotonic()
        report = service.library.ingest(files)
        total_s = time.monotonic() - started
        service.close()

    shares = {stage: round(seconds / total_s, 3) for stage, seconds in report.timings.items()}
    result = {
        "files": [p.name for p in files], "pages": report.pages, "chunks": report.chunks,
        "failed": report.failed, "seconds": round(total_s, 1),
        "model_load_s": round(load_s, 1),
        "pages_per_s": round(report.pages / total_s, 2),
        "chunks_per_s": round(report.chunks / total_s, 2),
        "stage_seconds": {k: round(v, 1) for k, v in report.timings.items()},
        "stage_share": shares,
        "plain_text_extraction_s": round(plain_extraction_s, 1),
    }
    print(f"{report.pages} pages, {report.chunks} chunks in {total_s:.0f}s: "
          f"{result['pages_per_s']} pages/s, {result['chunks_per_s']} chunks/s")
    print("share of time: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))
    print(f"(PyMuPDF plain text extraction alone: {plain_extraction_s:.1f}s)")
    write_results("ingest_throughput", result)


if __name__ == "__main__":
    main()
