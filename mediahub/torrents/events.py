"""Fan-out of engine events to any number of async subscribers.

Every subscriber has its own queue, so a slow consumer (a browser's SSE stream) never
delays the alert pump or other consumers. Queues are unbounded but filtered at publish
time: a subscriber that only wants one torrent's finish never queues piece events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from mediahub.torrents.models import TorrentEvent

_CLOSED = object()


class EventStream(AsyncIterator[TorrentEvent]):
    """`async for event in stream`; ends when closed or when the engine shuts down."""

    def __init__(self, bus: Fanout, infohash: str | None, kinds: tuple[type, ...] | None) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self.infohash = infohash
        self.kinds = kinds

    def wants(self, event: TorrentEvent) -> bool:
        return (self.infohash is None or event.infohash == self.infohash) and (
            self.kinds is None or isinstance(event, self.kinds)
        )

    def put(self, item: object) -> None:
        self._queue.put_nowait(item)

    def close(self) -> None:
        self._bus.unsubscribe(self)
        self.put(_CLOSED)

    async def __anext__(self) -> TorrentEvent:
        item = await self._queue.get()
        if item is _CLOSED:
            self.put(_CLOSED)  # stay ended for every later call
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class Fanout:
    """The engine's own subscribers, each with its queue (app-wide notifications are `mediahub.events`)."""

    def __init__(self) -> None:
        self._streams: set[EventStream] = set()

    def subscribe(self, infohash: str | None = None, kinds: tuple[type, ...] | None = None) -> EventStream:
        stream = EventStream(self, infohash, kinds)
        self._streams.add(stream)
        return stream

    def unsubscribe(self, stream: EventStream) -> None:
        self._streams.discard(stream)

    def publish(self, event: TorrentEvent) -> None:
        for stream in self._streams:
            if stream.wants(event):
                stream.put(event)

    def close(self) -> None:
        for stream in list(self._streams):
            stream.close()
