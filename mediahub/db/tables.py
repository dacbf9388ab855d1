"""Piccolo tables. Ids are opaque strings from `mediahub.ids.new_id`.

Ownership: every `Media` row belongs to one profile; seasons, episodes, downloads and
positions hang off a media row, so scoping a query by `media.profile` scopes everything.
`Torrent` is the shared content store keyed by info-hash: two profiles adding the same
magnet have two `Download` rows pointing at one torrent and one copy on disk.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Profile(Table, tablename="profile"):
    id = Varchar(length=32, primary_key=True)
    name = Varchar(length=100)
    created_at = Timestamptz()


class ApiToken(Table, tablename="api_token"):
    """Stored as a SHA-256 hash: tokens are random 256-bit strings, so a fast hash is enough."""

    id = Varchar(length=32, primary_key=True)
    profile = ForeignKey(Profile, null=True, on_delete=OnDelete.cascade)
    is_owner = Boolean(default=False)
    token_hash = Varchar(length=64, unique=True, index=True)
    label = Varchar(length=200, null=True, default=None)
    created_at = Timestamptz()


class Torrent(Table, tablename="torrent"):
    infohash = Varchar(length=64, primary_key=True)
    magnet_link = Text()
    name = Text(null=True, default=None)
    status = Varchar(length=16, default="added")
    progress = Float(default=0.0)
    total_bytes = BigInt(null=True, default=None)
    downloaded_bytes = BigInt(default=0)
    error = Text(null=True, default=None)
    added_at = Timestamptz()
    completed_at = Timestamptz(null=True, default=None)


class Media(Table, tablename="media"):
    id = Varchar(length=32, primary_key=True)
    profile = ForeignKey(Profile, on_delete=OnDelete.cascade, index=True)
    type = Varchar(length=8)
    # Guessed from the magnet's name, not given: the torrent's file names may still correct it.
    type_detected = Boolean(default=False)
    title = Text()
    year = Integer(null=True, default=None)
    overview = Text(null=True, default=None)
    genres = Text(default="[]")  # JSON array of names
    certification = Varchar(length=32, null=True, default=None)
    tmdb_id = Integer(null=True, default=None, index=True)
    imdb_id = Varchar(length=32, null=True, default=None)
    poster_url = Text(null=True, default=None)  # where the artwork comes from
    backdrop_url = Text(null=True, default=None)
    poster_cached = Boolean(default=False)  # image stored under images/<id>/
    backdrop_cached = Boolean(default=False)
    runtime = Integer(null=True, default=None)
    season_count = Integer(null=True, default=None)
    episode_count = Integer(null=True, default=None)
    # Movies: the chosen video file of the (single) download.
    file_index = Integer(null=True, default=None)
    file_path = Text(null=True, default=None)
    file_size = BigInt(null=True, default=None)
    added_at = Timestamptz(index=True)
    last_played_at = Timestamptz(null=True, default=None, index=True)
    last_episode_key = Varchar(length=32, null=True, default=None)  # Position.episode_key


class MediaAlias(Table, tablename="media_alias"):
    """An id handed out for an item that was later merged into another (a show added twice
    before TMDB could tell): it keeps answering, as the item it became."""

    id = Varchar(length=32, primary_key=True)
    media = ForeignKey(Media, on_delete=OnDelete.cascade)


class Download(Table, tablename="download"):
    id = Varchar(length=32, primary_key=True)
    media = ForeignKey(Media, on_delete=OnDelete.cascade, index=True)
    infohash = Varchar(length=64, index=True)
    magnet_link = Text()
    name = Text(null=True, default=None)
    added_at = Timestamptz()
    # This profile paused it. The shared torrent pauses only once every holder has.
    paused = Boolean(default=False)


class Season(Table, tablename="season"):
    id = Varchar(length=32, primary_key=True)
    media = ForeignKey(Media, on_delete=OnDelete.cascade, index=True)
    season_number = Integer()
    name = Text(null=True, default=None)
    overview = Text(null=True, default=None)
    air_date = Varchar(length=10, null=True, default=None)


class Episode(Table, tablename="episode"):
    id = Varchar(length=32, primary_key=True)
    media = ForeignKey(Media, on_delete=OnDelete.cascade, index=True)
    season = ForeignKey(Season, on_delete=OnDelete.cascade, index=True)
    episode_number = Integer()
    title = Text(null=True, default=None)
    air_date = Varchar(length=10, null=True, default=None)
    runtime = Integer(null=True, default=None)
    download = ForeignKey(Download, null=True, default=None, on_delete=OnDelete.set_null)
    file_index = Integer(null=True, default=None)
    file_path = Text(null=True, default=None)
    file_size = BigInt(null=True, default=None)
    progress = Float(default=0.0)


class Position(Table, tablename="position"):
    """One row per (media, episode); `episode_key` is the episode id or '' for a movie."""

    id = Varchar(length=32, primary_key=True)
    media = ForeignKey(Media, on_delete=OnDelete.cascade)
    episode = ForeignKey(Episode, null=True, default=None, on_delete=OnDelete.cascade)
    episode_key = Varchar(length=32, default="")
    position = Float(default=0.0)
    duration = Float(null=True, default=None)
    updated_at = Timestamptz()


class BrowserSession(Table, tablename="browser_session"):
    """A signed-in browser (the web app's cookie), stored as the cookie's SHA-256 like a token.

    Bound to the token it was made from, so revoking that token (or deleting its profile)
    ends the session too. `profile` is the profile an owner's session acts as (null: the
    default profile); a profile token's session always acts as the token's profile.
    """

    id = Varchar(length=64, primary_key=True)
    token = ForeignKey(ApiToken, on_delete=OnDelete.cascade, index=True)
    profile = ForeignKey(Profile, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class SchemaVersion(Table, tablename="schema_version"):
    version = Integer(primary_key=True)
    applied_at = Timestamptz()


TABLES: tuple[type[Table], ...] = (
    SchemaVersion,
    Profile,
    ApiToken,
    Torrent,
    Media,
    MediaAlias,
    Download,
    Season,
    Episode,
    Position,
    BrowserSession,
)
