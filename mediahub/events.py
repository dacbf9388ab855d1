"""Notifications: how the faces (SSE streams, notebook widgets, scripts) hear what changed.

Services call each other to get things done; afterwards they publish what happened here.
`publish` only queues: every subscriber has its own bounded queue, and a slow one loses its
oldest events rather than holding anyone up. Nothing a service needs to work travels here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec


class Event(msgspec.Struct, frozen=True):
    pass


class MediaAdded(Event, frozen=True):
    """An item was added, or a show got one more download; metadata may be missing."""

    profile_id: str
    media_id: str


class MediaRemoved(Event, frozen=True):
    """An item was deleted."""

    profile_id: str
    media_id: str


class TorrentChanged(Event, frozen=True):
    """Status or progress of a shared torrent changed, as its holders see it."""

    infohash: str
    status: str
    progress: float


class MediaMerged(Event, frozen=True):
    """A detected show turned out to be one the profile already had (same TMDB id): its
    downloads, seasons and episodes now belong to `into_media_id`, and `media_id` is an
    alias of it."""

    profile_id: str
    media_id: str
    into_media_id: str


class EventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._queue_size = queue_size

    def publish(self, event: Event) -> None:
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
