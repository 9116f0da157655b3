"""Full-text candidates: function words and terms common to most chunks are left out."""

from __future__ import annotations


def test_common_terms_are_left_out_of_the_full_text_query(service, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    for n, fact in enumerate(["the pump hums", "the pump leaks oil", "the pump is blue",
                              "the valve is red", "the pump stops at night"]):
        (folder / f"note{n}.txt").write_text(f"Station note {n}: {fact}.\n")
    service.ingest([folder])
    retriever = service.retriever
    # "station" and "note" are in every chunk, "pump" in 4 of 5: all over 20%
    assert retriever._selective(["station", "pump", "valve"]) == ["valve"]
    assert retriever._selective(["station", "pump"]) == ["pump"]  # the rarest stays
    hits = retriever.bm25("Which station note is about the valve?", 5, ("", ()))
    assert len(hits) == 1
    assert service.search("Which station note is about the valve?", k=1)[0].text.endswith("red.")
