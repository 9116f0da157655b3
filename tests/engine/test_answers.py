"""Answers: sentences checked against their sources (unit, with the real embedding model),
prompts that fit the context, and the real model answering from real sources with
citations, quoting when it cannot be supported, or refusing when nothing is relevant."""

import re

import pytest

from engine.answers.answerer import (DONT_KNOW, DONT_KNOW_ZH, Answerer, Gate, SentenceBuffer,
                            Verdict, distinct_pages, with_marker)
from engine.errors import UserError
from engine.answers.generator import Generator
from engine.answers.grounding import Evidence
from engine.records import SearchHit


def _hit(n, text, document="a.pdf", page=1, similarity=0.6):
    document_id = ["a.pdf", "policy.docx", "R-intro.pdf"].index(document) + 1
    return SearchHit(chunk_id=n, document_id=document_id, document=document, path=f"/x/{document}",
                     page=page, score=similarity, text=text, char_start=0, char_end=len(text),
                     dense_similarity=similarity)


VALVE = _hit(1, "Safety valves. The relief valve on line 7 opens at a pressure of 12.5 bar and "
                "must be tested annually during the spring shutdown.", page=2)
BADGE = _hit(2, "All visitors to the laboratory must wear a blue badge issued at the north gate.",
             document="policy.docx", page=None)
TAPPLY = _hit(3, "The function tapply() is used to apply a function, here mean(), to each group "
                 "of components of the first argument, here incomes, defined by the levels of "
                 "the second component, here statef, as if they were separate vector structures.",
              document="R-intro.pdf", page=22)


def _sentences(pieces):
    buffer = SentenceBuffer()
    out = [s for p in pieces for s in buffer.feed(p)]
    return out + buffer.finish()


def test_sentences_are_released_whole_with_their_markers():
    assert _sentences(["It opens at 12.5 bar [1]", ". Visitors", " wear blue. [2] Fine"]) == \
        ["It opens at 12.5 bar [1].", " Visitors wear blue. [2]", " Fine"]
    assert _sentences(["The valve opens [", "1", "] at 12.5 bar", "."]) == \
        ["The valve opens [1] at 12.5 bar."]


def test_markers_naming_no_source_are_dropped_and_a_missing_one_is_added():
    assert with_marker("It opens at 12.5 bar [1][7].", Verdict(True, 1), 2) == \
        "It opens at 12.5 bar [1]."
    assert with_marker(" Visitors wear a blue badge.", Verdict(True, 2), 2) == \
        " Visitors wear a blue badge [2]."


def test_supported_sentences_pass(embedder):
    evidence = Evidence("At what pressure does the relief valve open?", [VALVE, BADGE], embedder)
    assert evidence.check("The relief valve opens at 12.5 bar [1].", first=True).supported
    assert evidence.check("12.5 bar", first=True).source == 1
    verdict = evidence.check("Visitors must wear a blue badge from the north gate.")
    assert verdict.supported and verdict.source == 2


def test_nonsense_and_invented_sentences_are_not_supported(embedder):
    evidence = Evidence("What does tapply do?", [TAPPLY, VALVE], embedder)
    for sentence in ("The answer is: [1].", "The answer is: 4 [1].", "tapply [1]",
                     "6.2 Applying functions to groups [1]", "The answer is 1:30 [1].",
                     "The tapply function calls fapply() on each row [1].",
                     "It returns 42 values sorted by date [1].",
                     "Bananas grow quickly in warm tropical climates [1]."):
        assert not evidence.check(sentence, first=True).supported, sentence
    assert evidence.check("tapply() applies a function such as mean() to each group of "
                          "components defined by the levels of a factor [1].",
                          first=True).supported


def test_the_quote_is_the_answering_sentence_verbatim(embedder):
    evidence = Evidence("What does tapply do?", [VALVE, TAPPLY], embedder)
    quoted = evidence.quote()
    assert quoted and quoted[0].source == 2 and "tapply()" in quoted[0].text
    assert all(s.text in " ".join(TAPPLY.text.split()) for s in quoted if s.source == 2)


