"""A tiny in-process event bus: how services hear about each other without importing each other.

The library publishes what changed (an item added, a torrent no longer referenced); the
download engine, the metadata enricher, SSE streams and notebook widgets react. Handlers
registered with `on` are awaited in order by `publish` (so a DELETE has finished its work
before it answers); subscribers get every event on a bounded queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import msgspec

log = logging.getLogger(__name__)

E = TypeVar("E")


class Event(msgspec.Struct, frozen=True):
    pass


class DownloadAdded(Event, frozen=True):
    """A media item got a new download: the engine should start (or join) the torrent."""

    profile_id: str
    media_id: str
    media_type: str
    download_id: str
    infohash: str
    magnet_link: str


class MediaAdded(Event, frozen=True):
    """A new media item exists; metadata may be missing."""

    profile_id: str
    media_id: str


class TorrentReleased(Event, frozen=True):
    """No profile references this torrent any more: stop it and delete its files."""

    infohash: str


class TorrentHolderLeft(Event, frozen=True):
    """A profile let go of a torrent others still hold: if all of them paused it, it stops."""

    infohash: str


class TorrentChanged(Event, frozen=True):
    """Status or progress of a shared torrent changed, or a holder paused or resumed it for
    itself (published by the download service)."""

    infohash: str
    status: str
    progress: float


class EpisodesChanged(Event, frozen=True):
    """Season/episode rows of a show were created or re-mapped (published by the engine
    after mapping a pack's files): the enricher gives them their TMDB names."""

    media_id: str


class MediaMerged(Event, frozen=True):
    """A detected show turned out to be one the profile already had (same TMDB id): its
    downloads, seasons and episodes now belong to `into_media_id` and `media_id` is gone.
    Anyone holding `media_id` for a download should re-read `Download.media`."""

    profile_id: str
    media_id: str
    into_media_id: str


class EventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._handlers: dict[type, list[Callable[[Any], Awaitable[None]]]] = defaultdict(list)
        self._queues: set[asyncio.Queue[Event]] = set()
        self._queue_size = queue_size

    def on(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        self._handlers[event_type].append(handler)

    async def publish(self, event: Event) -> None:
        for handler in self._handlers.get(type(event), ()):
            try:
                await handler(event)
            except Exception:  # one failing listener must not break the caller's request
                log.exception("handler %r failed for %r", handler, event)
        for queue in self._queues:
            if queue.full():  # a slow subscriber loses its oldest events, never blocks us
                queue.get_nowait()
            queue.put_nowait(event)

    def subscribe(self) -> Subscription:
        """Receive every event published from now on (registered at once, so none is missed)."""
        subscription = Subscription(self._queues, self._queue_size)
        self._queues.add(subscription.queue)
        return subscription


class Subscription:
    """An async iterator of events; close it (or use `with`) to stop receiving."""

    def __init__(self, queues: set[asyncio.Queue[Event]], size: int) -> None:
        self._queues = queues
        self.queue: asyncio.Queue[Event] = asyncio.Queue(size)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self._queues.discard(self.queue)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
