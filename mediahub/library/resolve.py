"""From a media id a profile holds to the item's row: the one lookup every service uses.

An id stays valid after its item was merged into another (`MediaAlias`), so the id a POST
answered with keeps answering. Another profile's ids are not found (404, never 403).
"""

from __future__ import annotations

from typing import Any

from mediahub.db.tables import Media, MediaAlias
from mediahub.errors import NotFound


async def media_row(profile_id: str, media_id: str) -> dict[str, Any]:
    """The profile's media row for `media_id` or the alias `media_id`; use its "id" from here on."""
    row = await Media.select().where((Media.id == media_id) & (Media.profile == profile_id)).first()
    if row is None:
        alias = await MediaAlias.select(MediaAlias.media).where(MediaAlias.id == media_id).first()
        if alias is not None:
            row = await Media.select().where((Media.id == alias["media"]) & (Media.profile == profile_id)).first()
    if row is None:
        raise NotFound("Media not found.")
    return row
