"""The prompt the local model reads: fixed instructions, the sources' excerpts, the question.

On a CPU, reading the prompt is most of the time to the first token: each token of it
goes through the whole model, and the bundled model reads a few hundred a second on two
cores. So each source the model reads is cut to the sentences that bear on the question
(`excerpt`): the ones `grounding.Evidence` scores best (cosine to the question plus its
rarity-weighted terms), each with the sentence after it (an explanation is often followed
by its example), in the source's own order, up to a number of tokens per source;
left-out stretches are marked "…". A source that fits is given whole. The checks and the
quotation still use the whole sources: only what the model reads is shorter.

The instructions open the prompt and never change, so llama.cpp keeps their state from
one answer to the next (llama-cpp-python reuses the longest common prefix of the tokens
it read last): only the sources and the question are read anew.
"""

from __future__ import annotations

from typing import Callable

from .grounding import Evidence, has_words, split_sentences

PROMPT = """Answer the question using only the sources below, in one or two short sentences. Cite the sources you use by number, like [1].
If the sources do not contain the answer, reply: I don't know.

Sources:
{sources}

Question: {question}
Answer:"""
GAP = " … "


def excerpt(evidence: Evidence, source: int, max_tokens: int,
            count_tokens: Callable[[str], int]) -> str:
    """The sentences of source `source` (1-based, as numbered in `evidence`) that best
    answer the question, within `max_tokens`, or the whole source when it fits.

    Each sentence comes with the wordless lines after it, which Evidence does not score
    ("To quit the R program the command is" needs its "> q()")."""
    text = evidence.hits[source - 1].text
    if count_tokens(text) <= max_tokens:
        return text
    own = [i for i, s in enumerate(evidence.sentences) if s.source == source]
    parts = split_sentences(text)
    worded = [j for j, part in enumerate(parts) if has_words(part)]
    if not own or len(own) != len(worded):
        return text
    units = {i: " ".join([evidence.sentences[i].text]
                         + [" ".join(part.split()) for part in parts[j + 1: end]])
             for i, j, end in zip(own, worded, worded[1:] + [len(parts)])}
    scores = evidence.scores()
    chosen: set[int] = set()
    used = 0
    for best in sorted(own, key=lambda i: (-scores[i], i)):
        for i in (best, best + 1):  # the sentence, then the one after it in the source
            if i in chosen or i not in units:
                continue
            cost = count_tokens(units[i]) + 1
            if used + cost > max_tokens:
                break
            chosen.add(i)
            used += cost
    if not chosen:  # the best sentence alone is longer than the budget
        return units[max(own, key=lambda i: scores[i])]
    runs: list[list[str]] = []
    for i in own:
        if i in chosen:
            if i - 1 in chosen:
                runs[-1].append(units[i])
            else:
                runs.append([units[i]])
    return GAP.join(" ".join(run) for run in runs)


def build(question: str, texts: list[str], generator, max_answer_tokens: int
          ) -> tuple[str, int]:
    """The prompt for `question` with source texts `texts` (rank order) numbered [1], [2]…,
    and how many of them it holds: the question whole, the sources that fit `generator`'s
    context window in rank order, the last one trimmed (`generator.truncate`)."""
    count_tokens = generator.count_tokens
    budget = (generator.context_tokens - max_answer_tokens
              - count_tokens(PROMPT.format(sources="", question=question)) - 16)
    blocks: list[str] = []
    for text in texts:
        label = f"[{len(blocks) + 1}]"  # a file name or page here gets copied into answers
        needed = count_tokens(f"{label} {text}\n\n")
        if needed > budget:
            if budget >= 48:
                cut = generator.truncate(text, budget - count_tokens(label) - 4)
                blocks.append(f"{label} {cut}")
            break
        blocks.append(f"{label} {text}")
        budget -= needed
    return PROMPT.format(sources="\n\n".join(blocks), question=question), len(blocks)
