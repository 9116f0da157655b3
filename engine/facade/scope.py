"""Which collections a caller may reach.

An API key scoped to collections passes them to the facade as `within` (None: every
collection); search, answers, conversations, listings and changes then stay inside them.
Naming a collection outside them is `NotAllowedError`, whether it exists or not, so the
answer says nothing about what else the library holds; a document or a conversation of
another collection is simply not there (`NotFoundError`), as its id could be guessed.
"""

from __future__ import annotations

from collections.abc import Collection as Names

from ..errors import NotAllowedError

Within = Names[str] | None
"""The collections a caller may reach, by name; None: all of them."""


def names(within: Within) -> frozenset[str] | None:
    return None if within is None else frozenset(name.strip() for name in within)


def allowed(collection: str | None, within: Within) -> bool:
    """Whether `collection` is one the caller may reach (None, the whole library, is only
    for a caller with no limit)."""
    if within is None:
        return True
    return collection is not None and collection.strip() in names(within)


def check(collection: str, within: Within) -> None:
    """NotAllowedError unless the caller may reach `collection`."""
    if not allowed(collection, within):
        raise NotAllowedError(f"This key may use only the collection"
                              f"{'s' if len(within) != 1 else ''} "
                              f"{', '.join(repr(n) for n in sorted(names(within)))}: not "
                              f"'{collection}'.")


def own_collection(collection: str | None, within: Within) -> str | None:
    """The collection a new conversation or upload goes to: the one named (checked), or
    for a caller limited to one collection and naming none, that one. A caller limited to
    several must name one (NotAllowedError): the whole library is not its to use."""
    if collection is None and within is not None:
        if len(names(within)) != 1:
            raise NotAllowedError("This key may use only some collections: name one of "
                                  f"{', '.join(repr(n) for n in sorted(names(within)))}.")
        return next(iter(names(within)))
    if collection is not None:
        check(collection, within)
    return collection
