"""The one way from ids in a request to an item: `Resolver.resolve(profile, media, episode)`.

Every route and service that acts on one item takes the `MediaRef` this returns, so none can
reach an item of another profile: its ids are not found (404, never 403). An id also keeps
answering after its item was merged into another (a show added twice before TMDB could tell:
`media_alias`). One statement, whatever is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from mediahub.db.database import Database, Row
from mediahub.db.queries import media as queries
from mediahub.errors import BadRequest, NotFound


@dataclass(frozen=True, slots=True)
class MediaRef:
    """One of a profile's items, checked, and one of its episodes when one was asked for."""

    profile_id: str
    row: Row  # the media row
    episode: Row | None = None  # id, download, file_index, file_path, episode_number

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def type(self) -> str:
        return self.row["type"]

    @property
    def episode_key(self) -> str:
        """What positions are keyed by: the episode id, '' for a movie."""
        return self.episode["id"] if self.episode else ""


class Resolver:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def resolve(
        self, profile_id: str, media_id: str, episode_id: str | None = None, *, episode_required: bool = False
    ) -> MediaRef:
        """404 unless the profile has the item; 400 for an episode that is not the item's own,
        and (`episode_required`: playing, positions) for a show without an episode."""
        row = await queries.resolve(self._db, profile_id, media_id, episode_id)
        if row is None:
            raise NotFound("Media not found.")
        episode = {key[2:]: row.pop(key) for key in [k for k in row if k.startswith("e_")]}
        if row["type"] == "movie":
            if episode_id:
                raise BadRequest("A movie has no episodes; leave out 'episodeId'.")
            return MediaRef(profile_id, row)
        if episode_id and episode["id"] is None:
            raise BadRequest("That episode does not belong to this show.")
        if episode_required and not episode_id:
            raise BadRequest("A TV show needs 'episodeId'.")
        return MediaRef(profile_id, row, episode if episode_id else None)
