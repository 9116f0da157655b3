"""The API's stream pump hands on every piece of a stream, in order, then the end, and
raises what the stream raised, in the reader's turn."""

import anyio
import pytest

from app.stream_pump import Pump
from engine import UserError


async def _read(pump: Pump) -> list[str]:
    pieces = []
    while (piece := await pump.next()) is not None:
        pieces.append(piece)
    assert await pump.next() is None  # the end stays the end
    await pump.close()
    return pieces


def test_pieces_come_in_order_and_then_the_end():
    pieces = [f"token {i} " for i in range(200)]
    assert anyio.run(_read, Pump(iter(pieces))) == pieces


def test_the_streams_error_is_raised_after_the_pieces_before_it():
    def failing():
        yield "first"
        raise UserError("The text is too long for the model's context.")

    async def read() -> list[str]:
        pump, got = Pump(failing()), []
        with pytest.raises(UserError, match="too long"):
            while (piece := await pump.next()) is not None:
                got.append(piece)
        await pump.close()
        return got

    assert anyio.run(read) == ["first"]
