"""Ingest throughput against the embedding alone: many one-paragraph files, and the R manuals.

For each corpus, a fresh vault; the embedding model is loaded first (as a running app has
it). The files are ingested end to end through the public service, and the same chunk
texts (made with the engine's own parser and chunker) are embedded alone with the same
embedder (`encode`: no cache, no vault, one call), before and after the ingest, in the
same process. Reports files/s, pages/s and chunks/s, each stage's share of the time, and
the ingest time divided by the mean of the two embedding times (goal: at most 1.25).

- small files: N one-paragraph text files (notes, tickets, e-mails: the common case),
  one dbpedia-5k entry each (past 5,000 the entries come again with a numbered suffix, so
  no text repeats and the embedding cache never helps); 1,000 and 5,000 files, and
  20,000 with --large.
- the R manuals from Debian's r-doc-pdf, all but fullrefman.pdf (it repeats refman.pdf),
  also timed through PyMuPDF's plain text extraction alone, the floor any PDF ingest pays.

Writes bench/results/ingest_throughput.json.

    .venv/bin/python bench/ingest_throughput.py [--large] [--only small|manuals]
        [--sizes 1000 5000] [--files R-intro.pdf ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import platformdirs

sys.path.insert(0, str(Path(__file__).parents[1]))
from bench.common import PASSPHRASE, R_MANUALS, write_results  # noqa: E402

DBPEDIA = Path(__file__).parents[2] / "shared" / "datasets" / "dbpedia-5k" / "corpus.jsonl"
MODEL_CACHE = Path(platformdirs.user_cache_dir("Enclave", appauthor=False))


def make_small_files(folder: Path, count: int) -> list[Path]:
    """`count` one-paragraph .txt files, one dbpedia entry each."""
    entries = [json.loads(line) for line in DBPEDIA.read_text().splitlines()]
    folder.mkdir(parents=True)
    files = []
    for n in range(count):
        entry = entries[n % len(entries)]
        copy = n // len(entries)
        text = entry["text"] + (f" (note {copy + 1})" if copy else "")
        path = folder / f"{n:05d}.txt"
        path.write_text(text + "\n")
        files.append(path)
    return files


def chunk_texts(files: list[Path], config) -> list[str]:
    """What the ingest embeds for these files: their chunks' embedding texts."""
    from engine import models
    from engine.ingest import parsers
    from engine.ingest.chunker import Chunker

    limits = parsers.ReadLimits(config.max_file_bytes, config.max_unpacked_bytes,
                                config.max_file_parts, config.max_file_blocks)
    chunker = Chunker(models.embedding_model_dir(config.embedding_model) / "tokenizer.json",
                      config.chunk_tokens, config.chunk_overlap_tokens)
    return [chunk.embedding_text() for path in files
            for chunk in chunker.chunk(parsers.parse(path, limits))]


def measure(name: str, files: list[Path], work: Path) -> dict:
    """Ingest `files` into a fresh vault and embed their chunk texts alone, in one process."""
    from engine import EnclaveService, EngineConfig
    from engine.retrieval.embedder import Embedder

    config = EngineConfig(data_dir=work / "library")
    texts = chunk_texts(files, config)
    embedder = Embedder.named(config.embedding_model, config.embed_batch_size, MODEL_CACHE)
    embedder.encode(["load"])  # the model loaded outside every timed part

    def embed_alone() -> float:
        started = time.monotonic()
        embedder.encode(texts)
        return time.monotonic() - started

    before = embed_alone()
    service = EnclaveService.open(dataclasses.replace(config, model_cache_dir=MODEL_CACHE),
                                  lambda new: PASSPHRASE, prefer_keyring=False,
                                  embedder=embedder)
    started = time.monotonic()
    report = service.library.ingest(files)
    ingest_s = time.monotonic() - started
    service.close()
    after = embed_alone()
    assert report.chunks == len(texts) and not report.failed, (report.chunks, report.failed)

    embed_s = statistics.mean([before, after])
    result = {
        "corpus": name, "files": len(files), "pages": report.pages, "chunks": report.chunks,
        "ingest_s": round(ingest_s, 1), "embedding_alone_s": [round(before, 1), round(after, 1)],
        "ratio": round(ingest_s / embed_s, 2),
        "files_per_s": round(len(files) / ingest_s, 2),
        "pages_per_s": round(report.pages / ingest_s, 2),
        "chunks_per_s": round(report.chunks / ingest_s, 1),
        "embedding_alone_chunks_per_s": round(len(texts) / embed_s, 1),
        "stage_seconds": {k: round(v, 1) for k, v in report.timings.items()},
    }
    print(f"{name}: {len(files)} files, {report.pages} pages, {report.chunks} chunks in "
          f"{ingest_s:.1f}s ({result['files_per_s']} files/s, {result['chunks_per_s']} "
          f"chunks/s); embedding alone {before:.1f}s/{after:.1f}s: ratio {result['ratio']}",
          flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["small", "manuals"])
    parser.add_argument("--sizes", nargs="*", type=int, default=[1000, 5000],
                        help="numbers of small files (default: 1000 5000)")
    parser.add_argument("--large", action="store_true", help="also 20,000 small files")
    parser.add_argument("--files", nargs="*", help="manual file names (default: all but fullrefman)")
    args = parser.parse_args()

    results: dict = {"small_files": [], "manuals": None}
    if args.only != "manuals":
        for count in args.sizes + ([20_000] if args.large else []):
            with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
                files = make_small_files(Path(tmp) / "notes", count)
                results["small_files"].append(measure(f"{count} small files", files, Path(tmp)))
    if args.only != "small":
        manuals = [R_MANUALS / name for name in args.files] if args.files else sorted(
            p for p in R_MANUALS.glob("*.pdf") if p.name != "fullrefman.pdf")
        import pymupdf

        started = time.monotonic()
        for path in manuals:
            with pymupdf.open(path) as pdf:
                for page in pdf:
                    page.get_text()
        plain_extraction_s = time.monotonic() - started
        with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
            results["manuals"] = measure("R manuals", manuals, Path(tmp))
        results["manuals"].update(names=[p.name for p in manuals],
                                  plain_text_extraction_s=round(plain_extraction_s, 1))
        print(f"(PyMuPDF plain text extraction alone: {plain_extraction_s:.1f}s)")
    write_results("ingest_throughput", results)


if __name__ == "__main__":
    main()