def test_the_gate_needs_a_dense_library_and_an_answering_sentence(embedder):
    gate = Gate()
    on_topic = Evidence("When is the relief valve tested?", [VALVE, BADGE], embedder)
    assert gate.passes(on_topic.relevance(density=0.5))
    # the passages say something close, but the library is not about the question
    assert not gate.passes(on_topic.relevance(density=0.2))
    off_topic = Evidence("Who won the football World Cup in 1998?", [VALVE, BADGE], embedder)
    assert not gate.passes(off_topic.relevance(density=0.5))
    assert Gate(mode="cosine", min_cosine=0.5).passes(on_topic.relevance(density=0.0))


def test_one_source_per_page():
    hits = [VALVE, _hit(9, "More about valves.", page=2), BADGE,
            _hit(10, "Other badge text.", document="policy.docx", page=None)]
    assert [h.chunk_id for h in distinct_pages(hits)] == [1, 2, 10]


@pytest.fixture(scope="module")
def small_context_generator(generator):
    return Generator(generator.model_path, context_tokens=512)


def test_prompt_fits_the_context_by_trimming_sources_never_the_question(small_context_generator,
                                                                          embedder):
    answerer = Answerer(small_context_generator, embedder, max_answer_tokens=128, gate=Gate())
    question = "What is the exact pressure at which the relief valve on line 7 opens? " * 3
    hits = [_hit(i, f"Passage {i}. " + "The valve is inspected and greased. " * 40)
            for i in range(1, 5)]
    prompt, sources = answerer.build_prompt(question, hits)
    used = small_context_generator.count_tokens(prompt)
    assert used + 128 <= 512
    assert prompt.rstrip().endswith(f"Question: {question}\nAnswer:")
    assert 1 <= len(sources) < 4 and sources[0].hit.chunk_id == 1


def test_real_model_answers_with_a_citation(service, corpus):
    service.library.ingest([corpus])
    stream = service.answers.ask("At what pressure does the relief valve open?")
    pieces = list(stream)
    answer = stream.answer
    assert pieces and "".join(pieces).strip() == answer.text
    assert answer.kind in ("answer", "quote") and "12.5" in answer.text, answer.text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert cited and cited == {s.n for s in answer.cited_sources}, answer.text
    assert {(answer.sources[n - 1].hit.document, answer.sources[n - 1].hit.page)
            for n in cited} == {("pumps.pdf", 2)}
    assert len({(s.hit.document_id, s.hit.page) for s in answer.sources}) == len(answer.sources)
    assert answer.timings["first_token"] > 0 and answer.timings["generate"] > 0


class ScriptedGenerator:
    """Stands in for the model to make it say a given text (the checks are what is tested)."""

    context_tokens = 2048

    def __init__(self, text):
        self.text = text

    def count_tokens(self, text):
        return len(text.split())

    def stream(self, prompt, max_tokens, stop=None, should_stop=lambda: False):
        for word in re.findall(r"\S+\s*", self.text):
            yield word
            if should_stop():
                return


@pytest.mark.parametrize("nonsense", ["The answer is: [1].", "The answer is: 4 [1].",
                                      "Use fapply() on the grouped vector [2]."])
def test_a_nonsense_generation_is_replaced_by_the_quoted_passage(embedder, nonsense):
    answerer = Answerer(ScriptedGenerator(nonsense), embedder, 64, Gate())
    answer = answerer.answer("What does tapply do?", [TAPPLY, VALVE], 0.5).collect()
    assert answer.kind == "quote" and not answer.refused, answer.text
    assert answer.text.startswith("> ") and "tapply()" in answer.text and answer.reason
    assert answer.text.rstrip().endswith("[1]") and [s.n for s in answer.cited_sources] == [1]
    assert "fapply" not in answer.text and "answer is" not in answer.text


def test_a_supported_generation_is_the_answer(embedder):
    answerer = Answerer(ScriptedGenerator("The relief valve opens at 12.5 bar. "
                                          "Bananas are yellow and grow on trees."),
                        embedder, 64, Gate())
    answer = answerer.answer("At what pressure does the relief valve open?", [VALVE, BADGE],
                               0.5).collect()
    # the unsupported second sentence ends the answer; the first gets its source's marker
    assert answer.kind == "answer" and answer.text == "The relief valve opens at 12.5 bar [1]."
    assert [s.cited for s in answer.sources] == [True, False]


