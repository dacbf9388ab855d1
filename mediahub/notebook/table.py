"""The live library table: one row per item, updated by bus events, not by re-listing.

The table reads the library once; after that a `TorrentChanged` for a torrent refreshes only
the rows holding that torrent (one progress query each, coalesced while one is running),
`MediaAdded` adds or extends a row, `MediaRemoved` takes one away, `MediaMerged` folds one row into another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from html import escape

import ipywidgets as widgets

from mediahub.display import NO_PEERS, human_size
from mediahub.errors import NotFound
from mediahub.events import Event, MediaAdded, MediaMerged, MediaRemoved, TorrentChanged
from mediahub.downloads.progress import ProgressView
from mediahub.library.views import MediaDetail
from mediahub.notebook.api import LibraryClient
from mediahub.notebook.tasks import TaskSet, close_tree

BAR_STYLES = {"ready": "success", "completed": "success", "error": "danger", "paused": "warning"}
PAUSABLE = {"added", "downloading"}


class Row(widgets.HBox):
    """One item: title, progress bar, numbers, and its buttons."""

    def __init__(self, table: LibraryTable, media: MediaDetail) -> None:
        self._on_change = table.changed
        self.media_id = media.id
        self.media_type = media.type
        self.title = widgets.HTML(layout=widgets.Layout(width="30%"))
        self.bar = widgets.FloatProgress(min=0, max=100, layout=widgets.Layout(width="25%"))
        self.numbers = widgets.HTML(layout=widgets.Layout(width="25%"))
        self.pause = widgets.Button(icon="pause", tooltip="Pause", layout=widgets.Layout(width="36px"))
        self.delete = widgets.Button(icon="trash", tooltip="Delete", layout=widgets.Layout(width="36px"))
        self.play = widgets.Button(icon="play", tooltip="Preview", layout=widgets.Layout(width="36px"))
        self.pause.on_click(lambda _: table.toggle_pause(self))
        self.delete.on_click(lambda _: table.delete(self))
        self.play.on_click(lambda _: table.on_preview(self.media_id, None))
        self.refreshing = False  # a progress query is running
        self.stale = False  # an event came while it ran: query once more
        self.status = ""
        self.set_title(media)
        super().__init__([self.title, self.bar, self.numbers, self.pause, self.play, self.delete])

    def set_title(self, media: MediaDetail) -> None:
        year = f" ({media.year})" if media.year else ""
        self.title.value = f"<b>{escape(media.title)}</b>{year} <small>{media.type}</small>"

    def show(self, progress: ProgressView) -> None:
        self.status = progress.status
        self.bar.value = progress.progress
        self.bar.bar_style = BAR_STYLES.get(self.status, "info")
        parts = [f"{progress.progress:.1f}%", self.status]
        if progress.stalled_since:
            parts.append(NO_PEERS)
        elif progress.is_active:
            parts.append(f"↓ {human_size(progress.download_speed)}/s · {progress.peers} peers")
        if isinstance(progress.error, str):
            parts.append(f'<span style="color:#b00020">{escape(progress.error)}</span>')
        self.numbers.value = " · ".join(parts)
        paused = self.status == "paused"
        self.pause.icon, self.pause.tooltip = ("play-circle", "Resume") if paused else ("pause", "Pause")
        self.pause.disabled = not (paused or self.status in PAUSABLE)
        self._on_change()


class LibraryTable(widgets.VBox):
    def __init__(self, library: LibraryClient, tasks: TaskSet, on_preview: Callable[[str, str | None], None]):
        self.rows: dict[str, Row] = {}
        self.hashes: dict[str, set[str]] = {}  # infohash -> media ids showing it
        self.empty = widgets.HTML("<i>The library is empty: add a magnet above.</i>")
        self.on_preview = on_preview
        self._library = library
        self._tasks = tasks
        self._change = asyncio.Event()  # replaced on every change: waiters wake, new ones wait anew
        super().__init__([self.empty])

    def changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until `predicate()` holds, checked after every row change."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._change.wait()

    async def load(self) -> None:
        for item in reversed(await self._library.list()):  # oldest first: each new row goes on top
            await self.add_row(item.id)

    async def add_row(self, media_id: str) -> None:
        try:
            media = await self._library.get(media_id)
        except NotFound:  # deleted before we got to it
            return
        row = self.rows.get(media_id)
        if row is None:
            row = self.rows[media_id] = Row(self, media)
            self.children = (row, *[c for c in self.children if c is not self.empty])
            self.changed()
        for infohash in _hashes(media):
            self.hashes.setdefault(infohash, set()).add(media_id)
        await self.refresh(row)

    def remove_row(self, media_id: str) -> None:
        row = self.rows.pop(media_id, None)
        if row is None:
            return
        for holders in self.hashes.values():
            holders.discard(media_id)
        self.children = tuple(c for c in self.children if c is not row) or (self.empty,)
        close_tree(row)

    async def handle(self, event: Event) -> None:
        """React to one bus event; events of other profiles are not ours to show."""
        mine = getattr(event, "profile_id", self._library.profile_id) == self._library.profile_id
        if isinstance(event, TorrentChanged):
            for media_id in list(self.hashes.get(event.infohash, ())):
                self.request_refresh(self.rows[media_id])
        elif isinstance(event, MediaAdded) and mine:
            await self.add_row(event.media_id)
        elif isinstance(event, MediaMerged) and mine:
            self.remove_row(event.media_id)
            await self.add_row(event.into_media_id)
        elif isinstance(event, MediaRemoved) and mine:
            self.remove_row(event.media_id)

    def request_refresh(self, row: Row) -> None:
        if row.refreshing:
            row.stale = True
        else:
            row.refreshing = True
            self._tasks.spawn(self._refresh_loop(row), "refresh")

    async def _refresh_loop(self, row: Row) -> None:
        try:
            while True:
                row.stale = False
                await self.refresh(row)
                if not row.stale:
                    return
        finally:
            row.refreshing = False

    async def refresh(self, row: Row) -> None:
        try:
            row.show(await self._library.progress(row.media_id))
        except NotFound:
            self.remove_row(row.media_id)

    def toggle_pause(self, row: Row) -> None:
        row.pause.disabled = True  # until the new status shows
        change = self._library.resume if row.status == "paused" else self._library.pause
        self._tasks.spawn(self._change_and_refresh(row, change(row.media_id)), "pause")

    async def _change_and_refresh(self, row: Row, change: Awaitable[None]) -> None:
        try:
            await change
        finally:
            await self.refresh(row)

    def delete(self, row: Row) -> None:
        row.delete.disabled = True

        async def delete() -> None:
            try:
                await self._library.delete(row.media_id)
            except NotFound:
                pass  # already gone: the row goes all the same
            self.remove_row(row.media_id)

        self._tasks.spawn(delete(), "delete")


def _hashes(media: MediaDetail) -> set[str]:
    if media.type == "tv" and media.downloads:
        return {d.infohash for d in media.downloads}
    return {media.infohash} if media.infohash else set()
