"""The add box: paste a magnet, press Add; a refusal is shown right under it."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import ipywidgets as widgets

from mediahub.errors import MediahubError
from mediahub.library.views import MediaDetail
from mediahub.notebook.api import LibraryClient
from mediahub.notebook.tasks import TaskSet


class AddBox(widgets.VBox):
    def __init__(self, library: LibraryClient, tasks: TaskSet, on_added: Callable[[MediaDetail], None]) -> None:
        self.text = widgets.Text(
            placeholder="magnet:?xt=urn:btih:…", description="Magnet", layout=widgets.Layout(width="auto", flex="1")
        )
        self.button = widgets.Button(description="Add", button_style="primary", icon="plus")
        self.message = widgets.HTML()
        self._library = library
        self._tasks = tasks
        self._on_added = on_added
        self.button.on_click(lambda _: self.submit())
        super().__init__([widgets.HBox([self.text, self.button]), self.message])

    def submit(self) -> None:
        self.button.disabled = True
        self.message.value = "<i>Adding…</i>"
        self._tasks.spawn(self._add(self.text.value.strip()), "add")

    async def _add(self, magnet: str) -> None:
        try:
            media, created = await self._library.add(magnet)
        except MediahubError as exc:
            self.message.value = f'<span style="color:#b00020">⚠ {escape(exc.message)}</span>'
            return
        finally:
            self.button.disabled = False
        self.text.value = ""
        verb = "Added" if created else "Already in the library:"
        self.message.value = f"{verb} <b>{escape(media.title)}</b>"
        self._on_added(media)
