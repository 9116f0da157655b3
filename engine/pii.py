"""Personal data found and masked in text: e-mail addresses, phone numbers, payment card
numbers and mainland China resident ID numbers, in English and Chinese text.

Each kind is found by a pattern and then validated, so that a part number, an order
number or a date is left alone: phone numbers by libphonenumber (`phonenumberslite`) as
numbers of the given regions or with their country code, card numbers by their Luhn
check digit (13 to 19 digits), resident ID numbers by their birth date and ISO 7064
check character (`stdnum.cn.ric`). A mask names the kind it hides: "[email]", "[phone]",
"[card number]", "[ID number]".

`StreamMasker` masks text that arrives in pieces (a model writing token by token): it
holds back the text after the last sentence end, where a number or an address may still
be growing, and masks what it lets through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

MASKS = {"email": "[email]", "phone": "[phone]", "card": "[card number]", "id": "[ID number]"}
REGIONS = ("CN", "US", "GB")
"""Where a phone number without its country code is taken to be from."""

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
# where a stream may be cut: after a sentence's end and a space, a line's end, or CJK stops
_SAFE_CUT = re.compile(r"[.!?;:][\"')\]]*\s|\n|[。！？；]")


@dataclass(frozen=True)
class Found:
    kind: str  # a key of MASKS
    start: int
    end: int


def find(text: str, regions: tuple[str, ...] = REGIONS) -> list[Found]:
    """The personal data in `text`, in order, none overlapping. A number wrapped onto the
    next line (a PDF's lines, a text file's hard wraps) is found as if on one line."""
    found: list[Found] = []
    text = text.replace("\r", " ").replace("\n", " ")  # the same length: spans hold

    def add(kind: str, start: int, end: int) -> None:
        if not any(start < f.end and f.start < end for f in found):
            found.append(Found(kind, start, end))

    for match in _EMAIL.finditer(text):
        add("email", match.start(), match.end())
    for match in _RESIDENT_ID.finditer(text):
        if ric.is_valid(match.group()):
            add("id", match.start(), match.end())
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits) and len(set(digits)) > 1:
            add("card", match.start(), match.end())
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                     leniency=phonenumbers.Leniency.VALID):
            add("phone", match.start, match.end)
    return sorted(found, key=lambda f: f.start)


def mask(text: str, regions: tuple[str, ...] = REGIONS) -> str:
    """`text` with each piece of personal data replaced by the mask of its kind."""
    out, last = [], 0
    for item in find(text, regions):
        out += [text[last:item.start], MASKS[item.kind]]
        last = item.end
    return "".join(out) + text[last:]


class StreamMasker:
    """Masks a text that arrives in pieces; `feed` and then `finish` return what may be shown.
    With `whole_pieces` each piece ends where personal data cannot go on (an answer's
    checked sentences), so nothing is held back."""

    def __init__(self, regions: tuple[str, ...] = REGIONS, whole_pieces: bool = False):
        self.regions, self.whole_pieces = regions, whole_pieces
        self._held = ""

    def feed(self, piece: str) -> str:
        if self.whole_pieces:
            return mask(piece, self.regions)
        self._held += piece
        cut = 0
        for match in _SAFE_CUT.finditer(self._held):
            cut = match.end()
        ready, self._held = self._held[:cut], self._held[cut:]
        return mask(ready, self.regions) if ready else ""

    def finish(self) -> str:
        ready, self._held = self._held, ""
        return mask(ready, self.regions) if ready else ""