def test_unrelated_question_is_refused_with_the_closest_passages(service, corpus):
    service.library.ingest([corpus])
    answer = service.answers.ask("Who won the football world cup in 1998?").collect()
    assert answer.kind == "refusal" and answer.text == DONT_KNOW
    assert answer.sources and not answer.cited_sources
    chinese = service.answers.ask("1998年世界杯足球赛谁赢了？").collect()
    assert chinese.kind == "refusal" and chinese.text == DONT_KNOW_ZH


def test_off_topic_question_sharing_a_word_with_the_library_is_refused(service, corpus):
    service.library.ingest([corpus])
    answer = service.answers.ask("How do I fix a flat tyre on my bicycle's relief valve?").collect()
    assert answer.refused, answer.text


def test_empty_library_and_empty_question(service):
    assert service.answers.ask("What is the pump schedule?").collect().refused
    with pytest.raises(UserError):
        service.answers.ask("  ")


def test_stop_ends_generation_early(service, corpus):
    service.library.ingest([corpus])
    stream = service.answers.ask("At what pressure does the relief valve open?")
    pieces = []
    for piece in stream:
        pieces.append(piece)
        stream.cancel()
    assert len(pieces) == 1 and stream.answer is not None


def _stop(pieces):
    from engine.answers.answerer import _LEADING_STOPS, _STOPS, StopMatcher

    matcher = StopMatcher(_STOPS, _LEADING_STOPS)
    out = [matcher.feed(p) for p in pieces]
    return "".join(out) + matcher.finish(), matcher.stopped


def test_stops_apply_once_the_answer_has_begun():
    assert _stop(["\n\n", " 12.5", " bar", "\nThe", " answer is: 12.5"]) == ("12.5 bar", True)
    assert _stop(["It opens [1].\n", "\n[2] (pumps.pdf)"]) == ("It opens [1].", True)
    assert _stop(["Line one.\nLine", " two."]) == ("Line one.\nLine two.", False)
    assert _stop(["ends with newline\n"]) == ("ends with newline\n", False)
    assert _stop(["Question", ": what is"]) == ("", True)
    assert _stop(["[1] says 12 bar"]) == ("[1] says 12 bar", False)


def test_a_cancelled_stream_frees_the_model_at_once(service, corpus):
    """Regression: a cancelled generation held the model's lock until garbage collection,
    so the desktop app's next question waited forever."""
    service.library.ingest([corpus])
    stream = service.answers.ask("How often is pump P-101 inspected?")
    pieces = iter(stream)
    next(pieces)
    stream.cancel()
    list(pieces)  # the stream object stays referenced, as it does in the app
    assert stream.answer is not None
    assert not service._load_answerer().generator._lock.locked()


@pytest.mark.parametrize("model", ["missing", "damaged"])
def test_without_its_model_an_answer_is_a_quotation_that_says_why(config, embedder, corpus,
                                                                  tmp_path, model):
    """A missing or damaged model file: the question still gets the passages that answer
    it, with the reason, instead of an error; nothing about it is cached."""
    import dataclasses

    from engine.service import EnclaveService
    from tests.conftest import PASSPHRASE

    gguf = tmp_path / "model.gguf"
    if model == "damaged":  # looks like a GGUF file, then is not one
        gguf.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    config = dataclasses.replace(config, generation_model=str(gguf))
    service = EnclaveService.open(config, lambda new: PASSPHRASE, prefer_keyring=False,
                                  embedder=embedder)
    try:
        service.library.ingest([corpus])
        stream = service.answers.ask("At what pressure does the relief valve open?")
        text = "".join(stream)
        answer = stream.answer
        assert answer.kind == "quote" and "12.5 bar" in text and answer.text == text.strip()
        assert "could not be loaded" in answer.fallback if model == "damaged" \
            else "model.gguf" in answer.fallback
        assert answer.cited_sources and answer.to_json()["fallback"] == answer.fallback
        again = service.answers.ask("At what pressure does the relief valve open?").collect()
        assert again.fallback and again.timings.get("cache") is None  # tried the model again
        refused = service.answers.ask("Who won the football world cup in 1954?").collect()
        assert refused.kind == "refusal"  # the gate needs no model: still refuses
    finally:
        service.close()
