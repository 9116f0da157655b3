"""Structure-aware chunking sized in tokens of the embedding model.

Blocks from the parser are cut into sentences only when a block is longer than a chunk,
then packed greedily up to `chunk_tokens`. A heading or a new page starts a new chunk;
a chunk cut for size carries its last sentences (up to `overlap_tokens`) into the next
one. Each chunk is one contiguous span of the document text, so its offsets can be
highlighted in the source, and it remembers its page and the heading it falls under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .parsers import ParsedDocument

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=\S)|(?<=[。！？；])")


def embedding_text(text: str, heading: str | None) -> str:
    """What is embedded and indexed: the chunk, under its heading for context."""
    if heading and not text.startswith(heading):
        return f"{heading}\n{text}"
    return text


@dataclass(frozen=True)
class Chunk:
    text: str
    heading: str | None
    page_start: int | None
    page_end: int | None
    char_start: int
    char_end: int
    tokens: int

    def embedding_text(self) -> str:
        return embedding_text(self.text, self.heading)


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    page: int | None
    tokens: int
    heading: bool


class Chunker:
    """Cuts parsed documents into chunks; counts tokens with the model's own tokenizer."""

    def __init__(self, tokenizer_file: Path, chunk_tokens: int, overlap_tokens: int):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens

    def _count(self, texts: list[str]) -> list[int]:
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def _units(self, doc: ParsedDocument) -> list[_Unit]:
        units: list[_Unit] = []
        counts = self._count([b.text for b in doc.blocks])
        for block, tokens in zip(doc.blocks, counts):
            if tokens <= self.chunk_tokens:
                units.append(_Unit(block.start, block.end, block.page, tokens,
                                   block.kind == "heading"))
                continue
            for start, end in self._split_long(block.text):
                piece = block.text[start:end]
                units.append(_Unit(block.start + start, block.start + end, block.page,
                                   self._count([piece])[0], False))
        return units

    def _split_long(self, text: str) -> list[tuple[int, int]]:
        """Sentence spans; a sentence longer than a chunk is cut at token boundaries."""
        bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
        spans = []
        for start, end in zip(bounds, bounds[1:]):
            while start < end and text[start].isspace():
                start += 1
            if start >= end:
                continue
            sentence = text[start:end]
            offsets = self._tokenizer.encode(sentence, add_special_tokens=False).offsets
            if len(offsets) <= self.chunk_tokens:
                spans.append((start, end))
                continue
            for i in range(0, len(offsets), self.chunk_tokens):
                window = offsets[i : i + self.chunk_tokens]
                piece_end = end if i + self.chunk_tokens >= len(offsets) else start + window[-1][1]
                spans.append((start + window[0][0], piece_end))
        return spans

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        units = self._units(doc)
        chunks: list[Chunk] = []
        current: list[_Unit] = []
        heading: str | None = None

        def flush(carry_overlap: bool) -> list[_Unit]:
            if not current:
                return []
            first, last = current[0], current[-1]
            chunks.append(Chunk(
                text=doc.text[first.start:last.end],
                heading=heading,
                page_start=first.page,
                page_end=last.page,
                char_start=first.start,
                char_end=last.end,
                tokens=sum(u.tokens for u in current),
            ))
            if not carry_overlap:
                return []
            carried: list[_Unit] = []
            for unit in reversed(current[1:]):
                if sum(u.tokens for u in carried) + unit.tokens > self.overlap_tokens:
                    break
                carried.insert(0, unit)
            return carried

        for unit in units:
            size = sum(u.tokens for u in current)
            if unit.heading or (current and unit.page != current[-1].page):
                current = flush(carry_overlap=False)
            elif current and size + unit.tokens > self.chunk_tokens:
                current = flush(carry_overlap=True)
            if unit.heading:
                heading = doc.text[unit.start:unit.end]
            current.append(unit)
        flush(carry_overlap=False)
        return chunks
