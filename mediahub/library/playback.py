"""Play positions, continue-watching and the season/episode tree of a show.

Positions are keyed by (media, episode_key) where episode_key is the episode id, or '' for a
movie; the media row remembers its last played key, so continue-watching is one indexed
query however many positions a profile has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mediahub.db.tables import Episode, Media, Position, Season
from mediahub.errors import BadRequest
from mediahub.ids import iso, new_id, utcnow
from mediahub.library.status import torrents_by_media
from mediahub.library.views import ContinueItem, EpisodeView, PositionView, SeasonView, image_url

CONTINUE_LIMIT = 20
# No video runs longer (11.6 days); bounds positions and `start=`, which PostgreSQL keeps in a
# 4-byte REAL (1e39 would become Infinity) and PyAV turns into 64-bit timestamps.
MAX_SECONDS = 1_000_000
FINISHED_FRACTION = 0.9


async def episode_key(media: dict[str, Any], episode_id: str | None) -> str:
    """Check `episode_id` against the item: a show needs one of its own episodes, a movie none."""
    if media["type"] == "movie":
        if episode_id:
            raise BadRequest("A movie has no episodes; leave out 'episodeId'.")
        return ""
    if not episode_id:
        raise BadRequest("A TV show needs 'episodeId'.")
    if not await Episode.exists().where((Episode.id == episode_id) & (Episode.media == media["id"])):
        raise BadRequest("That episode does not belong to this show.")
    return episode_id


async def read(media_id: str, key: str) -> PositionView | None:
    row = await (
        Position.select(Position.position, Position.duration)
        .where((Position.media == media_id) & (Position.episode_key == key))
        .first()
    )
    return PositionView(position=row["position"], duration=row["duration"]) if row else None


async def write(media_id: str, key: str, position: float, duration: float | None) -> None:
    now = utcnow()
    engine = Position._meta.db
    async with engine.transaction():
        await Position.insert(
            Position(
                id=new_id(),
                media=media_id,
                episode=key or None,
                episode_key=key,
                position=position,
                duration=duration,
                updated_at=now,
            )
        ).on_conflict(
            target=(Position.media, Position.episode_key),
            action="DO UPDATE",
            values=[Position.position, Position.duration, Position.updated_at],
        )
        await Media.update({Media.last_played_at: now, Media.last_episode_key: key}).where(Media.id == media_id)


async def continue_watching(profile_id: str) -> list[ContinueItem]:
    rows = await Media.raw(
        "SELECT m.id, m.type, m.title, m.year, m.poster_url, m.poster_cached, m.last_played_at, "
        "p.position, p.duration, p.episode_key, e.episode_number, e.title AS episode_title, "
        "s.season_number "
        "FROM media m "
        "JOIN position p ON p.media = m.id AND p.episode_key = m.last_episode_key "
        "LEFT JOIN episode e ON e.id = p.episode "
        "LEFT JOIN season s ON s.id = e.season "
        "WHERE m.profile = {} AND m.last_played_at IS NOT NULL AND p.position > 0 "
        f"AND (p.duration IS NULL OR p.position < {FINISHED_FRACTION} * p.duration) "
        f"ORDER BY m.last_played_at DESC LIMIT {CONTINUE_LIMIT}",
        profile_id,
    )
    items = []
    for r in rows:
        item = ContinueItem(
            id=r["id"],
            type=r["type"],
            title=r["title"],
            year=r["year"],
            poster_url=image_url(r, "poster"),
            play_position=r["position"],
            play_duration=r["duration"],
            last_played_at=iso(_as_datetime(r["last_played_at"])) or "",
        )
        if r["type"] == "tv":
            item.episode_id = r["episode_key"]
            item.season_number = r["season_number"]
            item.episode_number = r["episode_number"]
            item.episode_title = r["episode_title"]
        items.append(item)
    return items


async def seasons(media_id: str) -> list[SeasonView]:
    season_rows = await Season.select().where(Season.media == media_id).order_by(Season.season_number)
    episode_rows = await (
        Episode.select().where(Episode.media == media_id).order_by(Episode.season).order_by(Episode.episode_number)
    )
    positions = {
        p["episode_key"]: p
        for p in await Position.select(Position.episode_key, Position.position, Position.duration).where(
            Position.media == media_id
        )
    }
    downloads = {d["id"]: d for d in (await torrents_by_media(media_id)).get(media_id, [])}
    by_season: dict[str, list[EpisodeView]] = {s["id"]: [] for s in season_rows}
    for e in episode_rows:
        download = downloads.get(e["download"]) if e["download"] else None
        position = positions.get(e["id"])
        by_season[e["season"]].append(
            EpisodeView(
                id=e["id"],
                season_id=e["season"],
                episode_number=e["episode_number"],
                title=e["title"],
                file_path=e["file_path"],
                file_index=e["file_index"],
                play_position=position["position"] if position else 0.0,
                play_duration=position["duration"] if position else None,
                status=download["status"] if download else "added",
                progress=e["progress"],
                download_id=e["download"],
                file_size=e["file_size"],
            )
        )
    return [
        SeasonView(
            id=s["id"],
            media_id=media_id,
            season_number=s["season_number"],
            name=s["name"],
            episodes=by_season[s["id"]],
        )
        for s in season_rows
    ]


def _as_datetime(value: Any) -> Any:
    """Raw SQLite queries hand timestamps back as text; Postgres gives datetimes."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
