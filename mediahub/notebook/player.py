"""The preview player and the continue-watching row.

The player is a plain `<video>` pointed at this process's own HTTP server (started on first
use with `Hub.serve`), at the item's saved position. A `<video>` cannot send headers, so the
URL carries `?token=`: a token bound to the dashboard's profile, made through the API on
first use and revoked when the dashboard closes.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from urllib.parse import urlencode

import ipywidgets as widgets

from mediahub.errors import BadRequest
from mediahub.hub import Hub
from mediahub.library.views import ContinueItem
from mediahub.notebook.api import LibraryClient
from mediahub.notebook.tasks import TaskSet, close_tree

TOKEN_LABEL = "notebook preview"


class Preview(widgets.VBox):
    def __init__(self, hub: Hub, library: LibraryClient) -> None:
        self.caption = widgets.HTML()
        self.video = widgets.HTML()
        self.url: str | None = None  # the stream URL now playing (with #t= or &start= for the position)
        self._hub = hub
        self._library = library
        self._token: tuple[str, str] | None = None  # (token id, token)
        super().__init__([self.caption, self.video])

    async def play(self, media_id: str, episode_id: str | None = None) -> None:
        media = await self._library.get(media_id)
        if media.type == "tv" and episode_id is None:
            episode_id = await self._first_episode(media_id)
        position = (await self._library.position(media_id, episode_id)).position
        base = self._hub.url or await self._hub.serve()
        query = {"token": await self._token_value()}
        if episode_id:
            query["episodeId"] = episode_id
        url = f"{base}/api/media/{media_id}/stream?{urlencode(query)}"
        if position > 0:  # a ranged file seeks itself (#t=); a transmuxed stream begins there (start=)
            ranged = await self._library.serves_ranges(media_id, episode_id)
            url += f"#t={position:.3f}" if ranged else f"&start={position:.3f}"
        self.url = url
        self.caption.value = f"<b>{escape(media.title)}</b>" + (f" from {_clock(position)}" if position > 0 else "")
        self.video.value = (
            f'<video src="{escape(url)}" controls autoplay muted playsinline preload="auto" '
            'style="max-width:100%;max-height:360px;background:#000"></video>'
        )

    async def _first_episode(self, media_id: str) -> str:
        for season in await self._library.seasons(media_id):
            for episode in season.episodes:
                return episode.id
        raise BadRequest("This show has no episodes yet; wait until its files are known.")

    async def _token_value(self) -> str:
        if self._token is None:
            made = await self._library.create_token(TOKEN_LABEL)
            self._token = (made.id, made.token or "")
        return self._token[1]

    @property
    def token_id(self) -> str | None:
        return self._token[0] if self._token else None

    async def revoke(self) -> None:
        """Revoke the preview token: a closed dashboard leaves no working URL behind."""
        if self._token is not None:
            await self._library.delete_token(self._token[0])
            self._token = None


class ContinueRow(widgets.VBox):
    """Started, unfinished items; a click previews one from where it was left."""

    def __init__(self, library: LibraryClient, tasks: TaskSet, on_preview: Callable[[str, str | None], None]) -> None:
        self.items = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.reload_button = widgets.Button(icon="refresh", tooltip="Reload", layout=widgets.Layout(width="36px"))
        self.reload_button.on_click(lambda _: tasks.spawn(self.load(), "continue-watching"))
        self._library = library
        self._on_preview = on_preview
        super().__init__([widgets.HBox([widgets.HTML("<b>Continue watching</b>"), self.reload_button]), self.items])

    async def load(self) -> None:
        entries = await self._library.continue_watching()
        old = self.items.children
        self.items.children = [self._card(item) for item in entries] or [widgets.HTML("<i>Nothing started yet.</i>")]
        for child in old:
            close_tree(child)

    def _card(self, item: ContinueItem) -> widgets.Button:
        episode = item.episode_id if isinstance(item.episode_id, str) else None
        label = item.title
        if episode and isinstance(item.season_number, int) and isinstance(item.episode_number, int):
            label += f" S{item.season_number:02d}E{item.episode_number:02d}"
        total = f" / {_clock(item.play_duration)}" if item.play_duration else ""
        button = widgets.Button(
            description=f"{label} · {_clock(item.play_position)}{total}",
            icon="play",
            tooltip=f"Preview {label} from {_clock(item.play_position)}",
            layout=widgets.Layout(width="auto"),
        )
        button.on_click(lambda _: self._on_preview(item.id, episode))
        return button


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
