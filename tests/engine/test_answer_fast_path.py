"""The fast path to an answer gives what the slow one gives: llama.cpp's reuse of the
prompt's unchanged head yields the tokens of a fresh prompt (greedy, the real model), the
engine's stream is raw llama-cpp-python's stream piece for piece, and a source cut to its
excerpt keeps the sentences that answer (with the code line after them) within its
budget. Correctness only: nothing here is timed."""

from __future__ import annotations

import llama_cpp

from engine.answers import prompt as prompts
from engine.answers.answerer import Answerer, Gate
from engine.answers.generator import Generator
from engine.answers.grounding import Evidence
from engine.records import SearchHit
from engine.service import EnclaveService
from tests.conftest import PASSPHRASE

FILLER = ("The workspace holds the objects created during a session, and it can be saved "
          "to a file for later use. ")
QUIT = "To quit the R program the command is\n\n> q()\n\n"
MAX_TOKENS = 40


def _hit(n: int, text: str) -> SearchHit:
    return SearchHit(chunk_id=n, document_id=1, document="R-intro.pdf", path="/x/R-intro.pdf",
                     page=n, score=0.6, text=text, char_start=0, char_end=len(text),
                     dense_similarity=0.6)


def _prompt(question: str, sources: list[str]) -> str:
    return prompts.PROMPT.format(sources="\n\n".join(f"[{n}] {text}" for n, text in
                                                    enumerate(sources, 1)), question=question)


def test_a_reused_prompt_head_gives_the_tokens_of_a_fresh_prompt(generator):
    greedy = generator  # the same prompt, the same tokens
    assert greedy.temperature == 0.0
    first = _prompt("How do I quit R?", [FILLER + QUIT])
    second = _prompt("What does the workspace hold?", [FILLER * 2, "Objects are saved."])
    "".join(greedy.stream(first, MAX_TOKENS))
    llama_cpp.llama_perf_context_reset(greedy.llama.ctx)
    reused = "".join(greedy.stream(second, MAX_TOKENS))
    read = llama_cpp.llama_perf_context(greedy.llama.ctx).n_p_eval
    # the head (instructions and the first source's opening) was not read again
    assert read < greedy.count_tokens(second) - 20
    fresh_generator = Generator(generator.model_path, generator.context_tokens,
                                generator.threads, temperature=0.0)
    try:
        fresh = "".join(fresh_generator.stream(second, MAX_TOKENS))
    finally:
        fresh_generator.close()
    assert reused and reused == fresh


def test_the_engine_streams_what_llama_cpp_streams(generator, config, embedder):
    greedy = generator
    messages = [{"role": "user", "content": "Explain what a data frame is in R."}]
    raw = llama_cpp.Llama(str(greedy.model_path), n_ctx=greedy.context_tokens,
                          n_threads=greedy.threads, n_threads_batch=greedy.threads,
                          verbose=False)
    try:
        expected = [chunk["choices"][0]["delta"].get("content") for chunk in
                    raw.create_chat_completion(messages, max_tokens=MAX_TOKENS, temperature=0.0,
                                               repeat_penalty=1.1, stream=True)]
    finally:
        raw.close()
    service = EnclaveService.open(config, lambda new: PASSPHRASE, prefer_keyring=False,
                                  embedder=embedder, generator=greedy)
    try:
        pieces = list(service.answers.chat(messages, MAX_TOKENS))
    finally:
        service.close()
    assert pieces == [piece for piece in expected if piece]


def test_an_excerpt_keeps_the_answering_sentence_and_its_code_line(embedder, generator):
    long_source = FILLER * 6 + QUIT + FILLER * 6
    evidence = Evidence("How do I quit R?", [_hit(1, long_source), _hit(2, "Short.")],
                        embedder)
    cut = prompts.excerpt(evidence, 1, 60, generator.count_tokens)
    assert "To quit the R program the command is > q()" in cut
    assert prompts.GAP.strip() in cut
    assert generator.count_tokens(cut) <= 60 + 4  # the gaps' marks are not counted
    assert prompts.excerpt(evidence, 2, 60, generator.count_tokens) == "Short."


def test_the_model_reads_excerpts_and_the_sources_stay_whole(embedder, generator):
    long_source = FILLER * 6 + QUIT + FILLER * 6
    hits = [_hit(1, long_source), _hit(2, FILLER * 8)]
    evidence = Evidence("How do I quit R?", hits, embedder)
    answerer = Answerer(generator, embedder, max_answer_tokens=64, gate=Gate(),
                        excerpt_tokens=60)
    prompt, sources = answerer.build_prompt("How do I quit R?", hits, evidence)
    assert "> q()" in prompt and generator.count_tokens(prompt) < 260
    assert [s.hit.text for s in sources] == [long_source, FILLER * 8]
    whole, _ = Answerer(generator, embedder, 64, Gate()).build_prompt(
        "How do I quit R?", hits, evidence)
    assert long_source in whole
