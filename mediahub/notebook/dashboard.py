"""`dashboard(hub)`: the whole library on one cell, live.

Layout, top to bottom: the add box, the library table, continue-watching, the preview
player, and a status line for failures. Everything shown or changed goes through the HTTP
API in-process (`hub.client`, see `notebook/api.py`). Live changes come from the hub's bus,
which carries notifications only (ids of what changed; the widgets then ask the API): the
in-process transport hands over an answer once it is complete, so the endless SSE progress
stream cannot be followed through it, and no route announces new items. One task listens to
the bus and feeds the table; every button's work is a task too, and `close()` cancels them all.
"""

from __future__ import annotations

import asyncio
import logging
from html import escape

import ipywidgets as widgets

from mediahub.hub import Hub
from mediahub.downloads.progress import TERMINAL_STATUSES
from mediahub.library.views import MediaDetail
from mediahub.notebook.add import AddBox
from mediahub.notebook.api import LibraryClient
from mediahub.notebook.player import ContinueRow, Preview
from mediahub.notebook.table import LibraryTable
from mediahub.notebook.tasks import TaskSet, close_tree

log = logging.getLogger(__name__)


class Dashboard(widgets.VBox):
    def __init__(self, hub: Hub, profile_id: str | None = None) -> None:
        if not hub.default_profile_id:
            raise RuntimeError("Open the hub first: `hub = await Hub.open()`.")
        self.hub = hub
        self.library = LibraryClient(hub.client, profile_id or hub.default_profile_id)
        self.status = widgets.HTML()
        self.tasks = TaskSet(self.show_error)
        self.loaded = asyncio.Event()  # set once the table shows the library as it was
        self.add_box = AddBox(self.library, self.tasks, self._added)
        self.table = LibraryTable(self.library, self.tasks, self.preview)
        self.continue_row = ContinueRow(self.library, self.tasks, self.preview)
        self.player = Preview(hub, self.library)
        self._subscription = hub.bus.subscribe()  # before loading: no event falls in between
        super().__init__(
            [
                widgets.HTML("<h3>mediahub</h3>"),
                self.add_box,
                self.table,
                self.continue_row,
                self.player,
                self.status,
            ]
        )
        self.tasks.spawn(self._run(), "events")

    async def _run(self) -> None:
        await self.table.load()
        await self.continue_row.load()
        self.loaded.set()
        async for event in self._subscription:
            await self.table.handle(event)

    async def wait_ready(self, media_id: str, timeout: float | None = None) -> str:
        """Wait until the item's row shows `ready` or `error`, and return which (for scripts)."""
        await self.loaded.wait()

        def finished() -> bool:
            row = self.table.rows.get(media_id)
            return row is not None and row.status in TERMINAL_STATUSES

        await self.table.wait_for(finished, timeout)
        return self.table.rows[media_id].status

    def preview(self, media_id: str, episode_id: str | None = None) -> None:
        self.tasks.spawn(self.player.play(media_id, episode_id), "preview")

    def show_error(self, message: str) -> None:
        self.status.value = f'<span style="color:#b00020">⚠ {escape(message)}</span>'

    def _added(self, media: MediaDetail) -> None:
        self.tasks.spawn(self.table.add_row(media.id), "add-row")  # the bus may also tell; add_row is idempotent

    def close(self) -> None:
        """Stop listening and cancel every task, then close the widgets."""
        if not self.tasks.closed:
            self.tasks.cancel()
            self._subscription.close()
            if self.player.token_id is not None:
                self._revoke_later()
        for child in self.children:
            close_tree(child)
        super().close()

    def _revoke_later(self) -> None:
        """Revoke the preview token after close (async work for a sync `close`)."""

        async def revoke() -> None:
            try:
                await self.player.revoke()
            except Exception:  # the hub is closing too: nobody is left to use the token
                log.warning("could not revoke the notebook preview token", exc_info=True)

        task = self.tasks.loop.create_task(revoke())
        _revoking.add(task)
        task.add_done_callback(_revoking.discard)


_revoking: set[asyncio.Task[None]] = set()  # strong references until each revoke is done


def dashboard(hub: Hub, profile_id: str | None = None) -> Dashboard:
    """The dashboard of one profile (default: the hub's default profile). Call it in the kernel's loop."""
    return Dashboard(hub, profile_id)
