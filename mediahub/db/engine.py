"""Engine selection and schema set-up, without a `piccolo_conf.py`.

SQLite (the embedded default) runs in WAL mode with a busy timeout so readers never block
the writer; PostgreSQL is chosen by a `postgresql://` URL and gets a small asyncpg pool.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from mediahub.db.database import Database
from mediahub.db.sqlite import SQLitePool
from mediahub.db.tables import TABLES, SchemaVersion
from mediahub.ids import utcnow
from mediahub.private import private_file

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30.0

# Forward-only schema steps after the tables of version 1; each runs once, in order.
# Composite indexes live here because Piccolo columns only index single columns.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE UNIQUE INDEX IF NOT EXISTS position_media_episode ON position (media, episode_key)",
        "CREATE INDEX IF NOT EXISTS media_profile_added ON media (profile, added_at)",
        "CREATE INDEX IF NOT EXISTS media_profile_played ON media (profile, last_played_at)",
        "CREATE INDEX IF NOT EXISTS episode_season_number ON episode (season, episode_number)",
    ),
    2: (
        # The library list finds each item's downloads' info-hashes in this index alone.
        "CREATE INDEX IF NOT EXISTS download_media_infohash ON download (media, infohash)",
        # Title search on SQLite reads LOWER(title) from here instead of lower-casing every title.
        "CREATE INDEX IF NOT EXISTS media_profile_title ON media (profile, LOWER(title))",
    ),
    3: (
        # Pauses became per profile: whoever held a paused torrent had paused it.
        "UPDATE download SET paused = TRUE WHERE infohash IN (SELECT infohash FROM torrent WHERE status = 'paused')",
    ),
    4: (
        # media_alias (a table of its own, created above): deleting an item finds its aliases here.
        "CREATE INDEX IF NOT EXISTS media_alias_media ON media_alias (media)",
    ),
    6: (
        # Browser sessions (table browser_session): sign-in clears out the expired ones by this.
        "CREATE INDEX IF NOT EXISTS browser_session_expires ON browser_session (expires_at)",
    ),
    7: (
        # media.type_detected: items from before keep their type, but for those still named by
        # their info-hash, whose type the file names always decided.
        "UPDATE media SET type_detected = TRUE WHERE title IN (SELECT infohash FROM download WHERE download.media = media.id)",
    ),
    8: (
        # A page of the library, newest first with the id breaking ties, reads this index in order.
        "CREATE INDEX IF NOT EXISTS media_profile_added_id ON media (profile, added_at, id)",
        "DROP INDEX IF EXISTS media_profile_added",
    ),
}

# Columns a version added: `create_table` makes them on a new database, an older one gets
# them before that version's statements run. {version: [(table, column, definition)]}
ADDED_COLUMNS: dict[int, list[tuple[str, str, str]]] = {
    3: [("download", "paused", "BOOLEAN NOT NULL DEFAULT FALSE")],
    7: [("media", "type_detected", "BOOLEAN NOT NULL DEFAULT FALSE")],
}


def sqlite_path(database_url: str) -> Path | None:
    """The file of a `sqlite:///...` URL (None for PostgreSQL)."""
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        return None
    return Path(unquote(parts.path if parts.netloc == "" else f"/{parts.netloc}{parts.path}"))


def make_engine(database_url: str) -> Engine:
    """Piccolo's engine: the schema, migrations, and table access in tests. The running
    service's statements go through `Database` (`mediahub.db.database`)."""
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        private_file(path)
        _enable_wal(path)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    return PostgresEngine(config={"dsn": database_url.replace("postgres://", "postgresql://", 1)})


def _enable_wal(path: Path) -> None:
    """WAL is a property of the file, so setting it once at start-up is enough."""
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def bind_tables(engine: Engine) -> None:
    for table in TABLES:
        table._meta.db = engine


async def open_database(database_url: str) -> Database:
    """Create the engine, bind every table to it, bring the schema up to date, and hand out
    the `Database` the named queries run on."""
    engine = make_engine(database_url)
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)
    bind_tables(engine)
    await migrate(engine)
    path = sqlite_path(database_url)
    return Database(engine, SQLitePool(str(path), busy_timeout=SQLITE_BUSY_TIMEOUT_S) if path else None)


async def close_database(db: Database) -> None:
    if isinstance(db.engine, PostgresEngine):
        await db.engine.close_connection_pool()
    await db.close()


async def migrate(engine: Engine) -> None:
    for table in TABLES:
        await table.create_table(if_not_exists=True)
    applied = {row["version"] for row in await SchemaVersion.select(SchemaVersion.version)}
    for version in sorted(MIGRATIONS):
        if version in applied:
            continue
        async with engine.transaction():
            for table, column, definition in ADDED_COLUMNS.get(version, []):
                if column not in await _columns(engine, table):
                    await engine.run_ddl(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            for statement in MIGRATIONS[version]:
                await engine.run_ddl(statement)
            await SchemaVersion.insert(SchemaVersion(version=version, applied_at=utcnow()))
        log.info("database schema migrated to version %d", version)
    if isinstance(engine, PostgresEngine):
        await _title_trigrams(engine)


async def _columns(engine: Engine, table: str) -> set[str]:
    if isinstance(engine, PostgresEngine):
        query = "SELECT column_name AS name FROM information_schema.columns WHERE table_name = {}"
    else:
        query = "SELECT name FROM pragma_table_info({})"
    return {row["name"] for row in await SchemaVersion.raw(query, table)}


async def _title_trigrams(engine: PostgresEngine) -> None:
    """Where pg_trgm can be had, index titles by trigrams so a '%q%' search reads only the
    titles that can match. Optional: without it search still works (scanning a profile's titles)."""
    try:
        async with engine.transaction():
            await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            await engine.run_ddl(
                "CREATE INDEX IF NOT EXISTS media_title_trgm ON media USING gin (LOWER(title) gin_trgm_ops)"
            )
    except asyncpg.PostgresError as exc:
        log.info("title search without a trigram index: %s", exc)
