"""A real manual: R-intro.pdf (113 pages, from Debian's r-doc-pdf) ingested, searched and
asked about, with the expected pages found by PyMuPDF's own text search."""

import pytest

from tests.conftest import R_INTRO

pytestmark = pytest.mark.slow

FACTS = {  # question -> a phrase on the page that answers it
    "What is the assignment operator in R?": "the assignment operator",
    "Which function diverts console output to an external file?": 'sink("record.lis")',
    "Which operator is used for matrix multiplication?": "is used for matrix multiplication",
    "What is a factor in R?": "A factor is a vector object",
}


@pytest.fixture(scope="module")
def manual_service(tmp_path_factory, embedder, generator):
    from engine.config import EngineConfig
    from engine.service import EnclaveService
    from tests.conftest import PASSPHRASE

    config = EngineConfig(data_dir=tmp_path_factory.mktemp("r-manual"), kdf_log2_n=12)
    service = EnclaveService.open(config, lambda new: PASSPHRASE, prefer_keyring=False,
                                  embedder=embedder, generator=generator)
    report = service.library.ingest([R_INTRO])
    assert report.pages == 113 and report.failed == []
    yield service
    service.close()


def _pages_with(phrase):
    import pymupdf

    with pymupdf.open(R_INTRO) as pdf:
        return {page.number + 1 for page in pdf if page.search_for(phrase)}


@pytest.mark.parametrize("question, phrase", FACTS.items())
def test_the_page_that_answers_is_in_the_top_five(manual_service, question, phrase):
    expected = _pages_with(phrase)
    assert expected
    hits = manual_service.answers.search(question, k=5)
    assert expected & {h.page for h in hits}, [(h.page, h.text[:60]) for h in hits]


def test_an_answer_cites_the_page_that_holds_it(manual_service):
    answer = manual_service.answers.ask("Which operator is used for matrix multiplication?").collect()
    assert "%*%" in answer.text and not answer.refused
    cited = [s for s in answer.sources if f"[{s.n}]" in answer.text]
    assert cited and cited[0].hit.page in _pages_with("is used for matrix multiplication")
    hit = cited[0].hit
    text = manual_service._vault.scalar("SELECT text FROM documents WHERE id = ?",
                                       (hit.document_id,))
    assert text[hit.char_start:hit.char_end] == hit.text  # offsets a viewer can highlight


@pytest.mark.parametrize("question", ["What is the capital of Australia?",
                                      "How do I train a neural network with TensorFlow?",
                                      "What factor of safety is used in bridge design?"])
def test_off_topic_questions_sharing_words_with_the_manual_are_refused(manual_service, question):
    answer = manual_service.answers.ask(question).collect()
    assert answer.kind == "refusal", answer.text
    assert answer.sources and not answer.cited_sources  # the closest passages, to read


def test_sources_are_one_per_page_and_never_the_index(manual_service):
    for question in ("What does tapply do?", "How do I attach a data frame?",
                     "How do I read a CSV file into R?"):
        answer = manual_service.answers.ask(question).collect()
        pages = [(s.hit.document_id, s.hit.page) for s in answer.sources]
        assert len(pages) == len(set(pages)), pages
        assert not any(s.hit.navigation for s in answer.sources), pages
        assert answer.kind in ("answer", "quote") and answer.cited_sources, answer.text
