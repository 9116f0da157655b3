"""Answers: citation checking (unit), prompts that fit the context, and the real model
answering from real sources with citations, or refusing when nothing is relevant."""

import re

import pytest

from engine.answers import DONT_KNOW, Answerer, CitationChecker, Source
from engine.errors import UserError
from engine.generator import Generator
from engine.records import SearchHit


def _hit(n, text, document="a.pdf", page=1, similarity=0.6):
    return SearchHit(chunk_id=n, document_id=n, document=document, path=f"/x/{document}",
                     page=page, score=similarity, text=text, char_start=0, char_end=len(text),
                     dense_similarity=similarity)


SOURCES = [Source(1, _hit(1, "The relief valve opens at a pressure of 12.5 bar.")),
           Source(2, _hit(2, "Visitors wear a blue badge issued at the north gate."))]


def _check(pieces):
    checker = CitationChecker(SOURCES)
    return "".join(checker.feed(p) for p in pieces) + checker.finish()


def test_markers_naming_no_source_are_dropped():
    assert _check(["It opens at 12.5 bar [1][7]. Visitors wear blue [2]."]) == \
        "It opens at 12.5 bar [1]. Visitors wear blue [2]."


def test_markers_split_across_pieces_are_kept_whole():
    assert _check(["The valve opens [", "1", "] at 12.5 bar", "."]) == \
        "The valve opens [1] at 12.5 bar."
    assert _check(["Something [", "9] odd."]) == "Something  odd."


def test_unmarked_grounded_sentence_gets_its_source():
    assert _check(["Visitors wear a blue badge from the north gate. Hello there friend."]) == \
        "Visitors wear a blue badge from the north gate [2]. Hello there friend."
    assert _check(["I don't know the relief valve pressure."]) == \
        "I don't know the relief valve pressure."


@pytest.fixture(scope="module")
def small_context_generator(generator):
    return Generator(generator.model_path, context_tokens=512)


def test_prompt_fits_the_context_by_trimming_sources_never_the_question(small_context_generator):
    answerer = Answerer(small_context_generator, max_answer_tokens=128, min_relevance=0.25)
    question = "What is the exact pressure at which the relief valve on line 7 opens? " * 3
    hits = [_hit(i, f"Passage {i}. " + "The valve is inspected and greased. " * 40)
            for i in range(1, 5)]
    prompt, sources = answerer.build_prompt(question, hits)
    used = small_context_generator.count_tokens(prompt)
    assert used + 128 <= 512
    assert prompt.rstrip().endswith(f"Question: {question}\nAnswer:")
    assert 1 <= len(sources) < 4 and sources[0].hit.chunk_id == 1


def test_real_model_answers_with_a_citation(service, corpus):
    service.ingest([corpus])
    stream = service.ask("At what pressure does the relief valve open?")
    pieces = list(stream)
    answer = stream.answer
    assert len(pieces) > 1 and "".join(pieces).strip() == answer.text
    assert not answer.refused and "12.5" in answer.text, answer.text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert cited, answer.text
    assert {(answer.sources[n - 1].hit.document, answer.sources[n - 1].hit.page)
            for n in cited} == {("pumps.pdf", 2)}
    assert answer.timings["first_token"] > 0 and answer.timings["generate"] > 0


def test_unrelated_question_is_refused(service, corpus):
    service.ingest([corpus])
    answer = service.ask("Who won the football world cup in 1998?").collect()
    assert answer.refused and answer.text == DONT_KNOW and answer.sources == []


def test_empty_library_and_empty_question(service):
    assert service.ask("What is the pump schedule?").collect().refused
    with pytest.raises(UserError):
        service.ask("  ")


def test_stop_ends_generation_early(service, corpus):
    service.ingest([corpus])
    stream = service.ask("At what pressure does the relief valve open?")
    pieces = []
    for piece in stream:
        pieces.append(piece)
        stream.cancel()
    assert len(pieces) == 1 and stream.answer is not None


def test_short_extractive_answer_is_cited_when_a_source_holds_it_verbatim():
    assert _check(["12.5\nBar"]) == "12.5\nBar [1]"
    assert _check(["13 bar"]) == "13 bar"


def _stop(pieces):
    from engine.answers import _LEADING_STOPS, _STOPS, StopMatcher

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
    service.ingest([corpus])
    stream = service.ask("How often is pump P-101 inspected?")
    pieces = iter(stream)
    next(pieces)
    stream.cancel()
    list(pieces)  # the stream object stays referenced, as it does in the app
    assert stream.answer is not None
    assert not service.answerer.generator._lock.locked()
