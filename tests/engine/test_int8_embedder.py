"""The bundled embedding model as an int8 ONNX graph: it ranks R-intro's passages for the
benchmark's questions as sentence-transformers in fp32 does, and a library embedded in
fp32 keeps fp32 rather than mixing the two."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pymupdf

from engine.retrieval.embedder import Embedder
from tests.conftest import MODEL_CACHE_DIR, R_INTRO

QUESTIONS = Path(__file__).resolve().parents[2] / "bench" / "questions.jsonl"


def r_intro_paragraphs(limit: int) -> list[str]:
    with pymupdf.open(R_INTRO) as pdf:
        blocks = [" ".join(b[4].split()) for page in pdf for b in page.get_text("blocks")]
    return [b for b in blocks if len(b) > 80][:limit]


def test_int8_ranks_passages_as_fp32_does(embedder):
    passages = r_intro_paragraphs(400)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines()
                 if '"R-intro.pdf"' in line][:40]
    fp32 = Embedder.named("all-MiniLM-L6-v2", 32, MODEL_CACHE_DIR)
    assert embedder.model_id == "all-MiniLM-L6-v2-int8" and fp32.int8_graph_dir is None
    rankings = {}
    for name, model in (("int8", embedder), ("fp32", fp32)):
        p, q = model.encode(passages), model.encode(questions)
        assert p.dtype == np.float32 and np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-4)
        rankings[name] = (np.argsort(-(q @ p.T), axis=1)[:, :5], p)
    cosines = np.sum(rankings["int8"][1] * rankings["fp32"][1], axis=1)
    assert cosines.min() > 0.97, cosines.min()
    int8, reference = rankings["int8"][0], rankings["fp32"][0]
    same_first = np.mean(int8[:, 0] == reference[:, 0])
    overlap = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(int8, reference)])
    assert same_first >= 0.9 and overlap >= 0.85, (same_first, overlap)


def test_a_library_embedded_in_fp32_keeps_fp32(open_service, config, corpus):
    fp32 = dataclasses.replace(config, embedding_model="all-MiniLM-L6-v2")
    service = open_service(fp32, shared_embedder=False)
    assert service._embedder.int8_graph_dir is None
    service.library.ingest([corpus])
    service.close()
    reopened = open_service(dataclasses.replace(config, model_cache_dir=MODEL_CACHE_DIR),
                            shared_embedder=False)
    assert reopened.config.embedding_model == "all-MiniLM-L6-v2"  # not the int8 default
    assert reopened.answers.search("relief valve pressure", k=1)[0].document == "pumps.pdf"
    assert reopened.health.index_repair is None  # its vectors are as they were


def test_a_text_alone_runs_on_one_thread_and_gets_the_same_vector(embedder):
    """A query runs in a one-thread session of its own (faster for so small an input): its
    vector is the one the batch session gives the same text (a batch of it twice has the
    same activations, so the same int8 scales)."""
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines()][:20]
    encoder = embedder.model
    assert encoder._alone is not encoder._session
    for question in questions:
        alone = embedder.encode([question])[0]
        in_batch = embedder.encode([question, question])
        assert np.allclose(alone, in_batch[0], atol=1e-5) and np.allclose(alone, in_batch[1],
                                                                           atol=1e-5)
