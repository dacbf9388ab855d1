"""Play positions, continue-watching and the season/episode tree of a show, as views.

A position is saved per movie, or per episode of a show; saving one makes the item the most
recently played, which is what continue-watching orders by.
"""

from __future__ import annotations

from mediahub.db.database import Database
from mediahub.db.queries import positions as queries
from mediahub.errors import BadRequest
from mediahub.ids import iso, new_id, utcnow
from mediahub.library.resolver import MediaRef
from mediahub.library.views import ContinueItem, EpisodeView, PositionView, SeasonView, SetPosition, image_url

CONTINUE_LIMIT = 20
# No video runs longer (11.6 days); bounds positions and `start=`, which PostgreSQL keeps in a
# 4-byte REAL (1e39 would become Infinity) and PyAV turns into 64-bit timestamps.
MAX_SECONDS = 1_000_000
FINISHED_FRACTION = 0.9


async def read(db: Database, ref: MediaRef) -> PositionView:
    row = await queries.read(db, ref.id, ref.episode_key)
    return PositionView(position=row["position"], duration=row["duration"]) if row else PositionView(0.0, None)


async def save(db: Database, ref: MediaRef, update: SetPosition) -> None:
    if not 0 <= update.position <= MAX_SECONDS:  # NaN fails both comparisons
        raise BadRequest(f"'position' must be a number of seconds from 0 to {MAX_SECONDS}.")
    if update.duration is not None and not 0 < update.duration <= MAX_SECONDS:
        raise BadRequest(f"'duration' must be a number of seconds above 0, at most {MAX_SECONDS}.")
    await queries.save(db, new_id(), ref.id, ref.episode_key, update.position, update.duration, utcnow())


async def continue_watching(db: Database, profile_id: str) -> list[ContinueItem]:
    items = []
    for r in await queries.continue_watching(db, profile_id, FINISHED_FRACTION, CONTINUE_LIMIT):
        item = ContinueItem(
            id=r["id"],
            type=r["type"],
            title=r["title"],
            year=r["year"],
            poster_url=image_url(r, "poster"),
            play_position=r["position"],
            play_duration=r["duration"],
            last_played_at=iso(r["last_played_at"]) or "",
        )
        if r["type"] == "tv":
            item.episode_id = r["episode_key"]
            item.season_number = r["season_number"]
            item.episode_number = r["episode_number"]
            item.episode_title = r["episode_title"]
        items.append(item)
    return items


async def seasons(db: Database, ref: MediaRef) -> list[SeasonView]:
    if ref.type != "tv":
        raise BadRequest("Only a TV show has seasons.")
    episodes: dict[str, list[EpisodeView]] = {}
    for e in await queries.episodes(db, ref.id):
        episodes.setdefault(e["season"], []).append(
            EpisodeView(
                id=e["id"],
                season_id=e["season"],
                episode_number=e["episode_number"],
                title=e["title"],
                file_path=e["file_path"],
                file_index=e["file_index"],
                play_position=e["play_position"] or 0.0,
                play_duration=e["play_duration"],
                status=e["status"],
                progress=e["progress"],
                download_id=e["download"],
                file_size=e["file_size"],
            )
        )
    return [
        SeasonView(id=s["id"], media_id=ref.id, season_number=s["season_number"], name=s["name"],
                   episodes=episodes.get(s["id"], []))
        for s in await queries.seasons(db, ref.id)
    ]  # fmt: skip
