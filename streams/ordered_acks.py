"""Acknowledgements in offset order, for an agent whose actors handle a partition at once.

Faust commits a partition up to its first unacknowledged offset, but lets one missing offset
right after the committed one pass (``Consumer._new_offset``, meant for compacted topics).
With concurrent actors the oldest message can still be in hand (a webhook being retried)
while younger ones are done: a commit then steps over it, and a crash before it is done
loses it, where a replay should have handled it again. So an actor's acknowledgement waits
until every older message taken from the same partition is done too.

Use with a stream that does not acknowledge by itself (``stream.noack()``). A message in
hand when its partition is revoked is waited for by the revocation, and releases the ones
behind it; what the revocation does not wait for stays unacknowledged and is read again by
the next owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import faust
from faust.types import TP

__all__ = ["InOrder"]


class InOrder:
    """The messages taken and not yet acknowledged, per partition, oldest first."""

    def __init__(self) -> None:
        # partition -> offset -> the event once done, None while in hand; in the order taken,
        # which is offset order (a partition is handed on in order, and forgotten at a
        # revocation before it is read again from an older offset)
        self._open: dict[TP, dict[int, faust.EventT[Any] | None]] = {}

    def taken(self, tp: TP, offset: int) -> None:
        """An actor took the message at ``offset``."""
        self._open.setdefault(tp, {})[offset] = None

    def done(self, tp: TP, offset: int, event: faust.EventT[Any]) -> list[faust.EventT[Any]]:
        """The message is handled; returns the events now free to acknowledge, oldest first."""
        open_ = self._open.get(tp)
        if open_ is None or offset not in open_:
            return []  # its partition was revoked meanwhile: the next owner reads it again
        open_[offset] = event
        ready = []
        for handled in open_.values():
            if handled is None:
                break
            ready.append(handled)
        for _ in ready:  # the oldest first
            del open_[next(iter(open_))]
        return ready

    def in_hand(self, tp: TP) -> int:
        """How many messages of ``tp`` are taken and not yet acknowledged."""
        return len(self._open.get(tp, ()))

    def forget(self, tps: Iterable[TP]) -> None:
        """Partitions revoked: their messages not acknowledged are read again elsewhere."""
        for tp in tps:
            self._open.pop(tp, None)

    @asynccontextmanager
    async def handling(
        self, stream: faust.StreamT[Any], event: faust.EventT[Any]
    ) -> AsyncIterator[None]:
        """Handle ``event`` inside; on leaving, acknowledge what it frees (even on error)."""
        tp, offset = event.message.tp, event.message.offset
        self.taken(tp, offset)
        try:
            yield
        finally:
            for ready in self.done(tp, offset, event):
                await stream.ack(ready)
