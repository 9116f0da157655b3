"""Navigation chunks: tables of contents, indexes and dot-leader lists.

Such a chunk only points elsewhere ("Reading data files . . . . 32", "tapply, 42, 51"):
it matches a question's words without answering it. A chunk is classified by the shape
of its lines, not by its words, so the test holds in any language: most of its lines end
in a page reference after a dot leader or an index-style list of pages, few lines read
as sentences. Lines that only name a section ("2.4") or an index letter ("T") are
neutral. Lines of text ending in one bare number count only when those numbers never
decrease down the chunk, as in a table of contents (a table of figures rarely does).
A chunk that is only a page number ("17", "iii") is navigation too: nothing to read.
The retriever ranks navigation chunks after every content chunk it found.
"""

from __future__ import annotations

import re

from ..store.vault import Vault

_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})\b"
_PAGE = rf"(?:\d{{1,4}}|{_ROMAN})(?:\s*[-–]\s*\d{{1,4}})?"
_PAGES = rf"{_PAGE}(?:\s*,\s*{_PAGE})*"
_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}|(?:·\s?){4,}|_{4,}")
_LEADER_END = re.compile(rf"(?:(?:\.\s?){{2,}}|…|·)\s*{_PAGES}\s*$")
_COMMA_PAGES_END = re.compile(rf"\S,\s*{_PAGES}\s*$")
_BARE_PAGES = re.compile(rf"^\s*{_PAGES}\s*,?\s*$")
_LEADER_TAIL = re.compile(rf"^\s*(?:[.…·]\s?)+{_PAGES}\s*$")  # a leader cut off by the chunk
_SINGLE_NUMBER_END = re.compile(r"[^\W\d_]\s+(\d{1,4})\s*$")  # "Getting started   7"
_SECTION_NUMBER = re.compile(r"^\s*(?:[A-Z]|\d{1,3})(?:\.\d{1,3})*\.?\s*$")
_WORD = re.compile(r"[^\W\d_]{2,}")
_DIGIT = re.compile(r"\d")
_SENTENCE_WORDS = 7
MIN_POINTER_SHARE = 0.5
MAX_SENTENCE_SHARE = 0.25


def _increasing(line: str) -> bool:
    """Page lists run upwards ("42, 51, 63"); a row of data need not."""
    numbers = [int(n) for n in re.findall(r"\d+", line)]
    return all(a < b for a, b in zip(numbers, numbers[1:]))


def _has_leader(line: str) -> bool:
    return (".." in line or ". ." in line or "…" in line or "·" in line
            or "____" in line) and bool(_LEADER.search(line))


def _shape(line: str) -> str:
    """'pointer', 'pages' (page numbers only), 'numbered' (text + one number),
    'neutral', 'sentence' or 'other'."""
    line = line.strip()
    if len(line) <= 1 or _SECTION_NUMBER.match(line):
        return "neutral"
    if _BARE_PAGES.match(line):
        plain = not _SECTION_NUMBER.match(line.replace(",", ""))
        return "pages" if plain and _increasing(line) else "neutral"
    words = len(_WORD.findall(line))
    if _LEADER_TAIL.match(line) or (_has_leader(line)
                                    and (words <= 12 or _LEADER_END.search(line))):
        return "pointer"
    if line[-1].isdigit() or line[-1] in "ivxlcdm":  # ends like a page reference
        if _COMMA_PAGES_END.search(line) and words <= 6:
            return "pointer"
        if _SINGLE_NUMBER_END.search(line) and words <= 10:
            return "numbered"
    if words >= _SENTENCE_WORDS:
        return "sentence"
    return "other"


def is_navigation(text: str) -> bool:
    """True when the text is a table of contents, an index or a dot-leader list (or only
    page numbers), not content."""
    if len(text) > 16 and not _DIGIT.search(text) and not _has_leader(text):
        return False  # no page number, no leader: nothing points elsewhere
    lines = [line for line in text.splitlines() if line.strip()]
    shapes = [_shape(line) for line in lines]
    counted = [s for s in shapes if s != "neutral"]
    if lines and len(lines) <= 2 and all(s in ("neutral", "pages") for s in shapes):
        return True  # a page number ("17", "ii") or a section number: nothing to read
    if not counted:
        return False
    numbered = [int(_SINGLE_NUMBER_END.search(line).group(1))
                for line, s in zip(lines, shapes) if s == "numbered"]
    rising = len(numbered) >= 3 and all(a <= b for a, b in zip(numbered, numbered[1:]))
    pointers = sum(s == "pointer" or (s == "numbered" and rising) for s in counted)
    if pointers == 0:
        return False
    pointers += sum(s == "pages" for s in counted)
    sentences = sum(s == "sentence" for s in counted)
    return (pointers / len(counted) >= MIN_POINTER_SHARE
            and sentences / len(counted) <= MAX_SENTENCE_SHARE)


def classify_unmarked(vault: Vault) -> int:
    """Set `chunks.navigation` where it is still NULL (libraries ingested before the
    column existed); returns how many chunks were classified. One transaction."""
    with vault.transaction() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM chunks WHERE navigation IS NULL")]
        for start in range(0, len(ids), 1000):  # a large library's text, a part at a time
            part = ids[start:start + 1000]
            rows = conn.execute(f"SELECT id, text FROM chunks WHERE id IN "
                                f"({','.join('?' * len(part))})", part).fetchall()
            conn.executemany("UPDATE chunks SET navigation = ? WHERE id = ?",
                             [(int(is_navigation(text)), chunk_id) for chunk_id, text in rows])
    return len(ids)
