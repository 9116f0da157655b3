"""Reads a blocking stream of text pieces in a thread of its own, ahead of its reader.

A streamed answer sent from the event loop one `await to_thread(next, pieces)` at a time
leaves the model idle while each piece goes through the loop and out: on two cores the
API streamed about 10% slower than llama-cpp-python alone (bench/answer_speed.py). A
`Pump` iterates the stream in its own thread, so the model writes the next token while
the last one is being sent; the reader awaits the pieces in order.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator

import anyio

_END = object()


class _Failed:
    def __init__(self, error: Exception):
        self.error = error


class Pump:
    """`await next()` for the pieces of `pieces`, produced ahead in a thread."""

    def __init__(self, pieces: Iterator[str]):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._ended = False
        self._thread = threading.Thread(target=self._run, args=(pieces,), daemon=True,
                                        name="stream-pump")
        self._thread.start()

    def _run(self, pieces: Iterator[str]) -> None:
        try:
            for piece in pieces:
                self._queue.put(piece)
        except Exception as exc:  # the reader raises it, in its turn
            self._queue.put(_Failed(exc))
        finally:
            self._queue.put(_END)

    async def next(self) -> str | None:
        """The next piece; None once the stream has ended. Raises what the stream raised."""
        if self._ended:
            return None
        item = await anyio.to_thread.run_sync(self._queue.get)
        if isinstance(item, _Failed):
            raise item.error
        if item is _END:
            self._ended = True
            return None
        return item

    async def close(self) -> None:
        """Wait until the stream has been read to its end (a cancelled one ends soon)."""
        await anyio.to_thread.run_sync(self._thread.join)
